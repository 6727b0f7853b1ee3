"""The owners' vote on the planner's popup and compound card, the complete-community
choropleth and both exports, in real headless Chromium, in zh and in en."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.maps_catalog import default_maps
from tests.conftest import DemoTemplate, LiveServer, engine_on_copy, start_server
from tests.datasets.conftest import COMPOUND_34
from tests.webmap.browser import shot, watch

pytestmark = pytest.mark.slow
PANELS = default_maps()["planner"].consent
assert PANELS is not None
CODES = {"passed", "approval_not_met", "quorum_not_met", "no_register", "present", "missing",
         "not_recorded", "childcare", "parcel_point", "activity_ground", "food_market"}  # fmt: skip


@pytest.fixture(scope="module")
def register_live(pg_cluster: Any, register_template: DemoTemplate) -> Iterator[LiveServer]:
    """The app on a copy of the demo district with its household register (read only here)."""
    engines: Iterator[Engine] = engine_on_copy(pg_cluster, register_template.name)
    server = start_server(create_app(next(engines)))
    yield server
    server.server.should_exit = True
    server.thread.join(timeout=10)
    next(engines, None)


def text(key: str, lang: str) -> str:
    return PANELS.labels[key].pick(lang)


def open_planner(page: Page, live: LiveServer, token: str, lang: str) -> None:
    page.goto(f"{live.url}/maps/planner?lang={lang}#token={token}")
    page.wait_for_selector("html[data-gis-tiles-stairwells]", timeout=30_000)
    page.evaluate("GisMap.map.setView([23.1465, 113.2935], 17, {animate: false})")
    page.wait_for_load_state("networkidle")


def read_csv(download: Any) -> list[list[str]]:
    raw = open(download.path(), encoding="utf-8").read()  # noqa: SIM115
    assert raw.startswith("\ufeff")
    return list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_verdicts_on_the_popup_and_the_compound_card(
    browser: Browser, register_live: LiveServer, register_template: DemoTemplate, lang: str
) -> None:
    token = register_template.tokens["planner"]
    with register_live.client(token) as api:
        batch = api.get("/analysis/consent", params={"compound_id": COMPOUND_34}).json()
    rows = {row["id"]: row for row in batch["stairwells"]}
    watched = watch(browser)
    page = watched.page
    open_planner(page, register_live, token, lang)

    # a click on a stairwell: its popup shows the verdict the analysis gives, with its figures
    point = page.evaluate(
        """() => { const p = GisMap.layers.stairwells.getContainer()
                     .querySelector('path.leaflet-interactive');
                   const r = p.getBoundingClientRect();
                   return [r.x + r.width / 2, r.y + r.height / 2]; }"""
    )
    page.mouse.click(*point)
    section = page.wait_for_selector(".gis-stairwell .gis-consent[data-consent]", timeout=15_000)
    clicked = int(page.get_attribute(".gis-stairwell", "data-stairwell") or 0)
    with register_live.client(token) as api:
        own = api.get("/analysis/consent", params={"stairwell_id": clicked}).json()
    row = own["stairwells"][0]
    assert section.get_attribute("data-consent") == row["verdict"]
    shown = section.inner_text()
    assert row["verdict_label"][lang] in shown and own["rule"]["title"][lang] in shown
    for key in ("took_part", "approve", "by_area", "by_owners"):
        assert text(key, lang) in shown

    # one short of approval by area: what is missing, in the page's language
    short = next(r for r in rows.values() if r["verdict"] == "approval_not_met")
    page.evaluate(f"GisMap.stairwellPopup({short['id']}, GisMap.map.getCenter())")
    section = page.wait_for_selector(
        f".gis-stairwell[data-stairwell='{short['id']}'] .gis-consent[data-consent]")  # fmt: skip
    shown = section.inner_text()
    assert section.get_attribute("data-consent") == "approval_not_met" and "null" not in shown
    assert short["missing"][lang] in shown and short["verdict_label"][lang] in shown
    figures = section.query_selector("tr[data-figure='approve']").inner_text()  # this popup's
    nbsp = "\u00a0"  # a share is never broken from its % sign
    assert f"{short['approval_area'] * 100:.1f}{nbsp}%" in figures
    assert f"{short['approval_owners'] * 100:.1f}{nbsp}%" in figures
    shot(page, f"planner-consent-popup-{lang}.png")

    # the compound card: stairwells per verdict under the rule in force, and the checklist
    page.evaluate(f"GisMap.compoundCard('{COMPOUND_34}', '34')")
    page.wait_for_selector(".gis-card .gis-consent-counts[data-ready]", timeout=30_000)
    counts = page.evaluate(
        """() => Object.fromEntries(Array.from(document.querySelectorAll(
               '.gis-card .gis-consent-counts [data-verdict]')).map(
               e => [e.dataset.verdict, Number(e.dataset.count)]))"""
    )
    assert counts == batch["verdicts"]
    card = page.inner_text(".gis-card")
    for code, n in batch["verdicts"].items():
        assert f"{batch['verdict_labels'][code][lang]} {n}" in card
    page.wait_for_selector(".gis-card .gis-checklist-card[data-ready]", timeout=60_000)
    with register_live.client(token) as api:
        checklist = api.get("/analysis/complete-community", params={
            "level": "compound", "compound_id": COMPOUND_34, "f": "json"}).json()  # fmt: skip
    compound = checklist["rows"][0]
    score = page.get_attribute(".gis-card .gis-score", "data-score")
    assert float(score or -1) == compound["score"]
    listed = page.evaluate(
        "() => Array.from(document.querySelectorAll('.gis-card .gis-missing-kinds li'))"
        ".map(li => [li.dataset.kind, li.textContent])"
    )
    labels = {k["code"]: k["label"][lang] for k in compound["kinds"]}
    assert listed == [[c, labels[c]] for c in compound["missing"] + compound["not_recorded"]]
    shot(page, f"planner-consent-card-{lang}.png")

    # the verdicts as a table of labels
    with page.expect_download() as got:
        page.click(".gis-card button[data-export='export_consent']")
    table = read_csv(got.value)
    assert table[0][:3] == [text("stairwell", lang), text("status", lang), text("verdict", lang)]
    assert len(table) == 1 + len(rows)
    assert {line[2] for line in table[1:]} == {
        batch["verdict_labels"][v][lang] for v, n in batch["verdicts"].items() if n}  # fmt: skip
    assert not CODES & {cell for line in table for cell in line}
    assert watched.real_errors() == [] and watched.dialogs == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_checklist_choropleth_its_missing_kinds_and_export(
    browser: Browser, register_live: LiveServer, register_template: DemoTemplate, lang: str
) -> None:
    token = register_template.tokens["analyst"]
    watched = watch(browser)
    page = watched.page
    open_planner(page, register_live, token, lang)
    page.hover(".leaflet-control-layers")
    title = PANELS.checklist_title.pick(lang)
    page.click(f'.leaflet-control-layers-overlays label:has-text("{title}") input')
    for level in ("community", "compound"):
        page.select_option(f".gis-checklist-legend select[aria-label='{text('level', lang)}']",
                           level)  # fmt: skip
        page.wait_for_selector(f".gis-checklist-legend .gis-legend-body[data-level='{level}']"
                               "[data-ready]", timeout=120_000)  # fmt: skip
        with register_live.client(token) as api:
            answer = api.get("/analysis/complete-community",
                             params={"level": level, "f": "json"}).json()  # fmt: skip
        scores = {str(r[f"{level}_id"]): r["score"] for r in answer["rows"]}
        drawn = page.evaluate(
            """() => GisMap.layers.checklist.getLayers().map(
                   l => [String(l.feature.id), l.options.fillColor])"""
        )
        assert {area for area, _ in drawn} == set(scores)

        def colour(score: float) -> str:
            k = sum(1 for b in PANELS.breaks if score >= b)
            return PANELS.colors[k]

        assert all(fill == colour(scores[area]) for area, fill in drawn)
        counts = page.evaluate(
            """() => Array.from(document.querySelectorAll(
                   '.gis-checklist-legend .gis-legend-class')).map(e => Number(e.dataset.count))"""
        )
        assert counts == [sum(1 for s in scores.values() if colour(s) == c) for c in PANELS.colors]
        # the missing kinds of one area on its tooltip, in the page's language
        row = answer["rows"][0]
        area = str(row[f"{level}_id"])
        page.evaluate(
            f"""() => GisMap.layers.checklist.getLayers()
                   .filter(l => String(l.feature.id) === '{area}')[0].openTooltip()"""
        )
        tip = page.wait_for_selector(f".gis-checklist-tip[data-area='{area}']").inner_text()
        assert all(k["label"][lang] in tip for k in row["kinds"] if k["status"] != "present")
        assert text("missing_kinds", lang) in tip
    shot(page, f"planner-checklist-{lang}.png")
    with page.expect_download() as got:
        page.click(".gis-checklist-legend button[data-export='export_checklist']")
    table = read_csv(got.value)
    kinds = [r["label"][lang] for r in answer["requirements"]]
    assert table[0] == [text("name", lang), text("score", lang), *kinds,
                        text("missing_kinds", lang)]  # fmt: skip
    assert len(table) == 1 + len(answer["rows"])
    statuses = {s[lang] for s in answer["statuses"].values()}
    assert {cell for line in table[1:] for cell in line[2:-1]} <= statuses
    assert not CODES & {cell for line in table for cell in line}
    assert watched.real_errors() == [] and watched.dialogs == []
