"""Car spaces per household on the planner map in Chromium: choropleth with the target, the
compound card's shortage in spaces, and a stacked garage's scenario before and after."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from tests.conftest import DemoTemplate, LiveServer
from tests.webmap.browser import open_scenario, shot, watch

pytestmark = pytest.mark.slow
COMPOUND_34 = 5
CODES = ("car_spaces", "surface_lot", "stacked_garage", "bicycle_shed", "ev_charging")


def car_spaces_legend(page: Page, live: LiveServer, token: str, lang: str) -> str:
    """Open the planner, show the choropleth by compound with car spaces per household."""
    page.goto(f"{live.url}/maps/planner?lang={lang}#token={token}")
    page.wait_for_selector("html[data-gis-tiles-stairwells]", timeout=30_000)
    page.evaluate("GisMap.map.addLayer(GisMap.layers.choropleth)")
    page.wait_for_selector(".gis-legend-body[data-ready]", timeout=60_000)
    page.select_option(".gis-legend select >> nth=0", "compound")
    page.select_option(".gis-legend select >> nth=1", "car_spaces_per_household")
    page.wait_for_selector(
        ".gis-legend-body[data-ready][data-level='compound']"
        "[data-indicator='car_spaces_per_household']",
        timeout=60_000,
    )
    page.click(".gis-legend-definitions summary")
    return page.inner_text(".gis-legend")


def test_choropleth_shows_the_target_and_the_card_the_shortage(
    browser: Browser, live: LiveServer, planner_token: str
) -> None:
    with live.client(planner_token) as client:
        asked = {"layer": "parking", "measure": "car_spaces"}
        answer = client.get("/analysis/supply", params=asked).json()
    ours = {r["compound_id"]: r for r in answer["rows"]}[COMPOUND_34]
    watched = watch(browser)
    page = watched.page
    text = car_spaces_legend(page, live, planner_token, "en")
    assert "Target: 0.3 spaces per household" in text
    assert "MOHURD" in text
    assert answer["definitions"]["ratio"]["en"] in text
    assert not any(code in text for code in CODES)
    target = page.get_attribute(".gis-legend-target", "data-target")
    assert target is not None and float(target) == 0.3
    # click compound 34 on the choropleth: its card shows the shortage in spaces
    page.evaluate(
        """id => GisMap.layers.choropleth.eachLayer(l => {
               if (GisMap.areaId(l.feature.properties, 'compound', l.feature) === String(id)) {
                   l.fire('click'); } })""",
        COMPOUND_34,
    )
    row = page.wait_for_selector(
        f".gis-card[data-compound='{COMPOUND_34}'] tr[data-indicator='car_spaces_shortage']"
    )
    assert f"{round(ours['shortage']):,}" in row.inner_text()
    assert "Car space shortage (spaces)" in row.inner_text()
    ratio = page.inner_text(
        f".gis-card[data-compound='{COMPOUND_34}'] tr[data-indicator='car_spaces_per_household']"
    )
    assert f"{ours['ratio']:.3f}" in ratio and "Target: 0.3" in ratio
    shot(page, "planner-car-spaces.png")
    zh = car_spaces_legend(page, live, planner_token, "zh")
    assert "目标:每户0.3个车位" in zh and "两步移动搜索法" in zh
    assert not any(code in zh for code in CODES)
    shot(page, "planner-car-spaces-zh.png")
    assert watched.real_errors() == []


def test_a_stacked_garage_scenario_shows_the_spaces_before_and_after(
    browser: Browser,
    demo_db: Engine,
    serve: Callable[[FastAPI], LiveServer],
    demo_template: DemoTemplate,
) -> None:
    token = demo_template.tokens["planner"]
    live = serve(create_app(demo_db))
    garage = {"site_id": COMPOUND_34, "kind": "parking", "facility_kind": "stacked_garage",
              "size": 96}  # fmt: skip
    with live.client(token) as client:
        body = {"name": "Stacked garage at No. 34", "interventions": {"amenities": [garage]}}
        made = client.post("/scenarios", json=body)
        assert made.status_code == 201, made.text
        scenario_id = made.json()["id"]
        district = client.get(f"/scenarios/{scenario_id}?level=district").json()
    rows = {r["indicator"]: r for r in district["evaluation"]["rows"]}
    assert rows["car_spaces_shortage"]["delta"] == pytest.approx(-96.0)
    assert rows["car_spaces_households_short"]["delta"] == pytest.approx(-96 / 0.3)
    assert "bicycle_places_shortage" not in rows  # no target, no shortage
    assert rows["bicycle_places_ratio"]["delta"] == 0
    watched = watch(browser)
    page = watched.page
    open_scenario(page, live.url, token, scenario_id)
    row = page.wait_for_selector(".gis-deltas tr[data-indicator='car_spaces_shortage']")
    assert float(row.get_attribute("data-delta") or "nan") == pytest.approx(-96.0)
    assert "Car spaces: shortage (spaces)" in row.inner_text()
    short = page.inner_text(".gis-deltas tr[data-indicator='car_spaces_households_short']")
    assert "households short of the target" in short and "-320" in short
    assert not any(code in page.inner_text(".gis-deltas") for code in CODES)
    page.select_option('.gis-scenarios select[aria-label="Indicator"]', "car_spaces_shortage")
    page.wait_for_selector(".gis-swipe input")
    shot(page, "planner-scenario-garage.png")
    assert watched.real_errors() == []
