"""Proposals and votes through the API: /analysis/consent per proposal, the votes' ledger."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.cli.test_cli_analysis import run
from tests.conftest import DemoTemplate
from tests.features.live import clients, running

VOTES = "lon,lat,proposal_id,household_id,vote,voted_on\n"


def test_consent_per_proposal_and_a_vote_ledger(
    register_db: Engine, register_template: DemoTemplate
) -> None:
    with register_db.connect() as conn:
        sw = conn.execute(sa.text(
            "SELECT s.id, s.households, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat, p.id AS first "
            "FROM stairwell s JOIN retrofit_proposal p ON p.stairwell_id = s.id "
            "WHERE s.grid_id = 1 ORDER BY s.id LIMIT 1")).one()  # fmt: skip
        flats = conn.execute(sa.text("SELECT id FROM household WHERE stairwell_id = :s "
                                     "ORDER BY id"), {"s": sw.id}).scalars().all()  # fmt: skip
    with running(register_db) as live:
        api = clients(live, register_template)
        before = api.get("planner", "/analysis/consent", params={"stairwell_id": sw.id}).json()
        assert before["proposal"] is None and before["stairwells"][0]["proposal_id"] == sw.first
        assert before["stairwells"][0]["verdict"] == "passed"
        with api("planner") as planner:
            made = planner.post("/collections/proposals/items", json={
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [sw.lon, sw.lat]},
                "properties": {"stairwell_id": sw.id, "kind": "elevator", "title": "第二次表决"}})
            assert made.status_code == 201, made.text
            second = made.json()["id"]
            ledger = VOTES + "".join(f"{sw.lon},{sw.lat},{second},{h},agree,2026-11-30\n"
                                     for h in flats[:2])  # fmt: skip
            done = planner.post("/collections/household_votes/import",
                                files={"file": ("votes.csv", ledger.encode())})  # fmt: skip
            assert done.status_code == 201, done.text
            refused = planner.post("/collections/household_votes/import", files={
                "file": ("votes.csv", ledger.replace("agree", "maybe").encode())})  # fmt: skip
            assert refused.status_code == 422 and "vote" in refused.text
        now = api.get("planner", "/analysis/consent", params={"stairwell_id": sw.id}).json()
        row = now["stairwells"][0]
        assert row["proposal_id"] == second and row["verdict"] == "quorum_not_met"
        assert (row["voted_owners"], row["agree_owners"]) == (2, 2)
        earlier = api.get("planner", "/analysis/consent", params={"proposal_id": sw.first})
        assert earlier.status_code == 200, earlier.text
        old = earlier.json()
        assert old["proposal"]["id"] == sw.first and old["scope"] == {"stairwell_id": sw.id}
        assert old["stairwells"][0] == before["stairwells"][0]  # the first vote, answered as before
        with register_db.connect() as conn:
            counts = conn.execute(sa.text("SELECT consent_agree, consent_object FROM stairwell "
                                          "WHERE id = :s"), {"s": sw.id}).one()  # fmt: skip
        assert tuple(counts) == (2, 0)  # the derived counts follow the current proposal
        export = api.get("grid01", "/collections/household_votes/export",
                         params={"f": "csv", "labels": "false", "proposal_id": second})  # fmt: skip
        assert export.status_code == 200, export.text
        rows = list(csv.DictReader(io.StringIO(export.text)))
        assert sorted(int(r["household_id"]) for r in rows) == flats[:2]
        assert {r["vote"] for r in rows} == {"agree"}
        other = api.get("grid02", "/collections/household_votes/items",
                        params={"proposal_id": second}).json()  # fmt: skip
        assert other["numberMatched"] == 0  # another grid's worker sees none of them
        assert api.get("grid02", "/analysis/consent",
                       params={"proposal_id": second}).status_code == 404  # fmt: skip
        assert api.get("planner", "/analysis/consent",
                       params={"proposal_id": 999999}).status_code == 404  # fmt: skip
    shell = run(register_db, "consent", "--proposal", str(sw.first), "-f", "json")
    assert shell.returncode == 0, shell.stderr
    told = json.loads(shell.stdout)
    assert told["proposal"]["id"] == sw.first and told["stairwells"][0]["verdict"] == "passed"
    current = run(register_db, "consent", "--stairwell", str(sw.id), "-f", "csv")
    assert current.returncode == 0, current.stderr
    assert [line["proposal_id"] for line in csv.DictReader(io.StringIO(current.stdout))] == [
        str(second)]
