"""Data versions (what every cache keys on) grow at each commit of a writer, and writers of one
table never wait for each other to count their writes."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import scalar

VERSION = "SELECT version FROM data_version WHERE table_name = :t"
BUMPS = "SELECT count(*) FROM data_version_bump WHERE table_name = :t"
NOTE = "UPDATE stairwell SET notes = :note WHERE id = :id"


def version(engine: Engine, table: str = "stairwell") -> int:
    return int(scalar(engine, VERSION, t=table))  # type: ignore[call-overload]


def two_stairwells(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT id FROM stairwell ORDER BY id LIMIT 2")).scalars())


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ"])
def test_a_writer_saves_while_another_writer_of_the_table_has_not_committed(
    demo_db: Engine, isolation: str
) -> None:
    """An import (or any transaction left open) wrote stairwells; a grid worker saving another
    stairwell meanwhile is not held until it commits (it was, on the table's one counter row),
    and readers see the version grow at each commit, never go back."""
    first_id, second_id = two_stairwells(demo_db)
    seen = [version(demo_db)]
    importing = demo_db.connect().execution_options(isolation_level=isolation)
    importing.begin()
    importing.execute(sa.text(NOTE), {"note": "import", "id": first_id})
    with demo_db.begin() as saving:
        saving.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
        saving.execute(sa.text(NOTE), {"note": "grid worker", "id": second_id})
    seen.append(version(demo_db))
    importing.execute(sa.text(NOTE), {"note": "import, again", "id": first_id})
    seen.append(version(demo_db))  # the import's statements are not committed yet
    importing.commit()
    importing.close()
    seen.append(version(demo_db))
    with demo_db.begin() as conn:
        conn.execute(sa.text(NOTE), {"note": "later", "id": second_id})
    seen.append(version(demo_db))
    start = seen[0]
    assert seen == [start, start + 1, start + 1, start + 3, start + 4]
    assert scalar(demo_db, BUMPS, t="stairwell") == 0  # the last writer folded them all


def test_writers_at_once_are_each_counted_once_as_they_fold_each_others_bumps(
    demo_db: Engine,
) -> None:
    """Four writers, each saving its own stairwell 25 times while the others fold their bumps
    into the base: every save is counted once (the version grows by 100), and another table's
    version is left alone."""
    with demo_db.connect() as conn:
        ids = list(conn.execute(sa.text("SELECT id FROM stairwell ORDER BY id LIMIT 4")).scalars())
    start, gardens = version(demo_db), version(demo_db, "garden")
    failed: list[BaseException] = []

    def writer(stairwell_id: int) -> None:
        try:
            for n in range(25):
                with demo_db.begin() as conn:
                    conn.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
                    conn.execute(sa.text(NOTE), {"note": f"save {n}", "id": stairwell_id})
        except BaseException as exc:  # reported by the assertion below
            failed.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failed == []
    assert version(demo_db) == start + 100
    assert version(demo_db, "garden") == gardens


def test_pruning_the_feed_does_not_hold_another_writer(demo_db: Engine) -> None:
    """The feed of changed rows is pruned by whichever writer draws it: a writer left open
    after pruning held the day-old rows, and the next writer to prune waited for its commit."""
    with demo_db.begin() as conn:
        conn.execute(sa.text("INSERT INTO row_change (table_name, row_id, changed_at) "
                             "SELECT 'stairwell', g, now() - interval '2 days' "
                             "FROM generate_series(1, 5) g"))  # fmt: skip
        seed = pruning_seed(conn)
    first_id, second_id = two_stairwells(demo_db)
    first = demo_db.connect()
    first.begin()
    first.execute(sa.text("SELECT setseed(:s)"), {"s": seed})
    first.execute(sa.text(NOTE), {"note": "prunes", "id": first_id})
    with demo_db.begin() as second:
        second.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
        second.execute(sa.text("SELECT setseed(:s)"), {"s": seed})
        second.execute(sa.text(NOTE), {"note": "prunes too", "id": second_id})
    first.commit()
    first.close()
    old = "SELECT count(*) FROM row_change WHERE changed_at < now() - interval '1 day'"
    assert scalar(demo_db, old) == 0


def pruning_seed(conn: sa.Connection) -> float:
    """A seed after which random() draws the feed's pruning (a chance of 1 in 1000)."""
    for n in range(1, 100_000):
        seed = n / 100_000
        conn.execute(sa.text("SELECT setseed(:s)"), {"s": seed})
        if conn.execute(sa.text("SELECT random() < 0.001")).scalar_one():
            return seed
    raise AssertionError("no seed draws the pruning")
