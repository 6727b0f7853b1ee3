"""Writes of features in the caller's transaction, each with its edit-log entry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import shapely
import sqlalchemy as sa
from sqlalchemy.exc import DataError, IntegrityError

from gis_service.auth import Principal
from gis_service.catalog import Layer
from gis_service.db.models import Base
from gis_service.errors import InvalidInput
from gis_service.features.access import Current, load
from gis_service.features.errors import Conflict
from gis_service.features.geojson import feature_sql
from gis_service.features.validate import Written, check_rights, check_values, same_geometry
from gis_service.features.values import quoted
from gis_service.rows.messages import say
from gis_service.rows.rules import layer_rules

GEOM_SQL = "ST_GeomFromWKB(:geom_wkb, 4326)"
LOG_BATCH = 5000
COMMAND_LINE = "command line"


def constraint_fields(layer: Layer, constraint: str | None) -> list[str]:
    """The catalog fields a named constraint of the layer's table speaks about."""
    table = Base.metadata.tables[layer.table]
    names = [f.name for f in layer.fields] + ["geom"]
    for item in table.constraints:
        if item.name != constraint:
            continue
        columns = getattr(item, "columns", [])
        text = str(getattr(item, "sqltext", "")) or " ".join(c.name for c in columns)
        words = set(re.findall(r"\w+", text))
        found = [("geometry" if n == "geom" else n) for n in names if n in words]
        return found or [str(constraint)]
    for suffix in ("_fkey", "_key"):  # PostgreSQL's default names: <table>_<column>_fkey
        middle = (constraint or "").removeprefix(f"{layer.table}_").removesuffix(suffix)
        if (constraint or "").endswith(suffix) and middle in names:
            return [middle]
    return [str(constraint or "feature")]


def refused_fields(
    layer: Layer, state: str, constraint: str | None, fields: list[str]
) -> list[dict[str, str]]:
    """The fields a database refusal names, with the row rules' messages (and the rule's name
    when it has messages of its own: a page says it in its language, rows/messages.py)."""
    doc = layer_rules(layer)
    key = {"23502": "required", "23503": "reference"}.get(state, "rule")
    named = {}
    if key == "rule" and constraint in doc["messages"]:
        key = str(constraint)
        named = {"constraint": key}
    return [{"field": f, "message": say(doc, key, f, rule=constraint), **named} for f in fields]


@contextmanager
def refusals(layer: Layer, action: str) -> Iterator[None]:
    """Turn what the database refuses into 422 (rules, types) or 409 (references, duplicates)."""
    try:
        yield
    except IntegrityError as exc:
        state = getattr(exc.orig, "sqlstate", "") or ""
        diag = getattr(exc.orig, "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        column = getattr(diag, "column_name", None)
        if state == "23505":
            raise Conflict(f"a {layer.id} feature with these values exists ({constraint})") from exc
        if state == "23503" and action == "delete":
            raise Conflict(f"other records still refer to this feature ({constraint})") from exc
        detail = getattr(diag, "message_detail", None) or ""
        keys = re.match(r"Key \(([^)]*)\)=", detail)
        if column:
            fields = ["geometry" if column == "geom" else column]
        elif keys:
            fields = [name.strip() for name in keys.group(1).split(",")]
        else:
            fields = constraint_fields(layer, constraint)
        errors = refused_fields(layer, state, constraint, fields)
        if state == "23514" and column:  # a rule of a trigger, which says what is wrong
            message = getattr(diag, "message_primary", None) or errors[0]["message"]
            errors = [{**e, "message": message} for e in errors]
        raise InvalidInput(f"{', '.join(fields)}: {errors[0]['message']}", errors) from exc
    except DataError as exc:
        detail = str(exc.orig).splitlines()[0] if exc.orig else "bad value"
        raise InvalidInput(f"a value has the wrong form: {detail}") from exc


def derived(
    conn: sa.Connection, layer: Layer, principal: Principal, values: dict[str, Any], wkb: bytes
) -> dict[str, Any]:
    """Values the server fills in on create: the grid of a grid-scoped feature, the reporter."""
    extra: dict[str, Any] = {}
    names = {f.name for f in layer.fields}
    if layer.grid_scoped and "grid_id" in names and values.get("grid_id") is None:
        grid = conn.execute(
            sa.text(
                "SELECT coalesce((SELECT grid_id FROM stairwell WHERE id = :sid), "
                "(SELECT id FROM grid WHERE ST_Intersects(geom, ST_GeomFromWKB(:wkb, 4326)) "
                "ORDER BY id LIMIT 1))"
            ),
            {"sid": values.get("stairwell_id"), "wkb": wkb},
        ).scalar()
        if grid is not None:
            extra["grid_id"] = grid
    if "reporter_id" in names and values.get("reporter_id") is None and principal.user_id:
        extra["reporter_id"] = principal.user_id
    return extra


def log(
    conn: sa.Connection,
    layer: Layer,
    principal: Principal,
    fid: int,
    action: str,
    before: str | None,
    after: str | None,
) -> None:
    """Append before/after to the edit log, in the write's own transaction."""
    conn.execute(
        sa.text(
            "INSERT INTO edit_log "
            "(user_id, username, table_name, feature_id, action, before, after) "
            "VALUES (:uid, :name, :table, :fid, :action, CAST(:before AS jsonb), "
            "CAST(:after AS jsonb))"
        ),
        {
            "uid": principal.user_id,
            "name": principal.username,
            "table": layer.table,
            "fid": str(fid),
            "action": action,
            "before": before,
            "after": after,
        },
    )


def log_inserts(
    conn: sa.Connection,
    layer: Layer,
    principal: Principal | None,
    ids: list[int],
    action: str = "insert",
) -> None:
    """Append an entry for each new feature (an import), as `log` would one by one; with
    action="update", for each feature a keyed re-import changed (its row as it now is)."""
    statement = sa.text(
        "INSERT INTO edit_log (user_id, username, table_name, feature_id, action, before, after) "
        f"SELECT :uid, :name, :table, \"id\"::text, :action, NULL, ({feature_sql(layer)})::jsonb "
        f'FROM {quoted(layer.table)} WHERE "id" = ANY(:ids) ORDER BY "id"'
    )
    for start in range(0, len(ids), LOG_BATCH):
        conn.execute(
            statement,
            {
                "uid": principal.user_id if principal else None,
                "name": principal.username if principal else COMMAND_LINE,
                "table": layer.table,
                "action": action,
                "ids": ids[start : start + LOG_BATCH],
            },
        )


def create(
    conn: sa.Connection, layer: Layer, principal: Principal, written: Written
) -> tuple[int, Current]:
    """Insert a feature; every given non-null field must be editable by the caller's role."""
    assert written.geometry is not None
    given = {k: v for k, v in written.values.items() if v is not None}
    check_rights(layer, principal.role, set(given) | {"geom"})
    check_values(conn, layer, given, None)
    wkb = shapely.to_wkb(written.geometry)
    values = {**given, **derived(conn, layer, principal, given, wkb)}
    names = list(values)
    columns = ", ".join([*(quoted(n) for n in names), '"geom"'])
    placeholders = ", ".join([*(f":v_{n}" for n in names), GEOM_SQL])
    with refusals(layer, "insert"):
        fid = conn.execute(
            sa.text(
                f"INSERT INTO {quoted(layer.table)} ({columns}) VALUES ({placeholders}) "
                'RETURNING "id"'
            ),
            {**{f"v_{n}": values[n] for n in names}, "geom_wkb": wkb},
        ).scalar_one()
    current = load(conn, layer, int(fid))
    assert current is not None
    log(conn, layer, principal, int(fid), "insert", None, current.feature)
    return int(fid), current


def changes(
    layer: Layer, current: Current, written: Written, replace: bool, role: str
) -> dict[str, Any]:
    """The fields that differ from the stored row (PUT: editable fields not given become null)."""
    values = dict(written.values)
    if replace:
        for name in layer.editable_by(role) - {"geom"}:
            values.setdefault(name, None)
    return {k: v for k, v in values.items() if current.values.get(k) != v}


def update(
    conn: sa.Connection,
    layer: Layer,
    principal: Principal,
    fid: int,
    current: Current,
    written: Written,
    replace: bool,
) -> Current:
    """Update the fields that change; unchanged fields need no rights, changed ones do."""
    changed = changes(layer, current, written, replace, principal.role)
    geometry_changed = written.geometry is not None and not same_geometry(
        written.geometry, current.geometry_wkb
    )
    check_rights(layer, principal.role, set(changed) | ({"geom"} if geometry_changed else set()))
    if not changed and not geometry_changed:
        return current
    check_values(conn, layer, changed, current.values)
    sets = [f"{quoted(n)} = :v_{n}" for n in changed]
    params: dict[str, Any] = {f"v_{n}": v for n, v in changed.items()}
    if geometry_changed and written.geometry is not None:
        sets.append(f'"geom" = {GEOM_SQL}')
        params["geom_wkb"] = shapely.to_wkb(written.geometry)
    params["fid"] = fid
    with refusals(layer, "update"):
        conn.execute(
            sa.text(f'UPDATE {quoted(layer.table)} SET {", ".join(sets)} WHERE "id" = :fid'),
            params,
        )
    after = load(conn, layer, fid)
    assert after is not None
    log(conn, layer, principal, fid, "update", current.feature, after.feature)
    return after


def delete(
    conn: sa.Connection, layer: Layer, principal: Principal, fid: int, current: Current
) -> None:
    """Delete a feature and log what it was."""
    with refusals(layer, "delete"):
        conn.execute(sa.text(f'DELETE FROM {quoted(layer.table)} WHERE "id" = :fid'), {"fid": fid})
    log(conn, layer, principal, fid, "delete", current.feature, None)
