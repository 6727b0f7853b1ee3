"""Reading real files: formats, CRS from the file or a flag, encodings, broken input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from gis_service.errors import InvalidInput
from gis_service.ingest.gcj02 import geometries_wgs84_to_gcj02
from gis_service.ingest.readers import read_source
from tests.ingest.files import NEAR_34, garden_frame, write, zipped_shapefile


def assert_near_34(frame) -> None:
    x, y = NEAR_34
    bounds = frame.total_bounds
    assert abs(bounds[0] - x) < 0.01 and abs(bounds[1] - y) < 0.01
    assert frame.crs.to_epsg() == 4326


def test_geojson(tmp_path: Path) -> None:
    source = read_source(write(garden_frame(), tmp_path / "g.geojson"))
    assert source.format == "geojson" and len(source.frame) == 3
    assert source.frame["name"].tolist()[0] == "邻里花园 1"
    assert_near_34(source.frame)


def test_gpkg_in_a_projected_crs_is_reprojected(tmp_path: Path) -> None:
    path = write(garden_frame(crs="EPSG:32649"), tmp_path / "g.gpkg", layer="gardens")
    source = read_source(path)
    assert source.source_crs == "EPSG:32649"
    assert_near_34(source.frame)
    assert np.allclose(source.frame.total_bounds, garden_frame().total_bounds, atol=1e-7)


def test_gpkg_with_several_layers_needs_a_choice(tmp_path: Path) -> None:
    path = write(garden_frame(), tmp_path / "g.gpkg", layer="a")
    write(garden_frame(2), path, layer="b", append=False)
    with pytest.raises(InvalidInput, match="2 layers"):
        read_source(path)
    assert len(read_source(path, layer="b").frame) == 2
    with pytest.raises(InvalidInput, match="no layer 'c'"):
        read_source(path, layer="c")


def test_zipped_shapefile_with_prj(tmp_path: Path) -> None:
    archive = zipped_shapefile(garden_frame(crs="EPSG:4490"), tmp_path)
    source = read_source(archive)
    assert source.format == "shapefile" and "4490" in str(source.source_crs)
    assert_near_34(source.frame)


def test_zipped_shapefile_without_prj_needs_a_crs(tmp_path: Path) -> None:
    archive = zipped_shapefile(garden_frame(crs="EPSG:32649"), tmp_path, with_prj=False)
    with pytest.raises(InvalidInput, match=r"has no \.prj: give its CRS with --crs"):
        read_source(archive)
    source = read_source(archive, crs="EPSG:32649")
    assert_near_34(source.frame)


def test_zip_missing_a_part(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("x.shp", b"not really")
    with pytest.raises(InvalidInput, match=r"lacks \.shx and \.dbf"):
        read_source(archive)


def test_shapefile_in_gbk(tmp_path: Path) -> None:
    frame = garden_frame()
    archive = zipped_shapefile(frame, tmp_path, encoding="GBK")
    assert read_source(archive).frame["name"].tolist() == frame["name"].tolist()
    bare = zipped_shapefile(frame, tmp_path, name="nocpg", encoding="GBK", with_cpg=False)
    assert read_source(bare, encoding="gbk").frame["name"].tolist() == frame["name"].tolist()


def test_csv_lon_lat_in_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "parking.csv"
    path.write_bytes("名称,经度,纬度,kind\n停车场,113.2935,23.1472,surface_lot\n".encode("gbk"))
    source = read_source(path, lon_column="经度", lat_column="纬度")
    assert source.frame["名称"].tolist() == ["停车场"]
    assert any("GB18030" in w.upper() for w in source.warnings)
    assert source.frame.geometry.iloc[0].equals(shapely.Point(113.2935, 23.1472))


@pytest.mark.parametrize("columns", [("lon", "lat"), ("Longitude", "Latitude"), ("x", "y")])
def test_csv_default_coordinate_columns(tmp_path: Path, columns: tuple[str, str]) -> None:
    path = tmp_path / "p.csv"
    path.write_text(f"name,{columns[0]},{columns[1]}\na,113.29,23.14\nb,oops,23.14\n")
    source = read_source(path)
    assert source.frame.geometry.iloc[0].equals(shapely.Point(113.29, 23.14))
    assert [(e.row, e.field) for e in source.row_errors] == [(2, "geometry")]


def test_csv_with_wkt_and_no_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text('name,wkt\na,"POLYGON ((0 0, 1 0, 1 1, 0 0))"\nb,garbage\n')
    source = read_source(path)
    assert source.frame.geometry.iloc[0].geom_type == "Polygon"
    assert [e.row for e in source.row_errors] == [2]
    (tmp_path / "none.csv").write_text("name,value\na,1\n")
    with pytest.raises(InvalidInput, match="no coordinate columns"):
        read_source(tmp_path / "none.csv")


def test_broken_geojson_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat')
    with pytest.raises(InvalidInput, match="cannot read the file"):
        read_source(path)


def test_unsupported_extension(tmp_path: Path) -> None:
    (tmp_path / "x.kml").write_text("<kml/>")
    with pytest.raises(InvalidInput, match="supported extensions"):
        read_source(tmp_path / "x.kml")


def test_unknown_crs_flag(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown CRS"):
        read_source(write(garden_frame(), tmp_path / "g.geojson"), crs="EPSG:999999")


def test_gcj02_flag_moves_the_geometry_back_to_wgs84(tmp_path: Path) -> None:
    wgs = garden_frame()
    shifted = wgs.set_geometry(list(geometries_wgs84_to_gcj02(wgs.geometry.to_numpy())))
    path = write(shifted, tmp_path / "gcj.geojson")
    plain = read_source(path)
    converted = read_source(path, from_gcj02=True)
    assert not np.allclose(plain.frame.total_bounds, wgs.total_bounds, atol=1e-5)
    assert np.allclose(converted.frame.total_bounds, wgs.total_bounds, atol=1e-8)


def test_non_utf8_geojson_is_read_as_gb18030(tmp_path: Path) -> None:
    data = json.loads(garden_frame(1).to_json())
    path = tmp_path / "gbk.geojson"
    path.write_bytes(json.dumps(data, ensure_ascii=False).encode("gbk"))
    source = read_source(path)
    assert source.frame["name"].tolist() == ["邻里花园 1"]
    assert source.warnings
