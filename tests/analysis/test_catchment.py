"""Two-step floating catchment on a hand-checkable case, and reach relations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis_service.analysis.catchment import crow_flies_reach, network_reach, two_step_fca
from gis_service.analysis.snapping import snap_points, snapped_distances
from gis_service.analysis.supply import demand_of, level_table
from gis_service.errors import InvalidInput

FACILITIES = np.array([[0.0, 0.0], [200.0, 0.0]])
DEMAND = np.array([[-50.0, 0.0], [100.0, 0.0], [250.0, 0.0]])


def test_two_facilities_three_demand_points():
    reach = crow_flies_reach(FACILITIES, DEMAND, radius=120)
    pairs = sorted(zip(reach.rows.tolist(), reach.cols.tolist(), strict=True))
    assert pairs == [(0, 0), (0, 1), (1, 1), (1, 2)]
    ratio, access = two_step_fca(reach, supply=[10, 6], demand=[2, 3, 1])
    assert ratio.tolist() == pytest.approx([10 / 5, 6 / 4])
    assert access.tolist() == pytest.approx([2.0, 3.5, 1.5])
    assert float(access @ np.array([2, 3, 1])) == pytest.approx(16.0)
    d = np.array([2.0, 3.0, 1.0])
    per_stairwell = pd.DataFrame(
        {"households": d, "demand": d, "supply": access * d, "reached": True,
         "households_short": d * np.maximum(0, 1 - access / 3)}
    )  # fmt: skip
    out = level_table(per_stairwell, [1, 1, 2], "compound_id", 3.0).set_index("compound_id")
    assert out.loc[1, "ratio"] == pytest.approx((4 + 10.5) / 5)
    assert out.loc[1, "shortage"] == pytest.approx(5 * 3 - 14.5)  # additive, surplus nets out
    assert out.loc[1, "households_short"] == pytest.approx(2 * (1 - 2 / 3))
    assert out.loc[2, "shortage"] == pytest.approx(1.5)


def test_unreached_facility_and_zero_distance_pairs():
    reach = crow_flies_reach(np.array([[0.0, 0.0], [5000.0, 0.0]]), np.array([[0.0, 0.0]]), 100)
    assert reach.dist.tolist() == [0.0]
    ratio, access = two_step_fca(reach, [4, 9], [2])
    assert ratio.tolist() == [2.0, 0.0]
    assert access.tolist() == [2.0]
    decayed = two_step_fca(reach, [4, 9], [2], weight=lambda d: np.exp(-d / 100))[1]
    assert decayed.tolist() == pytest.approx([2.0])
    with pytest.raises(InvalidInput):
        two_step_fca(reach, [4], [2])


def test_demand_kinds():
    frame = pd.DataFrame({"households": [10, 0]})
    assert demand_of(frame, "resident", 2.62).tolist() == pytest.approx([26.2, 0.0])
    assert demand_of(frame, "household", 2.62).tolist() == [10.0, 0.0]
    with pytest.raises(InvalidInput):
        demand_of(frame, "cars", 2.62)


def test_network_reach_matches_snapped_distances(lattice):
    rng = np.random.default_rng(5)
    facilities = rng.uniform(-10, 310, size=(6, 2))
    stairwells = rng.uniform(-10, 310, size=(40, 2))
    reach = network_reach(lattice, facilities, stairwells, radius=250, chunk_cells=40)
    table = snapped_distances(
        lattice, snap_points(lattice, facilities), snap_points(lattice, stairwells), limit=250
    )
    rows, cols = np.nonzero(np.isfinite(table))
    assert sorted(zip(reach.rows.tolist(), reach.cols.tolist(), strict=True)) == sorted(
        zip(rows.tolist(), cols.tolist(), strict=True)
    )
    assert np.allclose(np.sort(reach.dist), np.sort(table[rows, cols]))
    crow = crow_flies_reach(facilities, stairwells, 250)
    assert crow.rows.size >= reach.rows.size
