"""Site selection over the database: candidate sites that serve the most unserved households."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sqlalchemy as sa

from gis_service.analysis.catchment import crow_flies_reach, network_reach
from gis_service.analysis.per_unit import whole_total
from gis_service.analysis.siting import exact_cover, greedy_cover
from gis_service.datasets.area import Area
from gis_service.datasets.cache import ResultCache
from gis_service.datasets.load import load_layer
from gis_service.datasets.params import ServiceParams, bad, one_of
from gis_service.datasets.runs import Progress, nearest_table, quiet, service_inputs

METHODS = ("greedy", "exact")
WEIGHTS = ("households", "elderly_households", "stairwells")
BUDGET_FIELDS = ("cost_yuan", "area_m2")
MAX_K = 1000
MAX_TIME_LIMIT_S = 300.0


@dataclass(frozen=True)
class SitingParams:
    """Choose k candidate sites and/or stay within a budget, to serve the most unserved demand."""

    service: ServiceParams
    k: int | None = None
    budget: float | None = None
    budget_field: str = "cost_yuan"
    method: str = "greedy"
    weight: str = "households"
    time_limit_s: float = 30.0

    def __post_init__(self) -> None:
        """Check the parameters, naming the wrong one."""
        one_of("method", self.method, METHODS)
        one_of("weight", self.weight, WEIGHTS)
        one_of("budget_field", self.budget_field, BUDGET_FIELDS)
        if self.k is None and self.budget is None:
            raise bad("k", "give the number of sites k, a budget, or both")
        if self.k is not None and not 1 <= self.k <= MAX_K:
            raise bad("k", f"k must be between 1 and {MAX_K}")
        if self.budget is not None and not self.budget >= 0:
            raise bad("budget", "the budget must be >= 0")
        if not 0 < self.time_limit_s <= MAX_TIME_LIMIT_S:
            raise bad("time_limit_s", f"the time limit must be in (0, {MAX_TIME_LIMIT_S:g}] s")

    def as_dict(self) -> dict[str, Any]:
        """The parameters, for reports and cache keys."""
        out = asdict(self)
        out["service"] = self.service.as_dict()
        return out


def run_siting(
    conn: sa.Connection,
    params: SitingParams,
    area: Area = Area(),
    graphs: ResultCache | None = None,
    progress: Progress = quiet,
) -> dict[str, Any]:
    """Chosen sites, newly served stairwells/households/elderly, and how the answer was found."""
    svc = params.service
    inputs = service_inputs(conn, svc, area, graphs=graphs, progress=progress)
    near = nearest_table(inputs, svc, progress)
    served = near["served"].to_numpy(bool)
    progress("reading candidate sites")
    if svc.sources.sites is None:
        raise bad("layer", "the catalog has no candidate sites to choose from")
    sites = load_layer(conn, svc.sources.sites, inputs.box, suitable_for=svc.sources.sited_on)
    skipped = 0
    if params.budget is not None:
        known = sites[params.budget_field].notna().to_numpy()
        skipped = int((~known).sum())
        sites = sites[known].reset_index(drop=True)
    sites = sites.to_crs(inputs.crs)
    homes = inputs.stairwells
    hh = near["households"].to_numpy(np.float64)
    old = near["elderly_households"].to_numpy(np.float64)
    base = {"households": hh, "elderly_households": old, "stairwells": np.ones(len(near))}
    weights = base[params.weight] * ~served
    progress("measuring the reach of candidate sites")
    if not len(sites) or not len(homes):
        reach = sp.csr_matrix((len(sites), len(homes)))
    elif svc.mode == "network" and inputs.graph is not None:
        rules = svc.rules
        reach = network_reach(
            inputs.graph, sites, homes, svc.radius_m, access=rules.access, snap=rules.snap
        ).matrix()
    else:
        reach = crow_flies_reach(sites, homes, svc.radius_m).matrix()
    costs = sites[params.budget_field].to_numpy(np.float64) if params.budget is not None else None
    progress(f"choosing sites ({params.method})")
    if params.method == "exact":
        result = exact_cover(
            reach, weights, params.k, costs, params.budget, time_limit=params.time_limit_s
        )
    else:
        result = greedy_cover(reach, weights, params.k, costs, params.budget)
    covered = result.covered & ~served
    chosen = []
    so_far = served.copy()
    csr = sp.csr_matrix(reach)
    for row in result.selected.tolist():
        cols = csr.indices[csr.indptr[row] : csr.indptr[row + 1]]
        new = cols[~so_far[cols]]
        so_far[new] = True
        site = sites.iloc[row]
        chosen.append(
            {
                "site_id": int(site["id"]),
                "name": site["name"],
                "compound_id": site["compound_id"],
                "area_m2": float(site["area_m2"]),
                "cost_yuan": None if pd.isna(site["cost_yuan"]) else float(site["cost_yuan"]),
                "newly_served_stairwells": int(new.size),
                "newly_served_households": whole_total(hh[new]),
            }
        )
    total_hh = whole_total(hh)
    return {
        "parameters": params.as_dict(),
        "area": area.as_dict(),
        "candidates": len(sites),
        "candidates_without_budget_value": skipped,
        "stairwells": len(near),
        "unserved_stairwells_before": int((~served).sum()),
        "unserved_households_before": whole_total(hh[~served]),
        "chosen": chosen,
        "site_ids": [c["site_id"] for c in chosen],
        "newly_served_stairwells": int(covered.sum()),
        "newly_served_households": whole_total(hh[covered]),
        "newly_served_elderly_households": whole_total(old[covered]),
        "share_households_served_before": whole_total(hh[served]) / total_hh if total_hh else None,
        "share_households_served_after": (
            whole_total(hh[served | covered]) / total_hh if total_hh else None
        ),
        "objective": result.objective,
        "method": result.method,
        "status": result.status,
        "best_bound": result.best_bound,
        "optimality_gap": result.gap,
        "total_cost_yuan": float(sum(c["cost_yuan"] or 0.0 for c in chosen)),
        "total_area_m2": float(sum(c["area_m2"] for c in chosen)),
        "solver_seconds": round(result.seconds, 4),
    }
