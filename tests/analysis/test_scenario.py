"""Scenarios: lifts in service plus a garden and parking on a candidate site."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_service.analysis.network import build_graph
from gis_service.analysis.scenario import (
    Baseline,
    Measure,
    NewAmenity,
    Scenario,
    evaluate_scenario,
)
from gis_service.analysis.supply import Facilities
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
    gardens = gpd.GeoDataFrame(geometry=[shapely.box(-10, 95, 10, 105)], crs=UTM_GUANGZHOU)
    nothing = gpd.GeoDataFrame(geometry=[], crs=UTM_GUANGZHOU)
    measures = (
        Measure("garden_area", "garden", Facilities(gardens, np.array([260.0]), np.array([300.0])),
                {"neighbourhood_garden": 300.0}, per="resident", target=0.35),
        Measure("car_spaces", "parking", Facilities(nothing, np.zeros(0), np.zeros(0)),
                {"surface_lot": 300.0, "stacked_garage": 300.0}, target=0.3,
                kinds=frozenset({"surface_lot", "stacked_garage"})),
        Measure("bicycle_places", "parking", Facilities(nothing, np.zeros(0), np.zeros(0)),
                {"bicycle_shed": 150.0}, kinds=frozenset({"bicycle_shed"})),
    )  # fmt: skip
    sites = gpd.GeoDataFrame(
        {"id": [10, 11]},
        geometry=[shapely.Point(1005, 50), shapely.Point(5000, 0)],
        crs=UTM_GUANGZHOU,
    )
    return Baseline(stairwells, measures, sites, STATUSES, persons_per_household=2.6, graph=graph)


SCENARIO = Scenario(
    "batch and site 10",
    elevators=(2, 3),
    amenities=(
        NewAmenity(10, "garden", 520.0, "neighbourhood_garden"),
        NewAmenity(10, "parking", 20.0, "stacked_garage"),
    ),
)


def table(result):
    return result.set_index(["compound_id", "indicator"])


def test_scenario_deltas_crow_flies():
    out = table(evaluate_scenario(baseline(), SCENARIO))
    row = out.loc[(1, "elevator_share_stairwells")]
    assert (row["baseline"], row["scenario"], row["delta"]) == pytest.approx((0.25, 0.75, 0.5))
    assert out.loc[(1, "elevator_in_service_stairwells"), "delta"] == 2
    assert out.loc[(1, "elevator_share_elderly_households"), "scenario"] == pytest.approx(0.75)
    assert out.loc[(1, "garden_area_share_households_reached"), "baseline"] == 1.0
    assert out.loc[(1, "garden_area_share_households_reached"), "delta"] == 0.0
    assert out.loc[(2, "garden_area_share_households_reached"), "baseline"] == 0.0
    assert out.loc[(2, "garden_area_share_households_reached"), "scenario"] == 1.0
    assert out.loc[(1, "garden_area_ratio"), "baseline"] == pytest.approx(2.5)
    assert out.loc[(1, "garden_area_ratio"), "delta"] == pytest.approx(0.0)
    assert out.loc[(2, "garden_area_ratio"), "scenario"] == pytest.approx(5.0)
    assert out.loc[(2, "car_spaces_ratio"), "baseline"] == 0.0
    assert out.loc[(2, "car_spaces_ratio"), "scenario"] == pytest.approx(0.5)
    assert out.loc[(2, "car_spaces_share_households_reached"), "delta"] == 1.0
    # 40 households at 0.3 a household: 12 spaces short, the garage's 20 cover them (8 over)
    assert out.loc[(2, "car_spaces_shortage"), "baseline"] == pytest.approx(12.0)
    assert out.loc[(2, "car_spaces_shortage"), "scenario"] == pytest.approx(-8.0)
    assert out.loc[(2, "car_spaces_households_short"), "delta"] == pytest.approx(-40.0)
    assert out.loc[(2, "bicycle_places_ratio"), "delta"] == 0.0
    assert "bicycle_places_shortage" not in set(out.index.get_level_values(1))  # no target
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


def test_a_bicycle_shed_next_to_a_compound_does_not_relieve_its_car_shortage():
    shed = Scenario("shed", amenities=(NewAmenity(10, "parking", 200.0, "bicycle_shed"),))
    out = table(evaluate_scenario(baseline(), shed))
    assert out.loc[(2, "car_spaces_shortage"), "scenario"] == pytest.approx(12.0)
    assert out.loc[(2, "car_spaces_shortage"), "delta"] == 0.0
    assert out.loc[(2, "car_spaces_households_short"), "delta"] == 0.0
    assert out.loc[(2, "bicycle_places_ratio"), "scenario"] == pytest.approx(5.0)


def test_unknown_sites_and_stairwells_are_refused():
    with pytest.raises(InvalidInput) as err:
        evaluate_scenario(baseline(), Scenario("bad", (99,), (NewAmenity(77, "pool", -1),)))
    assert len(err.value.errors) == 4
