"""The demo's household register and /analysis/consent + `analyze consent` on compound 34."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.cli.test_cli_analysis import run
from tests.conftest import DemoTemplate
from tests.datasets.conftest import COMPOUND_34
from tests.features.live import clients, running


def test_the_demo_register_adds_up_to_every_stairwell(register_db: Engine) -> None:
    with register_db.connect() as conn:
        off = conn.execute(sa.text("""
            SELECT count(*) FROM stairwell s, LATERAL gis_household_counts(s.id) c
            WHERE (s.households, s.elderly_households, s.consent_agree, s.consent_object)
                  IS DISTINCT FROM (c.households, c.elderly_households, c.consent_agree,
                                    c.consent_object) OR c.households = 0""")).scalar_one()
        stairwells, in_service = conn.execute(sa.text(
            "SELECT count(*), count(*) FILTER (WHERE elevator_status = 'in_service') "
            "FROM stairwell WHERE compound_id = :c"), {"c": COMPOUND_34}).one()  # fmt: skip
    assert off == 0
    assert (stairwells, in_service) == (57, 15)


def test_compound_34_verdicts_over_http(
    register_db: Engine, register_template: DemoTemplate
) -> None:
    with running(register_db) as live:
        api = clients(live, register_template)
        civil = api.get("planner", "/analysis/consent", params={"compound_id": COMPOUND_34})
        assert civil.status_code == 200, civil.text
        report = civil.json()
        assert report["rule"]["code"] == "civil_code_278"  # in force today
        rows = {row["id"]: row for row in report["stairwells"]}
        in_service = [r for r in rows.values() if r["elevator_status"] == "in_service"]
        assert len(rows) == 57 and {r["verdict"] for r in in_service} == {"passed"}
        batch = api.get("analyst", "/analysis/consent", params={"batch_id": 1}).json()
        counts = batch["verdicts"]
        assert sum(counts.values()) == 42
        assert counts["passed"] > counts["quorum_not_met"] > 0 and counts["approval_not_met"] > 0
        short = next(r for r in batch["stairwells"] if r["verdict"] == "quorum_not_met")
        # work units own most agreeing flats: too few owners took part, though most of the area
        assert short["to_vote"]["owners"] > 0 and "more owners must vote" in short["missing"]["en"]
        assert short["participation_area"] >= 2 / 3 > short["participation_owners"]
        floors = [h["floor"] for h in short["not_voted"]]
        assert floors and floors == sorted(floors)  # lowest floors first
        by_area = next(r for r in batch["stairwells"] if r["verdict"] == "approval_not_met")
        assert by_area["approval_owners"] >= 0.75 > by_area["approval_area"]
        assert "按面积还需" in by_area["missing"]["zh"]
        old = api.get("planner", "/analysis/consent",
                      params={"batch_id": 1, "rule": "two_thirds_owners_agree", "f": "csv"})
        assert old.status_code == 200 and old.headers["content-type"].startswith("text/csv")
        lines = list(csv.DictReader(io.StringIO(old.text)))
        assert len(lines) == 42 and {line["rule"] for line in lines} == {"two_thirds_owners_agree"}
        old_verdicts = {int(line["id"]): line["verdict"] for line in lines}
        short_by_area = [r["id"] for r in batch["stairwells"] if r["verdict"] == "approval_not_met"]
        assert {old_verdicts[i] for i in short_by_area} == {"passed"}  # headcount only
        unknown = api.get("planner", "/analysis/consent", params={"batch_id": 1, "rule": "x"})
        assert unknown.status_code == 422 and "civil_code_278" in unknown.json()["detail"]
        both = api.get("planner", "/analysis/consent", params={"batch_id": 1, "compound_id": 5})
        assert both.status_code == 422
        assert api.get("planner", "/analysis/consent", params={"batch_id": 999}).status_code == 404
        worker = api.get("grid01", "/analysis/consent", params={"compound_id": COMPOUND_34})
        assert worker.status_code == 404  # compound 34 lies in grid 2: not the worker's


def test_analyze_consent_on_the_shell(register_db: Engine) -> None:
    out = run(register_db, "consent", "--batch", "1", "--rule", "civil_code_278", "-f", "json")
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout)["verdicts"]
    assert sum(counts.values()) == 42 and counts["quorum_not_met"] > 0
    table = run(register_db, "consent", "--compound", str(COMPOUND_34))
    assert table.returncode == 0, table.stderr
    assert "civil_code_278: passed:" in table.stderr and "quorum_not_met" in table.stdout
    bad = run(register_db, "consent", "--batch", "1", "--on", "1999-01-01")
    assert bad.returncode == 1 and "no consent rule is in force" in bad.stderr
