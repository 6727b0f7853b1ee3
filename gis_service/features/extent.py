"""A layer's bounding box as a caller sees it, cached per data version, role and grids."""

from __future__ import annotations

import sqlalchemy as sa

from gis_service.auth import Principal
from gis_service.catalog import Layer
from gis_service.features.values import quoted

_extents: dict[tuple[str, int, str, tuple[int, ...]], list[float] | None] = {}


def extent(conn: sa.Connection, layer: Layer, principal: Principal) -> list[float] | None:
    """The layer's bounding box in CRS84 as the caller sees it (cached per data version)."""
    version = conn.execute(
        sa.text("SELECT version FROM data_version WHERE table_name = :t"), {"t": layer.table}
    ).scalar()
    key = (layer.table, int(version or 0), principal.role, principal.grid_ids)
    if version is None or key not in _extents:
        row = conn.execute(
            sa.text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                f'FROM (SELECT ST_Extent("geom") AS e FROM {quoted(layer.table)}) AS x'
            )
        ).first()
        box = [float(v) for v in row] if row is not None and row[0] is not None else None
        if version is None:
            return box
        if len(_extents) > 10_000:
            _extents.clear()
        _extents[key] = box
    return _extents[key]
