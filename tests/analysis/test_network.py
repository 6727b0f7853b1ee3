"""Street graph building: junctions, T-junctions, snapping tolerance, components."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_service.analysis.network import build_graph, components, graph_from_arrays
from gis_service.errors import InvalidInput
from tests.analysis.helpers import lattice_lines, node_at


def test_lattice_has_junctions_at_shared_vertices(lattice):
    assert lattice.n_nodes == 16
    assert lattice.n_edges == 24
    assert np.allclose(lattice.length, 100.0)
    m = lattice.matrix
    assert m.nnz == 48
    assert (m != m.T).nnz == 0
    corner, middle = node_at(lattice, 0, 0), node_at(lattice, 100, 100)
    assert m[corner].nnz == 2
    assert m[middle].nnz == 4


def test_t_junction_splits_the_touched_line():
    main = shapely.LineString([(0, 0), (100, 0)])
    side = shapely.LineString([(40, 0.3), (40, 80)])
    g = build_graph(np.array([main, side]), tolerance=0.5)
    assert g.n_nodes == 4
    assert sorted(np.round(g.length, 6).tolist()) == [40.0, 60.0, 80.0]
    junction = node_at(g, 40, 0)
    assert g.matrix[junction].nnz == 3


def test_endpoints_snap_within_tolerance_only():
    a = shapely.LineString([(0, 0), (100, 0)])
    b = shapely.LineString([(100.4, 0), (200, 0)])
    c = shapely.LineString([(201, 0), (300, 0)])
    g = build_graph(np.array([a, b, c]), tolerance=0.5)
    comp = components(g)
    assert g.n_nodes == 5
    assert comp.count == 2
    assert comp.sizes.tolist() == [3, 2]


def test_crossing_without_shared_vertex_is_a_bridge():
    over = shapely.LineString([(0, 50), (100, 50)])
    under = shapely.LineString([(50, 0), (50, 100)])
    g = build_graph(np.array([over, under]))
    assert components(g).count == 2


def test_disconnected_piece_is_reported():
    lines = lattice_lines()
    island = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(1000, 1000), (1050, 1000), (1100, 1000)])], crs=lines.crs
    )
    g = build_graph(gpd.GeoDataFrame(geometry=[*lines.geometry, *island.geometry], crs=lines.crs))
    comp = components(g)
    assert comp.count == 2
    assert comp.sizes.tolist() == [16, 2]
    assert comp.labels[node_at(g, 1000, 1000)] != comp.labels[comp.largest]
    assert comp.labels[node_at(g, 0, 0)] == comp.largest


def test_parallel_edges_keep_the_shortest_and_loops_stay_out_of_the_matrix():
    straight = shapely.LineString([(0, 0), (100, 0)])
    detour = shapely.LineString([(0, 0), (50, 40), (100, 0)])
    loop = shapely.LineString([(100, 0), (150, 0), (150, 50), (100, 0)])
    g = build_graph(np.array([straight, detour, loop]))
    assert g.n_edges == 3
    assert g.matrix.nnz == 2
    assert g.matrix.max() == pytest.approx(100.0)


def test_edges_frame_and_geometries_follow_u_to_v(lattice):
    frame = lattice.edges_frame()
    assert len(frame) == 24
    start = shapely.get_coordinates(shapely.get_point(frame.geometry.values, 0))
    assert np.allclose(start, lattice.node_xy[lattice.u])
    assert np.allclose(frame.geometry.length, frame["length"])


def test_degrees_are_refused():
    lines = lattice_lines().set_crs(4326, allow_override=True)
    with pytest.raises(InvalidInput):
        build_graph(lines)
    with pytest.raises(InvalidInput):
        build_graph(np.array([shapely.Point(0, 0)]))


def test_graph_from_arrays_matches_build_graph(lattice):
    g = graph_from_arrays(lattice.node_xy, lattice.u, lattice.v)
    assert np.allclose(g.length, lattice.length)
    assert (g.matrix != lattice.matrix).nnz == 0
