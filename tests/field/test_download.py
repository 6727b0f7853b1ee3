"""Download my grid: the grid's tiles (zooms 15-19) and data go into the phone's cache with size
and progress shown, the download can be stopped and done again, the OSM basemap is refused for
its terms, and then, with the network off before any other zoom was visited, every zoom draws."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

from gis_service.maps_catalog import load_maps
from tests.field.conftest import FieldServer
from tests.field.pages import SMALL_PHONE, phone, rows, sign_in, wait_ready

CACHED_TILES = """caches.open('gis-field-v1').then(c => c.keys()).then(ks => ks.map(k => k.url)
    .filter(u => u.includes('/tiles/')).map(u => new URL(u).pathname))"""
TILES_LOADED = """z => {
    const layer = FieldMap.layers.context, tiles = Object.values(layer._tiles || {});
    const here = tiles.filter(t => t.coords.z === z);
    return FieldMap.map.getZoom() >= z && here.length > 0 && here.every(t => t.loaded);
}"""


def tile_paths(template: str, bounds: dict[str, float], zoom: int) -> set[str]:
    """The paths of the 256 px XYZ tiles covering a box at a zoom (spherical Mercator)."""

    def tile(lon: float, lat: float) -> tuple[int, int]:
        n = 2**zoom
        y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return int((lon + 180) / 360 * n), int(y)

    x0, y0 = tile(bounds["w"], bounds["n"])
    x1, y1 = tile(bounds["e"], bounds["s"])
    return {
        template.replace("{z}", str(zoom)).replace("{x}", str(x)).replace("{y}", str(y))
        for x in range(x0, x1 + 1)
        for y in range(y0, y1 + 1)
    }


def test_download_my_grid_then_every_zoom_offline(
    field_server: FieldServer, contexts: Any, tmp_path: Path
) -> None:
    engine = field_server.engine
    box = rows(engine, "SELECT ST_XMin(geom) AS w, ST_YMin(geom) AS s, ST_XMax(geom) AS e, "
               "ST_YMax(geom) AS n FROM grid WHERE id = 2")[0]
    options = load_maps()["field"].field
    assert options is not None and options.offline_zooms == (15, 19)
    first, last = options.offline_zooms
    stairwell = rows(engine, "SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM stairwell "
                     "WHERE grid_id = 2 ORDER BY id LIMIT 1")[0]
    context = phone(contexts, stairwell["lon"], stairwell["lat"], size=SMALL_PHONE,
                    locale="zh-CN")
    outside: list[str] = []

    def refuse(route: Any) -> None:
        outside.append(route.request.url)
        route.abort()

    context.route("https://tile.openstreetmap.org/**", refuse)
    page = context.new_page()
    sign_in(page, field_server, "grid02")
    page.wait_for_selector("html[data-field-offline-ready]", state="attached", timeout=20_000)
    template = page.evaluate("FieldMap.config.layers.context.url")
    opened_at = page.evaluate("FieldMap.map.getZoom()")
    page.wait_for_function(TILES_LOADED, arg=opened_at)
    viewed = {int(p.split("/")[-3]) for p in page.evaluate(CACHED_TILES)}
    assert viewed <= {opened_at}  # before the download, at most the opening zoom was seen

    # the OSM basemap is chosen: its terms forbid bulk downloading, the sheet says so
    page.evaluate("""() => {
        const label = [...document.querySelectorAll('.leaflet-control-layers-base label')]
            .find(l => l.textContent.includes('OpenStreetMap'));
        label.querySelector('input').click();
    }""")
    page.wait_for_selector("html[data-field-basemap=osm]", state="attached")
    page.click("#net")
    page.wait_for_selector("#sheet[data-view=offline] #dl-start")
    assert "OpenStreetMap" in page.inner_text("#dl-basemap")
    assert "不允许批量下载" in page.inner_text("#dl-basemap")
    assert page.inner_text("#dl-status").startswith("尚未下载")
    expected = set().union(*(tile_paths(template, box, z) for z in range(first, last + 1)))
    scope = page.inner_text("#dl-scope")
    assert "15–19" in scope

    shown_osm = len(outside)  # the basemap's tiles for the view on screen, nothing more
    # stopped half-way: it says so and keeps what it has; the next press downloads everything
    held: list[Any] = []
    context.route("**/tiles/**", lambda route: held.append(route))
    page.click("#dl-start")
    page.wait_for_function("() => document.querySelector('#dl-progress').dataset.total > 0")
    page.click("#dl-stop")
    page.wait_for_selector("html[data-field-download=cancelled]", state="attached")
    assert page.inner_text("#dl-progress").startswith("已停止")
    context.unroute("**/tiles/**")
    for route in held:
        with contextlib.suppress(Exception):  # aborted by the page's stop: nothing to answer
            route.continue_()
    page.click("#dl-start")
    page.wait_for_selector("html[data-field-download=done]", state="attached", timeout=60_000)
    progress = page.get_attribute("#dl-progress", "data-done")
    assert progress == page.get_attribute("#dl-progress", "data-total")
    status = page.inner_text("#dl-status")
    assert status.startswith("已于") and ("KB" in status or "MB" in status), status
    assert int(page.get_attribute("#dl-status", "data-bytes") or 0) > 10_000
    cached = set(page.evaluate(CACHED_TILES))
    assert expected <= cached, sorted(expected - cached)[:5]
    assert len(outside) == shown_osm  # the download fetched not one OSM tile
    page.screenshot(path=str(tmp_path / "download-zh-360.png"))

    # network off before visiting any other zoom; the page reloads and every zoom draws
    context.set_offline(True)
    failed: list[str] = []
    page.on("requestfailed",
            lambda r: failed.append(r.url) if r.url.startswith(field_server.url) else None)
    response = page.reload()
    assert response is not None and response.from_service_worker
    wait_ready(page)
    centre = [(box["s"] + box["n"]) / 2, (box["w"] + box["e"]) / 2]
    for zoom in (19, 18, 16, 15, 17):
        page.evaluate(f"FieldMap.map.setView({centre}, {zoom}, {{animate: false}})")
        page.wait_for_function(TILES_LOADED, arg=zoom, timeout=15_000)
    page.evaluate(f"FieldMap.map.setView({centre}, 21, {{animate: false}})")  # deeper: z19 tiles
    page.wait_for_function(TILES_LOADED, arg=last, timeout=15_000)
    assert not failed, failed[:5]  # tiles, data, scripts, styles and the controls' icons
    icons = page.evaluate("""[...document.querySelectorAll(
        '.leaflet-control-layers-toggle, .leaflet-control-zoom-fullscreen')]
        .map(n => getComputedStyle(n).backgroundImage)""")
    assert icons and all(i.startswith("url(") for i in icons), icons
    assert page.inner_text("#net") == "离线"
    page.screenshot(path=str(tmp_path / "offline-z21-zh-360.png"))
