"""Benchmark: maximal covering siting, lazy greedy + 1-swap against exact CBC (PuLP).

Prints one JSON line: (a) 300 candidates x 20k stairwells, k=20, heuristic vs exact in the
same run (objective ratio, time ratio, CBC gap); (b) the heuristic alone on 5k candidates x
100k stairwells, k=50 (target under 2 s). Usage: python benchmarks/analysis_siting.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import scipy.sparse as sp

from gis_service.analysis.catchment import crow_flies_reach
from gis_service.analysis.siting import (
    SitingResult,
    covered_by,
    exact_cover,
    greedy_cover,
    make_problem,
)


def instance(
    n_cand: int, n_dem: int, side_m: float, radius: float, seed: int
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Random candidate sites and stairwells in a square; weights = households not yet served."""
    rng = np.random.default_rng(seed)
    cand = rng.uniform(0, side_m, (n_cand, 2))
    dem = rng.uniform(0, side_m, (n_dem, 2))
    households = rng.integers(6, 37, n_dem).astype(float)
    served = rng.random(n_dem) < 0.3
    return crow_flies_reach(cand, dem, radius).matrix(), np.where(served, 0.0, households)


def check(reach: sp.csr_matrix, weights: np.ndarray, k: int, result: SitingResult) -> bool:
    """The reported objective is the weight the chosen sites really cover, with <= k sites."""
    covered = covered_by(make_problem(reach, weights, k=k), result.selected)
    return bool(
        len(result.selected) <= k
        and len(set(result.selected.tolist())) == len(result.selected)
        and abs(float(weights[covered].sum()) - result.objective) < 1e-6
    )


def median_time(fn, runs: int) -> tuple[float, SitingResult]:  # type: ignore[no-untyped-def]
    """Median wall time and last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def main() -> None:
    """Run both parts and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--time-limit", type=float, default=300.0, help="CBC limit, seconds")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--radius", type=float, default=300.0)
    args = parser.parse_args()
    scale = 10 if args.quick else 1

    n_c, n_d, k, side = 300 // scale, 20000 // scale, max(2, 20 // scale), 3000.0 / scale**0.5
    reach, weights = instance(n_c, n_d, side, args.radius, seed=1)
    greedy_s, heuristic = median_time(lambda: greedy_cover(reach, weights, k=k), args.runs)
    exact_s, exact = median_time(
        lambda: exact_cover(reach, weights, k=k, time_limit=args.time_limit), 1
    )
    n_c2, n_d2, k2, side2 = 5000 // scale, 100000 // scale, 50 // scale, 7000.0 / scale**0.5
    reach2, weights2 = instance(n_c2, n_d2, side2, args.radius, seed=2)
    large_s, large = median_time(lambda: greedy_cover(reach2, weights2, k=k2), args.runs)
    plain_s, plain = median_time(
        lambda: greedy_cover(reach2, weights2, k=k2, swap=False), args.runs
    )

    agree = (
        check(reach, weights, k, heuristic)
        and check(reach, weights, k, exact)
        and exact.objective >= heuristic.objective - 1e-6
        and check(reach2, weights2, k2, large)
        and large.objective >= plain.objective - 1e-6
    )
    print(
        json.dumps(
            {
                "benchmark": "analysis_siting",
                "radius_m": args.radius,
                "exact_vs_heuristic": {
                    "candidates": n_c,
                    "demand": n_d,
                    "k": k,
                    "reach_pairs": int(reach.nnz),
                    "heuristic_s": round(greedy_s, 4),
                    "exact_s": round(exact_s, 2),
                    "time_ratio_exact_over_heuristic": round(exact_s / greedy_s, 1),
                    "heuristic_objective": heuristic.objective,
                    "exact_objective": exact.objective,
                    "objective_ratio_heuristic_over_exact": round(
                        heuristic.objective / exact.objective, 5
                    ),
                    "exact_status": exact.status,
                    "exact_best_bound": exact.best_bound,
                    "exact_gap": exact.gap,
                    "cbc_time_limit_s": args.time_limit,
                    "heuristic_swaps": heuristic.swaps,
                },
                "heuristic_large": {
                    "candidates": n_c2,
                    "demand": n_d2,
                    "k": k2,
                    "reach_pairs": int(reach2.nnz),
                    "greedy_swap_s": round(large_s, 4),
                    "greedy_only_s": round(plain_s, 4),
                    "objective": large.objective,
                    "greedy_only_objective": plain.objective,
                    "swaps": large.swaps,
                    "under_2s": large_s < 2.0,
                },
                "runs": {"heuristic": args.runs, "exact": 1},
                "agree": agree,
            }
        )
    )
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
