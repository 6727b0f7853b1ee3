"""Survey records (rules shared with the page, idempotent) and the supervisors' progress."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.field.conftest import FieldServer
from tests.field.pages import open_progress, rows


def visit(sid: int, **values: object) -> dict[str, object]:
    """A valid survey body, with some values changed."""
    body: dict[str, object] = {
        "stairwell_id": sid, "surveyed_on": dt.date.today().isoformat(),
        "survey_status": "visited", "households": 12, "elderly_households": 5,
        "consent_agree": 8, "consent_object": 2, "notes": "三楼反对"}
    return {**body, **values}


def test_rules_are_served_and_applied_with_the_same_messages(field_server: FieldServer) -> None:
    sid = rows(field_server.engine, "SELECT id FROM stairwell WHERE grid_id = 2 LIMIT 1")[0]["id"]
    with field_server.client("grid02") as api:
        doc = api.get("/field/rules?lang=en").json()
        assert doc["fields"]["households"]["type"] == "integer"
        assert doc["labels"]["households"] == "Households"
        bad = visit(sid, households=-1, elderly_households=2.5, surveyed_on="2026-02-30",
                    survey_status="maybe", notes="x" * 2001)
        answer = api.post("/field/surveys?lang=en", json=bad)
        assert answer.status_code == 422
        errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
        assert errors == {
            "surveyed_on": "Survey date must be a date (YYYY-MM-DD)",
            "survey_status": "Survey status must be one of: visited, follow_up",
            "households": "Households must be at least 0",
            "elderly_households": "Elderly households (60+) must be a whole number",
            "notes": "Notes must be at most 2000 characters",
        }
        future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
        zh = api.post("/field/surveys?lang=zh", json=visit(sid, surveyed_on=future,
                                                           consent_agree=11))
        assert {e["field"]: e["message"] for e in zh.json()["errors"]} == {
            "surveyed_on": "走访日期不能晚于今天",
            "consent_agree": "同意户数与反对户数之和不能超过总户数",
            "consent_object": "同意户数与反对户数之和不能超过总户数",
        }


def test_survey_records_are_idempotent(field_server: FieldServer) -> None:
    engine = field_server.engine
    sid = rows(engine, "SELECT id FROM stairwell WHERE grid_id = 2 ORDER BY id LIMIT 1")[0]["id"]
    count = "SELECT count(*) AS n FROM survey WHERE stairwell_id = :s"
    before = rows(engine, count, s=sid)[0]["n"]
    with field_server.client("grid02") as api:
        key = {"Idempotency-Key": "visit-0001"}
        first = api.post("/field/surveys", json=visit(sid), headers=key)
        assert first.status_code == 201, first.text
        again = api.post("/field/surveys", json=visit(sid), headers=key)
        assert again.status_code == 201 and again.json() == first.json()
        assert again.headers.get("idempotent-replayed") == "true"
        other = api.post("/field/surveys", json=visit(sid, households=13), headers=key)
        assert other.status_code == 409
    assert rows(engine, count, s=sid)[0]["n"] == before + 1
    stored = rows(engine, "SELECT * FROM survey WHERE id = :i", i=first.json()["id"])[0]
    assert (stored["households"], stored["notes"]) == (12, "三楼反对")


def test_progress_per_grid_and_over_time(field_server: FieldServer) -> None:
    engine = field_server.engine
    with field_server.client("planner") as planner:
        before = {g["grid_id"]: g for g in planner.get("/field/progress").json()["grids"]}
    truth = {r["grid_id"]: r for r in rows(engine, """
        SELECT grid_id, count(*) AS stairwells,
               count(*) FILTER (WHERE survey_status <> 'not_visited') AS surveyed,
               sum(households) FILTER (WHERE survey_status <> 'not_visited') AS reached
        FROM stairwell GROUP BY grid_id""")}
    for grid, row in before.items():
        assert row["stairwells"] == truth[grid]["stairwells"]
        assert row["surveyed"] == truth[grid]["surveyed"]
        assert row["households_reached"] == (truth[grid]["reached"] or 0)
    target = rows(engine, "SELECT s.id, s.version FROM stairwell s WHERE grid_id = 4 AND "
                  "survey_status = 'not_visited' AND NOT EXISTS (SELECT 1 FROM survey v WHERE "
                  "v.stairwell_id = s.id) ORDER BY id LIMIT 1")[0]
    with field_server.client("grid04") as worker:
        assert worker.post("/field/surveys", json=visit(target["id"])).status_code == 201
        done = worker.patch(f"/collections/stairwells/items/{target['id']}", json={
            "type": "Feature", "properties": {"survey_status": "visited", "households": 12}},
            headers={"If-Match": f'"{target["version"]}"'})
        assert done.status_code == 200
        mine = worker.get("/field/progress").json()
        assert [g["grid_id"] for g in mine["grids"]] == [4]
    after = mine["grids"][0]
    assert after["surveyed"] == before[4]["surveyed"] + 1
    assert after["households_reached"] == before[4]["households_reached"] + 12
    today = after["series"][-1]
    assert today["date"] == dt.date.today().isoformat()
    assert today["stairwells_surveyed"] == (
        before[4]["series"][-1]["stairwells_surveyed"] if before[4]["series"] else 0) + 1


def test_supervisor_page_shows_progress_and_resolves_issues(
    field_server: FieldServer, contexts: Any
) -> None:
    context = contexts(locale="en-US", viewport={"width": 1024, "height": 900})
    page = context.new_page()
    open_progress(page, field_server, "planner")
    assert page.locator("#progress-table tbody tr").count() == 12
    assert page.locator("#progress-chart polyline").count() >= 1
    open_before = page.locator("#open-issues .issue").count()
    assert open_before >= 1
    first = page.get_attribute("#open-issues .issue >> nth=0", "data-id")
    page.fill(f"#open-issues .issue[data-id='{first}'] .resolve-note", "Railing repaired")
    page.click(f"#open-issues .resolve[data-id='{first}']")
    page.wait_for_function(
        f"document.querySelectorAll('#open-issues .issue').length === {open_before - 1}")
    status = rows(field_server.engine, "SELECT status FROM issue WHERE id = :i", i=int(first))
    assert status[0]["status"] == "resolved"
