"""The compound card's retrofit batch in Chromium: name, size, stage, the projection 15/57 → 57/57,
and "compare this batch" storing a scenario of the batch and opening the swipe (zh and en)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from playwright.sync_api import Browser
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from tests.conftest import DemoTemplate, LiveServer
from tests.webmap.browser import shot, watch

pytestmark = pytest.mark.slow
COMPOUND_34 = 5


def test_the_card_shows_the_batch_and_compares_it(
    browser: Browser,
    demo_db: Engine,
    serve: Callable[[FastAPI], LiveServer],
    demo_template: DemoTemplate,
) -> None:
    token = demo_template.tokens["planner"]
    live = serve(create_app(demo_db))
    with live.client(token) as client:
        summary = client.get(f"/compounds/{COMPOUND_34}").json()
    assert (summary["stairwells"], summary["in_service"]) == (57, 15)
    [batch] = summary["batches"]
    assert (batch["stairwells"], batch["status"]) == (42, "applied")
    assert summary["projected_in_service"] == 57
    watched = watch(browser)
    page = watched.page
    page.set_viewport_size({"width": 1440, "height": 900})
    for lang, size, stage, compare in (("zh", "42个梯口", "已申请", "比较此批次"),
                                       ("en", "42 stairwells", "Applied", "Compare this batch")):
        page.goto(f"{live.url}/maps/planner?lang={lang}#token={token}")
        page.wait_for_selector("html[data-gis-ready]")
        page.evaluate(f"GisMap.compoundCard({COMPOUND_34})")
        card = page.wait_for_selector(f".gis-card .gis-batch[data-batch='{batch['id']}']")
        text = card.inner_text()
        assert batch["name"] in text and size in text and stage in text and compare in text
        projection = page.inner_text(".gis-card .gis-projection")
        assert "15/57 → 57/57" in projection
        shot(page, f"batch-card-{lang}.png")
    # English page: compare this batch makes the scenario and opens the swipe on it
    page.click(".gis-card .gis-compare-batch")
    body = page.wait_for_selector(".gis-scenario-body[data-scenario]", timeout=60_000)
    scenario_id = int(body.get_attribute("data-scenario") or "0")
    page.wait_for_selector(".gis-swipe input")
    share = page.wait_for_selector(".gis-deltas tr[data-indicator='elevator_share_stairwells']")
    assert float(share.get_attribute("data-delta") or "0") > 0
    with demo_db.connect() as conn:
        stored = conn.execute(sa.text("SELECT name, interventions FROM scenario WHERE id = :i"),
                              {"i": scenario_id}).one()
    assert stored.name == batch["name"] and stored.interventions["batches"] == [batch["id"]]
    shot(page, "batch-compare.png")
    # a second click opens the same scenario (its name is taken): no second copy
    page.evaluate("GisMap.scenarios.clear()")
    page.evaluate(f"GisMap.compoundCard({COMPOUND_34})")
    page.click(".gis-card .gis-compare-batch")
    page.wait_for_selector(f".gis-scenario-body[data-scenario='{scenario_id}']")
    with demo_db.connect() as conn:
        copies = conn.execute(sa.text("SELECT count(*) FROM scenario WHERE name = :n"),
                              {"n": batch["name"]}).scalar_one()
    assert copies == 1
    assert watched.real_errors() == [] or all("409" in e for e in watched.real_errors())
