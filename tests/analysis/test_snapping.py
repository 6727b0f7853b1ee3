"""Snapping onto segments and snapped-to-snapped distances on a hand-checkable lattice."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gis_service.analysis import snapping
from gis_service.analysis.network import build_graph
from gis_service.analysis.snapping import snap_points, snapped_distances
from tests.analysis.helpers import node_at


def test_mid_block_point_is_50_m_from_either_end(lattice):
    snapped = snap_points(lattice, np.array([[50.0, 0.0]]))
    assert snapped.ok.all()
    assert snapped.offset[0] == pytest.approx(50.0)
    assert snapped.rest[0] == pytest.approx(50.0)
    assert snapped.access[0] == pytest.approx(0.0)
    assert {int(snapped.u[0]), int(snapped.v[0])} == {
        node_at(lattice, 0, 0),
        node_at(lattice, 100, 0),
    }


def test_snaps_to_segment_not_nearest_node(lattice):
    snapped = snap_points(lattice, np.array([[150.0, 12.0]]))
    assert snapped.access[0] == pytest.approx(12.0)
    assert np.allclose(snapped.xy[0], (150.0, 0.0))
    u_x = lattice.node_xy[snapped.u[0], 0]
    assert snapped.offset[0] == pytest.approx(abs(150.0 - u_x))


def test_points_beyond_max_distance_are_not_snapped(lattice):
    snapped = snap_points(lattice, np.array([[50.0, -80.0], [50.0, -5.0]]), max_distance=20)
    assert snapped.ok.tolist() == [False, True]
    assert np.isnan(snapped.access[0])
    dist = snapped_distances(lattice, snapped, snapped)
    assert np.isinf(dist[0]).all()
    assert dist[1, 1] == pytest.approx(10.0)


def test_distances_via_nodes_and_access_legs(lattice):
    pts = np.array([[50.0, 0.0], [150.0, 10.0], [300.0, 250.0]])
    snapped = snap_points(lattice, pts)
    dist = snapped_distances(lattice, snapped, snapped)
    assert dist[0, 1] == pytest.approx(50 + 50 + 10)
    assert dist[0, 2] == pytest.approx(50 + 200 + 250)
    assert dist[1, 2] == pytest.approx(10 + 50 + 100 + 250)
    assert np.allclose(dist, dist.T)
    limited = snapped_distances(lattice, snapped, snapped, limit=200)
    assert np.isinf(limited[0, 2])
    assert limited[0, 1] == pytest.approx(110.0)


def test_same_edge_uses_the_direct_along_edge_distance():
    line = shapely.LineString([(0, 0), (1000, 0)])
    g = build_graph(np.array([line]))
    snapped = snap_points(g, np.array([[400.0, 3.0], [430.0, -4.0]]))
    assert snapped.edge.tolist() == [0, 0]
    dist = snapped_distances(g, snapped.take(np.array([0])), snapped.take(np.array([1])))
    assert dist[0, 0] == pytest.approx(3 + 30 + 4)


def test_same_self_loop_edge_goes_round_when_shorter():
    ring = shapely.LineString([(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)])
    g = build_graph(np.array([ring]))
    assert g.n_edges == 1 and g.u[0] == g.v[0]
    snapped = snap_points(g, np.array([[10.0, 0.0], [0.0, 10.0]]))
    dist = snapped_distances(g, snapped, snapped)
    assert dist[0, 1] == pytest.approx(20.0)


def test_many_points_snap_alike_on_every_core_as_in_one_thread(lattice, monkeypatch):
    """A city's stairwells are looked up in parts on threads: the same edges (ties included:
    a point at a crossing is nearest to four), offsets and access legs as in one part."""
    rng = np.random.default_rng(34)
    xy = np.vstack([rng.uniform(-30, 330, (3_000, 2)), [[100.0, 100.0], [200.0, 0.0]]])
    whole = snap_points(lattice, xy, max_distance=25)
    monkeypatch.setattr(snapping, "PART_SIZE", 400)
    monkeypatch.setattr(snapping.os, "cpu_count", lambda: 4)
    tree, asked = lattice.tree, []

    class Counted:
        def query_nearest(self, geoms, **options):
            asked.append(len(geoms))
            return tree.query_nearest(geoms, **options)

    pairs = snapping.nearest_in_parts(Counted(), shapely.points(xy), 25.0)
    assert len(asked) == 4 and sum(asked) == len(xy)  # in parts, each point once
    alone = tree.query_nearest(shapely.points(xy), max_distance=25.0, return_distance=False)
    assert np.array_equal(pairs[0], alone[0]) and np.array_equal(pairs[1], alone[1])
    assert (np.bincount(alone[0]) > 1).any()  # ties are there to keep in order
    parted = snap_points(lattice, xy, max_distance=25)
    assert 0 < whole.ok.sum() < len(xy)
    for name in ("edge", "offset", "access", "xy"):
        assert np.array_equal(getattr(parted, name), getattr(whole, name), equal_nan=True), name
    legs = shapely.distance(shapely.points(xy[whole.ok]), shapely.points(whole.xy[whole.ok]))
    assert np.array_equal(whole.access[whole.ok], legs)  # each leg as GEOS measures it
