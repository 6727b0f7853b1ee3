"""Rendering a tile inside the caller's scoped transaction, through the cache.

The database is the authority on who sees what: tiles are built in a transaction switched to
the caller's role (SET LOCAL ROLE, gis.grid_ids set), so row-level security decides which
stairwells a grid worker's tile holds. The cache key carries the scope: public layers and the
roles that see every row share entries; a grid worker's entries of row-secured layers are keyed
by their grids. Read privileges are checked on every request, cache hit or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.auth import CALLER_SQL, DB_ROLES, Principal, apply_scope
from gis_service.catalog import Layer
from gis_service.errors import Forbidden, Unauthorized
from gis_service.tiles.cache import CachedTile, TileCache, TileKey, VersionKey, make_entry
from gis_service.tiles.grid import TMS_ID, TileAddress
from gis_service.tiles.mvt import LayerPlan, tile_query
from gis_service.tiles.params import TileFilter

EMPTY = make_entry(b"")
STATE_SQL = sa.text("""
    SELECT t.name, v.version,
           has_table_privilege(CAST(coalesce(:role, current_user) AS name), c.oid, 'SELECT')
               AS readable,
           c.relrowsecurity AS row_security
    FROM unnest(CAST(:tables AS text[])) AS t(name)
    JOIN pg_class c ON c.oid = to_regclass(t.name)
    LEFT JOIN data_version v ON v.table_name = t.name
""")

STATE_AND_CALLER_SQL = sa.text(f"""
    WITH caller AS ({CALLER_SQL})
    SELECT t.name, v.version,
           has_table_privilege(CAST(:role AS name), c.oid, 'SELECT') AS readable,
           c.relrowsecurity AS row_security,
           (SELECT id FROM caller) AS caller_id, (SELECT role FROM caller) AS caller_role,
           (SELECT grids FROM caller) AS caller_grids
    FROM unnest(CAST(:tables AS text[])) AS t(name)
    JOIN pg_class c ON c.oid = to_regclass(t.name)
    LEFT JOIN data_version v ON v.table_name = t.name
""")
"""STATE_SQL for a remembered caller, with whom its token names now: one round trip."""


@dataclass(frozen=True)
class TableState:
    """What the caller's transaction sees of a table: data version, read right, row security."""

    version: int | None
    readable: bool
    row_security: bool


def table_state(
    conn: sa.Connection, layers: Sequence[Layer], role: str | None = None
) -> dict[str, TableState]:
    """Data versions and read rights (of a database role, else the current one), in one query."""
    tables = sorted({layer.table for layer in layers})
    rows = conn.execute(STATE_SQL, {"tables": tables, "role": role})
    return {
        row.name: TableState(
            None if row.version is None else int(row.version),
            bool(row.readable),
            bool(row.row_security),
        )
        for row in rows
    }


def check_access(
    principal: Principal, layers: Sequence[Layer], state: dict[str, TableState] | None = None
) -> None:
    """401 for anonymous callers of non-public layers, 403 where the role may not read."""
    for layer in layers:
        readable = state is None or state[layer.table].readable
        if principal.is_anonymous and not (layer.public and readable):
            raise Unauthorized(f"layer {layer.id} needs a bearer token")
        if not readable:
            raise Forbidden(f"your role may not read layer {layer.id}")


def scope_key(principal: Principal, layers: Sequence[Layer], state: dict[str, TableState]) -> str:
    """Who may share a cached tile: everyone, the roles that see all rows, or one set of grids."""
    if principal.role == "grid_worker" and any(
        layer.grid_scoped or state[layer.table].row_security for layer in layers
    ):
        return "grids:" + ",".join(str(g) for g in sorted(principal.grid_ids))
    if all(layer.public for layer in layers):
        return "public"
    return "staff"


def plans_for(layers: Sequence[Layer], tile: TileAddress, tfilter: TileFilter) -> list[LayerPlan]:
    """The layers drawn at this zoom (none below a layer's minzoom), aggregated where asked.

    Cells are counted on the WebMercatorQuad grid only: WorldCRS84Quad tiles carry features.
    """
    plans: list[LayerPlan] = []
    for layer in layers:
        if tile.z < layer.tiles.minzoom:
            continue
        below = layer.tiles.aggregate_below
        where = tfilter.for_layer(layer, f"l{len(plans)}_")
        aggregate = below is not None and tile.z < below and tile.tms == TMS_ID
        plans.append(LayerPlan(layer, aggregate, where.sql, where.params))
    return plans


def readable_state(
    engine: Engine, principal: Principal, layers: Sequence[Layer]
) -> dict[str, TableState]:
    """The tables' data versions and the caller's read rights: one query, no transaction.

    This is the hot path of a cached tile (the caller comes from api.deps.get_principal).
    """
    check_access(principal, layers)  # anonymous callers of private layers stop here
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        state = table_state(conn, layers, DB_ROLES[principal.role])
    check_access(principal, layers, state)
    return state


def remembered_state(
    engine: Engine, principal: Principal, token_hash: str, layers: Sequence[Layer]
) -> dict[str, TableState] | None:
    """readable_state for a remembered token's principal, in the same query as the check that
    the token still names that user, role and grids; None when it does not (revoked, expired,
    changed): the caller is then resolved again."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        rows = conn.execute(STATE_AND_CALLER_SQL, caller_params(principal, token_hash, layers))
        return caller_state(principal, layers, rows.all())


def caller_params(principal: Principal, token_hash: str, layers: Sequence[Layer]) -> dict[str, Any]:
    """The bound values of STATE_AND_CALLER_SQL."""
    tables = sorted({layer.table for layer in layers})
    return {"tables": tables, "role": DB_ROLES[principal.role], "hash": token_hash}


def caller_state(
    principal: Principal, layers: Sequence[Layer], rows: Sequence[Any]
) -> dict[str, TableState] | None:
    """The table state of STATE_AND_CALLER_SQL's rows, None unless they name the principal."""
    same = (principal.user_id, principal.role, principal.grid_ids)
    if not rows or any((r.caller_id, r.caller_role, tuple(r.caller_grids or ())) != same
                       for r in rows):  # fmt: skip
        return None
    state = {
        r.name: TableState(None if r.version is None else int(r.version), bool(r.readable),
                           bool(r.row_security))
        for r in rows
    }  # fmt: skip
    check_access(principal, layers, state)
    return state


@dataclass(frozen=True)
class TilePlan:
    """What a tile draws and the cache key it is kept under (cacheable: every version known)."""

    plans: list[LayerPlan]
    key: TileKey
    versions: VersionKey
    cacheable: bool


def plan_tile(
    principal: Principal,
    state: dict[str, TableState],
    layers: Sequence[Layer],
    tile: TileAddress,
    tfilter: TileFilter,
) -> TilePlan | None:
    """The layers drawn and the cache key of a tile; None when no layer is drawn at its zoom."""
    check_access(principal, layers, state)
    plans = plans_for(layers, tile, tfilter)
    if not plans:
        return None
    versions: VersionKey = tuple(
        sorted({(p.layer.table, state[p.layer.table].version or 0) for p in plans})
    )
    cacheable = all(state[p.layer.table].version is not None for p in plans)
    scope = scope_key(principal, layers, state)
    ids = tuple(p.layer.id for p in plans)
    return TilePlan(plans, TileKey(ids, tile, tfilter.items, scope, versions), versions, cacheable)


def tile_bytes(row: Sequence[Any]) -> bytes:
    """The tile of a tile query's row: its layers' MVT blobs, concatenated."""
    return b"".join(bytes(part) for part in row if part)


def render_tile(
    engine: Engine,
    cache: TileCache,
    principal: Principal,
    state: dict[str, TableState],
    layers: Sequence[Layer],
    tile: TileAddress,
    tfilter: TileFilter,
) -> tuple[CachedTile, bool]:
    """The tile (from the cache when its data has not changed) and whether it was a hit.

    A miss builds the tile in a transaction switched to the caller's role and grids, so the
    database's grants and row-level security decide what it holds.
    """
    planned = plan_tile(principal, state, layers, tile, tfilter)
    if planned is None:
        return EMPTY, True

    def build() -> CachedTile:
        sql, params = tile_query(planned.plans, tile)
        with engine.begin() as conn:
            apply_scope(conn, principal)
            row = conn.execute(sa.text(sql), params).one()
        return make_entry(tile_bytes(row))

    if not planned.cacheable:
        return build(), False
    cache.observe(planned.versions)
    return cache.get_or_build(planned.key, planned.versions, build)
