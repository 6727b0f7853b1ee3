"""Scenarios: named sets of interventions evaluated against a baseline, indicator by indicator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gis_service.analysis.access import AccessRule
from gis_service.analysis.catchment import (
    PERSONS_PER_HOUSEHOLD,
    Reach,
    crow_flies_reach,
    network_reach,
    two_step_fca,
)
from gis_service.analysis.coverage import Eligibility, apply_batch, coverage
from gis_service.analysis.network import StreetGraph
from gis_service.analysis.service import crow_flies_nearest, network_nearest
from gis_service.analysis.snapping import SnapRule
from gis_service.errors import InvalidInput

AMENITY_KINDS = ("garden", "parking")


@dataclass(frozen=True)
class NewAmenity:
    """A garden (size in m²) or a parking lot (size in spaces) built on a candidate site."""

    site_id: int
    kind: str
    size: float


@dataclass(frozen=True)
class Scenario:
    """A named set of interventions: stairwells put into service, amenities on candidate sites."""

    name: str
    elevators: tuple[int, ...] = ()
    amenities: tuple[NewAmenity, ...] = ()


@dataclass(frozen=True)
class Baseline:
    """Everything a scenario is compared with; all layers in one metric CRS.

    stairwells: points with id, level columns, households, elderly_households,
    elevator_status and the eligibility columns; gardens with area_m2; parking with capacity;
    sites (candidate sites) with id. With a graph, service is measured along streets, each
    amenity entered by its layer's access rule (areas at their edges), points snapped by snap.
    """

    stairwells: gpd.GeoDataFrame
    gardens: gpd.GeoDataFrame
    parking: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    statuses: Sequence[str]
    graph: StreetGraph | None = None
    garden_radius: float = 300.0
    parking_radius: float = 300.0
    rule: Eligibility = field(default_factory=Eligibility)
    persons_per_household: float = PERSONS_PER_HOUSEHOLD
    garden_access: AccessRule = field(default_factory=AccessRule)
    parking_access: AccessRule = field(default_factory=AccessRule)
    snap: SnapRule = field(default_factory=SnapRule)


def _amenities(
    base: Baseline, scenario: Scenario | None, kind: str
) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """Geometries and sizes of one amenity kind, with the scenario's new ones appended."""
    layer, column = (base.gardens, "area_m2") if kind == "garden" else (base.parking, "capacity")
    pts = np.asarray(layer.geometry.values) if len(layer) else np.empty(0, dtype=object)
    size = pd.to_numeric(layer[column], errors="coerce").fillna(0).to_numpy(float)
    if scenario is None:
        return pts, size
    new = [a for a in scenario.amenities if a.kind == kind]
    if not new:
        return pts, size
    site_pts = pd.Series(list(base.sites.geometry.values), index=base.sites["id"].to_numpy())
    extra = np.array([site_pts[a.site_id] for a in new], dtype=object)
    return np.r_[pts, extra], np.r_[size, [float(a.size) for a in new]]


def _service(
    base: Baseline,
    pts: NDArray[np.object_],
    size: NDArray[np.float64],
    demand: NDArray[np.float64],
    radius: float,
    access: AccessRule,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Served flag and 2SFCA accessibility (supply per demand unit) per stairwell."""
    n = len(base.stairwells)
    if pts.size == 0:
        return np.zeros(n, dtype=bool), np.zeros(n)
    reach: Reach
    if base.graph is None:
        served = crow_flies_nearest(base.stairwells, pts, radius=radius)["served"].to_numpy()
        reach = crow_flies_reach(pts, base.stairwells, radius)
    else:
        near = network_nearest(
            base.graph, base.stairwells, pts, radius=radius, access=access, snap=base.snap
        )
        served = near["served"].to_numpy()
        reach = network_reach(
            base.graph, pts, base.stairwells, radius, access=access, snap=base.snap
        )
    _, supply_per_demand = two_step_fca(reach, size, demand)
    return served.astype(bool), supply_per_demand


def _indicators(
    base: Baseline, stairwells: pd.DataFrame, scenario: Scenario | None, level: str
) -> pd.DataFrame:
    """Every indicator per level for the baseline (scenario None) or a scenario."""
    cov = coverage(stairwells, level, base.statuses, base.rule).set_index(level)
    out = pd.DataFrame(index=cov.index)
    out["elevator_in_service_stairwells"] = cov["in_service_stairwells"]
    out["elevator_eligible_stairwells"] = cov["eligible_stairwells"]
    for name in ("stairwells", "households", "elderly_households"):
        out[f"elevator_share_{name}"] = cov[f"share_{name}"]
    hh = pd.to_numeric(stairwells["households"], errors="coerce").fillna(0).to_numpy(float)
    old = pd.to_numeric(stairwells["elderly_households"], errors="coerce").fillna(0)
    keys = stairwells[level].to_numpy()
    for kind, radius, demand, unit, rule in (
        ("garden", base.garden_radius, hh * base.persons_per_household, "m2_per_resident",
         base.garden_access),
        ("parking", base.parking_radius, hh, "spaces_per_household", base.parking_access),
    ):  # fmt: skip
        pts, size = _amenities(base, scenario, kind)
        served, access = _service(base, pts, size, demand, radius, rule)
        frame = pd.DataFrame(
            {
                "hh": hh,
                "hh_served": hh * served,
                "old": old.to_numpy(float),
                "old_served": old.to_numpy(float) * served,
                "d": demand,
                "ad": access * demand,
            },
            index=keys,
        )
        sums = frame.groupby(level=0, dropna=False).sum().reindex(out.index)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{kind}_share_households_served"] = sums["hh_served"] / sums["hh"]
            out[f"{kind}_share_elderly_served"] = sums["old_served"] / sums["old"]
            out[f"{kind}_{unit}"] = sums["ad"] / sums["d"]
    return out


def validate_scenario(base: Baseline, scenario: Scenario) -> None:
    """Raise InvalidInput for unknown stairwells, unknown sites or bad amenity kinds/sizes."""
    errors: list[dict[str, str]] = []
    known = set(base.stairwells["id"].tolist())
    missing = [i for i in scenario.elevators if i not in known]
    if missing:
        errors.append({"field": "elevators", "msg": f"unknown stairwell ids {missing[:20]}"})
    sites = set(base.sites["id"].tolist()) if len(base.sites) else set()
    for a in scenario.amenities:
        if a.kind not in AMENITY_KINDS:
            errors.append({"field": "amenities", "msg": f"unknown kind {a.kind!r}"})
        if a.site_id not in sites:
            errors.append({"field": "amenities", "msg": f"unknown candidate site {a.site_id}"})
        if not a.size >= 0:
            errors.append({"field": "amenities", "msg": f"size must be >= 0 at site {a.site_id}"})
    if errors:
        raise InvalidInput(f"scenario {scenario.name!r} is invalid", errors)


def evaluate_scenario(
    base: Baseline, scenario: Scenario, level: str = "compound_id"
) -> pd.DataFrame:
    """Per level and indicator: baseline value, scenario value and delta (long table).

    Indicators: elevator coverage (in service, shares by stairwells, households, elderly),
    share of households and elderly served by gardens / parking within their radius, and
    2SFCA garden m² per resident and parking spaces per household.
    """
    validate_scenario(base, scenario)
    before = _indicators(base, base.stairwells, None, level)
    moved = apply_batch(base.stairwells, scenario.elevators, base.rule.in_service)
    after = _indicators(base, moved, scenario, level)
    long_b = before.reset_index().melt(id_vars=level, var_name="indicator", value_name="baseline")
    long_a = after.reset_index().melt(id_vars=level, var_name="indicator", value_name="scenario")
    out = long_b.merge(long_a, on=[level, "indicator"], how="outer")
    out["delta"] = out["scenario"] - out["baseline"]
    out.insert(0, "scenario_name", scenario.name)
    return out
