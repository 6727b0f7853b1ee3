"""China basemaps in Chromium, offline: Tianditu (vector + annotation, key from settings, hidden
without one), AutoNavi's GCJ-02 tiles drawn aligned with our WGS84 data to about a metre, the
map-approval number in the attribution, and the blank fallback. Tile requests are intercepted."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from PIL import Image
from playwright.sync_api import Page, Route
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.maps_catalog import MapView, default_maps
from gis_service.settings import get_settings
from tests.conftest import LiveServer
from tests.webmap.browser import watch

pytestmark = pytest.mark.slow
KEY = "0123456789abcdef0123456789abcdef"
APPROVAL = "审图号:GS(2099)0001号"
# a published pair (wandergis/coordtransform's example): WGS84 -> GCJ-02
KNOWN_WGS = (116.404, 39.915)
KNOWN_GCJ = (116.41024449916938, 39.91640428150164)
ZOOM = 18


def tile_png() -> bytes:
    """A plain 256 px tile."""
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (240, 236, 228)).save(out, "PNG")
    return out.getvalue()


def app_with(engine: Engine, key: str | None) -> FastAPI:
    """The app with (or without) a Tianditu key, its basemaps carrying an approval number."""
    app = create_app(engine, settings=get_settings().model_copy(update={"tianditu_key": key}))
    views: dict[str, MapView] = dict(default_maps())
    planner = views["planner"]
    bases = [b.model_copy(update={"approval": APPROVAL}) if b.kind != "blank" else b
             for b in planner.basemaps]  # fmt: skip
    views["planner"] = planner.model_copy(update={"basemaps": bases})
    app.state.maps = views
    return app


def serve_tiles(page: Page, hosts: tuple[str, ...], asked: list[str], fail: bool = False) -> None:
    """Answer the outside tile hosts with a plain tile (or refuse them), noting each URL."""
    png = tile_png()

    def answer(route: Route) -> None:
        asked.append(route.request.url)
        if fail:
            route.abort()
        else:
            route.fulfill(status=200, content_type="image/png", body=png)

    for host in hosts:
        page.route(re.compile(rf"https://[^/]*{re.escape(host)}/.*"), answer)


def choose_basemap(page: Page, title: str) -> None:
    """Pick a basemap in the layer control."""
    page.hover(".leaflet-control-layers")
    page.click(f'.leaflet-control-layers-base label:has-text("{title}") input')


def gcj_tile(lng: float, lat: float, zoom: int) -> tuple[int, int, float, float]:
    """The GCJ-02 web-mercator tile holding a GCJ-02 position, and its pixel inside the tile."""
    n = 256 * 2**zoom
    x = (lng + 180) / 360 * n
    phi = math.radians(lat)
    y = (1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * n
    return int(x // 256), int(y // 256), x % 256, y % 256


def test_gcj02_maths_at_a_known_point(
    browser: object, shared_demo_db: Engine, serve: Callable[[FastAPI], LiveServer],
    planner_token: str,
) -> None:
    live = serve(app_with(shared_demo_db, None))
    watched = watch(browser)  # type: ignore[arg-type]
    page = watched.page
    page.goto(f"{live.url}/maps/planner?lang=zh#token={planner_token}")  # signed in
    page.wait_for_selector("html[data-gis-ready]")
    gcj = page.evaluate(f"GisMap.wgsToGcj({KNOWN_WGS[0]}, {KNOWN_WGS[1]})")
    metres = 111_320 * math.hypot((gcj[0] - KNOWN_GCJ[0]) * math.cos(math.radians(39.9)),
                                  gcj[1] - KNOWN_GCJ[1])  # fmt: skip
    assert metres < 0.01
    back = page.evaluate(f"GisMap.gcjToWgs({KNOWN_GCJ[0]}, {KNOWN_GCJ[1]})")
    assert back == pytest.approx(list(KNOWN_WGS), abs=1e-8)  # < 1 mm
    # without a key there is no Tianditu; AutoNavi and the blank fallback are offered
    page.hover(".leaflet-control-layers")
    bases = page.inner_text(".leaflet-control-layers-base")
    assert "天地图" not in bases and "高德地图" in bases and "空白底图" in bases
    assert KEY not in page.content()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_tianditu_and_gcj02_tiles_line_up_with_our_data(
    browser: object, shared_demo_db: Engine, serve: Callable[[FastAPI], LiveServer],
    planner_token: str, lang: str,
) -> None:
    live = serve(app_with(shared_demo_db, KEY))
    watched = watch(browser)  # type: ignore[arg-type]
    page = watched.page
    page.set_viewport_size({"width": 1440, "height": 900})
    asked: list[str] = []
    serve_tiles(page, ("tianditu.gov.cn", "is.autonavi.com"), asked)
    page.goto(f"{live.url}/maps/planner?lang={lang}#token={planner_token}")
    page.wait_for_selector("html[data-gis-view-restored]")
    with live.client(planner_token) as client:
        stair = client.get("/collections/stairwells/items", params={"limit": 1}).json()
    lng, lat = stair["features"][0]["geometry"]["coordinates"]
    page.evaluate(f"GisMap.map.setView([{lat}, {lng}], {ZOOM}, {{animate: false}})")

    # Tianditu: vector and annotation tiles with the key; the approval number credited
    choose_basemap(page, {"zh": "天地图矢量", "en": "Tianditu vector"}[lang])
    page.wait_for_function("() => document.querySelectorAll('img.leaflet-tile-loaded').length > 8")
    tianditu = [u for u in asked if "tianditu.gov.cn" in u]
    assert any("/vec_w/" in u and "LAYER=vec" in u for u in tianditu)
    assert any("/cva_w/" in u and "LAYER=cva" in u for u in tianditu)
    assert all(f"tk={KEY}" in u and f"TILEMATRIX={ZOOM}" in u for u in tianditu)
    credit = page.inner_text(".leaflet-control-attribution")
    assert APPROVAL in credit and "天地图" in credit

    # AutoNavi: the tile holding the stairwell's GCJ-02 position is drawn over the stairwell
    choose_basemap(page, {"zh": "高德地图", "en": "AutoNavi (Gaode)"}[lang])
    gx, gy = page.evaluate(f"GisMap.wgsToGcj({lng}, {lat})")
    tx, ty, px, py = gcj_tile(gx, gy, ZOOM)
    selector = f"img.leaflet-tile[src*='x={tx}&y={ty}&z={ZOOM}']"
    page.wait_for_selector(selector)
    assert any("is.autonavi.com" in u and f"x={tx}&y={ty}&z={ZOOM}" in u for u in asked)
    tile = page.locator(selector).bounding_box()
    ours = page.evaluate(
        f"""() => {{ const p = GisMap.map.latLngToContainerPoint([{lat}, {lng}]);
                    const r = GisMap.map.getContainer().getBoundingClientRect();
                    return [r.x + p.x, r.y + p.y]; }}"""
    )
    assert tile is not None
    metres_per_px = 156_543.03 * math.cos(math.radians(lat)) / 2**ZOOM
    gap = math.hypot(tile["x"] + px - ours[0], tile["y"] + py - ours[1]) * metres_per_px
    assert gap <= 1.0, gap
    shift = 111_320 * math.hypot((gx - lng) * math.cos(math.radians(lat)), gy - lat)
    assert shift > 100  # undrawn, the tiles would be this far off
    assert APPROVAL in page.inner_text(".leaflet-control-attribution")
    assert watched.real_errors() == []


def test_an_unreachable_vendor_falls_back_to_blank(
    browser: object, shared_demo_db: Engine, serve: Callable[[FastAPI], LiveServer],
    planner_token: str,
) -> None:
    live = serve(app_with(shared_demo_db, KEY))
    watched = watch(browser)  # type: ignore[arg-type]
    page = watched.page
    asked: list[str] = []
    serve_tiles(page, ("tianditu.gov.cn", "is.autonavi.com"), asked, fail=True)
    page.goto(f"{live.url}/maps/planner?lang=zh#token={planner_token}")  # signed in
    page.wait_for_selector("html[data-gis-view-restored]")
    choose_basemap(page, "高德地图")
    page.wait_for_function(  # the notice may be there already, from the default basemap's
        "() => document.querySelector('.leaflet-control-attribution').innerText"
        ".includes('底图无法加载') && [...document.querySelectorAll("
        "'.leaflet-control-layers-base label')].some(label => label.innerText.includes("
        "'空白底图') && label.querySelector('input').checked)", timeout=15_000)
    blank = '.leaflet-control-layers-base label:has-text("空白底图") input'
    assert any("is.autonavi.com" in url for url in asked) and page.is_checked(blank)
