"""Service-area polygons: the street pieces reached within a radius, buffered and dissolved."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from gis_service.analysis.access import Access, AccessRule, access_points
from gis_service.analysis.line_buffers import buffered_coords, buffered_lines
from gis_service.analysis.network import StreetGraph
from gis_service.analysis.routing import NodeReach, nearest_source_snapped
from gis_service.analysis.snapping import PointsLike, Snapped, SnapRule
from gis_service.analysis.street_chains import chain_coords, street_chains
from gis_service.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_EPS = 1e-9
QUAD_SEGS = 4
"""Segments per quarter circle of the round ends and joins: an arc's chords stay within
r (1 - cos(pi / 16)) of it, 0.48 m for a 25 m buffer, so outlines are within 1 m of the exact
round buffer and areas 0.5 % smaller on city streets (2.5 % for a lone disc; shapely's default
8 gives 0.12 m), with 40 % fewer vertices to union, reproject and write."""


def edge_substrings(
    graph: StreetGraph, edge: IntArray, start: FloatArray, end: FloatArray
) -> NDArray[np.object_]:
    """The parts of edges between distances `start` and `end` from u (vectorised substring)."""
    xy, counts = substring_coords(graph, edge, start, end)
    return shapely.linestrings(xy, indices=np.repeat(np.arange(counts.size), counts))


def substring_coords(
    graph: StreetGraph, edge: IntArray, start: FloatArray, end: FloatArray
) -> tuple[FloatArray, IntArray]:
    """edge_substrings as coordinates: each part's vertices in order, and their counts."""
    edge = np.asarray(edge, dtype=np.int64)
    start = np.clip(start, 0.0, graph.length[edge])
    end = np.clip(end, start, graph.length[edge])
    n = edge.size
    if n == 0:
        return np.empty((0, 2)), np.zeros(0, np.int64)
    ends = points_along(graph, np.r_[edge, edge], np.r_[start, end])
    counts = np.diff(graph.edge_ptr)[edge]
    piece = np.repeat(np.arange(n), counts)
    vidx = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    vidx += np.repeat(graph.edge_ptr[edge], counts)
    pos = graph.vertex_along[vidx]
    inner = (pos > start[piece]) & (pos < end[piece])
    piece, vidx = piece[inner], vidx[inner]
    sizes = np.bincount(piece, minlength=n) + 2
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    xy = np.empty((int(sizes.sum()), 2))
    xy[first], xy[first + sizes - 1] = ends[:n], ends[n:]
    # inner vertices come by piece and along it: each after its piece's start point
    rank = np.arange(piece.size) - (np.cumsum(sizes - 2) - (sizes - 2))[piece]
    xy[first[piece] + 1 + rank] = graph.coords[vidx]
    return xy, sizes


def points_along(graph: StreetGraph, edge: IntArray, along: FloatArray) -> FloatArray:
    """The points at distances `along` from u on edges `edge` (vectorised, vertices exact)."""
    ptr, at = graph.edge_ptr, graph.vertex_along
    # per edge a stretch of its own on one increasing axis: vertex distances + edge offset
    offset = np.r_[0.0, np.cumsum(graph.length[:-1] + 1.0)]
    axis = at + np.repeat(offset, np.diff(ptr))
    seg = np.searchsorted(axis, offset[edge] + along, side="right") - 1
    seg = np.clip(seg, ptr[edge], ptr[edge + 1] - 2)
    span = at[seg + 1] - at[seg]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(np.where(span > 0, (along - at[seg]) / span, 0.0), 0.0, 1.0)[:, None]
    a, b = graph.coords[seg], graph.coords[seg + 1]
    t[along >= graph.length[edge]] = 1.0  # the edge's end node exactly
    return np.where(t <= 0.0, a, np.where(t >= 1.0, b, a + t * (b - a)))


def reached_pieces(
    graph: StreetGraph,
    reach: NodeReach,
    sources: Snapped,
    radius: float,
    split_between_sources: bool = True,
    owner: IntArray | None = None,
) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    """Reached parts of edges within `radius`: (edge, start, end, source) per piece.

    Pieces come from either end of every edge and from each source along its own edge (its
    whole stretch and beyond). With split_between_sources an edge reached from different
    sources at u and v is cut where the two distances meet, so each piece belongs to its
    nearest source. reach.source and the pieces' source are owners when owner is given.
    """
    du, dv = reach.dist[graph.u], reach.dist[graph.v]
    su, sv = reach.source[graph.u], reach.source[graph.v]
    length = graph.length
    end_u = np.minimum(length, radius - du)
    start_v = np.maximum(0.0, length - (radius - dv))
    if split_between_sources:
        cut = (su != sv) & np.isfinite(du) & np.isfinite(dv)
        with np.errstate(invalid="ignore"):
            meet = np.clip((length + dv - du) / 2.0, 0.0, length)
        end_u = np.where(cut, np.minimum(end_u, meet), end_u)
        start_v = np.where(cut, np.maximum(start_v, meet), start_v)
    from_u = np.flatnonzero(np.isfinite(du) & (end_u > _EPS))
    from_v = np.flatnonzero(np.isfinite(dv) & (length - start_v > _EPS))
    own = np.flatnonzero(sources.ok & (sources.access <= radius))
    rem = radius - sources.access[own]
    edge = np.r_[from_u, from_v, sources.edge[own]]
    start = np.r_[np.zeros(from_u.size), start_v[from_v], sources.offset[own] - rem]
    far = sources.offset[own] + sources.extent[own] + rem
    end = np.r_[end_u[from_u], length[from_v], far]
    source = np.r_[su[from_u], sv[from_v], own if owner is None else owner[own]]
    start = np.clip(start, 0.0, length[edge])
    end = np.clip(end, 0.0, length[edge])
    keep = end - start > _EPS
    group = (
        source[keep].astype(np.int64) if split_between_sources else np.zeros(keep.sum(), np.int64)
    )
    return _merge_intervals(edge[keep], start[keep], end[keep], group)


def _merge_intervals(
    edge: IntArray, start: FloatArray, end: FloatArray, group: IntArray
) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    """Union of overlapping intervals on the same edge within the same group."""
    if edge.size == 0:
        return edge, start, end, group
    order = np.lexsort((start, edge, group))
    edge, start, end, group = edge[order], start[order], end[order], group[order]
    same = np.r_[False, (edge[1:] == edge[:-1]) & (group[1:] == group[:-1])]
    key = np.cumsum(~same)
    reach = pd.Series(end).groupby(key).cummax().to_numpy()
    new_run = ~same | (start > np.r_[-np.inf, reach[:-1]])
    first = np.flatnonzero(new_run)
    run_end = np.maximum.reduceat(end, first)
    return edge[first], start[first], run_end, group[first]


def service_areas(
    graph: StreetGraph,
    facilities: PointsLike,
    radius: float,
    facility_ids: ArrayLike | None = None,
    buffer: float = 25.0,
    per_facility: bool = True,
    max_snap: float | None = None,
    access: AccessRule = AccessRule(),
    snap: SnapRule = SnapRule(),
    entry: Access | None = None,
) -> gpd.GeoDataFrame:
    """Service-area polygons: reached street pieces (cut at the remaining distance) buffered.

    Facilities are reached at their access stretches (`access`, see access.py). per_facility
    gives one polygon per facility over the streets it is nearest to (network Voronoi within
    the radius); False one dissolved polygon for the layer. Columns: facility_id (None
    overall), street_length_m, geometry (graph CRS). `entry`: the facilities' access
    stretches already found by these rules (access_points).
    """
    if radius < 0 or buffer < 0:
        raise InvalidInput("radius and buffer must be >= 0")
    if entry is None:
        entry = access_points(graph, facilities, access, snap.limited(max_snap))
    sources, owner = entry.stretches, entry.owner
    n_fac = entry.n_facilities
    ids = np.arange(n_fac) if facility_ids is None else np.asarray(facility_ids)
    if ids.shape != (n_fac,):
        raise InvalidInput(f"expected {n_fac} facility ids, got {ids.size}")
    if not sources.ok.any():
        return gpd.GeoDataFrame(
            {"facility_id": [], "street_length_m": []}, geometry=[], crs=graph.crs
        )
    found = nearest_source_snapped(graph, sources, limit=radius)
    by_owner = np.where(found.source >= 0, owner[np.maximum(found.source, 0)], -1)
    reach = NodeReach(found.dist, by_owner, found.predecessor, found.limit)
    edge, start, end, source = reached_pieces(graph, reach, sources, radius, per_facility, owner)
    if per_facility:
        order = np.argsort(source, kind="stable")
        groups, first = np.unique(source[order], return_index=True)
        lengths: list[float] = np.add.reduceat(end[order] - start[order], first).tolist()
        facility: list[object] = ids[groups].tolist()
        group = np.searchsorted(groups, source)
    else:
        lengths, facility = [float(np.sum(end - start))], [None]
        group = np.zeros(edge.size, np.int64)
    if buffer > 0:
        xy, counts = substring_coords(graph, edge, start, end)
        chain_xy, chain_sizes, chain_group = chain_coords(xy, counts, group)
        line = np.repeat(np.arange(chain_sizes.size), chain_sizes)
        polygons = buffered_coords(chain_xy, line, chain_group, len(facility), buffer, QUAD_SEGS)
    else:
        pieces = edge_substrings(graph, edge, start, end)
        order = np.argsort(group, kind="stable")
        bounds = np.searchsorted(group[order], np.arange(len(facility) + 1))
        polygons = buffered_groups(pieces[order], bounds, 0.0)
    return gpd.GeoDataFrame(
        {"facility_id": facility, "street_length_m": lengths}, geometry=polygons, crs=graph.crs
    )


def buffered_groups(pieces: NDArray[np.object_], bounds: IntArray, buffer: float) -> NDArray[Any]:
    """Per group of consecutive pieces (pieces[bounds[i]:bounds[i+1]]): their union buffered,
    or their multilinestring when buffer is 0.

    The group's pieces are joined end to end into chains (street_chains.py), and each group's
    chains are buffered and dissolved in one Clipper offset (line_buffers.py): the same polygon
    as GEOS buffering the group's multilinestring (about 20 times slower: it nodes every offset
    curve together) or unioning one buffer per chain (about 4 times slower).
    """
    n_groups = bounds.size - 1
    if buffer <= 0:
        return np.array(
            [shapely.multilinestrings(pieces[bounds[i] : bounds[i + 1]]) for i in range(n_groups)],
            dtype=object,
        )
    lines, line_group = street_chains(pieces, np.repeat(np.arange(n_groups), np.diff(bounds)))
    return buffered_lines(lines, line_group, n_groups, buffer, QUAD_SEGS)
