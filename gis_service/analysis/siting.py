"""Maximal covering location: lazy greedy with 1-swap improvement, exact CBC on request."""

from __future__ import annotations

import heapq
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from gis_service.analysis._cbc import aggregate_demand, bound_from_log
from gis_service.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class SitingResult:
    """Chosen candidates (row indices), covered weight, which demand is covered, how found.

    For exact runs best_bound is the solver's bound and gap = (bound - objective) / bound.
    """

    selected: IntArray
    objective: float
    covered: NDArray[np.bool_]
    method: str
    status: str
    seconds: float
    cost: float
    best_bound: float | None = None
    gap: float | None = None
    swaps: int = 0


@dataclass(frozen=True)
class Problem:
    """A validated covering instance: reach (candidates x demand, CSR), weights, limits."""

    reach: sp.csr_matrix
    weights: FloatArray
    k: int | None
    costs: FloatArray
    budget: float | None

    def affordable(self, total: float) -> bool:
        """True when a total cost stays within the budget."""
        return self.budget is None or total <= self.budget * (1 + 1e-12) + 1e-9

    def affordable_many(self, totals: FloatArray) -> NDArray[np.bool_]:
        """Element-wise affordable()."""
        if self.budget is None:
            return np.ones(totals.shape, dtype=bool)
        return totals <= self.budget * (1 + 1e-12) + 1e-9


def make_problem(
    reach: sp.spmatrix | sp.sparray,
    weights: ArrayLike,
    k: int | None = None,
    costs: ArrayLike | None = None,
    budget: float | None = None,
) -> Problem:
    """Validate a covering instance; give k sites, a budget over costs, or both."""
    matrix = sp.csr_matrix(reach, dtype=bool).astype(np.float64)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    n_c, n_d = matrix.shape
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_d,) or (w < 0).any() or not np.isfinite(w).all():
        raise InvalidInput("one finite weight >= 0 per demand point is needed")
    c = np.ones(n_c) if costs is None else np.asarray(costs, dtype=np.float64)
    if c.shape != (n_c,) or (c < 0).any():
        raise InvalidInput("one cost >= 0 per candidate is needed")
    if k is None and budget is None:
        raise InvalidInput("give the number of sites k, a budget, or both")
    if k is not None and k < 0:
        raise InvalidInput("k must be >= 0")
    if budget is not None and budget < 0:
        raise InvalidInput("the budget must be >= 0")
    return Problem(matrix, w, k, c, budget)


def covered_by(problem: Problem, selected: ArrayLike) -> NDArray[np.bool_]:
    """Which demand points the selected candidates cover."""
    sel = np.asarray(selected, dtype=np.int64)
    counts = problem.reach[sel].sum(axis=0) if sel.size else np.zeros(problem.reach.shape[1])
    return np.asarray(counts).ravel() > 0


def _row(problem: Problem, c: int) -> IntArray:
    m = problem.reach
    return m.indices[m.indptr[c] : m.indptr[c + 1]]


def lazy_greedy(problem: Problem) -> tuple[list[int], NDArray[np.bool_]]:
    """Greedy on newly covered weight (per unit cost under a budget) with stale upper bounds."""
    w, costs = problem.weights, problem.costs
    covered = np.zeros(w.size, dtype=bool)
    gains = problem.reach @ w
    ratio = problem.budget is not None
    scale = np.where(costs > 0, costs, 1e-12) if ratio else np.ones(costs.size)
    heap = [(-g / s, int(c)) for c, (g, s) in enumerate(zip(gains, scale, strict=True)) if g > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    spent = 0.0
    limit = problem.k if problem.k is not None else costs.size
    while heap and len(chosen) < limit:
        _, c = heapq.heappop(heap)
        if not problem.affordable(spent + costs[c]):
            continue
        cols = _row(problem, c)
        gain = float(w[cols][~covered[cols]].sum())
        if gain <= 0:
            continue
        key = -gain / scale[c]
        if heap and key > heap[0][0]:
            heapq.heappush(heap, (key, c))
            continue
        chosen.append(c)
        covered[cols] = True
        spent += costs[c]
    if ratio:
        single = np.flatnonzero(problem.affordable_many(costs))
        if single.size:
            best = int(single[np.argmax(gains[single])])
            if gains[best] > float(w[covered].sum()):
                chosen, covered = [best], covered_by(problem, [best])
    return chosen, covered


def swap_improve(
    problem: Problem, chosen: list[int], max_rounds: int = 100
) -> tuple[list[int], int]:
    """1-swap local search: replace a chosen site by another while the covered weight grows."""
    m, w, costs = problem.reach, problem.weights, problem.costs
    csc = m.tocsc()
    sel = list(chosen)
    count = np.asarray(m[sel].sum(axis=0)).ravel().astype(np.int64)
    gain0 = m @ (w * (count == 0))
    tol = 1e-9 * (1.0 + float(w.sum()))
    swaps = 0
    for _ in range(max_rounds):
        improved = False
        for pos in range(len(sel)):
            s = sel[pos]
            cols = _row(problem, s)
            only = cols[count[cols] == 1]
            delta = gain0 + csc[:, only] @ w[only] - float(w[only].sum())
            delta[sel] = -np.inf
            if problem.budget is not None:
                spent = float(costs[sel].sum()) - costs[s]
                delta[~problem.affordable_many(spent + costs)] = -np.inf
            c = int(np.argmax(delta))
            if not delta[c] > tol:
                continue
            new_cols = _row(problem, c)
            touched = np.union1d(cols, new_cols)
            was_zero = count[touched] == 0
            count[cols] -= 1
            count[new_cols] += 1
            change = (count[touched] == 0).astype(np.float64) - was_zero
            gain0 += csc[:, touched] @ (w[touched] * change)
            sel[pos] = c
            swaps += 1
            improved = True
        if not improved:
            break
    return sel, swaps


def greedy_cover(
    reach: sp.spmatrix | sp.sparray,
    weights: ArrayLike,
    k: int | None = None,
    costs: ArrayLike | None = None,
    budget: float | None = None,
    swap: bool = True,
    max_swap_rounds: int = 100,
) -> SitingResult:
    """Choose up to k sites (and/or within a budget) maximising covered weight, heuristically."""
    start = time.perf_counter()
    problem = make_problem(reach, weights, k, costs, budget)
    chosen, _ = lazy_greedy(problem)
    swaps = 0
    if swap and chosen:
        chosen, swaps = swap_improve(problem, chosen, max_swap_rounds)
    covered = covered_by(problem, chosen)
    return SitingResult(
        selected=np.asarray(chosen, dtype=np.int64),
        objective=float(problem.weights[covered].sum()),
        covered=covered,
        method="greedy+swap" if swap else "greedy",
        status="heuristic",
        seconds=time.perf_counter() - start,
        cost=float(problem.costs[chosen].sum()),
        swaps=swaps,
    )


def _variable(model: Any, name: str, low: float, up: float, cat: str) -> Any:
    """A model variable (PuLP >= 3.3 attaches it to the model; older PuLP builds it alone)."""
    import pulp

    if hasattr(model, "add_variable"):
        return model.add_variable(name, low, up, cat=cat)
    return pulp.LpVariable(name, lowBound=low, upBound=up, cat=cat)


def exact_cover(
    reach: sp.spmatrix | sp.sparray,
    weights: ArrayLike,
    k: int | None = None,
    costs: ArrayLike | None = None,
    budget: float | None = None,
    time_limit: float = 60.0,
    warm_start: bool = True,
) -> SitingResult:
    """The covering integer program solved with PuLP's bundled CBC, with the optimality gap.

    max sum W_g y_g s.t. y_g <= sum of x_i covering group g, sum x_i <= k and/or
    sum c_i x_i <= budget; demand points with equal covering sets are merged first. The
    greedy+swap answer is given to CBC as a warm start.
    """
    import os
    import tempfile

    import pulp

    start = time.perf_counter()
    problem = make_problem(reach, weights, k, costs, budget)
    n_c = problem.reach.shape[0]
    sets, group_w = aggregate_demand(problem.reach, problem.weights)
    model = pulp.LpProblem("maximal_covering", pulp.LpMaximize)
    x = [_variable(model, f"x{i}", 0, 1, "Binary") for i in range(n_c)]
    y = [_variable(model, f"y{g}", 0, 1, "Continuous") for g in range(len(sets))]
    model += pulp.lpSum(float(wg) * yg for wg, yg in zip(group_w, y, strict=True))
    for g, rows in enumerate(sets):
        model += y[g] <= pulp.lpSum(x[i] for i in rows), f"cover{g}"
    if problem.k is not None:
        model += pulp.lpSum(x) <= problem.k, "sites"
    if problem.budget is not None:
        model += (
            pulp.lpSum(float(c) * xi for c, xi in zip(problem.costs, x, strict=True))
            <= (problem.budget),
            "budget",
        )
    if warm_start:
        seed = greedy_cover(reach, weights, k, costs, budget).selected
        picked = np.zeros(n_c, dtype=bool)
        picked[seed] = True
        for i, xi in enumerate(x):
            xi.setInitialValue(1 if picked[i] else 0)
        for g, rows in enumerate(sets):
            y[g].setInitialValue(1 if picked[rows].any() else 0)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "cbc.log")
        with warnings.catch_warnings():
            # PuLP 3.3 flags the bundled-CBC class as deprecated; it is still the one shipped
            warnings.simplefilter("ignore", DeprecationWarning)
            solver = pulp.PULP_CBC_CMD(
                msg=False, timeLimit=time_limit, warmStart=warm_start, logPath=log_path
            )
        model.solve(solver)
        bound = bound_from_log(log_path)
    chosen = [i for i, xi in enumerate(x) if (xi.varValue or 0) > 0.5]
    covered = covered_by(problem, chosen)
    objective = float(problem.weights[covered].sum())
    optimal = model.sol_status == pulp.LpSolutionOptimal
    if optimal or bound is None:
        bound = objective if optimal else bound
    gap = None if bound is None else max(0.0, (bound - objective) / bound) if bound > 0 else 0.0
    status = "optimal" if optimal else pulp.LpStatus.get(model.status, "unknown").lower()
    if not optimal and chosen:
        status = "time_limit"
    return SitingResult(
        selected=np.asarray(chosen, dtype=np.int64),
        objective=objective,
        covered=covered,
        method="exact",
        status=status,
        seconds=time.perf_counter() - start,
        cost=float(problem.costs[chosen].sum()),
        best_bound=bound,
        gap=gap,
    )
