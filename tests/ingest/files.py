"""Real files for import tests, written with GDAL (pyogrio) into a test's tmp_path."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

NEAR_34 = (113.2935, 23.1472)  # inside the demo district, near Shuiyin Road No. 34
KINDS = ("neighbourhood_garden", "pocket_park", "street_garden")


def garden_frame(n: int = 3, crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """n small square gardens near Shuiyin Road (lon/lat)."""
    x, y = NEAR_34
    boxes = [shapely.box(x + i * 0.001, y, x + i * 0.001 + 0.0004, y + 0.0003) for i in range(n)]
    frame = gpd.GeoDataFrame(
        {
            "name": [f"邻里花园 {i + 1}" for i in range(n)],
            "kind": [KINDS[i % 3] for i in range(n)],
            "area_m2": [1200.0 + i for i in range(n)],
        },
        geometry=boxes,
        crs="EPSG:4326",
    )
    return frame.to_crs(crs) if crs != "EPSG:4326" else frame


def parking_frame(n: int = 3) -> gpd.GeoDataFrame:
    """n parking points near Shuiyin Road."""
    x, y = NEAR_34
    return gpd.GeoDataFrame(
        {
            "name": [f"便民停车场 {i + 1}" for i in range(n)],
            "kind": ["surface_lot"] * n,
            "capacity": [20 + i for i in range(n)],
        },
        geometry=[shapely.Point(x + i * 0.0005, y) for i in range(n)],
        crs="EPSG:4326",
    )


def write(frame: gpd.GeoDataFrame, path: Path, **options: object) -> Path:
    """Write a frame with GDAL (driver from the extension)."""
    pyogrio.write_dataframe(frame, path, **options)
    return path


def zipped_shapefile(
    frame: gpd.GeoDataFrame,
    folder: Path,
    name: str = "gardens",
    with_prj: bool = True,
    encoding: str | None = None,
    with_cpg: bool = True,
) -> Path:
    """A .zip holding a Shapefile (.shp/.shx/.dbf, .prj and .cpg optional)."""
    work = folder / f"{name}_shp"
    work.mkdir()
    pyogrio.write_dataframe(frame, work / f"{name}.shp", encoding=encoding)
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for part in sorted(work.iterdir()):
            if part.suffix == ".prj" and not with_prj:
                continue
            if part.suffix == ".cpg" and not with_cpg:
                continue
            out.write(part, part.name)
    return archive
