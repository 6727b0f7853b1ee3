"""Supply within reach per household: each kind its own radius, decay, checked against PySAL."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_service.analysis.catchment import network_reach
from gis_service.analysis.supply import (
    Decay,
    Facilities,
    level_table,
    stairwell_supply,
    stairwell_table,
)
from gis_service.catalog import default_catalog
from gis_service.errors import InvalidInput
from tests.analysis.helpers import UTM_GUANGZHOU

with warnings.catch_warnings():  # access imports pandas/geopandas APIs that warn
    warnings.simplefilter("ignore")
    import access


def points(xy, crs=UTM_GUANGZHOU) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.Point(p) for p in xy], crs=crs)


def radius_of(layer: str, kind: str) -> float:
    """The shipped catalog's radius of a kind (the figures the service uses)."""
    service = default_catalog().layer(layer).service
    assert service is not None
    return float(service.radii_m[kind])


HOME = points([(0.0, 0.0)])


def test_an_ev_point_450_m_away_counts_a_bicycle_shed_200_m_away_does_not():
    ev, shed = radius_of("parking", "ev_charging"), radius_of("parking", "bicycle_shed")
    assert (ev, shed) == (500.0, 150.0)
    charging = Facilities(points([(450.0, 0.0)]), np.array([4.0]), np.array([ev]))
    bicycles = Facilities(points([(0.0, 200.0)]), np.array([40.0]), np.array([shed]))
    got_ev = stairwell_supply(charging, HOME, [20.0])
    got_shed = stairwell_supply(bicycles, HOME, [20.0])
    assert got_ev.reached.tolist() == [True] and got_ev.ratio.tolist() == [pytest.approx(0.2)]
    assert got_shed.reached.tolist() == [False] and got_shed.ratio.tolist() == [0.0]


def test_each_kind_keeps_its_own_radius_within_one_measure():
    # car spaces: a surface lot (radius 300) at 280 m and a garage given 200 m at 250 m
    lots = Facilities(points([(280.0, 0.0), (0.0, 250.0)]), np.array([10.0, 30.0]),
                      np.array([300.0, 200.0]))  # fmt: skip
    got = stairwell_supply(lots, HOME, [50.0])
    assert got.ratio.tolist() == [pytest.approx(10 / 50)]


def test_shortage_is_demand_times_target_minus_supply_in_spaces():
    homes = points([(0.0, 0.0), (50.0, 0.0), (2000.0, 0.0)])
    frame = pd.DataFrame({"households": [60, 40, 30], "compound_id": [1, 1, 2]})
    lot = Facilities(points([(20.0, 0.0)]), np.array([25.0]), np.array([300.0]))
    found = stairwell_supply(lot, homes, frame["households"].to_numpy(float))
    per = stairwell_table(frame, found, target=0.3)
    assert per["supply"].tolist() == pytest.approx([15.0, 10.0, 0.0])
    assert per["shortage"].tolist() == pytest.approx([18 - 15, 12 - 10, 9.0])
    assert per["households_short"].tolist() == pytest.approx([60 * (1 - 0.25 / 0.3),
                                                              40 * (1 - 0.25 / 0.3), 30])
    out = level_table(per, frame["compound_id"], "compound_id", 0.3).set_index("compound_id")
    assert out.loc[1, "ratio"] == pytest.approx(0.25)
    assert out.loc[1, "shortage"] == pytest.approx(100 * 0.3 - 25)
    assert out.loc[2, "shortage"] == pytest.approx(9.0)
    assert out.loc[2, "share_households_reached"] == 0.0
    assert out.loc[1, "households_reached"] == 100
    for count in ("stairwells", "households", "households_reached"):  # 100, never 100.0
        assert out[count].dtype == np.int64
    assert per["households"].dtype == np.int64 and per["households_short"].dtype == np.float64


def test_decays_match_pysal_access_weights():
    d = np.array([0.0, 50.0, 100.0, 150.0, 200.0, 299.0, 300.0])
    r = np.full(d.size, 300.0)
    sigma = 0.5
    expected = access.weights.gaussian(sigma * 300.0)(d)
    assert Decay("gaussian", sigma).weights(d, r) == pytest.approx(expected)
    step = access.weights.step_fn({100.0: 1.0, 200.0: 0.68, 300.0: 0.22})
    assert Decay("stepped").weights(d, r).tolist() == pytest.approx([step(x) for x in d])
    with pytest.raises(InvalidInput):
        Decay("linear")


def pysal_2sfca(cost: pd.DataFrame, supply: pd.DataFrame, demand: pd.DataFrame, decay: str,
                radius: float) -> pd.Series:  # fmt: skip
    """PySAL access's two-stage FCA of one kind (one radius) over precomputed costs."""
    weight = {
        "none": None,
        "gaussian": access.weights.gaussian(0.5 * radius),
        "stepped": access.weights.step_fn({radius / 3: 1.0, 2 * radius / 3: 0.68, radius: 0.22}),
    }[decay]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = access.Access(
            demand_df=demand, demand_index="home", demand_value="households",
            supply_df=supply, supply_index="facility", supply_value="size",
            cost_df=cost, cost_origin="home", cost_dest="facility", cost_name="metres",
        )  # fmt: skip
        out = model.two_stage_fca(name="x", max_cost=radius, weight_fn=weight)
    return out["x_size"].reindex(demand["home"]).fillna(0.0)


@pytest.mark.parametrize("decay", ["none", "gaussian", "stepped"])
@pytest.mark.parametrize("along_streets", [False, True])
def test_two_kinds_with_their_radii_match_pysal_access(decay, along_streets, lattice):
    """Independent check: PySAL access per kind (its radius as max_cost), summed over kinds."""
    rng = np.random.default_rng(19)
    homes = points(rng.uniform(-10, 310, size=(60, 2)))
    where = rng.uniform(-10, 310, size=(9, 2))
    radius = np.where(np.arange(9) < 5, 150.0, 250.0)  # two kinds, two radii
    size = rng.integers(0, 40, size=9).astype(float)
    households = rng.integers(0, 30, size=60).astype(float)
    facilities = Facilities(points(where), size, radius)
    graph = lattice if along_streets else None
    ours = stairwell_supply(facilities, homes, households, graph, Decay(decay)).ratio
    demand = pd.DataFrame({"home": range(60), "households": households})
    total = np.zeros(60)
    for value in (150.0, 250.0):
        idx = np.flatnonzero(radius == value)
        if along_streets:
            reach = network_reach(lattice, points(where[idx]), homes, 400.0)
            i, j, dist = reach.rows, reach.cols, reach.dist
        else:
            gap = where[idx][:, None, :] - homes_xy(homes)[None, :, :]
            full = np.hypot(gap[..., 0], gap[..., 1])
            i, j = np.nonzero(np.ones_like(full, dtype=bool))
            dist = full[i, j]
        cost = pd.DataFrame({"facility": idx[i], "home": j, "metres": dist})
        supply = pd.DataFrame({"facility": idx, "size": size[idx]})
        total += pysal_2sfca(cost, supply, demand, decay, value).to_numpy()
    assert total.sum() > 0
    assert np.allclose(ours, total, rtol=1e-12, atol=1e-15)


def homes_xy(homes: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.get_coordinates(homes.geometry.to_numpy())
