"""A layer's spatial and temporal extent as a caller sees it, cached per data version, role and
grids."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from gis_service.auth import Principal
from gis_service.catalog import Layer
from gis_service.features.values import quoted

GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
_extents: dict[tuple[str, str, int, str, tuple[int, ...]], Any] = {}


def _cached(
    conn: sa.Connection, layer: Layer, principal: Principal, kind: str,
    compute: Callable[[], Any],
) -> Any:
    """compute(), remembered until the table's data version changes."""
    version = conn.execute(
        sa.text("SELECT version FROM data_version WHERE table_name = :t"), {"t": layer.table}
    ).scalar()
    if version is None:
        return compute()
    key = (kind, layer.table, int(version), principal.role, principal.grid_ids)
    if key not in _extents:
        if len(_extents) > 10_000:
            _extents.clear()
        _extents[key] = compute()
    return _extents[key]


def extent(conn: sa.Connection, layer: Layer, principal: Principal) -> list[float] | None:
    """The layer's bounding box in CRS84 as the caller sees it (cached per data version)."""

    def compute() -> list[float] | None:
        row = conn.execute(
            sa.text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                f'FROM (SELECT ST_Extent("geom") AS e FROM {quoted(layer.table)}) AS x'
            )
        ).first()
        return [float(v) for v in row] if row is not None and row[0] is not None else None

    found: list[float] | None = _cached(conn, layer, principal, "bbox", compute)
    return found


def instant(value: dt.date | dt.datetime | None, end: bool) -> str | None:
    """An RFC 3339 UTC instant of a date (its first or last second) or a datetime."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.max if end else dt.time.min, dt.UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def temporal_extent(
    conn: sa.Connection, layer: Layer, principal: Principal
) -> list[str | None] | None:
    """[start, end] of the layer's temporal property (or of its start and end properties);
    end None while a feature's end is open; None for a layer without one or without values."""
    if not layer.temporal:
        return None
    first, last = quoted(layer.temporal[0]), quoted(layer.temporal[-1])
    open_end = f"bool_or({last} IS NULL)" if len(layer.temporal) == 2 else "false"

    def compute() -> list[str | None] | None:
        row = conn.execute(
            sa.text(
                f"SELECT min({first}), max({last}), {open_end} "
                f"FROM {quoted(layer.table)} WHERE {first} IS NOT NULL"
            )
        ).one()
        if row[0] is None:
            return None
        return [instant(row[0], False), None if row[2] else instant(row[1], True)]

    found: list[str | None] | None = _cached(conn, layer, principal, "time", compute)
    return found
