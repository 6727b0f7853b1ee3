"""Map pages (/maps/planner, /maps/coverage, ...): public HTML, data fetched by the page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine

from gis_service.api import static
from gis_service.api.deps import get_catalog, get_engine, get_maps
from gis_service.api.openapi import errors
from gis_service.catalog import Catalog
from gis_service.errors import NotFound
from gis_service.maps_catalog import MapView
from gis_service.rows.lookups import elevator_statuses, lookup_tables
from gis_service.webmap import render_page
from gis_service.webmap.i18n import negotiate

router = APIRouter(tags=["maps"])
router.include_router(static.router)  # the pages' scripts and styles


def served_views(maps: dict[str, MapView] = Depends(get_maps)) -> dict[str, MapView]:
    """The app's views served here (checked when the app is built: a broken maps/*.yaml stops
    start-up); views whose URLs need a value only their own page knows (the field map's {grid})
    are served by that page instead."""
    return {k: v for k, v in maps.items() if not v.placeholders()}


def content_security_policy(view: MapView) -> str:
    """Only our own scripts, styles and API; images also from the view's basemap hosts.

    'unsafe-eval' is there for leaflet-measure, whose templates compile with new Function.
    """
    hosts = set()
    for url in [u for base in view.basemaps for u in (base.url, base.annotation_url) if u]:
        host = urlsplit(url.replace("{s}", "x")).netloc
        scheme = urlsplit(url).scheme
        hosts.add(f"{scheme}://{'*.' + host.split('.', 1)[1] if '{s}' in url else host}")
    images = " ".join(["'self'", "data:", "blob:", *sorted(hosts)])
    return (
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
        "style-src 'self' 'unsafe-inline'; "
        f"img-src {images}; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'self'"
    )


@router.get("/maps")
def list_maps(views: dict[str, MapView] = Depends(served_views)) -> list[dict[str, Any]]:
    """The map views this service serves."""
    return [
        {"id": v.id, "title": v.title.model_dump(), "url": f"/maps/{v.id}"} for v in views.values()
    ]


@router.get("/maps/{view_id}", response_class=HTMLResponse, responses=errors(404))
def map_page(
    view_id: str,
    request: Request,
    lang: str | None = Query(None, description="zh or en (else Accept-Language)"),
    engine: Engine = Depends(get_engine),
    views: dict[str, MapView] = Depends(served_views),
    catalog: Catalog = Depends(get_catalog),
) -> HTMLResponse:
    """One map page in the caller's language (no feature data inside: it fetches by URL)."""
    view = views.get(view_id)
    if view is None:
        raise NotFound(f"there is no map {view_id!r}; maps: {', '.join(sorted(views))}")
    chosen = negotiate(lang, request.headers.get("accept-language"))
    page = render_page(
        view, catalog, chosen, elevator_statuses(engine), lookup_tables(engine, catalog),
        request.app.state.settings.tianditu_key,
    )
    headers = {
        "Content-Language": "zh-CN" if chosen == "zh" else "en",
        "Vary": "Accept-Language",
        "Cache-Control": "no-cache",
        "Content-Security-Policy": content_security_policy(view),
        "X-Content-Type-Options": "nosniff",
    }
    return HTMLResponse(page, headers=headers)
