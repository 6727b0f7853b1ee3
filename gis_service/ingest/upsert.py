"""Upsert rows by source key: add new keys, update rows that changed, report vanished keys.

A row's source key says where it came from (osm:way/123, or COLUMN=value for a file imported
with --key COLUMN). Rows whose key is stored are compared with the stored row on the columns the
source owns and the geometry: only rows that differ are updated (their version goes up), the
others are not touched, so importing the same data again changes nothing (no write, no data
version bump). Stored keys of the same source the new data lacks are reported, and kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from gis_service.ingest.writer import write_frame

GEOMETRY_COLUMNS = {"geom", "outline"}
VANISHED_SHOWN = 20


@dataclass
class TableReport:
    """What an import did to one table."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    vanished: int = 0
    vanished_keys: list[str] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)

    def line(self, table: str) -> str:
        """One line of text."""
        more = " …" if self.vanished > VANISHED_SHOWN else ""
        shown = f" ({', '.join(self.vanished_keys)}{more})"
        gone = f", {self.vanished} vanished from the source, kept{shown}" if self.vanished else ""
        return (f"{table}: {self.added} added, {self.updated} updated, "
                f"{self.unchanged} unchanged{gone}")  # fmt: skip


def same_value(a: Any, b: Any) -> bool:
    """Equal as stored: NULL = NULL, numbers by value, geometries to a nanodegree."""
    a_missing = a is None or (not isinstance(a, str | bytes | shapely.Geometry) and pd.isna(a))
    b_missing = b is None or (not isinstance(b, str | bytes | shapely.Geometry) and pd.isna(b))
    if a_missing or b_missing:
        return a_missing and b_missing
    if isinstance(a, shapely.Geometry) or isinstance(b, shapely.Geometry):
        return bool(shapely.equals_exact(a, b, tolerance=1e-9))
    if isinstance(a, int | float | np.number) and isinstance(b, int | float | np.number):
        return bool(np.isclose(float(a), float(b), rtol=0, atol=1e-9))
    return bool(a == b)


def stored_rows(
    conn: sa.Connection, table: str, keys: list[str], owned: list[str]
) -> pd.DataFrame:
    """The stored rows holding these keys: id, source_key, owned columns, geometries."""
    picks = [f'ST_AsBinary("{c}") AS "{c}"' if c in GEOMETRY_COLUMNS else f'"{c}"'
             for c in owned]  # fmt: skip
    sql = (f'SELECT id, source_key, {", ".join(picks)}, ST_AsBinary(geom) AS geom '
           f'FROM "{table}" WHERE source_key = ANY(:keys)')  # fmt: skip
    rows = conn.execute(sa.text(sql), {"keys": keys}).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows], columns=["id", "source_key", *owned, "geom"])
    for column in GEOMETRY_COLUMNS & set(frame.columns):
        frame[column] = [shapely.from_wkb(bytes(v)) if v is not None else None
                         for v in frame[column]]  # fmt: skip
    return frame


def vanished_keys(
    conn: sa.Connection, table: str, keys: list[str], prefix: str, bbox: tuple[float, ...] | None
) -> list[str]:
    """Stored keys of a table with the prefix the source no longer has (inside bbox, if given)."""
    where = "starts_with(source_key, :prefix) AND NOT (source_key = ANY(:keys))"
    params: dict[str, Any] = {"prefix": prefix, "keys": keys}
    if bbox is not None:
        where += " AND geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"
        params.update(w=bbox[0], s=bbox[1], e=bbox[2], n=bbox[3])
    rows = conn.execute(sa.text(f'SELECT source_key FROM "{table}" WHERE {where} ORDER BY 1'),
                        params)  # fmt: skip
    return [str(r[0]) for r in rows]


def update_rows(
    conn: sa.Connection, table: str, changed: pd.DataFrame, owned: list[str]
) -> None:
    """Write the owned columns and geometry of changed rows (one UPDATE, many parameter sets)."""
    sets = [f'"{c}" = ST_SetSRID(ST_GeomFromWKB(:{c}), 4326)' if c in GEOMETRY_COLUMNS
            else f'"{c}" = :{c}' for c in (*owned, "geom")]  # fmt: skip
    statement = sa.text(f'UPDATE "{table}" SET {", ".join(sets)} WHERE id = :id')
    params = []
    for record in changed.to_dict("records"):
        values = {}
        for c in (*owned, "geom"):
            value = record[c]
            if c in GEOMETRY_COLUMNS:
                value = None if value is None else shapely.to_wkb(value)
            elif value is not None and not isinstance(value, str) and pd.isna(value):
                value = None
            elif isinstance(value, np.generic):
                value = value.item()
            values[c] = value
        params.append({"id": int(record["id"]), **values})
    conn.execute(statement, params)


def upsert(
    conn: sa.Connection,
    table: str,
    rows: pd.DataFrame,
    owned: list[str],
    prefix: str,
    bbox: tuple[float, ...] | None = None,
) -> tuple[TableReport, list[int], list[int]]:
    """Add new keys, update changed rows; the report, new ids, ids whose geometry changed.

    rows hold source_key, geom and the columns to write; owned are those compared and updated
    on stored rows (the others are written only when a row is added). Stored keys starting
    with prefix that rows lack are reported as vanished.
    """
    report = TableReport()
    keys = rows["source_key"].tolist()
    stored = stored_rows(conn, table, keys, owned).set_index("source_key")
    known = rows["source_key"].isin(stored.index).to_numpy()
    fresh = rows[~known].reset_index(drop=True)
    changed, moved = [], []
    for record in rows[known].to_dict("records"):
        old = stored.loc[record["source_key"]]
        columns = [*owned, "geom"]
        if all(same_value(record[c], old[c]) for c in columns):
            report.unchanged += 1
            continue
        changed.append({**record, "id": int(old["id"])})
        if not same_value(record["geom"], old["geom"]):
            moved.append(int(old["id"]))
    if changed:
        update_rows(conn, table, pd.DataFrame(changed), owned)
    report.updated = len(changed)
    report.updated_ids = [int(c["id"]) for c in changed]
    new_ids = write_frame(conn, table, fresh) if len(fresh) else []
    report.added = len(new_ids)
    gone = vanished_keys(conn, table, keys, prefix, bbox)
    report.vanished, report.vanished_keys = len(gone), gone[:VANISHED_SHOWN]
    return report, new_ids, moved
