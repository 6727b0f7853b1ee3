"""A layer as a ledger (台账) for people: field labels as headers, labels instead of codes.

Enum values take their labels from the catalog (`enum_labels`) or from their lookup table
(`enum_from`), booleans read 是/否 (Yes/No), points get longitude/latitude columns (other
geometries are left out: a ledger is read, not re-imported). XLSX cells holding text are
written as text, so `=1+1` stays the text `=1+1` and is never a formula.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from gis_service.catalog import Layer
from gis_service.datasets.formats import column_values
from gis_service.rows.lookups import labelled
from gis_service.text import Text

XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COMMON = {
    "id": Text(zh="编号", en="ID"),
    "lon": Text(zh="经度", en="Longitude"),
    "lat": Text(zh="纬度", en="Latitude"),
    "true": Text(zh="是", en="Yes"),
    "false": Text(zh="否", en="No"),
}
MAX_WIDTH = 40


def value_labels(conn: sa.Connection, layer: Layer, lang: str) -> dict[str, dict[Any, str]]:
    """Per enum field of the layer, each code's label in a language."""
    out: dict[str, dict[Any, str]] = {}
    for spec in layer.fields:
        if spec.enum_labels:
            out[spec.name] = {code: text.pick(lang) for code, text in spec.enum_labels.items()}
        elif spec.enum_from:
            out[spec.name] = {c.code: c.label(lang) for c in labelled(conn, spec.enum_from)}
        elif spec.type == "boolean":
            out[spec.name] = {True: COMMON["true"].pick(lang), False: COMMON["false"].pick(lang)}
    return out


def headers(layer: Layer, columns: list[str], lang: str) -> list[str]:
    """Each column's label (a repeated label gets its field name added)."""
    names = [COMMON[c].pick(lang) if c in COMMON else layer.field(c).label.pick(lang)
             for c in columns]  # fmt: skip
    return [f"{n} ({c})" if names.count(n) > 1 else n for n, c in zip(names, columns, strict=True)]


def ledger_table(
    conn: sa.Connection, layer: Layer, frame: gpd.GeoDataFrame, lang: str, labels: bool = True,
    zone: str = "Asia/Shanghai",
) -> pd.DataFrame:  # fmt: skip
    """The rows of an export as a table: labelled (headers and values in `lang`) or as codes."""
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    for name, known in (value_labels(conn, layer, lang) if labels else {}).items():
        if name in table:
            column = table[name].astype(object)
            table[name] = column.map(lambda v, m=known: m.get(v, v) if pd.notna(v) else None)
    geoms = frame.geometry.to_numpy()
    if len(frame) and bool(np.all(shapely.get_type_id(geoms) == 0)):
        table["lon"], table["lat"] = shapely.get_x(geoms), shapely.get_y(geoms)
    for name in table.columns:
        if isinstance(table[name].dtype, pd.DatetimeTZDtype):  # a spreadsheet has no zones
            table[name] = table[name].dt.tz_convert(zone).dt.tz_localize(None)
    if labels:
        table.columns = headers(layer, list(table.columns), lang)
    return table


def cell_value(value: Any) -> Any:
    """A plain value as a spreadsheet cell holds it (timestamps as datetimes)."""
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


def to_xlsx(table: pd.DataFrame, sheet: str) -> bytes:
    """An XLSX workbook of one sheet: bold headers, frozen first row, text cells as text."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(title=sheet[:31])
    ws.freeze_panes = "A2"
    widths = [min(max(len(str(c)) * 2, 8), MAX_WIDTH) for c in table.columns]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    bold = Font(bold=True)
    head = []
    for name in table.columns:
        cell = WriteOnlyCell(ws, value=str(name))
        cell.font, cell.data_type = bold, "s"
        head.append(cell)
    ws.append(head)
    columns = [column_values(table[c]) for c in table.columns]  # NA and NaN as None
    for row in zip(*columns, strict=True):
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=cell_value(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text: never a formula
            elif isinstance(cell.value, dt.datetime | dt.date):
                cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(
                    cell.value, dt.datetime) else "yyyy-mm-dd"
            cells.append(cell)
        ws.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
