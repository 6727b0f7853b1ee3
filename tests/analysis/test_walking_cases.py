"""Hand-made walks where the naive answer is wrong: parks, tunnels, islands (metres, UTM)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_service.analysis.access import AccessRule, access_points
from gis_service.analysis.network import build_graph, components
from gis_service.analysis.service import crow_flies_nearest, network_nearest
from gis_service.analysis.snapping import SnapRule, snap_points
from gis_service.analysis.walkable import ClosedRule, walkable
from gis_service.ingest.osm_stairwells import derive_stairwells
from tests.analysis.helpers import UTM_GUANGZHOU

L = shapely.LineString


def streets(*lines: shapely.LineString, **tags: list[object]) -> gpd.GeoDataFrame:
    """Lines with OSM tag columns (one value per line)."""
    return gpd.GeoDataFrame(dict(tags), geometry=list(lines), crs=UTM_GUANGZHOU)


def block_streets() -> gpd.GeoDataFrame:
    """A 100 m block: south street y=0, north y=100, side streets x=0 and x=100."""
    return streets(L([(-100, 0), (200, 0)]), L([(-100, 100), (200, 100)]),
                   L([(0, 0), (0, 100)]), L([(100, 0), (100, 100)]))  # fmt: skip


def test_a_park_entered_only_from_the_far_side() -> None:
    graph = build_graph(block_streets())
    park = shapely.box(30, 40, 70, 100)  # fenced off the south street by 40 m of back yards
    home = np.array([[50.0, -5.0]])  # across the south street from the park
    near = network_nearest(graph, home, np.array([park], dtype=object), [7])
    # 5 m leg, 50 m to a corner, 100 m up a side street, 20 m along the north street to where
    # it comes within touch_m (10 m) of the park's outline (x = 20)
    assert near["distance"].iloc[0] == pytest.approx(5 + 50 + 100 + 20)
    assert near["facility_id"].iloc[0] == 7
    assert (near["access_x"].iloc[0], near["access_y"].iloc[0]) == pytest.approx((20, 100))
    crow = crow_flies_nearest(home, np.array([park], dtype=object))
    assert crow["distance"].iloc[0] == pytest.approx(45)  # the fence, not the walk
    old = network_nearest(graph, home, np.array([park.point_on_surface()], dtype=object))
    assert old["distance"].iloc[0] > near["distance"].iloc[0] + 25  # the interior point


def test_paths_entering_a_park_are_its_entrances() -> None:
    lines = block_streets()
    path = streets(L([(50, 100), (50, 60)]))  # a footway from the north street into the park
    graph = build_graph(gpd.GeoDataFrame(geometry=[*lines.geometry, *path.geometry],
                                         crs=UTM_GUANGZHOU))  # fmt: skip
    park = np.array([shapely.box(30, 40, 70, 95)], dtype=object)
    entry = access_points(graph, park, AccessRule("entrances"))
    assert len(entry.stretches) == 1 and entry.stretches.extent[0] == pytest.approx(35)
    edges = access_points(graph, park, AccessRule("edges", touch_m=10))
    assert len(edges.stretches) > 1  # the north street along the outline too
    far = np.array([shapely.box(300, 300, 310, 310)], dtype=object)  # beyond every leg
    assert not access_points(graph, far).reached().any()


def test_a_tunnel_under_a_street_does_not_meet_it() -> None:
    lines = streets(
        L([(-200, 0), (200, 0)]),  # the street, at ground level
        L([(0, -150), (0, -0.3)]),  # a footway ending 0.3 m short of it: joined (same layer)
        L([(50, -150), (50, 150)]),  # a tunnel crossing under it, no shared vertex
        L([(50, 150), (100, 150)]),  # where the tunnel comes out
        tunnel=[None, None, "yes", None], layer=[None, None, -1, None],
    )  # fmt: skip
    graph = build_graph(lines)
    assert components(graph).count == 2
    # the tunnel ends 0.3 m from nothing, but a tunnel ending 0.3 m under the street stays apart
    under = streets(L([(-200, 0), (200, 0)]), L([(20, -150), (20, -0.3)]),
                    tunnel=[None, "yes"], layer=[None, -3])  # fmt: skip
    assert components(build_graph(under)).count == 2
    assert components(build_graph(under.drop(columns=["tunnel", "layer"]))).count == 1
    home = np.array([[100.0, 5.0]])
    target = np.array([shapely.Point(100, 155)], dtype=object)  # beyond the tunnel's exit
    near = network_nearest(graph, home, target)
    assert np.isinf(near["distance"].iloc[0])  # the tunnel offers no way down from the street


def test_a_footway_island_beside_a_main_street() -> None:
    lines = streets(L([(0, 0), (1000, 0)]), L([(400, 20), (420, 20)]))
    graph = build_graph(lines)
    home = np.array([[410.0, 23.0], [410.0, 180.0]])  # 3 m from the island, 23 m from the street
    rule = SnapRule(max_leg_m=150, min_component_m=300)
    snapped = snap_points(graph, home, rule=rule)
    assert snapped.access[0] == pytest.approx(23)  # onto the street, not the island
    assert not snapped.ok[1]
    near = network_nearest(graph, home, np.array([[900.0, -5.0]]), snap=rule)
    assert near["distance"].iloc[0] == pytest.approx(23 + 490 + 5)
    assert "no walkable way within 150 m" in near["unsnapped"].iloc[1]
    lone = network_nearest(graph, np.array([[410.0, 60.0]]), np.array([[900.0, -5.0]]),
                           snap=SnapRule(max_leg_m=50))  # fmt: skip
    assert "isolated piece of 20 m" in lone["unsnapped"].iloc[0]


def test_a_building_whose_nearest_segment_is_a_tunnel() -> None:
    lines = streets(L([(-100, 30), (300, 30)]), L([(-100, -2), (300, -2)]),
                    tunnel=[None, "yes"])  # fmt: skip
    graph = build_graph(lines)
    door = np.array([[100.0, 0.0]])  # 2 m above the tunnel, 30 m from the street
    snapped = snap_points(graph, door)
    assert snapped.access[0] == pytest.approx(30)
    alone = build_graph(lines.iloc[[1]])
    near = network_nearest(alone, door, np.array([[200.0, -2.0]]))
    assert "only ways off the ground" in near["unsnapped"].iloc[0]
    building = gpd.GeoDataFrame(
        {"kind": ["apartments"], "floors": [6], "source_key": ["osm:way/1"]},
        geometry=[shapely.box(80, 0, 120, 12)], crs=UTM_GUANGZHOU,
    ).to_crs(4326)  # fmt: skip
    stairs, _ = derive_stairwells(building, None, lines.to_crs(4326))
    ys = stairs.to_crs(UTM_GUANGZHOU).geometry.y
    assert np.allclose(ys, 12)  # placed on the side facing the street, not the tunnel


def test_ways_closed_to_walkers_are_left_out() -> None:
    lines = streets(L([(0, 0), (10, 0)]), L([(0, 1), (10, 1)]), L([(0, 2), (10, 2)]),
                    L([(0, 3), (10, 3)]), foot=[None, "no", "yes", None],
                    access=[None, None, "private", "private;delivery"])  # fmt: skip
    assert walkable(lines, ClosedRule()).tolist() == [True, False, True, False]
