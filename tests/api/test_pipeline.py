"""A passed vote moves a stairwell to the next pipeline step; anything else is refused unwritten."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import DemoTemplate
from tests.features.live import Clients, clients, running

BATCH = 1  # compound 34's 42 applied stairwells


def state(engine: Engine, stairwell_id: int) -> tuple[Any, ...]:
    """A stairwell's status and version, and its history rows (everything a move writes)."""
    with engine.connect() as conn:
        status, version = conn.execute(
            sa.text("SELECT elevator_status, version FROM stairwell WHERE id = :id"),
            {"id": stairwell_id},
        ).one()
        history = conn.execute(sa.text(
            "SELECT from_status, to_status, changed_by, consent_rule, consent_verdict "
            "FROM stairwell_status_history WHERE stairwell_id = :id ORDER BY id"
        ), {"id": stairwell_id}).all()  # fmt: skip
    return status, version, [tuple(row) for row in history]


def verdicts(api: Clients, **params: object) -> dict[str, list[int]]:
    """Stairwell ids of the batch by verdict under the rule in force (or the one asked for)."""
    report = api.get("planner", "/analysis/consent", params={"batch_id": BATCH, **params}).json()
    found: dict[str, list[int]] = {}
    for row in report["stairwells"]:
        found.setdefault(row["verdict"], []).append(row["id"])
    return found


def advance(api: Clients, who: str, stairwell_id: int, **params: object) -> httpx.Response:
    """POST the move as a demo user."""
    with api(who) as client:
        return client.post(f"/stairwells/{stairwell_id}/advance", params=params)  # type: ignore[arg-type]


def test_a_passed_vote_moves_the_stairwell_and_records_the_judgement(
    register_db: Engine, register_template: DemoTemplate
) -> None:
    with running(register_db) as live:
        api = clients(live, register_template)
        passed = verdicts(api)["passed"][0]
        before = state(register_db, passed)
        assert before[0] == "applied"
        moved = advance(api, "planner", passed, from_status="applied")
        assert moved.status_code == 200, moved.text
        body = moved.json()
        assert (body["from"]["code"], body["to"]["code"]) == ("applied", "approved")
        assert body["to"]["label"] == {"zh": "已批复(规划许可)", "en": "Approved (planning permit)"}
        assert body["consent"]["verdict"] == "passed"
        assert body["consent"]["rule"]["code"] == "civil_code_278"
        status, version, history = state(register_db, passed)
        assert (status, version) == ("approved", before[1] + 1)
        assert history[len(before[2]) :] == [
            ("applied", "approved", "planner", "civil_code_278", "passed")
        ]
        item = api.get("planner", f"/collections/stairwells/items/{passed}/history").json()
        assert item["status_history"][-1]["consent_verdict"] == "passed"
        again = advance(api, "planner", passed, from_status="applied")  # a second click
        assert again.status_code == 409 and "reload" in again.json()["detail"]
        assert state(register_db, passed)[0] == "approved"


def test_a_vote_short_of_the_rule_is_refused_and_nothing_is_written(
    register_db: Engine, register_template: DemoTemplate
) -> None:
    with running(register_db) as live:
        api = clients(live, register_template)
        found = verdicts(api)
        for verdict, zh in (("quorum_not_met", "参与表决未达法定比例"),
                            ("approval_not_met", "同意未达法定比例")):  # fmt: skip
            stairwell = found[verdict][0]
            before = state(register_db, stairwell)
            refused = advance(api, "planner", stairwell)
            assert refused.status_code == 409, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            problem = refused.json()
            assert problem["consent"]["verdict"] == verdict
            assert zh in problem["detail_zh"] and "已申请" not in problem["detail_zh"]
            assert "已批复" in problem["detail_zh"] and "more" in problem["detail"]
            assert problem["consent"]["missing"]["en"] in problem["detail"]
            assert state(register_db, stairwell) == before


def test_a_change_of_rule_is_judged_at_once(
    register_db: Engine, register_template: DemoTemplate
) -> None:
    with running(register_db) as live:
        api = clients(live, register_template)
        found = verdicts(api)
        short_by_area = found["approval_not_met"][0]
        report = api.get("planner", "/analysis/consent", params={"batch_id": BATCH}).json()
        passed = next(row["id"] for row in report["stairwells"]
                      if row["verdict"] == "passed" and row["approval_area"] < 0.9)  # fmt: skip
        with register_db.begin() as conn:  # the city adopts the older headcount-only rule
            conn.execute(sa.text(
                "INSERT INTO consent_rule (code, city, valid_from, voters, quorum_owners, "
                "approval_owners, approval_base, title_zh, title_en, source) "
                "SELECT 'demo_city_owners', '示例市', DATE '2020-01-01', voters, quorum_owners, "
                "approval_owners, approval_base, title_zh, title_en, source FROM consent_rule "
                "WHERE code = 'two_thirds_owners_agree'"))  # fmt: skip
        moved = advance(api, "planner", short_by_area, city="示例市")
        assert moved.status_code == 200, moved.text
        assert state(register_db, short_by_area)[2][-1][3:] == ("demo_city_owners", "passed")
        with register_db.begin() as conn:  # the national rule tightened: approval by area 9/10
            conn.execute(
                sa.text(
                    "UPDATE consent_rule SET approval_area = '9/10' WHERE code = 'civil_code_278'"
                )
            )
        before = state(register_db, passed)
        refused = advance(api, "planner", passed)
        assert refused.status_code == 409 and refused.json()["consent"]["verdict"] != "passed"
        assert state(register_db, passed) == before


def test_who_may_move_and_where_the_pipeline_ends(
    register_db: Engine, register_template: DemoTemplate
) -> None:
    with register_db.connect() as conn:
        in_service = conn.execute(
            sa.text("SELECT min(id) FROM stairwell WHERE elevator_status = 'in_service'")
        ).scalar_one()
        starting = conn.execute(
            sa.text("SELECT min(id) FROM stairwell WHERE elevator_status = 'none'")
        ).scalar_one()
    with running(register_db) as live:
        api = clients(live, register_template)
        passed = verdicts(api)["passed"][0]
        before = state(register_db, passed)
        assert advance(api, "analyst", passed).status_code == 403
        assert advance(api, "grid02", passed).status_code == 403
        assert advance(api, "anonymous", passed).status_code == 401
        assert state(register_db, passed) == before
        last = advance(api, "planner", in_service)
        assert last.status_code == 409 and "已处于最后一步" in last.json()["detail_zh"]
        assert advance(api, "planner", 2**31 - 1).status_code == 404
        assert advance(api, "planner", 0).status_code == 422
        # before the vote is needed (none -> proposed) no verdict is asked for or recorded
        early = advance(api, "admin", starting)
        assert early.status_code == 200 and early.json()["consent"] is None
        assert state(register_db, starting)[2][-1] == ("none", "proposed", "admin", None, None)


def shell(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    """`gis-service stairwell ...` on the test database."""
    env = {**os.environ, "GIS_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    return subprocess.run(
        [sys.executable, "-c", "from gis_service.cli import main; main()", "stairwell", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def test_the_move_on_the_shell(register_db: Engine, register_template: DemoTemplate) -> None:
    with running(register_db) as live:
        found = verdicts(clients(live, register_template))
    short, passed = found["quorum_not_met"][0], found["passed"][0]
    before = state(register_db, short)
    refused = shell(register_db, "advance", str(short), "--by", "planner", "--lang", "zh")
    assert refused.returncode == 1 and "参与表决未达法定比例" in refused.stderr
    assert state(register_db, short) == before
    moved = shell(register_db, "advance", str(passed), "--by", "planner")
    assert moved.returncode == 0, moved.stderr
    assert '"to":{"code":"approved"' in moved.stdout
    assert state(register_db, passed)[2][-1] == (
        "applied", "approved", "planner", "civil_code_278", "passed")  # fmt: skip
    analyst = shell(register_db, "advance", str(passed), "--by", "analyst")
    assert analyst.returncode == 1 and "analyst role may not" in analyst.stderr
