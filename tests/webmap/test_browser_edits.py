"""In Chromium on a copy of the demo: names are text never HTML, edits in the history, scenarios."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from playwright.sync_api import Browser
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from tests.conftest import DemoTemplate, LiveServer
from tests.webmap.browser import open_scenario, shot, watch

XSS = "<img src=x onerror=alert(1)>"
pytestmark = pytest.mark.slow


def test_names_show_as_text_and_edits_in_the_history(
    browser: Browser,
    demo_db: Engine,
    serve: Callable[[FastAPI], LiveServer],
    demo_template: DemoTemplate,
) -> None:
    token = demo_template.tokens["planner"]
    with demo_db.begin() as conn:
        # both names: an English page shows the English one
        renamed = "UPDATE compound SET name = :n, name_en = :n WHERE id = 5"
        conn.execute(sa.text(renamed), {"n": XSS})
        stairwell = conn.execute(
            sa.text("SELECT id FROM stairwell WHERE compound_id = 5 ORDER BY id LIMIT 1")
        ).scalar_one()
    live = serve(create_app(demo_db))
    with live.client(token) as client:
        url = f"/collections/stairwells/items/{stairwell}"
        etag = client.get(url).headers["etag"]
        patched = client.patch(
            url,
            json={"properties": {"elevator_status": "infeasible", "notes": XSS}},
            headers={"If-Match": etag, "Content-Type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200, patched.text
    watched = watch(browser)
    page = watched.page
    page.goto(f"{live.url}/maps/planner?lang=en#token={token}")
    page.wait_for_selector("html[data-gis-loaded-compounds]", timeout=30_000)
    page.fill(".gis-search input", "<img")
    hit = page.wait_for_selector(".gis-search-results button", timeout=15_000)
    assert XSS in hit.inner_text()
    hit.click()
    card = page.wait_for_selector(".gis-card[data-compound='5'] h4")
    assert card.inner_text() == XSS
    page.wait_for_function("GisMap.layers.compounds.getLayers().some(l => l.feature.id === 5)")
    page.evaluate("GisMap.layers.compounds.getLayers().find(l => l.feature.id === 5).openTooltip()")
    # the compound's tooltip shows the name as text (other tooltips may open too)
    page.wait_for_function(
        "xss => [...document.querySelectorAll('.leaflet-tooltip')]"
        ".some(t => t.innerText.includes(xss))",
        arg=XSS,
        timeout=10_000,
    )
    page.evaluate(f"GisMap.stairwellPopup({stairwell}, GisMap.map.getCenter())")
    popup = page.wait_for_selector(".gis-stairwell[data-loaded]", timeout=15_000)
    history = popup.query_selector(".gis-history")
    assert history is not None
    text = history.inner_text()  # older status changes first, then the edit just made
    assert "Proposed (demo)" in text and "→" in text and "Infeasible (planner)" in text
    shot(page, "planner-escaped-name.png")
    assert page.locator("img[src='x']").count() == 0
    assert watched.dialogs == []
    assert watched.real_errors() == []


def test_scenario_swipe_with_deltas(
    browser: Browser,
    demo_db: Engine,
    serve: Callable[[FastAPI], LiveServer],
    demo_template: DemoTemplate,
) -> None:
    token = demo_template.tokens["planner"]
    live = serve(create_app(demo_db))
    with live.client(token) as client:
        made = client.post(
            "/scenarios",
            json={
                "name": "Shuiyin 34 batch",
                "description": XSS,
                "interventions": {"batches": [1]},
            },
        )
        assert made.status_code == 201, made.text
        scenario_id = made.json()["id"]
        district = client.get(f"/scenarios/{scenario_id}?level=district").json()
    rows = {r["indicator"]: r for r in district["evaluation"]["rows"]}
    watched = watch(browser)
    page = watched.page
    open_scenario(page, live.url, token, scenario_id)
    page.wait_for_selector(".gis-swipe input")
    shown = page.evaluate(
        """() => Array.from(document.querySelectorAll('.gis-deltas tr[data-indicator]'))
                 .map(r => [r.dataset.indicator, Number(r.dataset.baseline),
                            Number(r.dataset.scenario), Number(r.dataset.delta)])"""
    )
    assert shown
    for indicator, baseline, scenario, delta in shown:
        assert baseline == pytest.approx(rows[indicator]["baseline"])
        assert scenario == pytest.approx(rows[indicator]["scenario"])
        assert delta == pytest.approx(rows[indicator]["delta"])
    assert dict((s[0], s[3]) for s in shown)["elevator_in_service_stairwells"] == 42
    assert XSS in page.inner_text(".gis-scenario-body")
    before = page.evaluate("GisMap.map.getPane('gis-swipe-left').style.clip")
    page.fill(".gis-swipe input", "200")
    after = page.evaluate("GisMap.map.getPane('gis-swipe-left').style.clip")
    assert before and after and before != after
    shot(page, "planner-scenario-swipe.png")
    assert page.locator("img[src='x']").count() == 0
    assert watched.dialogs == []
    assert watched.real_errors() == []
