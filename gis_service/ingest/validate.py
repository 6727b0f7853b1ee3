"""Map a file's columns to a layer's catalog fields and check every row before anything is written.

Columns match a field by name (any case), by its zh or en label, or, for Shapefiles, by the
field name cut to 10 characters. `id`, `version` and `updated_at` are assigned by the database;
other unknown columns, and fields the caller's role may not edit, are reported and ignored.
Each row is checked: types, text lengths, enum values and lookup codes, references to existing
records, the ranges and sums the database enforces, and the geometry (see geometry.py).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from gis_service.catalog import Layer, LayerField
from gis_service.db.models import Base
from gis_service.errors import InvalidInput
from gis_service.ingest.geometry import check_geometries, geodesic_area_m2
from gis_service.ingest.readers import SourceData
from gis_service.ingest.report import RowError

ASSIGNED = {"id": "assigned by the database", "version": "managed by the database",
            "updated_at": "managed by the database"}
TRUE = {"true", "t", "yes", "y", "1", "是"}
FALSE = {"false", "f", "no", "n", "0", "否"}
RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    # field: (minimum, maximum, minimum excluded) — the CHECK constraints of db/models.py
    "floors": (1, 200, False),
    "year_built": (1800, 2100, False),
    "households": (0, None, False),
    "elderly_households": (0, None, False),
    "consent_agree": (0, None, False),
    "consent_object": (0, None, False),
    "capacity": (0, None, False),
    "cost_yuan": (0, None, False),
    "area_m2": (0, None, True),
    "floor_area_m2": (0, None, True),
}
COMPUTED = {"area_m2"}  # computed from the geometry when the file leaves it out


@dataclass
class Prepared:
    """Rows ready to write (fields + geom), the problems found, and the ignored columns."""

    rows: pd.DataFrame
    errors: list[RowError] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)


def is_null(value: Any) -> bool:
    """True for None, NaN, NA, NaT and blank text."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def coerce(value: Any, spec: LayerField, max_len: int | None) -> Any:
    """One value in a field's type (ValueError saying why when it does not fit)."""
    kind = spec.type
    if kind in ("integer", "number"):
        try:
            if isinstance(value, bool | np.bool_):
                raise ValueError
            number = float(str(value).strip()) if isinstance(value, str) else float(value)
        except (ValueError, TypeError):
            number = math.nan
        if kind == "number" and math.isfinite(number):
            return number
        if kind == "integer" and math.isfinite(number) and number == int(number):
            return int(number)
        raise ValueError(f"not {'an integer' if kind == 'integer' else 'a number'}: {value!r}")
    if kind == "boolean":
        if isinstance(value, bool | np.bool_):
            return bool(value)
        text = str(int(value)) if isinstance(value, int | float) else str(value).strip().lower()
        if text in TRUE or text in FALSE:
            return text in TRUE
        raise ValueError(f"not a boolean (true/false): {value!r}")
    if kind in ("date", "datetime"):
        try:
            stamp = pd.Timestamp(value.strip() if isinstance(value, str) else value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a {kind} (use ISO 8601, e.g. 2024-05-01): {value!r}") from exc
        if pd.isna(stamp):
            raise ValueError(f"not a {kind}: {value!r}")
        if kind == "date":
            return stamp.date()
        return (stamp if stamp.tzinfo else stamp.tz_localize("UTC")).to_pydatetime()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip() if not isinstance(value, dt.date) else value.isoformat()
    if max_len is not None and len(text) > max_len:
        raise ValueError(f"longer than {max_len} characters")
    if spec.enum and text not in spec.enum:
        raise ValueError(f"unknown value {text!r} (allowed: {', '.join(spec.enum)})")
    return text


def importable_fields(layer: Layer, role: str | None) -> dict[str, LayerField]:
    """Fields an import may set: the catalog's, less the managed ones, less the role's limits."""
    fields = {f.name: f for f in layer.fields if f.name not in ASSIGNED}
    if role is not None:
        editable = layer.editable_by(role)
        fields = {name: spec for name, spec in fields.items() if name in editable}
    return fields


def map_columns(
    columns: list[str], layer: Layer, allowed: dict[str, LayerField], fmt: str
) -> tuple[dict[str, str], dict[str, str]]:
    """File column → field name for the columns used, and column → reason for the others."""
    names: dict[str, str] = {}
    for spec in layer.fields:
        for alias in (spec.name, spec.label.zh, spec.label.en):
            names.setdefault(alias.strip().lower(), spec.name)
        if fmt == "shapefile":
            names.setdefault(spec.name[:10].lower(), spec.name)
    mapping: dict[str, str] = {}
    ignored: dict[str, str] = {}
    for column in columns:
        target = names.get(str(column).strip().lower())
        if str(column).strip().lower() in ASSIGNED:
            ignored[column] = ASSIGNED[str(column).strip().lower()]
        elif target is None:
            ignored[column] = "not a field of this layer"
        elif target in ASSIGNED:
            ignored[column] = ASSIGNED[target]
        elif target not in allowed:
            ignored[column] = "your role may not set this field"
        elif target in mapping.values():
            ignored[column] = f"{target} is already read from another column"
        else:
            mapping[column] = target
    return mapping, ignored


def required_fields(layer: Layer, allowed: dict[str, LayerField]) -> list[str]:
    """Fields the table needs a value for (NOT NULL, no default)."""
    table = Base.metadata.tables[layer.table]
    return [
        name
        for name in allowed
        if not table.c[name].nullable and table.c[name].server_default is None
        and not table.c[name].primary_key
    ]


def geometry_type(layer: Layer) -> str:
    """The geometry type of a layer's table column (POINT, LINESTRING, MULTIPOLYGON)."""
    kind = getattr(Base.metadata.tables[layer.table].c.geom.type, "geometry_type", "GEOMETRY")
    return str(kind)


def column_length(layer: Layer, name: str) -> int | None:
    """The maximum length of a text column (None: unlimited or not text)."""
    length = getattr(Base.metadata.tables[layer.table].c[name].type, "length", None)
    return length if isinstance(length, int) else None


def lookup_problems(
    conn: sa.Connection, layer: Layer, values: dict[str, list[Any]]
) -> dict[tuple[int, str], str]:
    """Unknown lookup codes and references to records that do not exist, by (row, field)."""
    table = Base.metadata.tables[layer.table]
    problems: dict[tuple[int, str], str] = {}
    for name, column in values.items():
        spec = layer.field(name)
        keys = list(table.c[name].foreign_keys)
        if spec.enum_from:
            ref_table, ref_column = spec.enum_from, "code"
        elif keys:
            ref_table, ref_column = keys[0].column.table.name, keys[0].column.name
        else:
            continue
        wanted = sorted({v for v in column if v is not None}, key=str)
        if not wanted:
            continue
        readable = conn.execute(
            sa.text("SELECT has_table_privilege(:t, 'SELECT')"), {"t": ref_table}
        ).scalar_one()
        if not readable:
            continue  # the database checks the reference when the row is written
        found = {
            row[0]
            for row in conn.execute(
                sa.text(f'SELECT "{ref_column}" FROM "{ref_table}" '
                        f'WHERE "{ref_column}" = ANY(:values)'),
                {"values": wanted},
            )
        }
        for index, value in enumerate(column):
            if value is not None and value not in found:
                problems[(index, name)] = (
                    f"unknown code {value!r} (not in {ref_table})" if spec.enum_from
                    else f"no {ref_table} with {ref_column} {value!r}"
                )
    return problems


def rule_problems(values: dict[str, list[Any]], n: int) -> dict[tuple[int, str], str]:
    """Ranges and the cross-field rules the database enforces, by (row, field)."""
    problems: dict[tuple[int, str], str] = {}
    for name, column in values.items():
        if name not in RANGES:
            continue
        low, high, exclusive = RANGES[name]
        for index, value in enumerate(column):
            if value is None:
                continue
            if low is not None and (value <= low if exclusive else value < low):
                problems[(index, name)] = f"must be {'above' if exclusive else 'at least'} {low}"
            elif high is not None and value > high:
                problems[(index, name)] = f"must be at most {high}"

    def get(name: str, index: int) -> Any:
        column = values.get(name)
        value = column[index] if column is not None else None
        return 0 if value is None and name in RANGES else value

    if "households" in values or "elderly_households" in values or "consent_agree" in values:
        for i in range(n):
            households = get("households", i)
            if get("elderly_households", i) > households:
                problems[(i, "elderly_households")] = "above households"
            if get("consent_agree", i) + get("consent_object", i) > households:
                problems[(i, "consent_agree")] = "agreeing + objecting households above households"
    if "status" in values and "resolved_at" in values:
        for i in range(n):
            if (values["status"][i] == "resolved") != (values["resolved_at"][i] is not None):
                problems[(i, "resolved_at")] = "set exactly when the status is resolved"
    return problems


def prepare(
    conn: sa.Connection, layer: Layer, source: SourceData, role: str | None
) -> Prepared:
    """Check every row of a source against a layer; rows with problems are listed, not kept."""
    allowed = importable_fields(layer, role)
    frame = source.frame
    mapping, ignored = map_columns(
        [c for c in frame.columns if c != frame.geometry.name], layer, allowed, source.format
    )
    present = set(mapping.values())
    missing = [
        name for name in required_fields(layer, allowed)
        if name not in present and name not in COMPUTED
    ]
    if missing:
        raise InvalidInput(
            f"required column(s) missing: {', '.join(missing)}",
            [{"field": name, "message": "required column missing"} for name in missing],
        )
    n = len(frame)
    required = set(required_fields(layer, allowed))
    problems: dict[tuple[int, str], str] = {(e.row - 1, e.field): e.message
                                            for e in source.row_errors}
    values: dict[str, list[Any]] = {}
    for column, name in mapping.items():
        spec, max_len, out = layer.field(name), column_length(layer, name), []
        for index, raw in enumerate(frame[column].tolist()):
            value = None
            if is_null(raw):
                if name in required and name not in COMPUTED:
                    problems.setdefault((index, name), "required")
            else:
                try:
                    value = coerce(raw, spec, max_len)
                except (ValueError, TypeError, OverflowError) as exc:
                    problems.setdefault((index, name), str(exc))
            out.append(value)
        values[name] = out
    target = geometry_type(layer)
    geoms, geometry_problems = check_geometries(frame.geometry.to_numpy(), target)
    for index, message in geometry_problems.items():
        problems.setdefault((index, "geometry"), message)
    if "area_m2" in allowed and target == "MULTIPOLYGON":
        areas = values.setdefault("area_m2", [None] * n)
        for index, geom in enumerate(geoms):
            if areas[index] is None and geom is not None:
                areas[index] = round(geodesic_area_m2(geom), 2)
    for key, message in {**lookup_problems(conn, layer, values),
                         **rule_problems(values, n)}.items():
        problems.setdefault(key, message)
    errors = [RowError(index + 1, name, message)
              for (index, name), message in sorted(problems.items())]
    rows = pd.DataFrame({name: pd.Series(column, dtype=object) for name, column in values.items()})
    rows["geom"] = pd.Series(geoms, dtype=object)
    bad = sorted({index for index, _ in problems})
    return Prepared(rows.drop(index=bad), errors, ignored)
