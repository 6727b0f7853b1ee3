"""Who may read or write a layer, and telling "not yours" (403) from "does not exist" (404)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.auth import Principal
from gis_service.catalog import Layer
from gis_service.errors import Forbidden, NotFound, Unauthorized
from gis_service.features.geojson import etag_sql, feature_sql
from gis_service.features.values import quoted

FEATURE_ID_DIGITS = 18
DIGITS = re.compile(r"[0-9]+")


@dataclass
class Current:
    """A stored feature: its GeoJSON text, entity tag and raw field values."""

    feature: str
    etag: str
    values: dict[str, Any]
    geometry_wkb: bytes


def check_read(layer: Layer, principal: Principal) -> None:
    """Anonymous callers read only public layers (401 otherwise)."""
    if principal.is_anonymous and not layer.public:
        raise Unauthorized(f"sign in to read {layer.id}: it is not public")


def check_write(layer: Layer, principal: Principal) -> None:
    """401 for anonymous writes, 403 for a role the catalog gives no rights on the layer."""
    if principal.is_anonymous:
        raise Unauthorized("sign in: editing needs a bearer token")
    if not layer.editable_by(principal.role):
        raise Forbidden(f"the role {principal.role} may not edit {layer.id}")


def feature_id(raw: str, layer: Layer) -> int:
    """The numeric id of a feature (404 for anything that cannot be one)."""
    if not DIGITS.fullmatch(raw) or len(raw) > FEATURE_ID_DIGITS:
        raise NotFound(f"{layer.id} has no feature {raw!r}")
    return int(raw)


def load(conn: sa.Connection, layer: Layer, fid: int, lock: bool = False) -> Current | None:
    """The feature as the caller sees it (None when missing or hidden by row security)."""
    names = ", ".join(quoted(f.name) for f in layer.fields)
    row = (
        conn.execute(
            sa.text(
                f"SELECT ({feature_sql(layer)})::text AS feature, {etag_sql(layer)} AS etag, "
                f'ST_AsBinary("geom") AS wkb{", " + names if names else ""} '
                f'FROM {quoted(layer.table)} WHERE "id" = :fid{" FOR UPDATE" if lock else ""}'
            ),
            {"fid": fid},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    values = {f.name: row[f.name] for f in layer.fields}
    return Current(str(row["feature"]), str(row["etag"]), values, bytes(row["wkb"]))


def exists_unscoped(engine: Engine, layer: Layer, fid: int) -> bool:
    """Whether a row exists at all, asked outside the caller's scope; reveals nothing else."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(f'SELECT EXISTS (SELECT 1 FROM {quoted(layer.table)} WHERE "id" = :fid)'),
            {"fid": fid},
        ).scalar_one()
    return bool(found)


def missing(engine: Engine, layer: Layer, principal: Principal, fid: int) -> Exception:
    """The error for a feature the caller cannot see: 403 when it exists in another grid."""
    if (
        layer.grid_scoped
        and principal.role == "grid_worker"
        and exists_unscoped(engine, layer, fid)
    ):
        return Forbidden(f"{layer.id} {fid} lies outside your grids")
    return NotFound(f"{layer.id} has no feature {fid}")


def require(
    conn: sa.Connection,
    engine: Engine,
    layer: Layer,
    principal: Principal,
    fid: int,
    lock: bool = False,
) -> Current:
    """The feature, or 403/404 as `missing` decides."""
    current = load(conn, layer, fid, lock=lock)
    if current is None:
        raise missing(engine, layer, principal, fid)
    return current
