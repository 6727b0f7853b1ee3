"""Writes in another CRS (OGC API Features Part 4 style): the body's geometry in the CRS its
Content-Crs header names, stored as lon/lat; an unserved CRS is 400 and stores nothing."""

from __future__ import annotations

import pyproj
import pytest
from sqlalchemy.engine import Engine

from gis_service.features.crs import CRS84, EPSG_PREFIX
from tests.conftest import scalar
from tests.features.live import POINT_34, SQUARE, Clients, parking

LON, LAT = POINT_34


def in_crs(code: int, lon: float, lat: float) -> list[float]:
    """A lon/lat point in an EPSG CRS, in that CRS's own axis order."""
    definition = pyproj.CRS.from_epsg(code)
    x, y = pyproj.Transformer.from_crs(4326, code, always_xy=True).transform(lon, lat)
    north_first = definition.axis_info[0].direction.lower() == "north"
    return [y, x] if north_first else [x, y]


def stored(engine: Engine, table: str, fid: int) -> tuple[float, float]:
    """The stored lon/lat of a point feature."""
    lon = scalar(engine, f"SELECT ST_X(geom) FROM {table} WHERE id = :id", id=fid)
    lat = scalar(engine, f"SELECT ST_Y(geom) FROM {table} WHERE id = :id", id=fid)
    return float(lon), float(lat)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", [4326, 4490, 3857, 4534, 4547, 4554])
def test_post_in_each_served_crs_stores_the_same_point(
    api: Clients, demo_db: Engine, code: int
) -> None:
    body = parking(name=f"EPSG {code}")
    body["geometry"]["coordinates"] = in_crs(code, LON, LAT)
    with api("planner") as client:
        created = client.post("/collections/parking/items", json=body,
                              headers={"Content-Crs": f"<{EPSG_PREFIX}{code}>"})
    if code in (4534, 4554):  # zones at 75°E and 135°E: Guangzhou lies outside them
        assert created.status_code == 422, created.text  # a bad geometry, named as such
        assert "area of use" in created.json()["errors"][0]["message"]
        return
    assert created.status_code == 201, created.text
    lon, lat = stored(demo_db, "parking", created.json()["id"])
    assert lon == pytest.approx(LON, abs=1e-7) and lat == pytest.approx(LAT, abs=1e-7)
    assert created.headers["content-crs"] == f"<{CRS84}>"  # the answer is in CRS84


def test_put_and_patch_in_a_gauss_krueger_zone(api: Clients, demo_db: Engine) -> None:
    gk = f"{EPSG_PREFIX}4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E, northing first
    with api("planner") as client:
        created = client.post("/collections/parking/items", json=parking())
        url, etag = created.headers["location"], created.headers["etag"]
        moved = parking(capacity=20)
        moved["geometry"]["coordinates"] = in_crs(4547, LON + 0.001, LAT)
        put = client.put(url, json=moved, headers={"If-Match": etag, "Content-Crs": f"<{gk}>"})
        assert put.status_code == 200, put.text
        patch = {"type": "Feature", "geometry": {
            "type": "Point", "coordinates": in_crs(4547, LON, LAT + 0.001)}}
        patched = client.patch(url, json=patch, headers={
            "If-Match": put.headers["etag"], "Content-Crs": f"<{gk}>",
            "Content-Type": "application/merge-patch+json"})
        assert patched.status_code == 200, patched.text
    lon, lat = stored(demo_db, "parking", created.json()["id"])
    assert lon == pytest.approx(LON, abs=1e-7) and lat == pytest.approx(LAT + 0.001, abs=1e-7)


def test_a_polygon_in_web_mercator(api: Clients, demo_db: Engine) -> None:
    ring = [in_crs(3857, lon, lat) for lon, lat in SQUARE[0]]
    body = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"name": "墨卡托花园", "kind": "pocket_park", "area_m2": 440}}
    with api("planner") as client:
        created = client.post("/collections/gardens/items", json=body,
                              headers={"Content-Crs": f"<{EPSG_PREFIX}3857>"})
    assert created.status_code == 201, created.text
    wkt = scalar(demo_db, "SELECT ST_AsText(ST_SnapToGrid(geom, 1e-7)) FROM garden WHERE id = :id",
                 id=created.json()["id"])
    assert str(wkt).startswith("MULTIPOLYGON(((113.3001 23.1481,")


def test_unserved_or_mismatched_crs_is_refused_and_nothing_is_stored(
    api: Clients, demo_db: Engine
) -> None:
    before = scalar(demo_db, "SELECT count(*) FROM parking")
    lonlat = parking()
    with api("planner") as client:
        for header in ("<http://www.opengis.net/def/crs/EPSG/0/27700>", "EPSG:99999", "<>"):
            answer = client.post("/collections/parking/items", json=lonlat,
                                 headers={"Content-Crs": header})
            assert answer.status_code == 400, (header, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
        # lon/lat sent while declaring EPSG:4326 (lat, lon): the hint names the axis order
        swapped = client.post("/collections/parking/items", json=lonlat,
                              headers={"Content-Crs": f"<{EPSG_PREFIX}4326>"})
        assert swapped.status_code == 422
        assert "lat, lon" in swapped.json()["errors"][0]["message"]
    assert scalar(demo_db, "SELECT count(*) FROM parking") == before
