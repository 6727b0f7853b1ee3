"""Importing files into PostGIS: checks per row, all or nothing, a refusal halfway, encodings."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from pyproj import Geod
from sqlalchemy.engine import Engine

from gis_service.api.problems import status_of
from gis_service.auth import Principal, apply_scope
from gis_service.catalog import default_catalog
from gis_service.errors import InvalidInput
from gis_service.ingest.gcj02 import geometries_wgs84_to_gcj02
from gis_service.ingest.importer import ImportOptions, import_file
from gis_service.ingest.report import ImportRejected, ImportReport
from tests.conftest import scalar
from tests.ingest.files import NEAR_34, garden_frame, parking_frame, write

PLANNER = Principal(role="planner", user_id=2, username="planner")


def run(
    engine: Engine, layer: str, path: Path, principal: Principal | None = None,
    batch_rows: int = 5000, **options: object,
) -> ImportReport:
    with engine.begin() as conn:
        if principal is not None:
            apply_scope(conn, principal)
        return import_file(
            conn, default_catalog().layer(layer), path, ImportOptions(**options),  # type: ignore[arg-type]
            author=principal, batch_rows=batch_rows,
        )


def rejected(engine: Engine, layer: str, path: Path, **options: object) -> ImportReport:
    with pytest.raises(ImportRejected) as caught:
        run(engine, layer, path, **options)  # type: ignore[arg-type]
    return caught.value.report


def count(engine: Engine, table: str) -> int:
    return int(scalar(engine, f"SELECT count(*) FROM {table}"))  # type: ignore[arg-type]


def test_geojson_rows_are_written_as_the_planner(demo_db: Engine, tmp_path: Path) -> None:
    before = count(demo_db, "garden")
    report = run(demo_db, "gardens", write(garden_frame(), tmp_path / "g.geojson"), PLANNER)
    assert report.rows_written == 3 and len(report.ids) == 3 and not report.rejected
    assert count(demo_db, "garden") == before + 3
    with demo_db.connect() as conn:
        row = conn.execute(
            sa.text("SELECT name, kind, area_m2, GeometryType(geom) AS gtype "
                    "FROM garden WHERE id = :id"),
            {"id": report.ids[0]},
        ).one()
    assert (row.name, row.kind, row.area_m2, row.gtype) == ("邻里花园 1", "neighbourhood_garden",
                                                        1200.0, "MULTIPOLYGON")


def test_area_is_computed_when_the_file_has_none(demo_db: Engine, tmp_path: Path) -> None:
    frame = garden_frame(1).drop(columns="area_m2")
    report = run(demo_db, "gardens", write(frame, tmp_path / "g.gpkg"))
    area = scalar(demo_db, "SELECT area_m2 FROM garden WHERE id = :id", id=report.ids[0])
    expected = abs(Geod(ellps="WGS84").geometry_area_perimeter(frame.geometry.iloc[0])[0])
    assert area == pytest.approx(expected, abs=0.01)


def test_every_bad_row_is_reported_and_nothing_is_written(
    demo_db: Engine, tmp_path: Path
) -> None:
    x, y = NEAR_34
    square = shapely.box(x, y, x + 0.001, y + 0.001)
    bowtie = shapely.Polygon([(x, y), (x + 0.001, y + 0.001), (x + 0.001, y), (x, y + 0.001)])
    frame = gpd.GeoDataFrame(
        {
            "name": ["fine", "bowtie", "far", "forest", "a point", None, "tiny", "big"],
            "kind": ["pocket_park", "pocket_park", "pocket_park", "forest", "pocket_park",
                     "pocket_park", "pocket_park", "pocket_park"],
            "area_m2": [100.0, 100.0, 100.0, 100.0, 100.0, 100.0, -5.0, "lots"],
            "colour": ["green"] * 8,
        },
        geometry=[square, bowtie, shapely.box(500000, 2560000, 500100, 2560100), square,
                  shapely.Point(x, y), square, square, square],
        crs="EPSG:4326",
    )
    before = count(demo_db, "garden")
    report = rejected(demo_db, "gardens", write(frame, tmp_path / "bad.gpkg"))
    problems = {(e.row, e.field): e.message for e in report.rejected}
    assert problems.keys() == {(2, "geometry"), (3, "geometry"), (4, "kind"), (5, "geometry"),
                               (6, "name"), (7, "area_m2"), (8, "area_m2")}
    assert problems[(2, "geometry")].startswith("invalid geometry: Self-intersection")
    assert "out of lon/lat range" in problems[(3, "geometry")]
    assert problems[(4, "kind")] == (
        "Kind must be one of: neighbourhood_garden, pocket_park, street_garden")
    assert problems[(5, "geometry")] == "expected MultiPolygon, got Point"
    assert problems[(6, "name")] == "Name is required"
    assert problems[(7, "area_m2")] == "Area (m²) must be greater than 0"
    assert problems[(8, "area_m2")] == "Area (m²) must be a number"
    assert report.ignored_columns == {"colour": "not a field of this layer"}
    assert report.summary() == "7 of 8 rows rejected; nothing was written"
    assert count(demo_db, "garden") == before


def test_stairwell_rules_lookups_and_references(demo_db: Engine, tmp_path: Path) -> None:
    building = scalar(demo_db, "SELECT min(id) FROM building")
    x, y = NEAR_34
    frame = gpd.GeoDataFrame(
        {
            "building_id": [building, building, building, 999999, building, building],
            "label": ["A", "B", "C", "D", "E", "F"],
            "floors": [6, 6, 6, 6, 0, 6],
            "households": [12, 12, 12, 12, 12, 12],
            "consent_agree": [8, 10, 0, 0, 0, 0],
            "consent_object": [2, 5, 0, 0, 0, 0],
            "elderly_households": [3, 0, 13, 0, 0, 0],
            "elevator_status": ["consenting", "applied", "applied", "applied", "applied", "done"],
        },
        geometry=[shapely.Point(x, y)] * 6,
        crs="EPSG:4326",
    )
    report = rejected(demo_db, "stairwells", write(frame, tmp_path / "s.geojson"))
    assert [(e.row, e.field) for e in report.rejected] == [
        (2, "consent_agree"), (2, "consent_object"), (3, "elderly_households"),
        (4, "building_id"), (5, "floors"), (6, "elevator_status"),
    ]
    assert report.rejected[0].message == (
        "Agreeing plus objecting households cannot exceed households")
    assert report.rejected[3].message == "Building refers to a record that does not exist"
    assert report.rejected[4].message == "Floors must be at least 1"
    assert report.rejected[5].message.startswith(
        "Elevator status must be one of: applied, approved, consenting, in_service, ")


def test_required_columns_missing(demo_db: Engine, tmp_path: Path) -> None:
    frame = garden_frame().drop(columns=["kind"])
    with pytest.raises(InvalidInput, match=r"required column\(s\) missing: kind"):
        run(demo_db, "gardens", write(frame, tmp_path / "g.geojson"))


def test_ids_and_versions_in_the_file_are_ignored(demo_db: Engine, tmp_path: Path) -> None:
    frame = parking_frame().assign(id=[1, 2, 3], version=[7, 7, 7])
    report = run(demo_db, "parking", write(frame, tmp_path / "p.geojson"))
    assert set(report.ignored_columns) == {"id", "version"}
    assert min(report.ids) > 3
    assert scalar(demo_db, "SELECT max(version) FROM parking WHERE id = ANY(:ids)",
                  ids=report.ids) == 1


def test_a_field_the_database_keeps_is_ignored_in_a_file(demo_db: Engine, tmp_path: Path) -> None:
    """An exported stairwells file says which have a register: imported again (from the command
    line, which may set every other field), the column is ignored and no new stairwell says so."""
    building = scalar(demo_db, "SELECT min(id) FROM building")
    frame = gpd.GeoDataFrame({"building_id": [building], "label": ["R"], "floors": [6],
                              "has_register": [True]},
                             geometry=[shapely.Point(*NEAR_34)], crs="EPSG:4326")  # fmt: skip
    report = run(demo_db, "stairwells", write(frame, tmp_path / "s.geojson"))
    assert report.ignored_columns == {"has_register": "kept by the database"}
    assert scalar(demo_db, "SELECT bool_or(has_register) FROM stairwell WHERE id = ANY(:ids)",
                  ids=report.ids) is False  # fmt: skip


def test_skip_invalid_writes_the_valid_rows(demo_db: Engine, tmp_path: Path) -> None:
    frame = parking_frame().assign(kind=["surface_lot", "helipad", "ev_charging"])
    before = count(demo_db, "parking")
    report = run(demo_db, "parking", write(frame, tmp_path / "p.gpkg"), skip_invalid=True)
    assert report.rows_written == 2 and [e.row for e in report.rejected] == [2]
    assert count(demo_db, "parking") == before + 2


def test_dry_run_writes_nothing(demo_db: Engine, tmp_path: Path) -> None:
    before = count(demo_db, "parking")
    report = run(demo_db, "parking", write(parking_frame(), tmp_path / "p.gpkg"), dry_run=True)
    assert report.rows_valid == 3 and report.rows_written == 0
    assert count(demo_db, "parking") == before


def test_a_refusal_halfway_rolls_every_batch_back(demo_db: Engine, tmp_path: Path) -> None:
    """1,200 grids in batches of 500: the third batch hits an existing code; nothing stays."""
    community = scalar(demo_db, "SELECT min(id) FROM community")
    taken = scalar(demo_db, "SELECT code FROM grid ORDER BY id LIMIT 1")
    x, y = NEAR_34
    codes = [f"IMPORT-{i:04d}" for i in range(1200)]
    codes[1149] = taken
    frame = gpd.GeoDataFrame(
        {"community_id": [community] * 1200, "code": codes, "name": ["网格"] * 1200},
        geometry=[shapely.box(x, y, x + 1e-4, y + 1e-4)] * 1200,
        crs="EPSG:4326",
    )
    path = write(frame, tmp_path / "grids.geojson")
    state = "SELECT (SELECT count(*) FROM grid), (SELECT version FROM data_version " \
            "WHERE table_name = 'grid')"
    with demo_db.connect() as conn:
        before = tuple(conn.execute(sa.text(state)).one())
        sequence_before = conn.execute(sa.text("SELECT last_value FROM grid_id_seq")).scalar()
    with pytest.raises(ImportRejected) as caught:
        run(demo_db, "grids", path, PLANNER, batch_rows=500)
    assert status_of(caught.value) == (409, "Conflict")  # a duplicate key (23505)
    assert [e.row for e in caught.value.report.rejected] == [1150]
    assert "already exists" in caught.value.report.rejected[0].message
    with demo_db.connect() as conn:
        assert tuple(conn.execute(sa.text(state)).one()) == before
        sequence_after = conn.execute(sa.text("SELECT last_value FROM grid_id_seq")).scalar()
    assert sequence_after - sequence_before >= 1000  # two batches really went in first


def test_gcj02_import_lands_on_the_wgs84_position(demo_db: Engine, tmp_path: Path) -> None:
    truth = parking_frame()
    shifted = truth.set_geometry(list(geometries_wgs84_to_gcj02(truth.geometry.to_numpy())))
    report = run(demo_db, "parking", write(shifted, tmp_path / "gcj.geojson"), from_gcj02=True)
    with demo_db.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT ST_X(geom), ST_Y(geom) FROM parking WHERE id = ANY(:ids) ORDER BY id"),
            {"ids": report.ids},
        ).all()
    geod = Geod(ellps="WGS84")
    for (lon, lat), point in zip(stored, truth.geometry, strict=True):
        assert geod.inv(lon, lat, point.x, point.y)[2] < 0.01


def test_gbk_csv_keeps_its_chinese_names(demo_db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "parking.csv"
    path.write_bytes("名称,类型,车位数,lon,lat\n水荫路停车场,surface_lot,40,113.2935,23.1472\n"
                     .encode("gbk"))
    report = run(demo_db, "parking", path)
    assert report.warnings and report.ignored_columns == {}
    assert scalar(demo_db, "SELECT name FROM parking WHERE id = :id", id=report.ids[0]) == \
        "水荫路停车场"


def test_z_values_are_dropped(demo_db: Engine, tmp_path: Path) -> None:
    frame = parking_frame(1).set_geometry([shapely.Point(*NEAR_34, 12.5)])
    report = run(demo_db, "parking", write(frame, tmp_path / "z.geojson"))
    assert scalar(demo_db, "SELECT ST_NDims(geom) FROM parking WHERE id = :id",
                  id=report.ids[0]) == 2
