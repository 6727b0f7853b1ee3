"""Vertex tables for graph building: line vertices and T-junction splits (internal)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from gis_service.errors import InvalidInput

IntArray = NDArray[np.int64]
_MAX_CELLS = 4096


@dataclass(frozen=True)
class Vertices:
    """All line vertices in line order: coordinates, part, source line, endpoint flags."""

    xy: NDArray[np.float64]
    part: IntArray
    line: IntArray
    endpoint: NDArray[np.bool_]
    inserted: NDArray[np.bool_]


def prepare_vertices(geoms: NDArray[np.object_]) -> Vertices:
    """Vertices of every LineString part, without repeated consecutive points."""
    parts, line = shapely.get_parts(geoms, return_index=True)
    ok = np.isin(shapely.get_type_id(parts), (1, 2)) & ~shapely.is_empty(parts)
    parts, line = parts[ok], line[ok]
    xy, pidx = shapely.get_coordinates(parts, return_index=True)
    if pidx.size == 0:
        raise InvalidInput("the street layer has no usable LineStrings")
    if not np.isfinite(xy).all():
        raise InvalidInput("street lines contain non-finite coordinates")
    dup = np.r_[False, (pidx[1:] == pidx[:-1]) & np.all(xy[1:] == xy[:-1], axis=1)]
    xy, pidx = xy[~dup], pidx[~dup]
    ok = np.bincount(pidx, minlength=parts.size)[pidx] >= 2
    xy, pidx = xy[ok], pidx[ok].astype(np.int64)
    if pidx.size == 0:
        raise InvalidInput("the street layer has no usable LineStrings")
    change = pidx[1:] != pidx[:-1]
    endpoint = np.r_[True, change] | np.r_[change, True]
    return Vertices(xy, pidx, line[pidx].astype(np.int64), endpoint, np.zeros(pidx.size, bool))


def _candidate_segments(vx: Vertices, seg: IntArray, tolerance: float) -> IntArray:
    """Segments whose box may lie within `tolerance` of a line end (uniform grid filter)."""
    a, b = vx.xy[seg], vx.xy[seg + 1]
    seg_len = np.hypot(*(b - a).T)
    lo = vx.xy.min(axis=0) - 2 * tolerance
    extent = float(np.max(vx.xy.max(axis=0) - lo)) + 2 * tolerance
    cell = max(float(np.quantile(seg_len, 0.95)) + 2 * tolerance, 10 * tolerance)
    cell = max(cell, extent / _MAX_CELLS)
    n = int(extent // cell) + 2
    marked = np.zeros((n, n), dtype=bool)
    ends = vx.xy[vx.endpoint]
    for dx in (-tolerance, tolerance):
        for dy in (-tolerance, tolerance):
            ij = ((ends + np.array([dx, dy]) - lo) // cell).astype(np.int64)
            marked[ij[:, 0], ij[:, 1]] = True
    i0 = ((np.minimum(a, b) - lo) // cell).astype(np.int64)
    i1 = ((np.maximum(a, b) - lo) // cell).astype(np.int64)
    big = np.any(i1 - i0 > 1, axis=1)
    hit = (
        marked[i0[:, 0], i0[:, 1]]
        | marked[i0[:, 0], i1[:, 1]]
        | marked[i1[:, 0], i0[:, 1]]
        | marked[i1[:, 0], i1[:, 1]]
    )
    return seg[big | hit]


def endpoint_segment_links(
    vx: Vertices, tolerance: float, line_layer: IntArray | None = None
) -> tuple[Vertices, tuple[IntArray, IntArray]]:
    """Link each line end to lines of its layer passing within `tolerance`, inserting splits.

    Returns the vertex table with inserted vertices and pairs (end, vertex) to merge.
    line_layer gives each source line's vertical layer (None: all on one layer).
    """
    empty = np.zeros(0, dtype=np.int64)
    seg = np.flatnonzero(vx.part[1:] == vx.part[:-1]).astype(np.int64)
    if tolerance <= 0 or seg.size == 0:
        return vx, (empty, empty)
    seg = _candidate_segments(vx, seg, tolerance)
    ends = np.flatnonzero(vx.endpoint).astype(np.int64)
    tree = shapely.STRtree(shapely.linestrings(np.stack([vx.xy[seg], vx.xy[seg + 1]], axis=1)))
    pi, si = tree.query(shapely.points(vx.xy[ends]), predicate="dwithin", distance=tolerance)
    e, k = ends[pi], seg[si]
    own = (k == e) | (k + 1 == e)
    if line_layer is not None:
        own |= line_layer[vx.line[e]] != line_layer[vx.line[k]]
    e, k = e[~own], k[~own]
    p, a, b = vx.xy[e], vx.xy[k], vx.xy[k + 1]
    ab = b - a
    t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.einsum("ij,ij->i", ab, ab), 0.0, 1.0)
    near_a = np.hypot(*(p - a).T) <= tolerance
    near_b = ~near_a & (np.hypot(*(p - b).T) <= tolerance)
    mid = ~near_a & ~near_b
    n_old, n_new = vx.xy.shape[0], int(mid.sum())
    key = np.r_[np.arange(n_old, dtype=np.float64), k[mid] + t[mid]]
    order = np.argsort(key, kind="stable")
    new_pos = np.empty(order.size, dtype=np.int64)
    new_pos[order] = np.arange(order.size)
    km = k[mid]
    merged = Vertices(
        np.r_[vx.xy, (a + t[:, None] * ab)[mid]][order],
        np.r_[vx.part, vx.part[km]][order],
        np.r_[vx.line, vx.line[km]][order],
        np.r_[vx.endpoint, np.zeros(n_new, bool)][order],
        np.r_[vx.inserted, np.ones(n_new, bool)][order],
    )
    target = np.where(near_a, k, k + 1)
    link_a = np.r_[new_pos[e[~mid]], new_pos[e[mid]]]
    link_b = np.r_[new_pos[target[~mid]], new_pos[n_old + np.arange(n_new)]]
    return merged, (link_a, link_b)
