"""Votes per retrofit proposal: the upgrade from one vote per household, derived counts, scope."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from gis_service.auth import Principal, apply_scope
from gis_service.db import migrate
from gis_service.db.cluster import ManagedCluster
from gis_service.db.engine import create_db_engine
from gis_service.ingest.demo_load import load_demo

BEFORE = "0012"  # the revision before 0011: households with one vote each (0010's model)
COUNTS = "SELECT households, consent_agree, consent_object FROM stairwell WHERE id = :id"
VOTES = "SELECT id, vote, voted_on, recorded_by, proof_photo_path FROM household ORDER BY id"


def rows(conn: sa.Connection, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def test_upgrading_from_one_vote_per_household_loses_nothing(
    pg_cluster: ManagedCluster, fresh_database: str
) -> None:
    engine = create_db_engine(pg_cluster.url(fresh_database))
    migrate.upgrade(engine, BEFORE)
    load_demo(engine, households=True)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE household SET proof_photo_path = 'votes/7.jpg', "
                             "recorded_by = 'li' WHERE id = 7"))  # fmt: skip
        before = rows(conn, VOTES)
        counts = rows(conn, "SELECT id, households, consent_agree, consent_object FROM stairwell "
                            "ORDER BY id")  # fmt: skip
        registers = conn.execute(sa.text(
            "SELECT count(DISTINCT stairwell_id) FROM household")).scalar_one()  # fmt: skip
    migrate.upgrade(engine)
    assert migrate.schema_drift(engine) == []
    with engine.begin() as conn:
        proposals = rows(conn, "SELECT stairwell_id, kind, status, building_id IS NULL "
                               "FROM retrofit_proposal")  # fmt: skip
        assert len(proposals) == registers == len({p[0] for p in proposals})
        assert {p[1:] for p in proposals} == {("elevator", "open", True)}
        moved = rows(conn, "SELECT household_id, vote, voted_on, recorded_by, proof_photo_path "
                           "FROM household_vote ORDER BY household_id")  # fmt: skip
        assert moved == before  # every household's vote, date, recorder and proof
        assert rows(conn, VOTES) == before
        assert rows(conn, "SELECT id, households, consent_agree, consent_object FROM stairwell "
                          "ORDER BY id") == counts  # fmt: skip
        assert sum(v[1] == "agree" for v in moved) > 1000
    migrate.downgrade(engine, BEFORE)
    with engine.begin() as conn:
        assert rows(conn, VOTES) == before
    engine.dispose()


def new_proposal(conn: sa.Connection, sid: int, kind: str = "elevator") -> int:
    return int(conn.execute(sa.text(
        "INSERT INTO retrofit_proposal (stairwell_id, kind, title) VALUES (:s, :k, 'again') "
        "RETURNING id"), {"s": sid, "k": kind}).scalar_one())  # fmt: skip


def vote(conn: sa.Connection, proposal: int, household: int, choice: str) -> None:
    conn.execute(sa.text(
        "INSERT INTO household_vote (proposal_id, household_id, vote) VALUES (:p, :h, :v) "
        "ON CONFLICT (proposal_id, household_id) DO UPDATE SET vote = EXCLUDED.vote"),
        {"p": proposal, "h": household, "v": choice})  # fmt: skip


def test_the_counts_follow_the_current_elevator_proposal(register_db: Engine) -> None:
    with register_db.begin() as conn:
        sid, first = conn.execute(sa.text(
            "SELECT s.id, p.id FROM stairwell s JOIN retrofit_proposal p ON p.stairwell_id = s.id "
            "WHERE s.consent_agree > 2 ORDER BY s.id LIMIT 1")).one()  # fmt: skip
        was = tuple(conn.execute(sa.text(COUNTS), {"id": sid}).one())
        flats = conn.execute(sa.text("SELECT id FROM household WHERE stairwell_id = :s "
                                     "ORDER BY id"), {"s": sid}).scalars().all()  # fmt: skip
        ramp = new_proposal(conn, sid, "ramp")
        vote(conn, ramp, flats[0], "object")
        assert tuple(conn.execute(sa.text(COUNTS), {"id": sid}).one()) == was  # not the elevator
        second = new_proposal(conn, sid)  # a new elevator vote: nobody has voted on it yet
        assert tuple(conn.execute(sa.text(COUNTS), {"id": sid}).one()) == (was[0], 0, 0)
        vote(conn, second, flats[0], "agree")
        vote(conn, second, flats[1], "object")
        vote(conn, second, flats[2], "abstain")
        assert tuple(conn.execute(sa.text(COUNTS), {"id": sid}).one()) == (was[0], 1, 1)
        mirrored = conn.execute(sa.text("SELECT vote, recorded_by FROM household WHERE id = :h"),
                                {"h": flats[1]}).one()  # fmt: skip
        assert tuple(mirrored) == ("object", None)
        # writing the household's vote records it on the current proposal
        conn.execute(sa.text("UPDATE household SET vote = 'agree' WHERE id = :h"),
                     {"h": flats[1]})  # fmt: skip
        assert conn.execute(sa.text(
            "SELECT vote FROM household_vote WHERE proposal_id = :p AND household_id = :h"),
            {"p": second, "h": flats[1]}).scalar_one() == "agree"  # fmt: skip
        assert tuple(conn.execute(sa.text(COUNTS), {"id": sid}).one()) == (was[0], 2, 0)
        conn.execute(sa.text("UPDATE retrofit_proposal SET status = 'withdrawn' WHERE id = :p"),
                     {"p": second})  # fmt: skip
        assert tuple(conn.execute(sa.text(COUNTS), {"id": sid}).one()) == was  # the first again
        conn.execute(sa.text("UPDATE retrofit_proposal SET status = 'closed' WHERE id = :p"),
                     {"p": first})  # fmt: skip
        assert tuple(conn.execute(sa.text(COUNTS), {"id": sid}).one()) == was  # still current
        with pytest.raises(DBAPIError, match="closed: its votes are final"), conn.begin_nested():
            vote(conn, first, flats[0], "object")
        with pytest.raises(DBAPIError, match="does not belong"), conn.begin_nested():
            other = conn.execute(sa.text("SELECT id FROM household WHERE stairwell_id <> :s "
                                         "LIMIT 1"), {"s": sid}).scalar_one()  # fmt: skip
            vote(conn, ramp, other, "agree")


def test_a_building_wide_proposal_counts_for_each_of_its_stairwells(register_db: Engine) -> None:
    with register_db.begin() as conn:
        building, stairwells = conn.execute(sa.text(
            "SELECT building_id, array_agg(id ORDER BY id) FROM stairwell GROUP BY building_id "
            "HAVING count(*) > 1 ORDER BY building_id LIMIT 1")).one()  # fmt: skip
        proposal = conn.execute(sa.text(
            "INSERT INTO retrofit_proposal (building_id, title) VALUES (:b, 'whole building') "
            "RETURNING id"), {"b": building}).scalar_one()  # fmt: skip
        flats = conn.execute(sa.text(
            "SELECT DISTINCT ON (stairwell_id) id FROM household WHERE stairwell_id = ANY(:s) "
            "ORDER BY stairwell_id, id"), {"s": stairwells}).scalars().all()  # fmt: skip
        for flat in flats:
            vote(conn, proposal, flat, "agree")
        agree = conn.execute(sa.text("SELECT consent_agree FROM stairwell WHERE id = ANY(:s) "
                                     "ORDER BY id"), {"s": stairwells}).scalars().all()  # fmt: skip
        assert agree == [1] * len(stairwells)


def test_grid_workers_record_votes_in_their_grids_only(register_db: Engine) -> None:
    with register_db.begin() as conn:
        mine, grid, proposal = conn.execute(sa.text(
            "SELECT h.id, s.grid_id, p.id FROM household h JOIN stairwell s "
            "ON s.id = h.stairwell_id JOIN retrofit_proposal p ON p.stairwell_id = s.id "
            "WHERE s.grid_id IS NOT NULL ORDER BY h.id LIMIT 1")).one()  # fmt: skip
        theirs, other_proposal = conn.execute(sa.text(
            "SELECT h.id, p.id FROM household h JOIN stairwell s ON s.id = h.stairwell_id "
            "JOIN retrofit_proposal p ON p.stairwell_id = s.id WHERE s.grid_id <> :g "
            "ORDER BY h.id LIMIT 1"), {"g": grid}).one()  # fmt: skip
        apply_scope(conn, Principal("grid_worker", 7, "wang", (grid,)))
        seen = set(conn.execute(sa.text("SELECT household_id FROM household_vote")).scalars())
        assert mine in seen and theirs not in seen
        vote(conn, proposal, mine, "object")
        assert conn.execute(sa.text(
            "SELECT recorded_by FROM household_vote WHERE household_id = :h AND proposal_id = :p"),
            {"h": mine, "p": proposal}).scalar_one() == "wang"  # fmt: skip
        with pytest.raises(DBAPIError, match="row-level security"), conn.begin_nested():
            conn.execute(sa.text(
                "INSERT INTO household_vote (proposal_id, household_id, vote) "
                "VALUES (:p, :h, 'agree')"), {"p": other_proposal, "h": theirs})  # fmt: skip
        with pytest.raises(DBAPIError, match="permission denied"), conn.begin_nested():
            conn.execute(sa.text("UPDATE retrofit_proposal SET status = 'closed'"))
