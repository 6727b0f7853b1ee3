"""Scenarios: lifts in service plus a garden and parking on a candidate site."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_service.analysis.network import build_graph
from gis_service.analysis.scenario import Baseline, NewAmenity, Scenario, evaluate_scenario
from gis_service.errors import InvalidInput
from tests.analysis.helpers import UTM_GUANGZHOU

STATUSES = ("none", "proposed", "consenting", "applied", "approved",
            "under_construction", "in_service", "infeasible")  # fmt: skip


def baseline(graph=None) -> Baseline:
    xy = [(0, 0), (10, 0), (20, 0), (30, 0), (1000, 0), (1010, 0)]
    stairwells = gpd.GeoDataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "compound_id": [1, 1, 1, 1, 2, 2],
            "households": [10, 10, 10, 10, 20, 20],
            "elderly_households": [2, 2, 2, 2, 5, 5],
            "elevator_status": ["in_service", "none", "proposed", "none", "none", "none"],
            "floors": 6,
            "year_built": 1990,
            "has_original_elevator": False,
        },
        geometry=[shapely.Point(p) for p in xy],
        crs=UTM_GUANGZHOU,
    )
    gardens = gpd.GeoDataFrame(
        {"id": [1], "area_m2": [260.0]},
        geometry=[shapely.box(-10, 95, 10, 105)],
        crs=UTM_GUANGZHOU,
    )
    parking = gpd.GeoDataFrame({"id": [], "capacity": []}, geometry=[], crs=UTM_GUANGZHOU)
    sites = gpd.GeoDataFrame(
        {"id": [10, 11]},
        geometry=[shapely.Point(1005, 50), shapely.Point(5000, 0)],
        crs=UTM_GUANGZHOU,
    )
    return Baseline(stairwells, gardens, parking, sites, STATUSES, graph=graph)


SCENARIO = Scenario(
    "batch and site 10",
    elevators=(2, 3),
    amenities=(NewAmenity(10, "garden", 520.0), NewAmenity(10, "parking", 20.0)),
)


def table(result):
    return result.set_index(["compound_id", "indicator"])


def test_scenario_deltas_crow_flies():
    out = table(evaluate_scenario(baseline(), SCENARIO))
    row = out.loc[(1, "elevator_share_stairwells")]
    assert (row["baseline"], row["scenario"], row["delta"]) == pytest.approx((0.25, 0.75, 0.5))
    assert out.loc[(1, "elevator_in_service_stairwells"), "delta"] == 2
    assert out.loc[(1, "elevator_share_elderly_households"), "scenario"] == pytest.approx(0.75)
    assert out.loc[(1, "garden_share_households_served"), "baseline"] == 1.0
    assert out.loc[(1, "garden_share_households_served"), "delta"] == 0.0
    assert out.loc[(2, "garden_share_households_served"), "baseline"] == 0.0
    assert out.loc[(2, "garden_share_households_served"), "scenario"] == 1.0
    assert out.loc[(2, "garden_share_elderly_served"), "scenario"] == 1.0
    assert out.loc[(1, "garden_m2_per_resident"), "baseline"] == pytest.approx(2.5)
    assert out.loc[(1, "garden_m2_per_resident"), "delta"] == pytest.approx(0.0)
    assert out.loc[(2, "garden_m2_per_resident"), "scenario"] == pytest.approx(5.0)
    assert out.loc[(2, "parking_spaces_per_household"), "baseline"] == 0.0
    assert out.loc[(2, "parking_spaces_per_household"), "scenario"] == pytest.approx(0.5)
    assert out.loc[(2, "parking_share_households_served"), "delta"] == 1.0
    assert set(out["scenario_name"]) == {"batch and site 10"}


def test_scenario_along_streets_matches_on_an_open_street():
    street = [
        shapely.LineString([(-50, -5), (1100, -5)]),
        shapely.LineString([(0, -5), (0, 100)]),
        shapely.LineString([(1005, -5), (1005, 50)]),
    ]
    graph = build_graph(gpd.GeoDataFrame(geometry=street, crs=UTM_GUANGZHOU))
    walk = table(evaluate_scenario(baseline(graph), SCENARIO))
    crow = table(evaluate_scenario(baseline(), SCENARIO))
    assert np.allclose(walk["scenario"], crow["scenario"], equal_nan=True)


def test_unknown_sites_and_stairwells_are_refused():
    with pytest.raises(InvalidInput) as err:
        evaluate_scenario(baseline(), Scenario("bad", (99,), (NewAmenity(77, "pool", -1),)))
    assert len(err.value.errors) == 4
