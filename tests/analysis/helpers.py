"""Small real street networks shared by the analysis tests."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gis_service.analysis.network import StreetGraph

UTM_GUANGZHOU = 32649


def lattice_lines(n: int = 4, block: float = 100.0) -> gpd.GeoDataFrame:
    """An n x n lattice of nodes as 2n long lines sharing vertices (3 x 3 blocks for n=4)."""
    rows = [shapely.LineString([(x * block, y * block) for x in range(n)]) for y in range(n)]
    cols = [shapely.LineString([(x * block, y * block) for y in range(n)]) for x in range(n)]
    return gpd.GeoDataFrame(geometry=rows + cols, crs=UTM_GUANGZHOU)


def node_at(graph: StreetGraph, x: float, y: float) -> int:
    """Index of the node at a coordinate."""
    hit = np.flatnonzero(np.all(np.isclose(graph.node_xy, (x, y)), axis=1))
    assert hit.size == 1
    return int(hit[0])
