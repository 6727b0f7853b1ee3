"""Snap points onto the walkable network and measure snapped-to-snapped distances.

The rule (SnapRule, from the catalog's walking.snapping): a point walks a straight leg of at most
max_leg_m to the nearest way at ground level of a connected piece with at least
min_component_m metres of ways (the largest piece always qualifies), so no point lands on an
island it cannot leave, or in a tunnel under its door. unsnapped_reasons says why a point found
no way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from gis_service.analysis.crs import as_points
from gis_service.analysis.network import StreetGraph
from gis_service.analysis.threads import in_parts

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
PointsLike: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries | NDArray[np.object_] | NDArray[np.float64]


@dataclass(frozen=True)
class SnapRule:
    """How points join the network: longest straight leg, smallest connected piece (metres)."""

    max_leg_m: float = 150.0
    min_component_m: float = 300.0

    def limited(self, max_distance: float | None) -> SnapRule:
        """The rule with a caller's max_distance as the longest leg (None: unchanged)."""
        if max_distance is None:
            return self
        return SnapRule(float(max_distance), self.min_component_m)


@dataclass(frozen=True)
class Snapped:
    """Points (or stretches) placed on edges: edge (u -> v), distance from u, access leg.

    span is the length along the edge a stretch covers from offset on (0 for points; an area's
    outline meets the network along stretches). Points that found no edge have edge = -1 and
    NaN distances.
    """

    edge: IntArray
    u: IntArray
    v: IntArray
    offset: FloatArray
    edge_length: FloatArray
    access: FloatArray
    xy: FloatArray
    span: FloatArray | None = None

    def __len__(self) -> int:
        """Number of points."""
        return int(self.edge.shape[0])

    @property
    def ok(self) -> NDArray[np.bool_]:
        """True where the point found an edge."""
        return self.edge >= 0

    @property
    def extent(self) -> FloatArray:
        """The span of each stretch (zeros for points)."""
        return np.zeros(len(self)) if self.span is None else self.span

    @property
    def rest(self) -> FloatArray:
        """Distance from the snapped position to v along the edge."""
        return self.edge_length - self.offset

    @property
    def rest_after(self) -> FloatArray:
        """Distance from the far end of each stretch to v along the edge."""
        return self.edge_length - self.offset - self.extent

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
            None if self.span is None else self.span[index],
        )


def on_edges(graph: StreetGraph, edge: IntArray, offset: FloatArray) -> FloatArray:
    """(n, 2) coordinates at distances along edges (NaN where edge is -1)."""
    xy = np.full((edge.size, 2), np.nan)
    found = edge >= 0
    if found.any():
        on = shapely.line_interpolate_point(graph.geometries[edge[found]], offset[found])
        xy[found] = shapely.get_coordinates(on)
    return xy


def nearest_usable(
    graph: StreetGraph, geoms: NDArray[np.object_], rule: SnapRule
) -> tuple[IntArray, IntArray]:
    """(geometry index, edge) of the nearest usable edge within the rule's leg, one per geometry."""
    if not geoms.size or not graph.n_edges:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    tree, edges = graph.usable_tree(rule.min_component_m)
    gi, ki = nearest_in_parts(tree, geoms, rule.max_leg_m)
    first = np.r_[True, gi[1:] != gi[:-1]] if gi.size else np.zeros(0, dtype=bool)
    return gi[first].astype(np.int64), edges[ki[first]]


PART_SIZE = 100_000
"""Geometries per thread when looking up their nearest edges: a city's million stairwells
are looked up on every core (the tree's query releases the GIL; 3.7 s on one core of this
2-core machine, 2.1 s on both), an edit's few in the calling thread."""


def nearest_in_parts(
    tree: shapely.STRtree, geoms: NDArray[np.object_], max_distance: float
) -> tuple[IntArray, IntArray]:
    """STRtree.query_nearest (every nearest within max_distance, as (geometry, tree) index
    pairs in geometry order), the geometries split among threads when there are many."""

    def part(lo: int, hi: int) -> tuple[IntArray, IntArray]:
        g, k = tree.query_nearest(geoms[lo:hi], max_distance=max_distance, return_distance=False)
        return g + lo, k

    parts = min(os.cpu_count() or 1, len(geoms) // PART_SIZE)
    found = in_parts(part, len(geoms), parts)
    return np.concatenate([g for g, _ in found]), np.concatenate([k for _, k in found])


def snap_points(
    graph: StreetGraph,
    points: PointsLike,
    max_distance: float | None = None,
    rule: SnapRule = SnapRule(),
) -> Snapped:
    """Snap each point to the nearest usable segment (not node) of the graph (see SnapRule).

    max_distance, when given, is the longest leg instead of the rule's.
    """
    rule = rule.limited(max_distance)
    pts = as_points(points)
    n = pts.shape[0]
    edge = np.full(n, -1, dtype=np.int64)
    access = np.full(n, np.nan)
    pi, ei = nearest_usable(graph, pts, rule)
    edge[pi] = ei
    found = edge >= 0
    e = edge[found]
    geoms = graph.geometries[e]
    offset = np.full(n, np.nan)
    offset[found] = np.clip(shapely.line_locate_point(geoms, pts[found]), 0.0, graph.length[e])
    xy = on_edges(graph, edge, offset)
    step = shapely.get_coordinates(pts[found]) - xy[found]  # one point each, none empty
    access[found] = np.sqrt(step[:, 0] * step[:, 0] + step[:, 1] * step[:, 1])  # as GEOS does
    return placed(graph, edge, offset, access, xy)


def placed(
    graph: StreetGraph,
    edge: IntArray,
    offset: FloatArray,
    access: FloatArray,
    xy: FloatArray,
    span: FloatArray | None = None,
) -> Snapped:
    """Snapped positions from edges and offsets (edge -1: not placed)."""
    found = edge >= 0
    safe = np.where(found, edge, 0)
    u = np.where(found, graph.u[safe], -1)
    v = np.where(found, graph.v[safe], -1)
    length = np.where(found, graph.length[safe], np.nan)
    return Snapped(edge, u, v, offset, length, access, xy, span)


def unsnapped_reasons(
    graph: StreetGraph, points: PointsLike, snapped: Snapped, rule: SnapRule = SnapRule()
) -> list[str | None]:
    """Why each point found no way (None where it did): nothing near, a tunnel, an island."""
    pts = as_points(points)
    out: list[str | None] = [None] * len(snapped)
    missing = np.flatnonzero(~snapped.ok)
    if not missing.size:
        return out
    near = np.full(missing.size, -1, dtype=np.int64)
    if graph.n_edges:
        pi, ei = graph.tree.query_nearest(
            pts[missing], max_distance=rule.max_leg_m, return_distance=False
        )
        near[pi] = ei
    ground = np.ones(graph.n_edges, bool) if graph.ground is None else graph.ground
    for slot, k in zip(missing.tolist(), near.tolist(), strict=True):
        if k < 0:
            out[slot] = f"no walkable way within {rule.max_leg_m:g} m"
        elif not ground[k]:
            out[slot] = (
                f"within {rule.max_leg_m:g} m only ways off the ground (tunnel, bridge, layer)"
            )
        else:
            piece = float(graph.component_length[k])
            out[slot] = (
                f"within {rule.max_leg_m:g} m only an isolated piece of {piece:.0f} m of ways "
                f"(less than {rule.min_component_m:g} m)"
            )
    return out


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
