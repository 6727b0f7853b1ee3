"""Walkable street graph: nodes at junctions, edges with lengths, CSR matrix, components."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import connected_components

from gis_service.analysis._junctions import Vertices, endpoint_segment_links, prepare_vertices
from gis_service.analysis.walkable import at_ground, vertical_layers
from gis_service.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def csr_from_edges(rows: IntArray, cols: IntArray, data: FloatArray, n: int) -> sp.csr_matrix:
    """A CSR matrix holding every (row, col, data) entry as given: no summing, zeros kept."""
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sp.csr_matrix((data[order], cols[order], indptr), shape=(n, n))


@dataclass(frozen=True, eq=False)
class StreetGraph:
    """An undirected street graph; each edge keeps its polyline (oriented from u to v).

    ground marks the edges at ground level (no bridge, no tunnel; None: all are), where points
    and the outlines of areas may join the network (see walkable.py).
    """

    node_xy: FloatArray
    u: IntArray
    v: IntArray
    length: FloatArray
    line_index: IntArray
    coords: FloatArray
    edge_ptr: IntArray
    crs: Any = None
    ground: NDArray[np.bool_] | None = None

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.u.shape[0])

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """Symmetric CSR matrix of edge lengths (shortest of parallel edges, no self-loops)."""
        keep = self.u != self.v
        a, b, w = self.u[keep], self.v[keep], self.length[keep]
        rows, cols, data = np.r_[a, b], np.r_[b, a], np.r_[w, w]
        order = np.lexsort((data, cols, rows))
        rows, cols, data = rows[order], cols[order], data[order]
        first = np.ones(rows.size, dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        return csr_from_edges(rows[first], cols[first], data[first], self.n_nodes)

    @cached_property
    def geometries(self) -> NDArray[np.object_]:
        """The edge polylines as shapely LineStrings (built on first use)."""
        counts = np.diff(self.edge_ptr)
        indices = np.repeat(np.arange(self.n_edges), counts)
        return shapely.linestrings(self.coords, indices=indices)

    @cached_property
    def vertex_along(self) -> FloatArray:
        """Distance of every stored vertex from the start (u) of its edge."""
        steps = np.r_[0.0, np.hypot(*np.diff(self.coords, axis=0).T)]
        steps[self.edge_ptr[:-1]] = 0.0
        along = np.cumsum(steps)
        return along - np.repeat(along[self.edge_ptr[:-1]], np.diff(self.edge_ptr))

    @cached_property
    def tree(self) -> shapely.STRtree:
        """STRtree over the edge polylines."""
        return shapely.STRtree(self.geometries)

    @cached_property
    def component_length(self) -> FloatArray:
        """Per edge: the total length of the ways of its connected piece (metres)."""
        _, labels = connected_components(self.matrix, directed=False)
        lab = labels[self.u]
        total = np.bincount(lab, weights=self.length, minlength=int(labels.max(initial=0)) + 1)
        return total[lab]

    def usable_edges(self, min_component_m: float) -> IntArray:
        """Edges a point may join: at ground level, on a piece of at least min_component_m
        metres of ways or on the largest piece."""
        pieces = self.__dict__.setdefault("_usable", {})
        if min_component_m not in pieces:
            total = self.component_length
            big = (total >= min_component_m) | (total >= total.max(initial=0.0))
            ground = np.ones(self.n_edges, bool) if self.ground is None else self.ground
            pieces[min_component_m] = np.flatnonzero(big & ground).astype(np.int64)
        return pieces[min_component_m]

    def usable_tree(self, min_component_m: float) -> tuple[shapely.STRtree, IntArray]:
        """STRtree over the usable edges and their edge indices."""
        trees = self.__dict__.setdefault("_usable_trees", {})
        if min_component_m not in trees:
            edges = self.usable_edges(min_component_m)
            trees[min_component_m] = (shapely.STRtree(self.geometries[edges]), edges)
        return trees[min_component_m]

    def edges_frame(self) -> gpd.GeoDataFrame:
        """The edges as a GeoDataFrame (u, v, length, line_index, geometry)."""
        return gpd.GeoDataFrame(
            {"u": self.u, "v": self.v, "length": self.length, "line_index": self.line_index},
            geometry=self.geometries,
            crs=self.crs,
        )


@dataclass(frozen=True)
class Components:
    """Connected components of a graph: count, sizes (largest first) and label per node."""

    count: int
    sizes: IntArray
    labels: IntArray

    @property
    def largest(self) -> int:
        """Label of the largest component."""
        return int(np.argmax(np.bincount(self.labels))) if self.labels.size else -1


def components(graph: StreetGraph) -> Components:
    """Connected components of the street graph (isolated pieces a walk cannot leave)."""
    count, labels = connected_components(graph.matrix, directed=False)
    sizes = np.sort(np.bincount(labels, minlength=count))[::-1]
    return Components(int(count), sizes.astype(np.int64), labels.astype(np.int64))


def graph_from_arrays(
    node_xy: ArrayLike, u: ArrayLike, v: ArrayLike, length: ArrayLike | None = None, crs: Any = None
) -> StreetGraph:
    """A graph of straight edges from node coordinates and edge end lists."""
    xy = np.asarray(node_xy, dtype=np.float64)
    a, b = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    seg = np.stack([xy[a], xy[b]], axis=1).reshape(-1, 2)
    w = np.hypot(*(xy[b] - xy[a]).T) if length is None else np.asarray(length, dtype=np.float64)
    ptr = np.arange(0, 2 * a.size + 1, 2, dtype=np.int64)
    return StreetGraph(xy, a, b, w, np.arange(a.size, dtype=np.int64), seg, ptr, crs)


def _clusters(
    vx: Vertices, links: tuple[IntArray, IntArray], tolerance: float, line_layer: IntArray
) -> IntArray:
    """Cluster label per vertex: equal coordinates, close endpoints of one layer, T-links."""
    from scipy.spatial import cKDTree

    n = vx.xy.shape[0]
    order = np.lexsort((vx.xy[:, 1], vx.xy[:, 0]))
    sxy = vx.xy[order]
    same = np.all(sxy[1:] == sxy[:-1], axis=1)
    ra, rb = [order[:-1][same]], [order[1:][same]]
    ends = np.flatnonzero(vx.endpoint)
    if ends.size > 1 and tolerance > 0:
        pairs = cKDTree(vx.xy[ends]).query_pairs(tolerance, output_type="ndarray")
        a, b = ends[pairs[:, 0]], ends[pairs[:, 1]]
        same = line_layer[vx.line[a]] == line_layer[vx.line[b]]
        ra.append(a[same])
        rb.append(b[same])
    ra.append(links[0])
    rb.append(links[1])
    a, b = np.concatenate(ra), np.concatenate(rb)
    adj = sp.csr_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(adj, directed=False)
    return labels.astype(np.int64)


def build_graph(
    lines: gpd.GeoDataFrame | gpd.GeoSeries | ArrayLike, tolerance: float = 0.5
) -> StreetGraph:
    """Street graph from LineStrings in a metric CRS.

    Nodes are vertices shared by several lines, line ends (snapped together within `tolerance`
    metres) and points where a line end touches another line mid-segment (T-junction, the
    touched line is split there). The tolerance joins only lines on the same vertical layer
    (a GeoDataFrame's layer/bridge/tunnel columns, see walkable.py): lines crossing without a
    shared vertex, and a tunnel ending under a street, stay unconnected. Edge weight =
    polyline length.
    """
    crs = getattr(lines, "crs", None)
    geoms = np.asarray(lines.geometry.values if isinstance(lines, gpd.GeoDataFrame) else lines)
    if geoms.size == 0:
        raise InvalidInput("the street layer is empty")
    if crs is not None and getattr(crs, "is_geographic", False):
        raise InvalidInput("street lines must be in a metric CRS, not degrees")
    frame = lines if isinstance(lines, gpd.GeoDataFrame) else None
    line_layer = (
        vertical_layers(frame) if frame is not None else np.zeros(geoms.size, dtype=np.int64)
    )
    vx = prepare_vertices(geoms)
    vx, links = endpoint_segment_links(vx, tolerance, line_layer)
    labels = _clusters(vx, links, tolerance, line_layer)
    size = np.bincount(labels)
    is_node = vx.endpoint | vx.inserted | (size[labels] >= 2)
    cand = np.flatnonzero(is_node)
    cand = cand[np.lexsort((cand, vx.endpoint[cand], labels[cand]))]
    node_labels, first = np.unique(labels[cand], return_index=True)
    node_xy = vx.xy[cand[first]]
    node_of_label = np.full(size.size, -1, dtype=np.int64)
    node_of_label[node_labels] = np.arange(node_labels.size)
    node = np.where(is_node, node_of_label[labels], -1)
    xy = vx.xy.copy()
    xy[is_node] = node_xy[node[is_node]]

    seg = np.flatnonzero(vx.part[1:] == vx.part[:-1])
    seg_len = np.hypot(*(xy[seg + 1] - xy[seg]).T)
    seg_edge = np.cumsum(is_node[seg]) - 1
    n_edges = int(seg_edge[-1]) + 1
    last = np.r_[seg_edge[1:] != seg_edge[:-1], True]
    start_v, end_v = seg[is_node[seg]], seg[last] + 1
    length = np.bincount(seg_edge, weights=seg_len, minlength=n_edges)
    u, v = node[start_v], node[end_v]
    keep = (u != v) | (length > 2 * tolerance)
    start_v, end_v, u, v, length = start_v[keep], end_v[keep], u[keep], v[keep], length[keep]
    counts = end_v - start_v + 1
    ptr = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    gather = np.arange(ptr[-1]) - np.repeat(ptr[:-1] - start_v, counts)
    line_index = vx.line[start_v]
    ground = at_ground(frame)[line_index] if frame is not None else None
    return StreetGraph(node_xy, u, v, length, line_index, xy[gather], ptr, crs, ground)
