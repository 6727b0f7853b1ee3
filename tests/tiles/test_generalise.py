"""Generalisation: polygons simplified to about a pixel, and the cap on features per tile."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from gis_service.catalog import default_catalog
from tests.conftest import DemoTemplate
from tests.tiles.conftest import TileServer, compound34, decode, run_app, tile_pixel
from tests.tiles.test_xyz import get


def tile_centre(lon: float, lat: float, z: int) -> tuple[float, float]:
    """lon/lat of the centre of the tile holding a point (so a small shape is not clipped)."""
    x, y, _, _ = tile_pixel(lon, lat, z)
    n = 2**z
    centre_lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / n))))
    return (x + 0.5) / n * 360.0 - 180.0, centre_lat


LON, LAT = tile_centre(113.3000, 23.1500, 16)  # a 300 m circle there fits z16, z14, z12 tiles


@pytest.fixture
def writable(demo_db: Engine, demo_template: DemoTemplate) -> Iterator[TileServer]:
    """A server on a demo district of its own that the test may change."""
    yield from run_app(demo_db, demo_template.tokens)


def vertices(geometry: dict[str, object]) -> int:
    """Vertices of an MVT polygon or multipolygon as decoded."""
    coords = geometry["coordinates"]
    polygons = coords if geometry["type"] == "MultiPolygon" else [coords]
    return sum(len(ring) for polygon in polygons for ring in polygon)  # type: ignore[union-attr]


def test_polygons_lose_detail_below_a_pixel(writable: TileServer) -> None:
    with writable.engine.begin() as conn:  # a round garden of 257 vertices, 300 m across
        conn.exec_driver_sql(
            "INSERT INTO garden (name, kind, area_m2, geom) VALUES ('圆形花园', 'pocket_park', "
            "70000, ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"
            "::geography, 150, 64)::geometry))",
            {"lon": LON, "lat": LAT},
        )
    counts = {}
    for z in (12, 14, 16):
        x, y, _, _ = tile_pixel(LON, LAT, z)
        layer = decode(get(writable, f"/tiles/gardens/{z}/{x}/{y}.pbf", None).content)["gardens"]
        (garden,) = [f for f in layer["features"] if f["properties"]["name"] == "圆形花园"]
        counts[z] = vertices(garden["geometry"])
    assert counts[12] < counts[14] < counts[16] <= 258
    assert counts[12] <= 24  # ~24 px across at z12: a handful of vertices is a pixel-true circle


def test_features_per_tile_are_capped(shared_demo_db: Engine, demo_template: DemoTemplate) -> None:
    catalog = default_catalog().model_copy(deep=True)
    catalog.layers["stairwells"].tiles.max_features = 10
    for server in run_app(shared_demo_db, demo_template.tokens):
        server.app.state.catalog = catalog
        first = compound34(shared_demo_db)[0]
        x, y, _, _ = tile_pixel(first.lon, first.lat, 16)
        layer = decode(get(server, f"/tiles/stairwells/16/{x}/{y}.pbf").content)["stairwells"]
        assert len(layer["features"]) == 10
        head = server.live.client(server.tokens["planner"]).head(
            f"/tiles/stairwells/16/{x}/{y}.pbf")
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"]
