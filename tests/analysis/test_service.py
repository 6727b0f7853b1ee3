"""Service radii: crow-flies against walking distance, shares, areas, metric CRS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_service.analysis.network import build_graph
from gis_service.analysis.routing import nearest_source_nodes, nearest_source_snapped
from gis_service.analysis.service import (
    crow_flies_nearest,
    metric_crs,
    network_nearest,
    served_shares,
    to_metric,
    walking_radius,
)
from gis_service.analysis.service_area import QUAD_SEGS, buffered_groups, service_areas
from gis_service.analysis.snapping import snap_points
from gis_service.catalog import load_catalog
from gis_service.errors import InvalidInput
from tests.analysis.helpers import node_at


@pytest.fixture
def long_block():
    """A 600 m x 100 m block with streets only around it (a wall of buildings inside)."""
    ring = [(-300, 0), (300, 0), (300, 100), (-300, 100), (-300, 0)]
    return build_graph(np.array([shapely.LineString(ring[i : i + 2]) for i in range(4)]))


def test_wall_of_buildings_crow_flies_served_network_not(long_block):
    stairwell = np.array([[0.0, 0.0]])
    facility = np.array([[0.0, 100.0]])
    crow = crow_flies_nearest(stairwell, facility, facility_ids=[7], radius=300)
    assert crow["distance"].iloc[0] == pytest.approx(100.0)
    assert bool(crow["served"].iloc[0])
    walk = network_nearest(long_block, stairwell, facility, facility_ids=[7], radius=300)
    assert not bool(walk["served"].iloc[0])
    assert pd.isna(walk["facility_id"].iloc[0])
    full = network_nearest(long_block, stairwell, facility, facility_ids=[7], radius=1000)
    assert full["distance"].iloc[0] == pytest.approx(700.0)
    assert full["facility_id"].iloc[0] == 7


def test_network_nearest_picks_the_nearest_facility_on_the_lattice(lattice):
    stairwells = np.array([[50.0, -5.0], [300.0, 260.0], [150.0, 100.0]])
    facilities = np.array([[70.0, 0.0], [300.0, 300.0]])
    out = network_nearest(lattice, stairwells, facilities, facility_ids=[11, 22], radius=400)
    assert out["facility_id"].tolist() == [11, 22, 11]
    assert out["distance"].tolist() == pytest.approx([5 + 20, 40, 50 + 100 + 30])
    assert out["access"].tolist() == pytest.approx([5.0, 0.0, 0.0])


def test_sources_at_nodes_match_snapped_sources_at_nodes(lattice):
    src = [node_at(lattice, 0, 0), node_at(lattice, 300, 300)]
    by_node = nearest_source_nodes(lattice, src, limit=250)
    snapped = nearest_source_snapped(lattice, snap_points(lattice, lattice.node_xy[src]), 250)
    assert np.allclose(by_node.dist, snapped.dist)
    assert by_node.source[node_at(lattice, 100, 0)] == 0
    assert by_node.source[node_at(lattice, 300, 200)] == 1
    assert not by_node.reached[node_at(lattice, 200, 100)]
    pred = by_node.predecessor[node_at(lattice, 200, 0)]
    assert pred == node_at(lattice, 100, 0)


def test_walking_radius_and_elderly_speed():
    speeds = {name: pace.m_per_min for name, pace in load_catalog().walking_speeds().items()}
    assert walking_radius(5, speeds["normal"]) == 300.0  # GB 50180-2018: 5 minutes ≈ 300 m
    assert walking_radius(10, speeds["elderly"]) == 450.0
    with pytest.raises(InvalidInput):
        walking_radius(5, 0)


def test_no_facility_serves_nobody():
    homes = np.array([[0.0, 0.0], [50.0, 0.0]])
    near = crow_flies_nearest(homes, np.zeros((0, 2)), np.zeros(0, np.int64), radius=300)
    assert near["facility_id"].isna().all() and not near["served"].any()
    assert np.isinf(near["distance"]).all()


def test_served_shares_weights():
    frame = pd.DataFrame(
        {"compound_id": [1, 1, 2], "households": [10, 30, 20], "elderly_households": [5, 0, 4]}
    )
    out = served_shares(frame, [True, False, False], "compound_id").set_index("compound_id")
    assert out.loc[1, "share_households"] == pytest.approx(0.25)
    assert out.loc[1, "share_elderly_households"] == pytest.approx(1.0)
    assert out.loc[1, "share_stairwells"] == pytest.approx(0.5)
    assert out.loc[2, "share_households"] == 0.0


def test_served_shares_keep_unit_ids_whole_and_no_unit_last():
    """A stairwell in no compound makes a unit of its own (null, last); the others' ids stay
    integers (an answer says compound 7, not 7.0)."""
    frame = pd.DataFrame({
        "compound_id": pd.array([7, None, 3, 7], dtype="Int64"),
        "households": [1, 2, 3, 4], "elderly_households": [0, 1, None, 1],
    })  # fmt: skip
    out = served_shares(frame, [True, True, False, False], "compound_id")
    assert out["compound_id"].dtype == "Int64"
    assert out["compound_id"].tolist()[:2] == [3, 7] and pd.isna(out["compound_id"].iloc[2])
    assert out["stairwells"].tolist() == [1, 2, 1] and out["stairwells"].dtype == np.int64
    assert out["served_households"].tolist() == [0, 1, 2]
    assert out["elderly_households"].tolist() == [0, 1, 1]
    for count in ("served_stairwells", "households", "served_households", "elderly_households",
                  "served_elderly_households"):  # fmt: skip
        assert out[count].dtype == np.int64  # 781 households, never 781.0
    assert served_shares(frame.iloc[:0], [], "compound_id").empty


def test_service_area_cuts_partial_segments(lattice):
    areas = service_areas(lattice, np.array([[50.0, 0.0]]), radius=120, buffer=0)
    assert areas["street_length_m"].iloc[0] == pytest.approx(100 + 3 * 70)
    assert areas.geometry.iloc[0].length == pytest.approx(310.0)
    two = service_areas(lattice, np.array([[50.0, 0.0], [250.0, 0.0]]), 120, facility_ids=[1, 2])
    assert two["facility_id"].tolist() == [1, 2]
    assert two["street_length_m"].tolist() == pytest.approx([290.0, 290.0])
    assert two.geometry.iloc[0].covers(shapely.Point(50, 20))
    assert not two.geometry.iloc[0].covers(shapely.Point(200, 200))
    whole = service_areas(lattice, np.array([[50.0, 0.0], [250.0, 0.0]]), 120, per_facility=False)
    assert len(whole) == 1 and whole["street_length_m"].iloc[0] == pytest.approx(580.0)
    assert whole.geometry.iloc[0].area == pytest.approx(two.union_all().area)


def test_pieces_buffered_in_chains_make_the_polygon_of_their_multilinestring(lattice):
    areas = service_areas(lattice, np.array([[50.0, 0.0], [250.0, 150.0]]), 260, buffer=0)
    pieces, group = shapely.get_parts(areas.geometry.to_numpy(), return_index=True)
    bounds = np.r_[np.flatnonzero(np.r_[True, np.diff(group) != 0]), pieces.size]
    fast = buffered_groups(pieces, bounds, 25.0)
    slow = shapely.buffer(areas.geometry.to_numpy(), 25.0, quad_segs=QUAD_SEGS)
    assert len(fast) == len(slow) == 2
    for mine, whole in zip(fast, slow, strict=True):
        # vertices on whole tenths of a millimetre (line_buffers.py)
        assert mine.is_valid and mine.area == pytest.approx(whole.area, rel=1e-6)
        assert shapely.symmetric_difference(mine, whole).area < 1e-6 * whole.area
    lines = buffered_groups(pieces, bounds, 0.0)
    assert [g.length for g in lines] == pytest.approx(areas.geometry.length.tolist())


def test_metric_crs_picks_the_utm_zone():
    guangzhou = gpd.GeoDataFrame(geometry=[shapely.Point(113.27, 23.13)], crs=4326)
    assert metric_crs(guangzhou).to_epsg() == 32649
    sydney = gpd.GeoDataFrame(geometry=[shapely.Point(151.2, -33.9)], crs=4326)
    assert metric_crs(sydney).to_epsg() == 32756
    projected = to_metric(guangzhou)
    assert projected.crs.to_epsg() == 32649
    assert metric_crs(projected).to_epsg() == 32649
    assert to_metric(projected) is projected
    with pytest.raises(InvalidInput):
        metric_crs(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))


def test_layers_in_degrees_are_refused(lattice):
    stairwells = gpd.GeoDataFrame(geometry=[shapely.Point(113.27, 23.13)], crs=4326)
    with pytest.raises(InvalidInput):
        crow_flies_nearest(stairwells, np.array([[0.0, 0.0]]))
    assert crow_flies_nearest(to_metric(stairwells), np.array([[0.0, 0.0]]))["distance"].iloc[0] > 0
