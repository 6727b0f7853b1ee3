"""The complete-community checklist: which required kinds each unit's households reach on foot.

A stairwell reaches a required kind when a facility of one of the kind's layer kinds lies within
the kind's radius (along streets, or as the crow flies); a unit (compound, community) has the kind
when the stairwells of at least `present_share` of its households reach it. Score = the share of
required kinds present, in percent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gis_service.analysis.network import StreetGraph
from gis_service.analysis.per_unit import as_whole
from gis_service.analysis.supply import Facilities, reach_by_radius

BoolArray = NDArray[np.bool_]
STATUSES = ("present", "missing", "not_recorded")


def reached_by_any(
    sources: Sequence[Facilities], homes: gpd.GeoDataFrame, graph: StreetGraph | None
) -> BoolArray:
    """Per stairwell: reached by a facility of any of the sources within its radius."""
    hit = np.zeros(len(homes), dtype=bool)
    for facilities in sources:
        if len(facilities.geometry) and len(homes):
            reach, _ = reach_by_radius(facilities, homes, graph)
            hit[reach.cols] = True
    return hit


def household_weights(units: pd.Series, households: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each stairwell's weight in its unit: its households (each stairwell alike in a unit whose
    households are all unknown or zero)."""
    weight = np.maximum(np.nan_to_num(np.asarray(households, np.float64)), 0.0)
    totals = pd.Series(weight).groupby(units.to_numpy()).transform("sum").to_numpy()
    return np.where(totals > 0, weight, 1.0)


def unit_shares(
    units: pd.Series, households: NDArray[np.float64], reached: Mapping[str, BoolArray]
) -> pd.DataFrame:
    """Per unit (index): stairwells, households and, per required kind, the share of its
    households whose stairwells reach it."""
    weight = household_weights(units, households)
    frame = pd.DataFrame({"unit": units.to_numpy(), "w": weight,
                          "households": np.nan_to_num(households)})  # fmt: skip
    for code, hit in reached.items():
        frame[code] = np.where(hit, weight, 0.0)
    grouped = frame.groupby("unit", sort=True)
    out = pd.DataFrame({"stairwells": grouped.size()})
    out["households"] = as_whole(grouped["households"].sum())  # a count: an integer
    total = grouped["w"].sum()
    for code in reached:
        out[code] = grouped[code].sum() / total
    return out


def unit_statuses(
    shares: pd.DataFrame, recorded: Mapping[str, bool], present_share: float
) -> pd.DataFrame:
    """Per unit and required kind: present, missing, or not_recorded (no layer records it)."""
    out = pd.DataFrame(index=shares.index)
    for code, known in recorded.items():
        if not known:
            out[code] = "not_recorded"
        else:
            out[code] = np.where(shares[code] >= present_share - 1e-12, "present", "missing")
    return out


def scores(statuses: pd.DataFrame) -> pd.Series:
    """Per unit: the share of required kinds present, in percent (one decimal)."""
    if statuses.shape[1] == 0:
        return pd.Series(np.nan, index=statuses.index)
    return ((statuses == "present").mean(axis=1) * 100).round(1)
