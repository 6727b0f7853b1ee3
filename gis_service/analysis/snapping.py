"""Snap points onto the nearest street segment and measure snapped-to-snapped distances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from gis_service.analysis.crs import as_points
from gis_service.analysis.network import StreetGraph

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
PointsLike: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries | NDArray[np.object_] | NDArray[np.float64]


@dataclass(frozen=True)
class Snapped:
    """Points placed on edges: edge (u -> v), distance from u along it, access leg length.

    Points farther than the snapping limit have edge = -1 and NaN distances.
    """

    edge: IntArray
    u: IntArray
    v: IntArray
    offset: FloatArray
    edge_length: FloatArray
    access: FloatArray
    xy: FloatArray

    def __len__(self) -> int:
        """Number of points."""
        return int(self.edge.shape[0])

    @property
    def ok(self) -> NDArray[np.bool_]:
        """True where the point found an edge."""
        return self.edge >= 0

    @property
    def rest(self) -> FloatArray:
        """Distance from the snapped position to v along the edge."""
        return self.edge_length - self.offset

    def take(self, index: IntArray | NDArray[np.bool_]) -> Snapped:
        """A subset of the snapped points."""
        return Snapped(
            self.edge[index],
            self.u[index],
            self.v[index],
            self.offset[index],
            self.edge_length[index],
            self.access[index],
            self.xy[index],
        )


def snap_points(
    graph: StreetGraph, points: PointsLike, max_distance: float | None = None
) -> Snapped:
    """Snap each point to the nearest street segment (not node) of the graph."""
    pts = as_points(points)
    n = pts.shape[0]
    edge = np.full(n, -1, dtype=np.int64)
    access = np.full(n, np.nan)
    if n and graph.n_edges:
        pi, ei = graph.tree.query_nearest(pts, max_distance=max_distance, return_distance=False)
        first = np.r_[True, pi[1:] != pi[:-1]]
        pi, ei = pi[first], ei[first]
        edge[pi] = ei
    found = edge >= 0
    e = edge[found]
    geoms = graph.geometries[e]
    offset = np.full(n, np.nan)
    offset[found] = np.clip(shapely.line_locate_point(geoms, pts[found]), 0.0, graph.length[e])
    xy = np.full((n, 2), np.nan)
    if found.any():
        on = shapely.line_interpolate_point(geoms, offset[found])
        xy[found] = shapely.get_coordinates(on)
        access[found] = shapely.distance(pts[found], on)
    safe = np.where(found, edge, 0)
    u = np.where(found, graph.u[safe], -1)
    v = np.where(found, graph.v[safe], -1)
    length = np.where(found, graph.length[safe], np.nan)
    return Snapped(edge, u, v, offset, length, access, xy)


def snapped_distances(
    graph: StreetGraph, origins: Snapped, destinations: Snapped, limit: float = np.inf
) -> FloatArray:
    """Walking distance matrix (origins x destinations) between snapped points.

    distance = access leg + min over edge ends (along-edge part + node-to-node path + along-edge
    part) + access leg, or the direct along-edge distance when both lie on the same edge.
    Runs one Dijkstra per distinct origin edge end: meant for modest numbers of origins.
    """
    out = np.full((len(origins), len(destinations)), np.inf)
    o_ok, d_ok = origins.ok, destinations.ok
    if not o_ok.any() or not d_ok.any():
        return out
    o, d = origins.take(o_ok), destinations.take(d_ok)
    nodes = np.unique(np.r_[o.u, o.v])
    dist = dijkstra(graph.matrix, directed=True, indices=nodes, limit=limit)
    iu, iv = np.searchsorted(nodes, o.u), np.searchsorted(nodes, o.v)
    best = np.full((len(o), len(d)), np.inf)
    for row, along_o in ((iu, o.offset), (iv, o.rest)):
        for col, along_d in ((d.u, d.offset), (d.v, d.rest)):
            cand = along_o[:, None] + dist[row][:, col] + along_d[None, :]
            np.minimum(best, cand, out=best)
    same = o.edge[:, None] == d.edge[None, :]
    direct = np.abs(o.offset[:, None] - d.offset[None, :])
    best = np.where(same, np.minimum(best, direct), best)
    total = o.access[:, None] + best + d.access[None, :]
    total[total > limit] = np.inf
    out[np.ix_(np.flatnonzero(o_ok), np.flatnonzero(d_ok))] = total
    return out
