"""Export a layer, optionally filtered (field=value, CQL2 text), to GeoJSON, GeoPackage, CSV or
XLSX.

Rows are read through the caller's connection, so the caller's role decides what comes out
(grid workers get only their grids: row-level security does it). Every catalog field is
written, with the feature id as `id`. CSV is UTF-8 with a byte-order mark (Excel opens it
right); point layers get `lon`/`lat` columns, other layers a `wkt` column; text cells that a
spreadsheet would run as a formula (=, +, -, @, tab, CR first) start with a ' instead.
With `labels`, CSV and XLSX are ledgers for people (ingest/ledger.py): field labels as headers,
labels instead of codes; an XLSX ledger holds at most `max_rows` rows.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
import sqlalchemy as sa

from gis_service.catalog import Layer
from gis_service.datasets.formats import to_csv
from gis_service.features.errors import BadRequest
from gis_service.features.filters import SqlFilter, cql2_to_sql, equality_filters
from gis_service.features.values import queryable_fields
from gis_service.ingest.ledger import XLSX_MEDIA, ledger_table, to_xlsx
from gis_service.ingest.validate import geometry_type

FORMATS: dict[str, tuple[str, str]] = {
    "geojson": (".geojson", "application/geo+json"),
    "gpkg": (".gpkg", "application/geopackage+sqlite3"),
    "csv": (".csv", "text/csv; charset=utf-8"),
    "xlsx": (".xlsx", XLSX_MEDIA),
}
LEDGERS = ("csv", "xlsx")
"""Formats that can be written with labels for people."""
DRIVERS = {"geojson": "GeoJSON", "gpkg": "GPKG"}
OGR_TYPES = {"POINT": "Point", "LINESTRING": "LineString", "MULTIPOLYGON": "MultiPolygon"}
PANDAS_TYPES = {"integer": "Int64", "number": "float64", "boolean": "boolean"}


def format_for(path: Path) -> str:
    """The export format of an output file from its extension."""
    suffix = path.suffix.lower()
    for name, (extension, _media) in FORMATS.items():
        if suffix == extension or (name == "geojson" and suffix == ".json"):
            return name
    raise BadRequest(f"cannot export to {path.name!r}: use .geojson, .gpkg, .csv or .xlsx")


def row_filter(
    layer: Layer, filters: Mapping[str, str], cql: str | None = None
) -> SqlFilter:
    """SQL for `field = value` filters on queryable fields (unknown names: 400) and CQL2 text."""
    queryables = queryable_fields(layer)
    unknown = sorted(set(filters) - set(queryables))
    if unknown:
        raise BadRequest(
            f"unknown filter {unknown[0]!r}; filter on: {', '.join(queryables)}",
            [{"field": name, "message": "not a queryable field"} for name in unknown],
        )
    found = equality_filters(layer, filters)
    if cql:
        text = cql2_to_sql(cql, layer)
        return SqlFilter(f"({found.sql}) AND ({text.sql})", {**found.params, **text.params})
    return found


def read_layer(
    conn: sa.Connection, layer: Layer, where: SqlFilter | None = None
) -> gpd.GeoDataFrame:
    """A layer's rows (id, catalog fields, geometry) as the connection's role may see them."""
    where = where or SqlFilter("TRUE")
    names = [f.name for f in layer.fields]
    columns = ", ".join(f'"{name}"' for name in ["id", *names])
    result = conn.execute(
        sa.text(
            f'SELECT {columns}, ST_AsBinary(geom) AS geom FROM "{layer.table}" '
            f"WHERE {where.sql} ORDER BY id"
        ),
        where.params,
    )
    rows = result.all()
    data: dict[str, Any] = {}
    for position, name in enumerate(["id", *names]):
        values = [row[position] for row in rows]
        kind = "integer" if name == "id" else layer.field(name).type
        if kind in PANDAS_TYPES:
            data[name] = pd.array(values, dtype=PANDAS_TYPES[kind])
        elif kind == "datetime":
            data[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
        else:
            data[name] = pd.Series(values, dtype=object)
    geoms = shapely.from_wkb([bytes(row[-1]) for row in rows]) if rows else []
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=4326)


def to_csv_bytes(frame: gpd.GeoDataFrame, points: bool) -> bytes:
    """CSV bytes: lon/lat columns for points, a WKT column otherwise; formulas neutralised."""
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    geoms = frame.geometry.to_numpy()
    if points:
        table["lon"] = shapely.get_x(geoms)
        table["lat"] = shapely.get_y(geoms)
    else:
        table["wkt"] = shapely.to_wkt(geoms, rounding_precision=-1)
    return to_csv(table).encode("utf-8-sig")


@dataclass(frozen=True)
class Ledger:
    """How a CSV or XLSX export is written: labels (or codes), language, most rows, time zone."""

    labels: bool = False
    lang: str = "zh"
    max_rows: int | None = None
    zone: str = "Asia/Shanghai"


def count_rows(conn: sa.Connection, layer: Layer, where: SqlFilter) -> int:
    """How many rows of the layer the filter keeps, as the connection's role may see them."""
    sql = f'SELECT count(*) FROM "{layer.table}" WHERE {where.sql}'
    return int(conn.execute(sa.text(sql), where.params).scalar_one())


def export_bytes(
    conn: sa.Connection, layer: Layer, fmt: str, where: SqlFilter | None = None,
    ledger: Ledger = Ledger(),
) -> tuple[bytes, int]:  # fmt: skip
    """A layer exported to one format: the bytes and the number of features."""
    if fmt not in FORMATS:
        raise BadRequest(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    where = where or SqlFilter("TRUE")
    if fmt == "xlsx" and ledger.max_rows is not None:
        found = count_rows(conn, layer, where)
        if found > ledger.max_rows:
            raise BadRequest(f"the ledger would hold {found} rows, at most {ledger.max_rows}: "
                             "narrow it with a filter, or export csv")  # fmt: skip
    frame = read_layer(conn, layer, where)
    if fmt in LEDGERS and (ledger.labels or fmt == "xlsx"):
        table = ledger_table(conn, layer, frame, ledger.lang, ledger.labels, ledger.zone)
        if fmt == "csv":
            return to_csv(table).encode("utf-8-sig"), len(frame)
        return to_xlsx(table, layer.title.pick(ledger.lang)), len(frame)
    if fmt == "csv":
        return to_csv_bytes(frame, geometry_type(layer) == "POINT"), len(frame)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{layer.id}{FORMATS[fmt][0]}"
        pyogrio.write_dataframe(
            frame,
            path,
            layer=layer.id,
            driver=DRIVERS[fmt],
            geometry_type=OGR_TYPES[geometry_type(layer)],
        )
        return path.read_bytes(), len(frame)


def export_file(
    conn: sa.Connection, layer: Layer, path: Path, where: SqlFilter | None = None,
    ledger: Ledger = Ledger(),
) -> int:  # fmt: skip
    """Export a layer to a file (format from the extension); the number of features written."""
    data, count = export_bytes(conn, layer, format_for(path), where, ledger)
    path.write_bytes(data)
    return count
