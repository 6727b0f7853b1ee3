"""Fuzzing `POST /collections/{id}/import`: no 5xx, no hang, nothing half-written.

Broken GeoJSON (truncated, bytes flipped, arbitrary JSON), truncated GeoPackages, zipped
Shapefiles without .prj (and truncated), attributes that are not UTF-8, NaN/inf coordinates,
and a polygon of 10^6 vertices. Every answer is < 500 within the time bound; a refused import
leaves the table as it was; an accepted one adds exactly the rows it reports.
"""

from __future__ import annotations

import io
import json
import math
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.settings import Settings
from tests.conftest import DemoTemplate, LiveServer

pytestmark = pytest.mark.faults
BOUND_S = 60.0
LON, LAT = 113.2919, 23.1448
FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def square(i: int, side: float = 0.0002) -> list[list[float]]:
    """A small square ring near the demo district."""
    x, y = LON + i * 0.001, LAT
    return [[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]


def collection(n: int = 3) -> dict[str, Any]:
    """A valid FeatureCollection of gardens."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": f"fuzz {i}", "kind": "pocket_park"},
                "geometry": {"type": "Polygon", "coordinates": [square(i)]},
            }
            for i in range(n)
        ],
    }


def gardens_frame(tmp: Path) -> gpd.GeoDataFrame:
    """Gardens as a GeoDataFrame (for GeoPackage and Shapefile files)."""
    return gpd.GeoDataFrame.from_features(collection()["features"], crs=4326)


def state(engine: Engine) -> tuple[int, int]:
    """The garden table's row count and a hash of all its rows."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT count(*), coalesce(sum(hashtext(g::text)), 0) FROM garden g")
        ).one()
    return int(row[0]), int(row[1])


class Importer:
    """Posts files to the live server and checks the answer and the table."""

    def __init__(self, live: LiveServer, engine: Engine, token: str) -> None:
        self.client = live.client(token)
        self.client.timeout = httpx.Timeout(BOUND_S)
        self.engine = engine
        self.seen: dict[int, int] = {}

    def post(self, name: str, data: bytes, **params: Any) -> httpx.Response:
        """Import a file into gardens; assert no 5xx, the time bound, all-or-nothing."""
        before = state(self.engine)
        started = time.monotonic()
        got = self.client.post(
            "/collections/gardens/import", params=params, files={"file": (name, data)}
        )
        assert time.monotonic() - started < BOUND_S
        assert got.status_code < 500, (name, got.status_code, got.text[:500])
        self.seen[got.status_code] = self.seen.get(got.status_code, 0) + 1
        after = state(self.engine)
        if got.status_code == 201:
            assert after[0] == before[0] + got.json()["rows_written"]
        else:
            assert after == before, (name, got.status_code, got.text[:300])
        return got


@pytest.fixture
def importer(
    demo_db: Engine, demo_template: DemoTemplate, serve: Callable[[FastAPI], LiveServer]
) -> Importer:
    """An importer as the planner against a writable demo copy."""
    return Importer(serve(create_app(demo_db)), demo_db, demo_template.tokens["planner"])


VALID = json.dumps(collection()).encode()


@FUZZ
@given(
    cut=st.integers(0, len(VALID)),
    flips=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=8),
)
def test_broken_geojson(importer: Importer, cut: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(VALID[:cut] if cut % 2 else VALID)
    for at, byte in flips:
        if at < len(data):
            data[at] = byte
    importer.post("broken.geojson", bytes(data))


JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                   max_size=5),
    max_leaves=30,
)  # fmt: skip


@FUZZ
@given(geometry=JSON, properties=JSON)
def test_arbitrary_geojson_values(importer: Importer, geometry: Any, properties: Any) -> None:
    feature = {"type": "Feature", "geometry": geometry, "properties": properties}
    doc = {"type": "FeatureCollection", "features": [feature]}
    importer.post("values.geojson", json.dumps(doc, allow_nan=True).encode())


@FUZZ
@given(value=st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 400.0]),
       where=st.integers(0, 9))  # fmt: skip
def test_nan_and_out_of_range_coordinates(importer: Importer, value: float, where: int) -> None:
    doc = collection(1)
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    ring[where // 2 % 4][where % 2] = value
    assert importer.post("nan.geojson", json.dumps(doc).encode()).status_code != 201
    csv = f"name,kind,lon,lat\nfuzz,pocket_park,{value},{LAT}\n".encode()
    assert importer.post("nan.csv", csv).status_code >= 400


@FUZZ
@given(junk=st.binary(min_size=1, max_size=40), encoding=st.sampled_from(["gb18030", "latin-1"]))
def test_attributes_not_utf8(importer: Importer, junk: bytes, encoding: str) -> None:
    name = "水荫路花园".encode("gb18030") if encoding == "gb18030" else "Gärten".encode("latin-1")
    text = VALID.replace(b"fuzz 0", name + junk.replace(b'"', b"").replace(b"\\", b""))
    importer.post("encoding.geojson", text)
    cell = junk.translate(None, b",\n\r\"")  # bytes, not CSV structure: see the test below
    csv = b"name,kind,wkt\n" + name + cell + b",pocket_park,POINT(113.29 23.14)\n"
    importer.post("encoding.csv", csv, encoding=encoding)


def test_csv_row_without_wkt(importer: Importer) -> None:
    """Found by the fuzz (was a 500): a stray CR splits a row, leaving a row without geometry."""
    got = importer.post("short.csv", b"name,kind,wkt\nfuzz\r,pocket_park,POINT(113.29 23.14)\n")
    assert got.status_code == 422
    assert (1, "geometry") in [(e["row"], e["field"]) for e in got.json()["errors"]]


@pytest.fixture
def gpkg_bytes(tmp_path: Path) -> bytes:
    """A valid GeoPackage of gardens."""
    path = tmp_path / "gardens.gpkg"
    gardens_frame(tmp_path).to_file(path, layer="gardens", driver="GPKG")
    return path.read_bytes()


@FUZZ
@given(fraction=st.floats(0.0, 0.999))
def test_truncated_geopackage(importer: Importer, gpkg_bytes: bytes, fraction: float) -> None:
    got = importer.post("cut.gpkg", gpkg_bytes[: int(len(gpkg_bytes) * fraction)])
    assert got.status_code != 201


@pytest.fixture
def shapefile_parts(tmp_path: Path) -> dict[str, bytes]:
    """The files of a Shapefile of gardens (with a .prj)."""
    gardens_frame(tmp_path).to_file(tmp_path / "gardens.shp")
    return {p.name: p.read_bytes() for p in tmp_path.glob("gardens.*")}


def zipped(parts: dict[str, bytes]) -> bytes:
    """A zip archive of the given files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_shapefile_without_prj(importer: Importer, shapefile_parts: dict[str, bytes]) -> None:
    bare = zipped({k: v for k, v in shapefile_parts.items() if not k.endswith(".prj")})
    got = importer.post("noprj.zip", bare)
    assert got.status_code == 422 and "crs" in got.text.lower()
    assert importer.post("noprj.zip", bare, crs="EPSG:4326").status_code == 201


@FUZZ
@given(fraction=st.floats(0.0, 0.999), part=st.sampled_from(["shp", "shx", "dbf", "zip"]))
def test_truncated_shapefile(
    importer: Importer, shapefile_parts: dict[str, bytes], fraction: float, part: str
) -> None:
    parts = dict(shapefile_parts)
    if part == "zip":
        data = zipped(parts)
        importer.post("cut.zip", data[: int(len(data) * fraction)])
        return
    name = f"gardens.{part}"
    parts[name] = parts[name][: int(len(parts[name]) * fraction)]
    importer.post("cut.zip", zipped(parts))


def test_million_vertex_polygon(importer: Importer) -> None:
    n = 1_000_000
    angle = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    ring = np.round(np.column_stack([LON + 0.05 * np.cos(angle), LAT + 0.04 * np.sin(angle)]), 9)
    coords = [*ring.tolist(), ring[0].tolist()]
    assert shapely.Polygon(coords).is_valid and len(coords) > n
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature",
           "properties": {"name": "huge", "kind": "street_garden"},
           "geometry": {"type": "Polygon", "coordinates": [coords]}}]}  # fmt: skip
    body = json.dumps(doc).encode()
    assert len(body) < Settings().max_upload_bytes  # about 31 MB: below the upload limit
    got = importer.post("huge.geojson", body)
    assert got.status_code == 201, got.text[:300]
    assert got.json()["rows_written"] == 1
    with importer.engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT ST_NPoints(geom), ST_IsValid(geom), area_m2, "
                    "ST_Area(geom::geography) AS geodesic FROM garden WHERE id = :id"),
            {"id": got.json()["ids"][0]},
        ).one()
    assert stored[0] == n + 1 and stored[1]  # every vertex kept, still valid
    assert stored[2] == pytest.approx(stored[3], rel=1e-3)  # the area computed from it
