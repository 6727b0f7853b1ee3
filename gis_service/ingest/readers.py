"""Read GeoJSON, GeoPackage, zipped Shapefile and CSV into a GeoDataFrame in EPSG:4326.

The source CRS comes from the file, or from `crs` (which overrides the file's). GeoJSON and CSV
without a CRS are lon/lat (EPSG:4326); a Shapefile without .prj or a GeoPackage layer without a
CRS needs `crs`. Z values are dropped. With `from_gcj02` the coordinates, once in lon/lat, are
converted from GCJ-02 to WGS84. Text that is not UTF-8 is read as `encoding`, else as GB18030
(the usual encoding of Chinese desktop software), with a warning in the report.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis_service.errors import InvalidInput
from gis_service.ingest.gcj02 import geometries_gcj02_to_wgs84
from gis_service.ingest.limits import ImportLimits
from gis_service.ingest.report import RowError

FORMATS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shapefile",
    ".shp": "shapefile",
    ".csv": "csv",
}
LONLAT_NAMES = [("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"), ("x", "y")]
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")
FALLBACK_ENCODING = "gb18030"
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


@dataclass
class SourceData:
    """Rows read from a file: attributes, geometry in EPSG:4326, and what reading found."""

    frame: gpd.GeoDataFrame
    format: str
    source_crs: str | None
    row_errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def file_format(name: str) -> str:
    """The format of a file from its extension (InvalidInput for unsupported ones)."""
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise InvalidInput(f"cannot import {Path(name).name!r}: supported extensions are {known}")
    return FORMATS[suffix]


def parse_crs(text: str) -> CRS:
    """A CRS from a user's text (EPSG:4490, 4326, a WKT or PROJ string)."""
    try:
        return CRS.from_user_input(int(text) if text.strip().isdigit() else text)
    except CRSError as exc:
        raise InvalidInput(f"unknown CRS {text!r}: use e.g. EPSG:4490") from exc


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def decode_text(raw: bytes, encoding: str | None, warnings: list[str]) -> str:
    """Bytes as text: UTF-8 (BOM allowed), else `encoding`, else GB18030 with a warning."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    chosen = encoding or FALLBACK_ENCODING
    try:
        text = raw.decode(chosen)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InvalidInput(f"the file is neither UTF-8 nor {chosen}: give --encoding") from exc
    if not encoding:
        warnings.append(f"the file is not UTF-8: read as {chosen}")
    return text


def read_ogr(
    path: str, layer: str | None, encoding: str | None, limits: ImportLimits
) -> gpd.GeoDataFrame:
    """Read one layer with GDAL (pyogrio), at most max_rows + 1 rows (413 for more)."""
    try:
        frame = pyogrio.read_dataframe(
            path, layer=layer, encoding=encoding, max_features=limits.max_rows + 1
        )
    except Exception as exc:  # pyogrio raises several kinds for unreadable data
        raise InvalidInput(f"cannot read the file: {first_line(exc)}") from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InvalidInput("the file has no geometry column")
    limits.check_rows(len(frame))
    return frame


def read_geojson(
    path: Path, encoding: str | None, warnings: list[str], limits: ImportLimits
) -> gpd.GeoDataFrame:
    """A GeoJSON file (re-encoded to UTF-8 first when it is not)."""
    raw = path.read_bytes()
    text = decode_text(raw, encoding, warnings)
    if text.encode("utf-8") == raw.removeprefix(b"\xef\xbb\xbf"):
        return read_ogr(str(path), None, None, limits)
    with tempfile.TemporaryDirectory() as tmp:
        utf8 = Path(tmp) / "source.geojson"
        utf8.write_text(text, encoding="utf-8")
        return read_ogr(str(utf8), None, None, limits)


def choose_layer(available: list[str], wanted: str | None, what: str) -> str:
    """The layer (or member) to read: the only one, or the one named (InvalidInput otherwise)."""
    if wanted is not None:
        if wanted not in available:
            raise InvalidInput(f"no {what} {wanted!r} in the file; it has: {', '.join(available)}")
        return wanted
    if len(available) != 1:
        raise InvalidInput(
            f"the file has {len(available)} {what}s ({', '.join(available)}): "
            "choose one with --layer"
        )
    return available[0]


def read_gpkg(path: Path, layer: str | None, limits: ImportLimits) -> gpd.GeoDataFrame:
    """One layer of a GeoPackage."""
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path) if row[1] is not None]
    except Exception as exc:
        raise InvalidInput(f"cannot read the GeoPackage: {first_line(exc)}") from exc
    if not layers:
        raise InvalidInput("the GeoPackage has no layer with geometry")
    return read_ogr(str(path), choose_layer(layers, layer, "layer"), None, limits)


def read_shapefile_zip(
    path: Path, layer: str | None, encoding: str | None, crs_given: bool, limits: ImportLimits
) -> gpd.GeoDataFrame:
    """A zipped Shapefile: .shp, .shx and .dbf required; .prj required unless a CRS is given.

    The zip's directory is checked against the limits before anything is inflated, and only
    the chosen Shapefile's parts are copied out (bytes counted) to be read from disk.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            limits.check_archive(archive.infolist())
            names = [n for n in archive.namelist() if not n.startswith("__MACOSX/")]
            lower = {n.lower(): n for n in names}
            shapes = {PurePosixPath(n).stem: n for n in names if n.lower().endswith(".shp")}
            if not shapes:
                raise InvalidInput("the zip file holds no .shp file")
            stem = choose_layer(sorted(shapes), layer, "shapefile")
            base = shapes[stem][:-4].lower()
            missing = [ext for ext in (".shx", ".dbf") if base + ext not in lower]
            if missing:
                raise InvalidInput(
                    f"the shapefile {stem!r} lacks {' and '.join(missing)} in the zip"
                )
            if base + ".prj" not in lower and not crs_given:
                raise InvalidInput(f"the shapefile {stem!r} has no .prj: give its CRS with --crs")
            parts = [(lower[base + ext], "layer" + ext) for ext in SHAPEFILE_PARTS
                     if base + ext in lower]
            with tempfile.TemporaryDirectory() as tmp:
                limits.extract(archive, parts, Path(tmp))
                return read_ogr(str(Path(tmp) / "layer.shp"), None, encoding, limits)
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
        raise InvalidInput(f"not a readable zip file: {first_line(exc)}") from exc


def find_columns(columns: list[str], lon: str | None, lat: str | None) -> tuple[str, str] | str:
    """The lon/lat column pair of a CSV, or the name of its WKT column."""
    by_lower = {c.lower().strip(): c for c in columns}
    if lon or lat:
        if not (lon and lat):
            raise InvalidInput("give both --lon-column and --lat-column")
        for name in (lon, lat):
            if name.lower() not in by_lower:
                raise InvalidInput(f"the CSV has no column {name!r}")
        return by_lower[lon.lower()], by_lower[lat.lower()]
    for x, y in LONLAT_NAMES:
        if x in by_lower and y in by_lower:
            return by_lower[x], by_lower[y]
    for name in WKT_NAMES:
        if name in by_lower:
            return by_lower[name]
    raise InvalidInput(
        "the CSV has no coordinate columns: name them lon/lat, longitude/latitude or x/y "
        "(or a WKT column 'wkt'), or give --lon-column and --lat-column"
    )


def read_csv(
    path: Path,
    encoding: str | None,
    lon: str | None,
    lat: str | None,
    state: SourceData,
    limits: ImportLimits,
) -> gpd.GeoDataFrame:
    """A CSV with lon/lat (or WKT) columns; unreadable coordinates become row errors."""
    import io

    text = decode_text(path.read_bytes(), encoding, state.warnings)
    try:
        table = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, nrows=limits.max_rows + 1
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InvalidInput(f"cannot read the CSV: {first_line(exc)}") from exc
    limits.check_rows(len(table))
    found = find_columns(list(table.columns), lon, lat)
    geoms = np.full(len(table), None, dtype=object)
    if isinstance(found, tuple):
        xs = pd.to_numeric(table[found[0]].str.strip(), errors="coerce").to_numpy(float)
        ys = pd.to_numeric(table[found[1]].str.strip(), errors="coerce").to_numpy(float)
        ok = np.isfinite(xs) & np.isfinite(ys)
        geoms[ok] = shapely.points(xs[ok], ys[ok])
        bad, used = ~ok, [found[0], found[1]]
        reason = f"coordinates {found[0]}/{found[1]} are not numbers"
    else:
        texts = table[found].str.strip()
        # empty or missing cells (a short row, e.g. split by a stray CR) are no geometry
        cells = np.array([t if isinstance(t, str) and t else None for t in texts], dtype=object)
        parsed = shapely.from_wkt(cells, on_invalid="ignore")
        geoms[:] = parsed
        bad, used = shapely.is_missing(parsed), [found]
        reason = f"column {found} holds no readable WKT geometry"
    for index in np.flatnonzero(bad):
        state.row_errors.append(RowError(int(index) + 1, "geometry", reason))
    return gpd.GeoDataFrame(table.drop(columns=used), geometry=list(geoms), crs=None)


def read_source(
    path: Path,
    *,
    name: str | None = None,
    layer: str | None = None,
    crs: str | None = None,
    from_gcj02: bool = False,
    lon_column: str | None = None,
    lat_column: str | None = None,
    encoding: str | None = None,
    limits: ImportLimits | None = None,
) -> SourceData:
    """Read a file (format from `name` or the path's extension) into EPSG:4326, within limits."""
    fmt = file_format(name or path.name)
    limits = limits or ImportLimits.from_settings()
    limits.check_file(path)
    state = SourceData(gpd.GeoDataFrame(geometry=[]), fmt, None)
    given = parse_crs(crs) if crs else None
    if fmt == "geojson":
        frame = read_geojson(path, encoding, state.warnings, limits)
    elif fmt == "gpkg":
        frame = read_gpkg(path, layer, limits)
    elif fmt == "shapefile" and path.suffix.lower() == ".zip":
        frame = read_shapefile_zip(path, layer, encoding, given is not None, limits)
    elif fmt == "shapefile":
        frame = read_ogr(str(path), None, encoding, limits)
    else:
        frame = read_csv(path, encoding, lon_column, lat_column, state, limits)
    state.frame = to_lonlat(frame, given, fmt, from_gcj02, state)
    return state


def to_lonlat(
    frame: gpd.GeoDataFrame, given: CRS | None, fmt: str, from_gcj02: bool, state: SourceData
) -> gpd.GeoDataFrame:
    """Set the source CRS, reproject to EPSG:4326, drop Z, convert GCJ-02 when asked."""
    source = given or (CRS.from_user_input(frame.crs) if frame.crs is not None else None)
    if source is None:
        if fmt not in ("geojson", "csv"):
            raise InvalidInput("the file has no CRS: give it with --crs (e.g. EPSG:4490)")
        source = CRS.from_epsg(4326)
    state.source_crs = source.to_string()
    frame = frame.reset_index(drop=True)
    geoms: Any = shapely.force_2d(frame.geometry.to_numpy())
    frame = gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name), geometry=geoms, crs=source)
    if not source.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        try:
            frame = frame.to_crs(4326)
        except Exception as exc:  # pyproj refuses some CRS pairs outright
            raise InvalidInput(f"cannot reproject from {source.to_string()}: {exc}") from exc
    if from_gcj02:
        converted = geometries_gcj02_to_wgs84(frame.geometry.to_numpy())
        frame = frame.set_geometry(gpd.GeoSeries(converted, crs=4326))
    return frame
