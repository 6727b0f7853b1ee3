"""Scenarios: named sets of interventions evaluated against a baseline, indicator by indicator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from gis_service.analysis.coverage import Eligibility, apply_batch, coverage
from gis_service.analysis.network import StreetGraph
from gis_service.analysis.supply import (
    Decay,
    Facilities,
    demand_of,
    level_table,
    stairwell_supply,
    stairwell_table,
)
from gis_service.errors import InvalidInput

AMENITY_KINDS = ("garden", "parking")


@dataclass(frozen=True)
class NewAmenity:
    """A garden (size in m²) or parking (size in spaces) of a kind built on a candidate site."""

    site_id: int
    kind: str
    size: float
    facility_kind: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A named set of interventions: stairwells put into service, amenities on candidate sites."""

    name: str
    elevators: tuple[int, ...] = ()
    amenities: tuple[NewAmenity, ...] = ()


@dataclass(frozen=True)
class Measure:
    """A supply measure of the baseline: the amenity it counts, its facilities, demand, target.

    radius_of gives the radius of each facility kind the measure counts (a new amenity of
    another kind does not count for it; kinds=None counts every kind).
    """

    name: str
    amenity: str
    facilities: Facilities
    radius_of: dict[str, float]
    per: str = "household"
    target: float | None = None
    kinds: frozenset[str] | None = None

    def counts(self, amenity: NewAmenity) -> bool:
        """Whether a new amenity adds to this measure."""
        if amenity.kind != self.amenity:
            return False
        return self.kinds is None or amenity.facility_kind in self.kinds


@dataclass(frozen=True)
class Baseline:
    """Everything a scenario is compared with; all layers in one metric CRS.

    stairwells: points with id, level columns, households, elderly_households,
    elevator_status and the eligibility columns; measures: the supply measures (facilities with
    size and radius each); sites (candidate sites) with id. With a graph, reach is measured
    along streets.
    """

    stairwells: gpd.GeoDataFrame
    measures: tuple[Measure, ...]
    sites: gpd.GeoDataFrame
    statuses: Sequence[str]
    persons_per_household: float
    graph: StreetGraph | None = None
    rule: Eligibility = field(default_factory=Eligibility)
    decay: Decay = field(default_factory=Decay)


def _facilities(base: Baseline, measure: Measure, scenario: Scenario | None) -> Facilities:
    """A measure's facilities, with the scenario's new ones of its kinds appended."""
    new = [a for a in (scenario.amenities if scenario else ()) if measure.counts(a)]
    if not new:
        return measure.facilities
    sites = base.sites.set_index("id")
    default = next(iter(measure.radius_of.values()))
    extra = Facilities(
        gpd.GeoDataFrame(
            geometry=[sites.geometry.loc[a.site_id] for a in new], crs=base.sites.crs
        ),
        np.array([float(a.size) for a in new]),
        np.array([measure.radius_of.get(str(a.facility_kind), default) for a in new]),
    )
    return measure.facilities.extended(extra)


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
    keys = stairwells[level].to_numpy()
    for m in base.measures:
        demand = demand_of(stairwells, m.per, base.persons_per_household)
        found = stairwell_supply(
            _facilities(base, m, scenario), base.stairwells, demand, base.graph, base.decay
        )
        table = level_table(stairwell_table(stairwells, found, m.target), keys, level, m.target)
        table = table.set_index(level).reindex(out.index)
        for column in MEASURE_INDICATORS:
            if m.target is not None or column not in TARGET_INDICATORS:
                out[f"{m.name}_{column}"] = table[column]
    return out


MEASURE_INDICATORS = ("ratio", "shortage", "households_short", "share_households_reached")
"""What the scenario reports of each supply measure (see analysis.supply.level_table)."""
TARGET_INDICATORS = ("shortage", "households_short")
"""Reported only for measures with a target."""


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
        elif not any(m.counts(a) for m in base.measures if m.amenity == a.kind):
            errors.append({"field": "amenities", "msg": f"no measure counts {a.facility_kind!r}"})
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

    Indicators: elevator coverage (in service, shares by stairwells, households, elderly) and,
    per supply measure (car spaces, bicycle places, EV points, garden area), the supply within
    reach per household or resident (2SFCA, each kind its own radius), the shortage against
    the target, households short of the target and the share of households within reach.
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
