"""Map a file's columns to a layer's catalog fields and check every row before anything is written.

Columns match a field by name (any case), by its zh or en label, or, for Shapefiles, by the
field name cut to 10 characters. `id`, `version` and `updated_at` are assigned by the database;
other unknown columns, and fields the caller's role may not edit, are reported and ignored.
Each row is checked by the layer's row rules (gis_service/rows: types, text lengths, enum
values and lookup codes, references to existing records, the ranges and sums the database
enforces, the catalog's limits), its geometry (see geometry.py) and the service area (the
rule edits follow, rows/area.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from gis_service.catalog import Layer, LayerField
from gis_service.db.models import Base
from gis_service.errors import InvalidInput
from gis_service.ingest.geometry import check_geometries, geodesic_area_m2
from gis_service.ingest.readers import SourceData
from gis_service.ingest.report import RowError
from gis_service.rows.area import inside, outside_message, service_area
from gis_service.rows.check import check_row, read_cell
from gis_service.rows.lookups import lookup_errors
from gis_service.rows.rules import kept_by_database, layer_rules

ASSIGNED = {"id": "assigned by the database", "version": "managed by the database",
            "updated_at": "managed by the database"}
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


def importable_fields(layer: Layer, role: str | None) -> dict[str, LayerField]:
    """Fields an import may set: the catalog's, less the managed ones, less the role's limits."""
    unwritten = {*ASSIGNED, *kept_by_database(layer)}
    fields = {f.name: f for f in layer.fields if f.name not in unwritten}
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
    kept = kept_by_database(layer)
    for column in columns:
        target = names.get(str(column).strip().lower())
        if str(column).strip().lower() in ASSIGNED:
            ignored[column] = ASSIGNED[str(column).strip().lower()]
        elif target is None:
            ignored[column] = "not a field of this layer"
        elif target in ASSIGNED:
            ignored[column] = ASSIGNED[target]
        elif target in kept:
            ignored[column] = "kept by the database"
        elif target not in allowed:
            ignored[column] = "your role may not set this field"
        elif target in mapping.values():
            ignored[column] = f"{target} is already read from another column"
        else:
            mapping[column] = target
    return mapping, ignored


def geometry_type(layer: Layer) -> str:
    """The geometry type of a layer's table column (POINT, LINESTRING, MULTIPOLYGON)."""
    kind = getattr(Base.metadata.tables[layer.table].c.geom.type, "geometry_type", "GEOMETRY")
    return str(kind)


def row_cells(
    frame: pd.DataFrame, mapping: dict[str, str], doc: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each row's cells by field; blank cells are None, or left out where a default applies."""
    names = list(mapping.values())
    defaulted = {n for n in names if "default" in doc["fields"][n] or n in COMPUTED}
    cells = []
    for raw in zip(*(frame[column].tolist() for column in mapping), strict=True):
        row = {n: (None if is_null(v) else v) for n, v in zip(names, raw, strict=True)}
        cells.append({n: v for n, v in row.items() if v is not None or n not in defaulted})
    return cells


def add_areas(cells: list[dict[str, Any]], geoms: list[Any]) -> None:
    """area_m2 computed from the geometry where a row has none."""
    for row, geom in zip(cells, geoms, strict=True):
        if row.get("area_m2") is None and geom is not None:
            row["area_m2"] = round(geodesic_area_m2(geom), 2)


def prepare(
    conn: sa.Connection, layer: Layer, source: SourceData, role: str | None
) -> Prepared:
    """Check every row of a source against a layer; rows with problems are listed, not kept."""
    allowed = importable_fields(layer, role)
    frame = source.frame
    mapping, ignored = map_columns(
        [c for c in frame.columns if c != frame.geometry.name], layer, allowed, source.format
    )
    doc = layer_rules(layer)
    present = set(mapping.values())
    missing = [name for name in allowed if doc["fields"][name]["required"]
               and name not in present and name not in COMPUTED]  # fmt: skip
    if missing:
        raise InvalidInput(
            f"required column(s) missing: {', '.join(missing)}",
            [{"field": name, "message": "required column missing"} for name in missing],
        )
    problems: dict[tuple[int, str], str] = {(e.row - 1, e.field): e.message
                                            for e in source.row_errors}
    target = geometry_type(layer)
    geoms, geometry_problems = check_geometries(frame.geometry.to_numpy(), target)
    for index, message in geometry_problems.items():
        problems.setdefault((index, "geometry"), message)
    area = service_area(conn)
    for index, geom in enumerate(geoms):
        if geom is not None and area is not None and not inside(geom.bounds, area):
            problems.setdefault((index, "geometry"), outside_message(area))
    cells = row_cells(frame, mapping, doc)
    if "area_m2" in allowed and target == "MULTIPOLYGON":
        add_areas(cells, list(geoms))
        present.add("area_m2")
    values: dict[str, list[Any]] = {name: [] for name in present}
    for index, row in enumerate(cells):
        clean, broken = check_row(doc, row, read=read_cell)
        for error in broken:
            problems.setdefault((index, error["field"]), error["message"])
        for name in present:
            values[name].append(clean.get(name))
    for key, message in lookup_errors(conn, layer, doc, values).items():
        problems.setdefault(key, message)
    errors = [RowError(index + 1, name, message)
              for (index, name), message in sorted(problems.items())]
    rows = pd.DataFrame({name: pd.Series(column, dtype=object) for name, column in values.items()})
    rows["geom"] = pd.Series(geoms, dtype=object)
    bad = sorted({index for index, _ in problems})
    return Prepared(rows.drop(index=bad), errors, ignored)
