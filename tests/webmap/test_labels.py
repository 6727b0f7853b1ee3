"""Labels, never codes: the planner and coverage pages in zh and en, every popup, card, legend,
the measure tool and an API refusal opened in Chromium and read for raw codes."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer
from tests.webmap.browser import shot, watch
from tests.webmap.rawcodes import all_codes, raw_codes

pytestmark = pytest.mark.slow
COMPOUND_34 = 5
# one item of each layer the planner's popups read
POPUP_LAYERS = ("parking", "facilities", "gardens", "buildings", "streets", "grids", "compounds")
VIEWPORT = {"width": 1440, "height": 900}


def first_ids(live: LiveServer, token: str) -> dict[str, Any]:
    """The first item of each popup layer (a parking lot of each kind), by the features API."""
    ids: dict[str, Any] = {}
    with live.client(token) as client:
        for layer in POPUP_LAYERS:
            items = client.get(f"/collections/{layer}/items", params={"limit": 1}).json()
            ids[layer] = items["features"][0]["id"]
        lots = client.get("/collections/parking/items", params={"limit": 500}).json()
        kinds = {f["properties"]["kind"]: f["id"] for f in lots["features"]}
        ids["parking_kinds"] = kinds
        stairs = client.get("/collections/stairwells/items", params={"limit": 1}).json()
        ids["stairwells"] = stairs["features"][0]["id"]
    return ids


def popup_text(page: Page, call: str) -> str:
    """Open a popup by a GisMap call and read it once it has loaded (or failed)."""
    page.evaluate("GisMap.map.closePopup()")
    page.wait_for_selector(".leaflet-popup-content", state="detached")
    page.evaluate(f"() => {{ const c = GisMap.map.getCenter(); {call}; }}")
    page.wait_for_function(
        """() => { const p = document.querySelector('.leaflet-popup-content');
                   return p && !/加载中|Loading/.test(p.innerText); }""",
        timeout=15_000,
    )
    return page.inner_text(".leaflet-popup-content")


def measure_text(page: Page) -> str:
    """Measure a triangle with the measure tool and read its results and popup."""
    page.hover(".leaflet-control-measure")
    page.click(".leaflet-control-measure .js-start")
    box = page.locator("#map, .folium-map").first.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((0, 0), (200, 0), (200, 150)):
        page.mouse.click(x + dx, y + dy)
        page.wait_for_timeout(150)
    results = page.inner_text(".leaflet-control-measure .js-results")
    page.dispatch_event(".leaflet-control-measure .js-finish", "click")
    page.wait_for_selector(".leaflet-measure-resultpopup")
    return results + "\n" + page.inner_text(".leaflet-measure-resultpopup")


def tour(
    page: Page, live: LiveServer, token: str, lang: str, ids: dict[str, Any]
) -> dict[str, str]:
    """Open the planner and everything on it a planner opens; the texts read, by what was open."""
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{live.url}/maps/planner?lang={lang}#token={token}")
    page.wait_for_selector("html[data-gis-tiles-stairwells]", timeout=30_000)
    page.evaluate("GisMap.map.setView([23.1465, 113.2935], 17, {animate: false})")
    texts: dict[str, str] = {}
    for layer in POPUP_LAYERS:
        texts[layer] = popup_text(page, f"GisMap.featurePopup('{layer}', {ids[layer]}, c)")
    for kind, fid in ids["parking_kinds"].items():
        texts[f"parking:{kind}"] = popup_text(page, f"GisMap.featurePopup('parking', {fid}, c)")
    texts["stairwell"] = popup_text(page, f"GisMap.stairwellPopup({ids['stairwells']}, c)")
    texts["missing"] = popup_text(page, "GisMap.featurePopup('stairwells', 987654321, c)")
    page.evaluate("GisMap.map.closePopup()")
    texts["measure"] = measure_text(page)
    page.evaluate(f"GisMap.compoundCard({COMPOUND_34})")
    page.wait_for_selector(".gis-card .gis-bar[data-status]")  # the pipeline bars, not the vote's
    texts["card"] = page.inner_text(".gis-card")
    page.evaluate("GisMap.map.addLayer(GisMap.layers.choropleth)")
    page.wait_for_selector(".gis-legend-body[data-ready]", timeout=60_000)
    page.click(".gis-scenario-toggle")
    page.hover(".leaflet-control-layers")
    texts["page"] = page.inner_text("body")
    shot(page, f"labels-planner-{lang}.png")
    return texts


def test_planner_in_chinese_shows_no_code(
    browser: Browser, live: LiveServer, planner_token: str, shared_demo_db: Engine
) -> None:
    codes = all_codes(shared_demo_db)
    assert {"surface_lot", "visited", "property_contractor", "last_surveyed_on", "none"} <= codes
    ids = first_ids(live, planner_token)
    watched = watch(browser)
    texts = tour(watched.page, live, planner_token, "zh", ids)
    found = {where: raw_codes(text, codes) for where, text in texts.items()}
    assert {k: v for k, v in found.items() if v} == {}
    assert "地面停车场" in texts["parking:surface_lot"]
    assert "立体车库" in texts["parking:stacked_garage"]
    # the measure tool in Chinese and metric units only
    assert "面积" in texts["measure"] and "m²" in texts["measure"] and " ha" in texts["measure"]
    assert " m" in texts["measure"] and " km" in texts["measure"]
    for foreign in ("acres", "miles", "feet", "英里", "公亩", "英尺", "Area", "Path distance"):
        assert foreign not in texts["measure"]
    assert " ft" not in texts["page"] and " mi" not in texts["page"]  # the scale bar: metric
    # an API refusal in the page's language
    assert "未找到 (404)" in texts["missing"] and "not found" not in texts["missing"].lower()
    assert watched.real_errors() == [] or all("404" in e for e in watched.real_errors())


def test_planner_in_english_shows_english_labels_and_names(
    browser: Browser, live: LiveServer, planner_token: str, shared_demo_db: Engine
) -> None:
    ids = first_ids(live, planner_token)
    with live.client(planner_token) as client:
        compound = client.get(f"/collections/compounds/items/{COMPOUND_34}").json()["properties"]
    watched = watch(browser)
    texts = tour(watched.page, live, planner_token, "en", ids)
    assert "Surface lot" in texts["parking:surface_lot"]
    assert "surface_lot" not in texts["parking:surface_lot"]
    assert compound["name_en"] and compound["name_en"] in texts["card"]
    assert "Area" in texts["measure"] and "m²" in texts["measure"] and " ha" in texts["measure"]
    assert "acres" not in texts["measure"] and "miles" not in texts["measure"]


def test_coverage_page_in_chinese_shows_no_code(
    browser: Browser, live: LiveServer, planner_token: str, shared_demo_db: Engine
) -> None:
    codes = all_codes(shared_demo_db)
    watched = watch(browser)
    page = watched.page
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{live.url}/maps/coverage?lang=zh#token={planner_token}")
    page.wait_for_selector(".gis-legend-body[data-ready]", timeout=60_000)
    page.hover(".leaflet-control-layers")
    assert raw_codes(page.inner_text("body"), codes) == []


def test_ogc_html_pages_in_chinese_show_no_code(
    browser: Browser, live: LiveServer, planner_token: str, shared_demo_db: Engine
) -> None:
    codes = all_codes(shared_demo_db)
    watched = watch(browser)
    page = watched.page
    page.set_extra_http_headers({"Authorization": f"Bearer {planner_token}",
                                 "Accept-Language": "zh-CN,zh;q=0.9"})
    found = {}
    # the landing and collections pages are English documents (OGC titles): items pages only
    for path in [
        f"/collections/{layer}/items?f=html&limit=200"
        for layer in ("stairwells", "parking", "facilities", "gardens", "issues", "candidate_sites")
    ]:
        page.goto(live.url + path)
        found[path] = raw_codes(page.inner_text("body"), codes)
    assert {k: v for k, v in found.items() if v} == {}
    page.goto(live.url + "/collections/parking/items?f=html&limit=200")
    assert "地面停车场" in page.inner_text("body")
