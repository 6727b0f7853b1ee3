"""Output: JSON-safe records (NaN and NA as null), CSV tables and GeoJSON feature collections."""

from __future__ import annotations

import io
import itertools
import math
import os
import sys
from collections.abc import Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import shapely

from gis_service.errors import InvalidInput


def _clean(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def column_values(column: pd.Series) -> list[Any]:
    """A column as plain Python values, vectorised (NaN, inf, NA and NaT as None)."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else ""
    if kind in "iub" and kind:
        return column.to_numpy().tolist()
    if kind == "f":
        numbers = column.to_numpy(np.float64)
        values = numbers.astype(object)
        values[~np.isfinite(numbers)] = None
        return values.tolist()
    if isinstance(column.dtype, pd.api.extensions.ExtensionDtype) and column.dtype.kind in "iub":
        missing = column.isna().to_numpy()
        if not missing.any():  # a nullable integer column without NA: plain ints
            return column.to_numpy(column.dtype.numpy_dtype).tolist()
    values = column.astype(object).to_numpy(copy=True)
    values[pd.isna(values)] = None
    if pd.api.types.is_string_dtype(column.dtype) and not isinstance(column.dtype, np.dtype):
        return values.tolist()  # text or None, nothing else to clean
    return [_clean(v) if isinstance(v, float | np.generic) else v for v in values.tolist()]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (no geometry column; NaN, inf and NA as None)."""
    columns = [c for c in frame.columns if c != "geometry"]
    values = [column_values(frame[c]) for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _default(value: Any) -> Any:
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(value: Any) -> bytes:
    """JSON bytes (numpy values, NA and NaN handled: NaN and NA become null)."""
    return orjson.dumps(value, default=_default, option=JSON_OPTIONS)


JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP, CSV injection)."""


def to_csv(frame: pd.DataFrame) -> str:
    """A CSV table (geometry left out) that spreadsheets open without running formulas."""
    return to_csv_bytes(frame).decode()


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """A CSV table (geometry left out) that spreadsheets open without running formulas, UTF-8
    (csv_parts, joined)."""
    return b"".join(csv_parts(frame))


def csv_parts(frame: pd.DataFrame) -> Generator[memoryview, None, None]:
    """A CSV table (geometry left out) that spreadsheets open without running formulas, UTF-8,
    in parts yielded in order as they are written (a city's table is sent while it is made).

    The values are checked and converted here; writing starts when the first part is asked
    for. Written by Arrow's CSV writer (a million rows in about a second, where pandas takes
    ten), parts on every core. Rows end in CRLF (RFC 4180) and text is quoted, so a cell
    holding a CR or LF is never a row break; missing values are empty cells; true/false are
    written True/False.
    """
    table = frame.drop(columns=["geometry"], errors="ignore")
    columns = [csv_column(table.iloc[:, i]) for i in range(table.shape[1])]
    return written_parts(pa.Table.from_arrays(columns, names=[str(c) for c in table.columns]))


def written_parts(table: pa.Table) -> Generator[memoryview, None, None]:
    """CSV of an Arrow table in parts of CSV_PART_ROWS, written on every core, in order."""
    parts = max(1, min(MAX_CSV_PARTS, -(-len(table) // CSV_PART_ROWS)))
    if parts == 1:
        yield memoryview(csv_part(table, True))
        return
    bounds = np.linspace(0, len(table), parts + 1).astype(int)
    slices = [table.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
    pool = ThreadPoolExecutor(min(parts, os.cpu_count() or 1))  # Arrow lets go of the GIL
    try:
        written = [pool.submit(csv_part, part, i == 0) for i, part in enumerate(slices)]
        for part in written:
            yield memoryview(part.result())
    finally:  # also when the reader stops early (a client gone): parts not begun are dropped
        pool.shutdown(wait=False, cancel_futures=True)


CSV_PART_ROWS = 125_000
"""Tables are written in parts of at most this many rows, on every core: a part's buffer stays
some 17 MB (one 68 MB buffer per core grew by copies: a million rows took 0.36-0.56 s in two
parts, 0.29-0.41 s in eight)."""
MAX_CSV_PARTS = 64


def csv_part(table: pa.Table, header: bool) -> pa.Buffer:
    """CSV of an Arrow table (CRLF rows, column names unquoted), in Arrow's buffer."""
    sink = pa.BufferOutputStream()
    options = pa_csv.WriteOptions(include_header=header, eol="\r\n", quoting_header="none")
    pa_csv.write_csv(table, sink, options)
    return sink.getvalue()


def csv_column(values: pd.Series) -> pa.Array:
    """A column as Arrow values for CSV: NaN and NA missing, booleans as True/False, any other
    Python object as its text, and text a spreadsheet would run as a formula prefixed with '
    (numbers untouched: -3.5 stays a number)."""
    if pd.api.types.is_bool_dtype(values.dtype):  # codes into ["False", "True"], NA missing
        codes = pa.array(values.astype("Int8"), from_pandas=True)
        return pa.DictionaryArray.from_arrays(codes, pa.array(["False", "True"]))
    try:
        column = pa.array(values, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):  # mixed objects: only text is checked
        cells = [None if v is None or v is pd.NA or v != v else
                 "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else str(v)
                 for v in values.tolist()]  # fmt: skip
        return pa.array(cells, type=pa.string())
    if isinstance(column, pa.DictionaryArray) and is_text(column.dictionary.type):
        return pa.DictionaryArray.from_arrays(column.indices, formula_safe(column.dictionary))
    return formula_safe(column) if is_text(column.type) else column


def is_text(kind: pa.DataType) -> bool:
    """Whether an Arrow type holds text."""
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def formula_safe(text: pa.Array) -> pa.Array:
    """Arrow text with the cells a spreadsheet would run as a formula prefixed with '."""
    risky = None
    for start in FORMULA_STARTS:
        starts = pc.fill_null(pc.starts_with(text, start), False)
        risky = starts if risky is None else pc.or_(risky, starts)
    if risky is None or not pc.any(risky).as_py():
        return text
    quote = pa.scalar("'", text.type)
    return pc.if_else(risky, pc.binary_join_element_wise(quote, text, pa.scalar("", text.type)),
                      text)  # fmt: skip


def feature_collection(
    properties: pd.DataFrame,
    geometries: Sequence[str | None] | np.ndarray,
    ids: Sequence[Any] | None = None,
    members: dict[str, Any] | None = None,
) -> bytes:
    """A GeoJSON FeatureCollection from property rows and GeoJSON geometry texts."""
    rows = records(properties)
    parts = []
    for i, (props, geom) in enumerate(zip(rows, geometries, strict=True)):
        fid = dumps(_clean(ids[i])).decode() if ids is not None else "null"
        geometry = geom if geom is not None else "null"
        parts.append(
            f'{{"type":"Feature","id":{fid},"geometry":{geometry},'
            f'"properties":{dumps(props).decode()}}}'
        )
    head = {"type": "FeatureCollection", **(members or {})}
    opening = dumps(head).decode()[:-1]
    return f'{opening},"features":[{",".join(parts)}]}}'.encode()


def geojson_texts(geometries: Any) -> np.ndarray:
    """GeoJSON text of each shapely geometry (lon/lat), vectorised."""
    geoms = np.asarray(geometries, dtype=object)
    if geoms.size == 0:
        return np.empty(0, dtype=object)
    kinds = shapely.get_type_id(geoms)
    if np.isin(kinds, POLYGONAL).all() and not shapely.is_empty(geoms).any():
        return polygon_texts(geoms, kinds == POLYGONAL[0])
    return np.asarray(shapely.to_geojson(geoms), dtype=object)


POLYGONAL = (3, 6)
"""GEOS type ids of Polygon and MultiPolygon."""


def polygon_texts(geoms: np.ndarray, single: np.ndarray) -> np.ndarray:
    """GeoJSON text of non-empty polygons and multipolygons, written from their coordinate
    arrays by orjson ring by ring (several times faster than GEOS's writer for big outlines)."""
    _, coords, offsets = shapely.to_ragged_array(geoms)  # MultiPolygon offsets if any is one
    ring_ends, polygon_ends = offsets[0], offsets[1]
    multi_ends = offsets[2] if len(offsets) > 2 else np.arange(len(geoms) + 1)
    rings = [orjson.dumps(np.ascontiguousarray(coords[a:b]), option=orjson.OPT_SERIALIZE_NUMPY)
             for a, b in itertools.pairwise(ring_ends.tolist())]  # fmt: skip
    polygons = [b"[" + b",".join(rings[a:b]) + b"]"
                for a, b in itertools.pairwise(polygon_ends.tolist())]  # fmt: skip
    texts = np.empty(len(geoms), dtype=object)
    for i, (a, b) in enumerate(itertools.pairwise(multi_ends.tolist())):
        if single[i]:
            texts[i] = '{"type":"Polygon","coordinates":' + polygons[a].decode() + "}"
        else:
            parts = b",".join(polygons[a:b]).decode()
            texts[i] = '{"type":"MultiPolygon","coordinates":[' + parts + "]}"
    return texts


def text_table(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> str:
    """A plain-text table of some columns for terminals (shares shown as percentages)."""
    from rich.console import Console
    from rich.table import Table

    shown = frame[[c for c in (columns or list(frame.columns)) if c in frame.columns]]
    table = Table()
    for col in shown.columns:
        numeric = pd.api.types.is_numeric_dtype(shown[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in records(shown):
        cells = []
        for col, value in row.items():
            if value is None:
                cells.append("")
            elif "share" in str(col) and isinstance(value, float):
                cells.append(f"{100 * value:.1f} %")
            elif isinstance(value, float):
                cells.append(f"{value:,.6g}")
            else:
                cells.append(str(value))
        table.add_row(*cells)
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(table)
    return console.export_text()


def write_out(data: str | bytes, output: Path | None) -> None:
    """Write to a file, or to stdout when no file is given."""
    raw = data.encode() if isinstance(data, str) else data
    if output is not None:
        output.write_bytes(raw)
        return
    sys.stdout.buffer.write(raw if raw.endswith(b"\n") else raw + b"\n")
    sys.stdout.flush()


def write_table(
    frame: pd.DataFrame,
    fmt: str,
    output: Path | None,
    meta: dict[str, Any],
    columns: Sequence[str] | None = None,
) -> None:
    """A table as text (some columns), JSON (meta + rows) or CSV, to a file or stdout."""
    if fmt == "json":
        write_out(dumps({**meta, "rows": records(frame)}), output)
    elif fmt == "csv":
        write_out(to_csv(frame), output)
    elif fmt == "table":
        write_out(text_table(frame, columns), output)
    else:
        raise InvalidInput(
            f"unknown format {fmt!r}: table, json or csv",
            [{"field": "format", "message": "table, json or csv"}],
        )
