"""The supervisor page in Chromium (1440×900, zh and en): map and labelled chart per grid, the
community roll-up, issue age, assigning to a grid worker, resolving with a required note, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from tests.field.conftest import FieldServer
from tests.field.pages import rows
from tests.webmap.browser import shot

pytestmark = pytest.mark.slow
TEXTS = {
    "zh": {"title": "走访进度督导", "assigned": "已派单", "required": "请填写办结说明",
           "grid_header": "网格", "share_header": "走访率", "open": "未办结问题"},
    "en": {"title": "Survey progress (supervisor)", "assigned": "Assigned",
           "required": "Say what was done", "grid_header": "Grid",
           "share_header": "Share surveyed", "open": "Open issues"},
}


def supervisor_page(field_server: FieldServer, contexts: Callable[..., Any], lang: str,
                    size: tuple[int, int] = (1440, 900)) -> Any:  # fmt: skip
    """The supervisor page (1440×900 unless told) in a language, signed in as the planner,
    drawn."""
    context = contexts(viewport={"width": size[0], "height": size[1]}, accept_downloads=True,
                       locale="zh-CN" if lang == "zh" else "en-GB")
    page = context.new_page()
    page.goto(f"{field_server.url}/maps/field-progress?lang={lang}")
    page.wait_for_url("**/login?**")
    page.fill("#username", "planner")
    page.fill("#password", field_server.passwords["planner"])
    page.click("#login button[type=submit]")
    page.wait_for_selector("html[data-progress-ready]", state="attached", timeout=30_000)
    return page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_supervisor_assigns_resolves_with_a_note_and_exports(
    field_server: FieldServer, contexts: Callable[..., Any], lang: str
) -> None:
    engine = field_server.engine
    with engine.begin() as conn:  # a formula in a grid name must reach the CSV defused
        conn.exec_driver_sql("UPDATE grid SET name = '=HYPERLINK(\"http://x\")' WHERE id = 12")
    text = TEXTS[lang]
    page = supervisor_page(field_server, contexts, lang)
    assert page.title() == text["title"] and page.locator("h1").inner_text() == text["title"]
    assert page.get_attribute("#progress-map", "data-grids-drawn") == "12"  # every grid
    assert page.locator(".progress-legend").is_visible()
    bars = page.locator("#grid-chart text.bar-label")
    assert bars.count() == 12 and "%" in (bars.first.text_content() or "")
    assert page.locator("#progress-chart text.series-label").count() >= 1
    communities = page.locator("#community-table tbody tr")
    assert communities.count() >= 1
    ages = page.eval_on_selector_all("#open-issues .age", "xs => xs.map(x => +x.dataset.days)")
    assert ages and ages == sorted(ages, reverse=True)  # the oldest first
    shot(page, f"supervisor-{lang}.png")

    issue = page.get_attribute("#open-issues .issue >> nth=0", "data-id")
    row = page.locator(f"#open-issues .issue[data-id='{issue}']")
    grid = rows(engine, "SELECT grid_id FROM issue WHERE id = :i", i=int(issue))[0]["grid_id"]
    worker = rows(engine, "SELECT u.id FROM app_user u JOIN user_grid g ON g.user_id = u.id "
                  "WHERE g.grid_id = :g AND u.role = 'grid_worker'", g=grid)[0]["id"]
    total = "#ledger-table tr[data-grid=total] td >> nth=2"
    assigned_before = int(page.locator(total).inner_text())
    row.locator("select.worker").select_option(str(worker))
    page.evaluate("document.documentElement.removeAttribute('data-progress-ready')")
    row.locator("button.assign").click()
    page.wait_for_selector("html[data-progress-ready]", state="attached")
    assert int(page.locator(total).inner_text()) == assigned_before + 1  # 已派单 counts it
    row = page.locator(f"#open-issues .issue[data-id='{issue}']")
    assert row.locator(".status").inner_text() == text["assigned"]
    stored = rows(engine, "SELECT status, assignee_id FROM issue WHERE id = :i", i=int(issue))
    assert (stored[0]["status"], stored[0]["assignee_id"]) == ("assigned", worker)

    row.locator("button.resolve").click()  # no note: refused in the page
    assert page.locator("#issue-message").inner_text() == text["required"]
    assert rows(engine, "SELECT status FROM issue WHERE id = :i", i=int(issue))[0]["status"] \
        == "assigned"
    row.locator(".resolve-note").fill("扶手已修复 / railing fixed")
    page.evaluate("document.documentElement.removeAttribute('data-progress-ready')")
    row.locator("button.resolve").click()
    page.wait_for_selector("html[data-progress-ready]", state="attached")
    assert page.locator(f"#open-issues .issue[data-id='{issue}']").count() == 0
    done = rows(engine, "SELECT status, resolution_note FROM issue WHERE id = :i", i=int(issue))
    assert (done[0]["status"], done[0]["resolution_note"]) == (
        "resolved", "扶手已修复 / railing fixed")
    log = rows(engine, "SELECT username, after->'properties'->>'status' AS status FROM edit_log "
               "WHERE table_name = 'issue' AND feature_id = :i ORDER BY id", i=issue)
    assert [(e["username"], e["status"]) for e in log][-2:] == [
        ("planner", "assigned"), ("planner", "resolved")]

    with page.expect_download() as download:
        page.click("#export-csv")
    data = download.value.path().read_text(encoding="utf-8-sig")
    table = list(csv.DictReader(io.StringIO(data)))
    assert len(table) == 12
    assert text["grid_header"] in table[0] and text["share_header"] in table[0]
    assert text["open"] in table[0]
    assert any(r[text["grid_header"]] == "'=HYPERLINK(\"http://x\")" for r in table)


def test_a_stale_issue_is_drawn_again_keeping_what_the_supervisor_typed(
    field_server: FieldServer, contexts: Callable[..., Any]
) -> None:
    """While a supervisor types resolution notes in two issues' rows, another assigns the first.
    Resolving it meets the changed version: the page says so (zh), shows the issue as it is now,
    and keeps both notes as typed (before, the list was drawn again empty, the notice with it);
    resolving again saves the note."""
    engine = field_server.engine
    page = supervisor_page(field_server, contexts, "zh")
    first, second = (page.get_attribute(f"#open-issues .issue >> nth={n}", "data-id")
                     for n in (0, 1))  # fmt: skip
    notes = {first: "扶手已修复 <b>=1+1</b>", second: "照明待换 / lamp to replace"}
    for issue, note in notes.items():
        page.locator(f"#open-issues .issue[data-id='{issue}'] .resolve-note").fill(note)
    issue = rows(engine, "SELECT version, grid_id FROM issue WHERE id = :i", i=int(first))[0]
    worker = rows(engine, "SELECT u.id FROM app_user u JOIN user_grid g ON g.user_id = u.id "
                  "WHERE g.grid_id = :g AND u.role = 'grid_worker'", g=issue["grid_id"])[0]["id"]
    with field_server.client("planner") as other:  # another supervisor, meanwhile
        assigned = other.post(f"/issues/{first}/assignment",
                              json={"assignee_id": worker, "version": issue["version"]})
        assert assigned.status_code == 200, assigned.text
    page.evaluate("document.documentElement.removeAttribute('data-progress-ready')")
    page.locator(f"#open-issues .issue[data-id='{first}'] button.resolve").click()
    page.wait_for_selector("html[data-progress-ready]", state="attached")
    assert page.locator("#issue-message").inner_text() == "该问题已被他人修改,已重新加载"
    row = page.locator(f"#open-issues .issue[data-id='{first}']")
    assert row.locator(".status").inner_text() == "已派单"  # as it is now
    for issue, note in notes.items():
        assert page.locator(f"#open-issues .issue[data-id='{issue}'] .resolve-note") \
            .input_value() == note
    assert rows(engine, "SELECT status FROM issue WHERE id = :i", i=int(first))[0]["status"] \
        == "assigned"
    page.evaluate("document.documentElement.removeAttribute('data-progress-ready')")
    row.locator("button.resolve").click()
    page.wait_for_selector("html[data-progress-ready]", state="attached")
    done = rows(engine, "SELECT status, resolution_note FROM issue WHERE id = :i", i=int(first))
    assert (done[0]["status"], done[0]["resolution_note"]) == ("resolved", notes[first])
    assert page.locator(f"#open-issues .issue[data-id='{second}'] .resolve-note") \
        .input_value() == notes[second]
    assert page.locator("#issue-message").inner_text() == ""


def test_the_api_refuses_a_resolution_without_note_a_stale_version_and_a_wrong_worker(
    field_server: FieldServer,
) -> None:
    issue = rows(field_server.engine, "SELECT id, version, grid_id FROM issue "
                 "WHERE status = 'open' ORDER BY id LIMIT 1")[0]
    path = f"/issues/{issue['id']}"
    with field_server.client("planner") as planner:
        assert planner.post(f"{path}/resolution",
                            json={"note": "", "version": issue["version"]}).status_code == 422
        assert planner.post(f"{path}/resolution",
                            json={"note": "done", "version": 999}).status_code == 412
        other = rows(field_server.engine, "SELECT u.id FROM app_user u JOIN user_grid g "
                     "ON g.user_id = u.id WHERE g.grid_id <> :g LIMIT 1", g=issue["grid_id"])
        wrong = planner.post(f"{path}/assignment",
                             json={"assignee_id": other[0]["id"], "version": issue["version"]})
        assert wrong.status_code == 422
    with field_server.client("analyst") as analyst:  # the layer's edit rights apply
        refused = analyst.post(f"{path}/resolution",
                               json={"note": "x", "version": issue["version"]})
        assert refused.status_code == 403
    with field_server.client() as anonymous:
        assert anonymous.get("/field/progress.csv").status_code == 401


FIGURE_LINES = """() => [...document.querySelectorAll('#progress td:not(:first-child)')]
  .filter(td => /[0-9]/.test(td.textContent))
  .map(td => { const range = document.createRange(); range.selectNodeContents(td);
               const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
               return [td.textContent, tops.size]; })"""
"""Each table cell showing a figure: its text and the lines it is drawn on."""


def test_figures_stay_on_one_line_on_a_small_phone(
    field_server: FieldServer, contexts: Callable[..., Any]
) -> None:
    """At 360 px the tables' columns are narrow: a figure is never broken, neither a share
    between its number and its % sign ("50.0" on one line, "%" on the next) nor a count
    ("0 /" above "1095"); the names wrap instead, and a table wider than the phone scrolls in
    its own box, not the page."""
    page = supervisor_page(field_server, contexts, "zh", size=(360, 740))
    cells = page.evaluate(FIGURE_LINES)
    shares = [text for text, _ in cells if text.endswith("%")]
    counts = [text for text, _ in cells if " / " in text]
    assert len(shares) >= 12 and len(counts) >= 24, cells  # the grids' shares and counts
    assert all(lines == 1 for _, lines in cells), [c for c in cells if c[1] != 1]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
