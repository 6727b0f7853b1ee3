"""Maximal covering location: greedy + swap against the exact CBC optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from gis_service.analysis.catchment import crow_flies_reach
from gis_service.analysis.siting import covered_by, exact_cover, greedy_cover, make_problem
from gis_service.errors import InvalidInput


def instance(n_cand: int, n_dem: int, radius: float, seed: int, size: float = 2000.0):
    rng = np.random.default_rng(seed)
    cand = rng.uniform(0, size, (n_cand, 2))
    dem = rng.uniform(0, size, (n_dem, 2))
    weights = rng.integers(1, 40, n_dem).astype(float)
    return crow_flies_reach(cand, dem, radius).matrix(), weights


def brute_force(reach: sp.csr_matrix, weights: np.ndarray, k: int) -> float:
    best = 0.0
    dense = reach.toarray() > 0
    for combo in itertools.combinations(range(reach.shape[0]), k):
        best = max(best, float(weights[dense[list(combo)].any(axis=0)].sum()))
    return best


def test_exact_is_the_brute_force_optimum():
    reach, weights = instance(12, 150, 350, seed=1)
    exact = exact_cover(reach, weights, k=3, time_limit=30)
    assert exact.status == "optimal" and exact.gap == 0.0
    assert exact.objective == pytest.approx(brute_force(reach, weights, 3))
    assert len(exact.selected) <= 3


def test_greedy_swap_within_a_few_percent_of_exact():
    reach, weights = instance(30, 500, 300, seed=2)
    heuristic = greedy_cover(reach, weights, k=5)
    plain = greedy_cover(reach, weights, k=5, swap=False)
    exact = exact_cover(reach, weights, k=5, time_limit=30)
    assert exact.status == "optimal"
    assert exact.gap == 0.0
    assert exact.best_bound == pytest.approx(exact.objective)
    assert heuristic.objective >= plain.objective
    assert exact.objective >= heuristic.objective - 1e-9
    assert heuristic.objective >= 0.97 * exact.objective
    assert len(heuristic.selected) == 5
    assert heuristic.objective == pytest.approx(
        weights[covered_by(make_problem(reach, weights, k=5), heuristic.selected)].sum()
    )


def test_budget_is_respected():
    reach, weights = instance(30, 500, 300, seed=3)
    costs = np.random.default_rng(3).uniform(1.0, 4.0, 30)
    heuristic = greedy_cover(reach, weights, costs=costs, budget=8.0)
    exact = exact_cover(reach, weights, costs=costs, budget=8.0, time_limit=30)
    for result in (heuristic, exact):
        assert result.cost <= 8.0 + 1e-9
        assert result.cost == pytest.approx(costs[result.selected].sum())
    assert exact.status == "optimal"
    assert exact.objective >= heuristic.objective - 1e-9
    both = greedy_cover(reach, weights, k=2, costs=costs, budget=8.0)
    assert len(both.selected) <= 2 and both.cost <= 8.0 + 1e-9


def test_already_served_demand_weighs_nothing():
    reach = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=bool))
    result = greedy_cover(reach, [5.0, 5.0, 1.0], k=1)
    assert result.selected.tolist() == [0]
    result = greedy_cover(reach, [0.0, 0.0, 1.0], k=1)
    assert result.selected.tolist() == [1]
    assert greedy_cover(reach, [0.0, 0.0, 0.0], k=2).selected.size == 0
    with pytest.raises(InvalidInput):
        greedy_cover(reach, [1.0, 1.0], k=1)
    with pytest.raises(InvalidInput):
        greedy_cover(reach, [1.0, 1.0, 1.0])
