"""The household register in PostGIS: derived stairwell figures, recorders, grants, grid scope."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from gis_service.auth import Principal, apply_scope

FIGURES = "SELECT households, elderly_households, consent_agree, consent_object, version " \
          "FROM stairwell WHERE id = :id"  # fmt: skip


def bare_stairwell(conn: sa.Connection) -> tuple[int, int]:
    """A stairwell and its grid, its register emptied (its figures stay as they were)."""
    row = conn.execute(sa.text("SELECT id, grid_id FROM stairwell WHERE grid_id IS NOT NULL "
                               "ORDER BY id LIMIT 1")).one()  # fmt: skip
    conn.execute(sa.text("DELETE FROM household WHERE stairwell_id = :id"), {"id": row.id})
    return int(row.id), int(row.grid_id)


def add(conn: sa.Connection, sid: int, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        conn.execute(
            sa.text("INSERT INTO household (stairwell_id, floor, door, area_m2, elderly, vote, "
                    "geom) VALUES (:sid, :floor, :door, :area, :elderly, :vote, "
                    "ST_SetSRID(ST_MakePoint(0, 0), 4326))"),
            {"sid": sid, "elderly": 0, "vote": "not_voted", **row},
        )  # fmt: skip


def test_stairwell_figures_follow_its_households(demo_db: Engine) -> None:
    with demo_db.begin() as conn:
        sid, _ = bare_stairwell(conn)
        conn.execute(
            sa.text(
                "UPDATE stairwell SET households = 9, elderly_households = 2, "
                "consent_agree = 1, consent_object = 0 WHERE id = :id"
            ),
            {"id": sid},
        )
        add(conn, sid, [
            {"floor": 1, "door": "101", "area": 61.5, "elderly": 2, "vote": "object"},
            {"floor": 2, "door": "201", "area": 58, "vote": "agree"},
            {"floor": 3, "door": "301", "area": 58, "elderly": 1, "vote": "abstain"},
        ])  # fmt: skip
        assert tuple(conn.execute(sa.text(FIGURES), {"id": sid}).one())[:4] == (3, 2, 1, 1)
        # a stairwell edit cannot contradict its register: refused, naming the figure
        for change, field in [("households = 40, consent_agree = 30", "households"),
                              ("elderly_households = 3", "elderly_households"),
                              ("consent_object = 0", "consent_object")]:  # fmt: skip
            with pytest.raises(DBAPIError) as refused, conn.begin_nested():
                conn.execute(sa.text(f"UPDATE stairwell SET {change} WHERE id = :id"), {"id": sid})
            diag = refused.value.orig.diag  # type: ignore[union-attr]
            assert refused.value.orig.sqlstate == "23514"  # type: ignore[union-attr]
            assert diag.column_name == field and "3 registered households" in diag.message_primary
        assert tuple(conn.execute(sa.text(FIGURES), {"id": sid}).one())[:4] == (3, 2, 1, 1)
        # the register's own figures, and other fields, are still written
        conn.execute(sa.text("UPDATE stairwell SET households = 3, notes = 'ok' WHERE id = :id"),
                     {"id": sid})  # fmt: skip
        assert tuple(conn.execute(sa.text(FIGURES), {"id": sid}).one())[:4] == (3, 2, 1, 1)
        before = conn.execute(sa.text(FIGURES), {"id": sid}).one().version
        conn.execute(sa.text("UPDATE household SET vote = 'agree' WHERE stairwell_id = :id"),
                     {"id": sid})  # fmt: skip
        after = conn.execute(sa.text(FIGURES), {"id": sid}).one()
        assert tuple(after)[:4] == (3, 2, 3, 0) and after.version == before + 1
        # the point is the stairwell's, whatever the row said
        same = conn.execute(
            sa.text(
                "SELECT bool_and(ST_Equals(h.geom, s.geom)) FROM household h "
                "JOIN stairwell s ON s.id = h.stairwell_id WHERE s.id = :id"
            ),
            {"id": sid},
        ).scalar()
        assert same is True
        conn.execute(sa.text("DELETE FROM household WHERE stairwell_id = :id AND floor < 3"),
                     {"id": sid})  # fmt: skip
        assert tuple(conn.execute(sa.text(FIGURES), {"id": sid}).one())[:4] == (1, 1, 1, 0)


@pytest.mark.parametrize("open_before", [False, True], ids=["first-votes", "proposal-open"])
def test_two_votes_on_one_stairwell_at_once_both_count(demo_db: Engine, open_before: bool) -> None:
    """Two grid workers record votes of one stairwell at once: the second vote waits for the
    first, both are on the one open proposal, and the stairwell's counts hold both."""
    with demo_db.begin() as conn:
        sid, _ = bare_stairwell(conn)
        add(conn, sid, [{"floor": 1, "door": "101", "area": 60},
                        {"floor": 2, "door": "201", "area": 60},
                        {"floor": 3, "door": "301", "area": 60}])  # fmt: skip
        if open_before:
            conn.execute(sa.text("UPDATE household SET vote = 'abstain' WHERE stairwell_id = :id "
                                 "AND door = '301'"), {"id": sid})  # fmt: skip
    vote = "UPDATE household SET vote = :vote WHERE stairwell_id = :id AND door = :door"
    first = demo_db.connect()
    first.begin()
    first.execute(sa.text(vote), {"vote": "agree", "id": sid, "door": "101"})  # holds the row
    second_done: list[BaseException | None] = []

    def second_vote() -> None:
        try:
            with demo_db.begin() as conn:
                conn.execute(sa.text(vote), {"vote": "object", "id": sid, "door": "201"})
            second_done.append(None)
        except BaseException as exc:  # reported by the assertion below
            second_done.append(exc)

    waiting = threading.Thread(target=second_vote)
    waiting.start()
    time.sleep(0.5)  # the second vote now waits for the stairwell row
    first.commit()
    first.close()
    waiting.join(30)
    assert second_done == [None]
    with demo_db.connect() as conn:
        votes = conn.execute(sa.text("SELECT door, vote FROM household WHERE stairwell_id = :id "
                                     "ORDER BY door"), {"id": sid}).all()  # fmt: skip
        opened = conn.execute(sa.text("SELECT count(*) FROM retrofit_proposal WHERE "
                                      "stairwell_id = :id"), {"id": sid}).scalar_one()  # fmt: skip
        figures = tuple(conn.execute(sa.text(FIGURES), {"id": sid}).one())[:4]
    third = "abstain" if open_before else "not_voted"
    assert [tuple(v) for v in votes] == [("101", "agree"), ("201", "object"), ("301", third)]
    assert opened == 1 and figures == (3, 0, 1, 1)


def test_moving_a_household_recounts_both_stairwells(demo_db: Engine) -> None:
    with demo_db.begin() as conn:
        sid, _ = bare_stairwell(conn)
        other = conn.execute(sa.text("SELECT id FROM stairwell WHERE id > :id ORDER BY id "
                                     "LIMIT 1"), {"id": sid}).scalar_one()  # fmt: skip
        conn.execute(sa.text("DELETE FROM household WHERE stairwell_id = :id"), {"id": other})
        add(
            conn,
            sid,
            [
                {"floor": 1, "door": "101", "area": 60, "vote": "agree"},
                {"floor": 1, "door": "102", "area": 60, "vote": "agree"},
            ],
        )
        counter = "SELECT version FROM data_version WHERE table_name = 'household'"
        before = conn.execute(sa.text(counter)).scalar_one()
        conn.execute(
            sa.text(
                "UPDATE household SET stairwell_id = :other WHERE door = '102' "
                "AND stairwell_id = :id"
            ),
            {"id": sid, "other": other},
        )
        assert conn.execute(sa.text(counter)).scalar_one() == before + 1  # caches see it
        assert tuple(conn.execute(sa.text(FIGURES), {"id": sid}).one())[:4] == (1, 0, 1, 0)
        assert tuple(conn.execute(sa.text(FIGURES), {"id": other}).one())[:4] == (1, 0, 1, 0)


def test_a_vote_is_dated_and_signed_by_who_records_it(demo_db: Engine) -> None:
    with demo_db.begin() as conn:
        sid, grid = bare_stairwell(conn)
        add(conn, sid, [{"floor": 1, "door": "101", "area": 60}])
        apply_scope(conn, Principal("grid_worker", 7, "wang", (grid,)))
        conn.execute(sa.text("UPDATE household SET vote = 'object' WHERE stairwell_id = :id"),
                     {"id": sid})  # fmt: skip
        row = conn.execute(
            sa.text(
                "SELECT voted_on = current_date AS today, recorded_by "
                "FROM household WHERE stairwell_id = :id"
            ),
            {"id": sid},
        ).one()
        assert row.today is True and row.recorded_by == "wang"


def test_grid_workers_see_their_grids_households_only(demo_db: Engine) -> None:
    with demo_db.begin() as conn:
        sid, grid = bare_stairwell(conn)
        add(conn, sid, [{"floor": 1, "door": "101", "area": 60}])
        elsewhere = conn.execute(sa.text(
            "SELECT s.id FROM stairwell s WHERE s.grid_id <> :g ORDER BY s.id LIMIT 1"),
            {"g": grid}).scalar_one()  # fmt: skip
        add(conn, elsewhere, [{"floor": 1, "door": "X1", "area": 60}])
        conn.execute(sa.text("UPDATE household SET owner_names = '李四' WHERE stairwell_id = :id"),
                     {"id": sid})  # fmt: skip
        apply_scope(conn, Principal("grid_worker", 7, "wang", (grid,)))
        seen = conn.execute(sa.text("SELECT DISTINCT stairwell_id FROM household")).scalars()
        assert elsewhere not in set(seen)
        names = conn.execute(sa.text("SELECT owner_names FROM household WHERE stairwell_id = :id"),
                             {"id": sid}).scalar_one()  # fmt: skip
        assert names == "李四"  # the grid's worker reads the names of their households
        hidden = conn.execute(
            sa.text("UPDATE household SET vote = 'agree' WHERE stairwell_id = :id"),
            {"id": elsewhere},
        )
        assert hidden.rowcount == 0
        with pytest.raises(DBAPIError, match="permission denied"):
            conn.execute(sa.text("UPDATE household SET area_m2 = 1 WHERE stairwell_id = :id"),
                         {"id": sid})  # fmt: skip


def test_analysts_read_households_but_not_owner_names(demo_db: Engine) -> None:
    with demo_db.connect() as conn, conn.begin():
        apply_scope(conn, Principal("analyst", 3, "ana"))
        assert conn.execute(sa.text("SELECT count(area_m2) >= 0 FROM household")).scalar()
        with pytest.raises(DBAPIError, match="permission denied"):
            conn.execute(sa.text("SELECT owner_names FROM household"))
    with demo_db.connect() as conn, conn.begin():
        apply_scope(conn, Principal("anonymous"))
        with pytest.raises(DBAPIError, match="permission denied"):
            conn.execute(sa.text("SELECT id FROM household"))


def test_a_stairwell_says_whether_it_has_a_register(demo_db: Engine) -> None:
    """has_register follows the register (even when its counts stay the same); no writer
    sets it."""
    said = "SELECT has_register FROM stairwell WHERE id = :id"
    with demo_db.begin() as conn:
        sid, _ = bare_stairwell(conn)
        other = conn.execute(sa.text("SELECT id FROM stairwell WHERE id > :id ORDER BY id "
                                     "LIMIT 1"), {"id": sid}).scalar_one()  # fmt: skip
        conn.execute(sa.text("DELETE FROM household WHERE stairwell_id = :id"), {"id": other})
        conn.execute(sa.text("UPDATE stairwell SET households = 1, elderly_households = 0, "
                             "consent_agree = 0, consent_object = 0 WHERE id = :id"),
                     {"id": sid})  # fmt: skip
        assert conn.execute(sa.text(said), {"id": sid}).scalar_one() is False
        add(conn, sid, [{"floor": 1, "door": "101", "area": 60}])  # the same counts: 1, 0, 0, 0
        assert tuple(conn.execute(sa.text(FIGURES), {"id": sid}).one())[:4] == (1, 0, 0, 0)
        assert conn.execute(sa.text(said), {"id": sid}).scalar_one() is True
        for stairwell, value in ((sid, "false"), (other, "true")):  # nobody says otherwise
            conn.execute(sa.text(f"UPDATE stairwell SET has_register = {value}, notes = 'x' "
                                 "WHERE id = :id"), {"id": stairwell})  # fmt: skip
        assert [conn.execute(sa.text(said), {"id": i}).scalar_one() for i in (sid, other)] == [
            True, False]  # fmt: skip
        conn.execute(sa.text("UPDATE household SET stairwell_id = :other WHERE stairwell_id = :id"),
                     {"id": sid, "other": other})  # fmt: skip
        assert [conn.execute(sa.text(said), {"id": i}).scalar_one() for i in (sid, other)] == [
            False, True]  # fmt: skip
        conn.execute(sa.text("DELETE FROM household WHERE stairwell_id = :id"), {"id": other})
        assert conn.execute(sa.text(said), {"id": other}).scalar_one() is False
        new = conn.execute(sa.text(
            "INSERT INTO stairwell (building_id, compound_id, grid_id, label, floors, geom, "
            "has_register) SELECT building_id, compound_id, grid_id, 'new', floors, geom, true "
            "FROM stairwell WHERE id = :id RETURNING has_register"), {"id": sid}).scalar_one()
        assert new is False  # its households come after it
        conn.rollback()
