"""Write prepared rows into a table inside the caller's transaction: COPY, then INSERT … SELECT.

Rows are streamed with COPY into a temporary table (COPY into a table with row-level security is
not allowed for non-owners, and the caller's role is what an API import runs as), then moved
into the target table in batches of INSERT … SELECT, so grants, row-level security, CHECK
constraints, foreign keys and triggers all apply. Columns left NULL take the column's default.
The caller owns the transaction: any refusal rolls back every batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import psycopg
import shapely
import sqlalchemy as sa

Progress = Callable[[int, int], None]
BATCH_ROWS = 5000


def column_defaults(conn: sa.Connection, table: str) -> dict[str, str]:
    """The default expression of each column of a table that has one (from pg_attrdef)."""
    rows = conn.execute(
        sa.text("""
            SELECT a.attname, pg_get_expr(d.adbin, d.adrelid)
            FROM pg_attrdef d
            JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
            WHERE d.adrelid = CAST(:table AS regclass)
        """),
        {"table": table},
    )
    return {str(name): str(expr) for name, expr in rows}


def python_value(value: Any) -> Any:
    """A value psycopg can write (numpy scalars to Python, NA to None)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def write_frame(
    conn: sa.Connection,
    table: str,
    frame: pd.DataFrame,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
) -> list[int]:
    """Insert a frame's rows (shapely geometries in 'geom', EPSG:4326) and return their ids."""
    columns = [str(c) for c in frame.columns]
    total = len(frame)
    if total == 0:
        return []
    report = progress or (lambda _done, _total: None)
    temp = f'pg_temp."_gis_import_{table}"'
    quoted = ", ".join(f'"{c}"' for c in columns)
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {temp}"))
    conn.execute(
        sa.text(
            f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS "
            f'SELECT 0::bigint AS _row, {quoted} FROM "{table}" WITH NO DATA'
        )
    )
    data = frame.copy()
    for column in data.columns:
        values = data[column].to_numpy(dtype=object)
        if column == "geom" or any(isinstance(v, shapely.Geometry) for v in values):
            geoms = shapely.set_srid(values, 4326)  # geometry columns as EWKB (NULL stays)
            data[column] = shapely.to_wkb(geoms, hex=True, include_srid=True)
        else:
            data[column] = data[column].astype(object).where(data[column].notna(), None)
    raw = conn.connection.driver_connection
    assert raw is not None
    statement = f"COPY {temp} (_row, {quoted}) FROM STDIN"
    try:
        with raw.cursor() as cur, cur.copy(statement) as copy:
            for number, row in enumerate(data.itertuples(index=False, name=None)):
                copy.write_row((number, *(python_value(v) for v in row)))
    except psycopg.Error as exc:  # raw COPY: give it SQLAlchemy's shape like every other error
        raise sa.exc.DBAPIError(statement, None, exc) from exc
    defaults = column_defaults(conn, table)
    selected = ", ".join(
        f'coalesce(s."{c}", {defaults[c]})' if c in defaults and c != "id" else f's."{c}"'
        for c in columns
    )
    insert = sa.text(
        f'INSERT INTO "{table}" ({quoted}) SELECT {selected} FROM {temp} s '
        "WHERE s._row >= :start AND s._row < :stop ORDER BY s._row RETURNING id"
    )
    ids: list[int] = []
    for start in range(0, total, batch_rows):
        stop = min(start + batch_rows, total)
        ids.extend(int(r[0]) for r in conn.execute(insert, {"start": start, "stop": stop}))
        report(stop, total)
    conn.execute(sa.text(f"DROP TABLE {temp}"))
    return ids


def reserve_ids(conn: sa.Connection, table: str, count: int) -> list[int]:
    """Draw `count` ids from a table's id sequence (to link rows before they are written)."""
    if count == 0:
        return []
    rows = conn.execute(
        sa.text(
            "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
        ),
        {"table": table, "n": count},
    )
    return [int(r[0]) for r in rows]
