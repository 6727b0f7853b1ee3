"""`gis-service analyze ...` run as a real process against a test database."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import Engine

from tests.datasets.conftest import COMPOUND_34, rows


def run(engine: Engine, *args: str, tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI with GIS_DATABASE_URL pointing at the test database."""
    env = {**os.environ, "GIS_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    if tmp is not None:
        env["GIS_DATA_DIR"] = str(tmp)
    return subprocess.run(
        [sys.executable, "-c", "from gis_service.cli import main; main()", "analyze", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_coverage_json_csv_and_table(shared_demo_db, tmp_path):
    out = run(shared_demo_db, "coverage", "--compound", str(COMPOUND_34), "--format", "json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)["rows"]
    assert (row["eligible_stairwells"], row["in_service_stairwells"]) == (57, 15)
    target = tmp_path / "batch.csv"
    out = run(shared_demo_db, "coverage", "--batch", "1", "--format", "csv", "-o", str(target))
    assert out.returncode == 0, out.stderr
    (line,) = list(csv.DictReader(io.StringIO(target.read_text())))
    assert line["label"] == "15/57 -> 57/57"
    out = run(shared_demo_db, "coverage", "--batch", "1")
    assert "15/57 -> 57/57" in out.stdout and "水荫路34号大院" in out.stdout


def test_gaps_and_siting(shared_demo_db):
    gaps = run(shared_demo_db, "gaps", "--layer", "gardens", "--level", "district", "-f", "json")
    assert gaps.returncode == 0, gaps.stderr
    (district,) = json.loads(gaps.stdout)["rows"]
    assert 0 < district["unserved_stairwells"] < district["stairwells"]
    siting = run(shared_demo_db, "siting", "--layer", "gardens", "-k", "2", "-f", "json")
    assert siting.returncode == 0, siting.stderr
    result = json.loads(siting.stdout)
    assert len(set(result["site_ids"])) == 2 and result["newly_served_households"] > 0


def test_errors_are_one_line(shared_demo_db):
    out = run(shared_demo_db, "coverage", "--level", "city")
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0
    assert "level" in out.stderr and "Traceback" not in out.stderr
    out = run(shared_demo_db, "service-areas", "--layer", "gardens", "--kind", "car_wash")
    assert out.returncode == 1 and "kind" in out.stderr and out.stderr.count("\n") == 1


def test_scenario_commands(demo_db):
    made = run(demo_db, "scenario", "create", "batch one", "--batch", "1", "--garden", "5")
    assert made.returncode == 0, made.stderr
    scenario_id = json.loads(made.stdout)["id"]
    stored = rows(demo_db, "SELECT interventions FROM scenario WHERE id = :i", i=scenario_id)
    assert stored[0]["interventions"]["batches"] == [1]
    shown = run(demo_db, "scenario", "show", str(scenario_id), "--changed-only", "-f", "json")
    assert shown.returncode == 0, shown.stderr
    moved = next(
        r for r in json.loads(shown.stdout)["rows"]
        if r["compound_id"] == COMPOUND_34 and r["indicator"] == "elevator_in_service_stairwells"
    )  # fmt: skip
    assert (moved["baseline"], moved["scenario"]) == (15, 57)
    gone = run(demo_db, "scenario", "delete", str(scenario_id))
    assert gone.returncode == 0, gone.stderr
    again = run(demo_db, "scenario", "delete", str(scenario_id))
    assert again.returncode == 1 and "does not exist" in again.stderr


def test_service_areas_per_stairwell(shared_demo_db):
    out = run(shared_demo_db, "service-areas", "--layer", "gardens", "--level", "stairwell",
              "--life-circle", "5min", "--compound", str(COMPOUND_34), "--format", "csv")
    assert out.returncode == 0, out.stderr
    table = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(table) == 57
    assert {"facility_name", "distance_m", "minutes", "access_lon", "access_lat",
            "unsnapped"} <= set(table[0])  # fmt: skip
    served = [r for r in table if r["served"] == "True"]
    assert served and all(float(r["distance_m"]) <= 300 for r in served)
    text = run(shared_demo_db, "service-areas", "--level", "stairwell", "--compound",
               str(COMPOUND_34))  # fmt: skip
    assert text.returncode == 0 and "facility_name" in text.stdout


def test_complete_community_table_json_and_csv(shared_demo_db):
    table = run(shared_demo_db, "complete-community")
    assert table.returncode == 0, table.stderr
    for shown in ("黄花社区", "幼儿园", "Kindergarten"):
        assert shown in table.stdout
    out = run(shared_demo_db, "complete-community", "--level", "compound", "--compound",
              str(COMPOUND_34), "-f", "json")  # fmt: skip
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)["rows"]
    assert row["compound_id"] == COMPOUND_34 and len(row["kinds"]) == 10
    assert row["score"] == 10 * len(row["present"])
    out = run(shared_demo_db, "complete-community", "-f", "csv")
    assert len(list(csv.DictReader(io.StringIO(out.stdout.lstrip("\ufeff"))))) == 40
    bad = run(shared_demo_db, "complete-community", "--level", "grid")
    assert bad.returncode == 1 and "level" in bad.stderr and "Traceback" not in bad.stderr
