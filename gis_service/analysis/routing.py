"""One-pass multi-source shortest paths: nearest source per node and per snapped point."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra

from gis_service.analysis.network import StreetGraph, csr_from_edges
from gis_service.analysis.snapping import Snapped, on_edges
from gis_service.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class NodeReach:
    """Per graph node: distance to the nearest source, which source, previous node on the path.

    source is a position in the sources given (-1 where nothing is reached within the limit);
    predecessor is -1 at sources, where the path starts on a source's own edge, and unreached.
    """

    dist: FloatArray
    source: IntArray
    predecessor: IntArray
    limit: float

    @property
    def reached(self) -> NDArray[np.bool_]:
        """True for nodes within the limit of some source."""
        return np.isfinite(self.dist)


def _check_limit(limit: float) -> float:
    limit = float(limit)
    if not limit >= 0:
        raise InvalidInput(f"the distance limit must be >= 0, got {limit}")
    return limit


def _clean(ids: NDArray[np.int32], offset: int, n: int) -> IntArray:
    out = ids.astype(np.int64) - offset
    out[(ids < 0) | (ids - offset >= n) | (out < 0)] = -1
    return out


def nearest_source_nodes(
    graph: StreetGraph, source_nodes: ArrayLike, limit: float = np.inf
) -> NodeReach:
    """Distance from every node to its nearest source node, in one Dijkstra pass."""
    limit = _check_limit(limit)
    src = np.asarray(source_nodes, dtype=np.int64)
    if src.size == 0 or src.min() < 0 or src.max() >= graph.n_nodes:
        raise InvalidInput("source nodes must be a non-empty list of node indices of the graph")
    uniq, first = np.unique(src, return_index=True)
    dist, pred, found = dijkstra(
        graph.matrix,
        directed=True,
        indices=uniq,
        limit=limit,
        min_only=True,
        return_predecessors=True,
    )
    position = np.full(graph.n_nodes, -1, dtype=np.int64)
    position[uniq] = first
    found = found.astype(np.int64)
    source = np.where(found >= 0, position[np.maximum(found, 0)], -1)
    return NodeReach(dist, source, _clean(pred, 0, graph.n_nodes), limit)


def augmented_matrix(
    graph: StreetGraph, sources: Snapped, owner: IntArray | None = None
) -> sp.csr_matrix:
    """The graph plus one virtual node per source joined to both ends of its snapped edge.

    The virtual node of source f (index n_nodes + f) reaches u at access + offset and v at
    access + the rest of the edge beyond its stretch, so a Dijkstra from it is exact at every
    graph node. With owner, sources of one owner share the virtual node n_nodes + owner.
    """
    base = graph.matrix.tocoo()
    n = graph.n_nodes
    ok = np.flatnonzero(sources.ok)
    if owner is None:
        virt, f = n + ok, len(sources)
    else:
        virt, f = n + owner[ok], int(owner.max(initial=-1)) + 1
    wu = sources.access[ok] + sources.offset[ok]
    wv = sources.access[ok] + np.maximum(sources.rest_after[ok], 0.0)
    rows = np.r_[base.row, virt, virt, sources.u[ok], sources.v[ok]].astype(np.int64)
    cols = np.r_[base.col, sources.u[ok], sources.v[ok], virt, virt].astype(np.int64)
    data = np.r_[base.data, wu, wv, wu, wv]
    return csr_from_edges(rows, cols, data, n + f)


def nearest_source_snapped(
    graph: StreetGraph, sources: Snapped, limit: float = np.inf
) -> NodeReach:
    """Distance from every node to its nearest snapped source (virtual sources, one pass)."""
    limit = _check_limit(limit)
    if not sources.ok.any():
        raise InvalidInput("no source could be snapped onto the street network")
    n = graph.n_nodes
    matrix = augmented_matrix(graph, sources)
    indices = n + np.flatnonzero(sources.ok)
    dist, pred, found = dijkstra(
        matrix,
        directed=True,
        indices=indices,
        limit=limit,
        min_only=True,
        return_predecessors=True,
    )
    return NodeReach(dist[:n], _clean(found[:n], n, len(sources)), _clean(pred[:n], 0, n), limit)


def along_to_stretch(sources: Snapped, index: IntArray, at: FloatArray) -> FloatArray:
    """Distance along a shared edge from positions `at` to the stretches of sources[index]."""
    start = sources.offset[index]
    end = start + sources.extent[index]
    return np.maximum(0.0, np.maximum(start - at, at - end))


def entry_nodes(reach: NodeReach) -> IntArray:
    """Per node: the first graph node of its shortest path (where it left its source's edge)."""
    nxt = np.where(reach.predecessor >= 0, reach.predecessor, np.arange(reach.dist.size))
    while True:
        jumped = nxt[nxt]
        if np.array_equal(jumped, nxt):
            return nxt.astype(np.int64)
        nxt = jumped


def reach_targets(
    reach: NodeReach, sources: Snapped, targets: Snapped
) -> tuple[FloatArray, IntArray]:
    """Distance and nearest source for snapped targets, exact also when sharing a source's edge.

    distance = target access + min(dist[u] + offset, dist[v] + rest, direct along the shared
    edge from a source (stretch) on it); beyond the limit: inf and source -1.
    """
    n = len(targets)
    dist = np.full(n, np.inf)
    src = np.full(n, -1, dtype=np.int64)
    ok = np.flatnonzero(targets.ok)
    t = targets.take(ok)
    via_u = reach.dist[t.u] + t.offset
    via_v = reach.dist[t.v] + t.rest
    best = np.minimum(via_u, via_v)
    best_src = np.where(via_u <= via_v, reach.source[t.u], reach.source[t.v])
    s_ok = np.flatnonzero(sources.ok)
    pairs = pd.DataFrame({"t": np.arange(ok.size), "edge": t.edge}).merge(
        pd.DataFrame({"s": s_ok, "edge": sources.edge[s_ok]}), on="edge"
    )
    if len(pairs):
        ti, si = pairs["t"].to_numpy(), pairs["s"].to_numpy()
        direct = sources.access[si] + along_to_stretch(sources, si, t.offset[ti])
        order = np.lexsort((direct, ti))
        ti, si, direct = ti[order], si[order], direct[order]
        first = np.r_[True, ti[1:] != ti[:-1]]
        ti, si, direct = ti[first], si[first], direct[first]
        better = direct < best[ti]
        best[ti[better]] = direct[better]
        best_src[ti[better]] = si[better]
    total = t.access + best
    inside = total <= reach.limit
    dist[ok[inside]] = total[inside]
    src[ok[inside]] = best_src[inside]
    return dist, src


def meeting_points(
    graph: StreetGraph, reach: NodeReach, sources: Snapped, targets: Snapped, src: IntArray
) -> FloatArray:
    """(n, 2) where each target's shortest path meets its source's stretch (NaN: unreached).

    src is the source of each target (reach_targets); the meeting point is the stretch's end
    the path entered by, or the nearest point of a stretch on the target's own edge.
    """
    out = np.full((len(targets), 2), np.nan)
    hit = np.flatnonzero(src >= 0)
    if not hit.size:
        return out
    t, f = targets.take(hit), src[hit]
    start = sources.offset[f]
    end = start + sources.extent[f]
    via_u = reach.dist[t.u] + t.offset
    via_v = reach.dist[t.v] + t.rest
    node = np.where(via_u <= via_v, t.u, t.v)
    entry = entry_nodes(reach)[node]
    at_end = entry == sources.v[f]
    same = t.edge == sources.edge[f]
    direct = sources.access[f] + along_to_stretch(sources, f, t.offset)
    use_direct = same & (direct <= np.minimum(via_u, via_v))
    points = np.empty((hit.size, 2))
    # Entering by a stretch end: one point per (stretch, end), whatever many targets share it.
    ends, which = np.unique(f[~use_direct] * 2 + at_end[~use_direct], return_inverse=True)
    stretch, by_end = ends // 2, (ends % 2).astype(bool)
    first = sources.offset[stretch]
    along_ends = np.where(by_end, first + sources.extent[stretch], first)
    points[~use_direct] = on_edges(graph, sources.edge[stretch], along_ends)[which]
    mine = use_direct.nonzero()[0]  # on the target's own edge: its own point
    points[mine] = on_edges(graph, sources.edge[f[mine]],
                            np.clip(t.offset[mine], start[mine], end[mine]))  # fmt: skip
    out[hit] = points
    return out
