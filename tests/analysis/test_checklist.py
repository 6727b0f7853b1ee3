"""The complete-community checklist on hand-made communities and a hand-made street."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_service.analysis.checklist import reached_by_any, scores, unit_shares, unit_statuses
from gis_service.analysis.network import build_graph
from gis_service.analysis.supply import Facilities
from gis_service.catalog import default_catalog
from tests.analysis.helpers import UTM_GUANGZHOU

# A street going up 200 m, along 300 m and down again: a home at its foot (0, 0) walks 200 m up
# before turning, so a place 90 m along the top is 290 m away on foot (219 m as the crow flies)
# and one 110 m along is 310 m away on foot (228 m as the crow flies).
STREET = gpd.GeoDataFrame(
    geometry=[shapely.LineString([(0, 0), (0, 200), (300, 200), (300, 0)])], crs=UTM_GUANGZHOU
)
GRAPH = build_graph(STREET)


def points(xy) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.Point(p) for p in xy], crs=UTM_GUANGZHOU)


def kind_at(xy, radius: float) -> Facilities:
    return Facilities(points(xy), np.ones(len(xy)), np.full(len(xy), radius))


def radius_of(code: str) -> float:
    checklist = default_catalog().complete_community()
    assert checklist is not None
    return checklist.requirements[code].radius_m


HOME = points([(0.0, 0.0)])


def test_a_kind_290_m_along_the_street_is_reached_one_310_m_along_is_not():
    radius = radius_of("kindergarten")
    assert radius == 300 == radius_of("community_health_station")
    inside, outside = kind_at([(90.0, 200.0)], radius), kind_at([(110.0, 200.0)], radius)
    assert reached_by_any([inside], HOME, GRAPH).tolist() == [True]
    assert reached_by_any([outside], HOME, GRAPH).tolist() == [False]
    # both are within the radius as the crow flies
    assert reached_by_any([outside], HOME, None).tolist() == [True]
    # any of a kind's sources will do (a food market or a supermarket)
    assert reached_by_any([outside, inside], HOME, GRAPH).tolist() == [True]
    assert reached_by_any([kind_at([], radius)], HOME, GRAPH).tolist() == [False]


def test_a_community_has_a_kind_when_half_its_households_reach_it():
    # community 1: one stairwell of 20 households next to a kindergarten and nothing else;
    # community 2: 30 households reach the health station, 10 do not, a kindergarten only 10.
    units = pd.Series([1, 2, 2])
    households = np.array([20.0, 30.0, 10.0])
    reached = {
        "kindergarten": np.array([True, False, True]),
        "community_health_station": np.array([False, True, False]),
        "food_market": np.array([False, False, False]),
        "childcare": np.array([False, False, False]),
    }
    shares = unit_shares(units, households, reached)
    assert shares.loc[2, "kindergarten"] == pytest.approx(0.25)
    assert shares.loc[2, "community_health_station"] == pytest.approx(0.75)
    assert shares["households"].tolist() == [20, 40]
    assert shares["households"].dtype == np.int64  # 40 households, never 40.0
    recorded = {"kindergarten": True, "community_health_station": True, "food_market": True,
                "childcare": False}  # fmt: skip
    statuses = unit_statuses(shares, recorded, 0.5)
    assert statuses.loc[1].tolist() == ["present", "missing", "missing", "not_recorded"]
    assert statuses.loc[2].tolist() == ["missing", "present", "missing", "not_recorded"]
    assert scores(statuses).tolist() == [25.0, 25.0]
    # exactly at the share counts: community 2 reaches the health station with 3/4 of its homes
    assert unit_statuses(shares, recorded, 0.75).loc[2, "community_health_station"] == "present"


def test_a_unit_without_household_figures_counts_its_stairwells_alike():
    shares = unit_shares(pd.Series([7, 7]), np.array([0.0, np.nan]),
                         {"green_space": np.array([True, False])})  # fmt: skip
    assert shares.loc[7, "green_space"] == pytest.approx(0.5)


def test_the_shipped_list_names_every_required_kind_with_labels_and_a_source():
    catalog = default_catalog()
    checklist = catalog.complete_community()
    assert checklist is not None
    assert len(checklist.requirements) == 10
    assert "check against the standard" in checklist.source.en.lower()
    assert all(r.label.zh and r.label.en for r in checklist.requirements.values())
    labels = catalog.layer("communities").labels
    assert {"present", "missing", "not_recorded"} <= set(labels)
