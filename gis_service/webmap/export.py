"""Static export of a view for one compound: one self-contained HTML file (assets and data
inlined, GeoJSON instead of tiles). Its PNG is drawn server-side (gis_service/reports)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from gis_service.catalog import Catalog
from gis_service.errors import GisServiceError, NotFound
from gis_service.maps_catalog import MapView
from gis_service.webmap import assets
from gis_service.webmap.build import build_map
from gis_service.webmap.config import Status, client_config
from gis_service.webmap.page_data import fill

MARGIN_DEG = 0.0015  # about 150 m around the compound
STATIC_CONTROLS = {"layers", "fullscreen", "measure", "scale", "legend"}
SCRIPT = re.compile(r'<script src="(/static/[^"]+)"></script>')
STYLE = re.compile(r'<link rel="stylesheet" href="(/static/[^"]+)"/>')


Get = Callable[[str], tuple[int, bytes]]
"""GET of a path of the API as one user: status and body (api/asgi.reader)."""


class Fetcher:
    """GETs from the API as one user; keeps every answer for the page."""

    def __init__(self, read: Get) -> None:
        self.read = read
        self.data: dict[str, Any] = {}
        self.skipped: list[str] = []

    def get(self, url: str, required: bool = False) -> Any:
        """The JSON answer of a URL (kept for the page), None when optional and failing."""
        status, body = self.read(url)
        if status >= 400:
            detail = body.decode("utf-8", "replace")[:300]
            if required:
                raise GisServiceError(f"{url}: {status} {detail}")
            self.skipped.append(f"{url} ({status})")
            return None
        answer = strip_links(json.loads(body))
        self.data[url] = answer
        return answer


def strip_links(answer: Any) -> Any:
    """An API answer without its links (they point at the service, not at the file)."""
    if isinstance(answer, dict):
        answer.pop("links", None)
        for feature in answer.get("features") or []:
            if isinstance(feature, dict):
                feature.pop("links", None)
    return answer


def bounds(feature: dict[str, Any]) -> tuple[float, float, float, float]:
    """west, south, east, north of a GeoJSON feature."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(part: Any) -> None:
        if part and isinstance(part[0], (int, float)):
            xs.append(float(part[0]))
            ys.append(float(part[1]))
        else:
            for item in part:
                walk(item)

    walk(feature["geometry"]["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


def with_param(url: str, param: str) -> str:
    """A URL with one more query parameter."""
    return url + ("&" if "?" in url else "?") + param


def static_layers(config: dict[str, Any], fetch: Fetcher, box: str, compound_id: int) -> None:
    """Every layer's data for the area, fetched now: tiles become GeoJSON by bbox."""
    for layer_id, layer in list(config["layers"].items()):
        if layer["kind"] == "tiles":
            urls = [f"/collections/{c}/items?bbox={box}&limit=10000" for c in layer["catalog"]]
            layer.update(kind="geojson-url", urls=urls, url=None, bbox=False)
        elif layer.get("bbox"):
            layer.update(url=with_param(layer["url"], f"bbox={box}"), bbox=False)
        elif layer["url"].startswith("/analysis/"):
            layer["url"] = with_param(layer["url"], f"compound_id={compound_id}")
        if not all(fetch.get(u) is not None for u in layer.get("urls") or [layer["url"]]):
            del config["layers"][layer_id]


def static_choropleth(config: dict[str, Any], fetch: Fetcher, compound_id: int) -> None:
    """The choropleth for the compound only, its figures fetched now."""
    choropleth = config.get("choropleth")
    if not choropleth:
        return
    area = f"compound_id={compound_id}"
    choropleth["levels"] = [lv for lv in choropleth["levels"] if lv["id"] == "compound"]
    choropleth["url"] = with_param(choropleth["url"], area)
    fetch.get(choropleth["url"].replace("{level}", "compound"))
    for indicator in choropleth["indicators"]:
        if indicator.get("join"):
            indicator["join"]["url"] = with_param(indicator["join"]["url"], area)
            fetch.get(indicator["join"]["url"].replace("{level}", "compound"))


def export_config(
    view: MapView, catalog: Catalog, lang: str, statuses: list[Status], fetch: Fetcher,
    compound_id: int,
) -> dict[str, Any]:
    """The page configuration of the export, its data inlined under config['data']."""
    compound = fetch.get(f"/collections/compounds/items/{compound_id}", required=True)
    west, south, east, north = bounds(compound)
    box = ",".join(
        f"{v:.6f}"
        for v in (west - MARGIN_DEG, south - MARGIN_DEG, east + MARGIN_DEG, north + MARGIN_DEG)
    )
    config = client_config(view, catalog, lang, statuses)
    config["controls"] = [c for c in config["controls"] if c in STATIC_CONTROLS]
    config["fit_bounds"] = [[south, west], [north, east]]
    config["export"] = True
    static_layers(config, fetch, box, compound_id)
    static_choropleth(config, fetch, compound_id)
    fetch.get(f"/compounds/{compound_id}")
    stairwells = fetch.data.get(f"/collections/stairwells/items?bbox={box}&limit=10000")
    for feature in (stairwells or {}).get("features", []):
        if feature["properties"].get("compound_id") == compound_id:
            fetch.data[f"/collections/stairwells/items/{feature['id']}"] = feature
            fetch.get(f"/collections/stairwells/items/{feature['id']}/history")
    config["data"] = fetch.data
    return config


def inline_assets(html: str) -> str:
    """Scripts and stylesheets of the page written into it (images as data URIs)."""

    def script(match: re.Match[str]) -> str:
        text = assets.file_for(match.group(1)).read_text(encoding="utf-8")
        return "<script>" + text.replace("</script", "<\\/script") + "</script>"

    def style(match: re.Match[str]) -> str:
        text = assets.inline_css(match.group(1)).replace("</style", "<\\/style")
        return "<style>" + text + "</style>"

    return STYLE.sub(style, SCRIPT.sub(script, html))


def export_html(
    read: Get, view: MapView, catalog: Catalog, lang: str, statuses: list[Status],
    compound_id: int,
) -> tuple[str, list[str]]:
    """The self-contained page of a view around one compound, and what could not be included."""
    fetch = Fetcher(read)
    if fetch.get(f"/compounds/{compound_id}") is None:
        raise NotFound(f"compound {compound_id} does not exist or is not visible to this user")
    config = export_config(view, catalog, lang, statuses, fetch, compound_id)
    page = fill(build_map(view, catalog, lang, config), config, view.title.pick(lang))
    return inline_assets(page), fetch.skipped
