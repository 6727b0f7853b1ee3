"""What was written to stairwells and buildings since an answer was computed (the row_change feed).

A reader keeps the transaction snapshot it last read (`Seen`); the changes since are the feed's
rows whose transaction that snapshot did not see, so a transaction that commits late is never
skipped, and one seen twice is only read twice. The feed keeps a day; an older reader, a bulk
write or a TRUNCATE means "everything changed".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from gis_service.datasets.cache import VersionKey, as_version_key, versions_key

FED_TABLES = ("stairwell", "building")
"""Tables whose written rows the feed names (migration 0015)."""
MAX_AGE_S = 12 * 3600.0
"""A reader older than this re-reads everything (the feed is pruned after a day)."""
CHANGES_SQL = """
SELECT now_seen.snapshot, now_seen.versions, c.table_name, c.row_id, c.grid_id, c.compound_id
FROM (SELECT pg_current_snapshot()::text AS snapshot,
             (SELECT json_object_agg(table_name, version) FROM data_version
              WHERE table_name = ANY(CAST(:tables AS text[]))) AS versions) now_seen
LEFT JOIN LATERAL (
    SELECT table_name, row_id, grid_id, compound_id FROM row_change
    WHERE xid >= pg_snapshot_xmin(CAST(:seen AS pg_snapshot))::text::bigint
      AND NOT pg_visible_in_snapshot(xid::text::xid8, CAST(:seen AS pg_snapshot))
) c ON true
"""
"""The feed since a snapshot, the snapshot now and the data versions of some tables (as
cache.versions_key reads them), all in one statement's snapshot."""


@dataclass(frozen=True)
class Seen:
    """Where a reader stands in the feed: the transaction snapshot it read, and when."""

    snapshot: str
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Changes:
    """Rows written since a reader's snapshot (ids), and the units stairwells left or joined."""

    everything: bool = False
    stairwells: frozenset[int] = frozenset()
    buildings: frozenset[int] = frozenset()
    units: frozenset[tuple[int | None, int | None]] = frozenset()
    """(grid_id, compound_id) of written stairwells, before and after the write."""

    def __bool__(self) -> bool:
        """Whether anything was written."""
        return self.everything or bool(self.stairwells or self.buildings)


def seen_now(conn: sa.Connection) -> Seen:
    """The reader's place in the feed now (take it before reading what it will answer from)."""
    return Seen(str(conn.execute(sa.text("SELECT pg_current_snapshot()::text")).scalar_one()))


def changes_since(conn: sa.Connection, seen: Seen) -> tuple[Changes, Seen]:
    """The rows written since `seen`, and the new place in the feed (one statement)."""
    _, changes, now = versions_and_changes(conn, (), seen)
    return changes, now


def versions_and_changes(conn: sa.Connection, tables: tuple[str, ...], seen: Seen) -> tuple[
    VersionKey, Changes, Seen
]:
    """The data versions of these tables (cache.versions_key), the rows written since `seen`
    and the new place in the feed, in one round trip (a reader older than MAX_AGE_S: two)."""
    if time.monotonic() - seen.at > MAX_AGE_S:
        return versions_key(conn, tables), Changes(everything=True), seen_now(conn)
    rows = conn.execute(sa.text(CHANGES_SQL), {"seen": seen.snapshot, "tables": list(tables)}).all()
    now = Seen(str(rows[0][0]))
    stairwells, buildings, units, everything = set(), set(), set(), False
    for _, _, table, row_id, grid_id, compound_id in rows:
        if table is None:
            continue  # no change: the one row carrying the snapshot
        if row_id is None:
            everything = True
        elif table == "stairwell":
            stairwells.add(int(row_id))
            units.add((grid_id, compound_id))
        elif table == "building":
            buildings.add(int(row_id))
    changes = Changes(everything, frozenset(stairwells), frozenset(buildings), frozenset(units))
    return as_version_key(rows[0][1]), changes, now
