"""Supply within reach per household: a two-step floating catchment with a radius per kind.

Facilities of one measure (e.g. car spaces: surface lots and stacked garages) each serve the
stairwells within their own kind's radius, along streets or as the crow flies, optionally with
a distance decay; each facility's size is shared among the demand it reaches (step 1) and a
stairwell sums the shares of the facilities reaching it (step 2). Shortage = demand × target
ratio − supply within reach, in the supply's unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gis_service.analysis.access import AccessRule
from gis_service.analysis.catchment import Reach, crow_flies_reach, network_reach, two_step_fca
from gis_service.analysis.network import StreetGraph
from gis_service.analysis.per_unit import as_whole
from gis_service.analysis.snapping import SnapRule
from gis_service.errors import InvalidInput

FloatArray = NDArray[np.float64]
DECAYS = ("none", "gaussian", "stepped")
PER = ("household", "resident")


@dataclass(frozen=True)
class Decay:
    """Distance decay relative to each facility's radius: none, Gaussian or stepped.

    gaussian: exp(-d² / 2σ²) with σ = sigma × radius (PySAL access weights.gaussian);
    stepped: the weight of the first step whose share of the radius is >= d / radius
    (Luo & Qi's E2SFCA zones; PySAL access weights.step_fn).
    """

    kind: str = "none"
    sigma: float = 0.5
    steps: tuple[tuple[float, float], ...] = ((1 / 3, 1.0), (2 / 3, 0.68), (1.0, 0.22))

    def __post_init__(self) -> None:
        if self.kind not in DECAYS:
            raise InvalidInput(f"unknown decay {self.kind!r}: one of {', '.join(DECAYS)}")

    def weights(self, dist: FloatArray, radius: FloatArray) -> FloatArray:
        """The weight of each (distance, radius) pair within reach."""
        d = np.asarray(dist, dtype=np.float64)
        r = np.asarray(radius, dtype=np.float64)
        if self.kind == "gaussian":
            sigma = self.sigma * r
            return np.exp(-(d * d) / (2 * sigma * sigma))
        if self.kind == "stepped":
            shares = np.array([share for share, _ in self.steps])
            weights = np.array([weight for _, weight in self.steps] + [0.0])
            return weights[np.searchsorted(shares, d / r - 1e-12, side="left")]
        return np.ones_like(d)


@dataclass(frozen=True)
class Facilities:
    """The facilities of one measure in a metric CRS: geometry, size and radius of each, and
    how the walk enters them (their layer's access rule) and snaps (the network's rule)."""

    geometry: gpd.GeoDataFrame
    size: FloatArray
    radius: FloatArray
    access: AccessRule = field(default_factory=AccessRule)
    snap: SnapRule = field(default_factory=SnapRule)

    def __post_init__(self) -> None:
        n = len(self.geometry)
        if np.shape(self.size) != (n,) or np.shape(self.radius) != (n,):
            raise InvalidInput("one size and one radius per facility are needed")
        if (np.asarray(self.size) < 0).any() or not (np.asarray(self.radius) > 0).all():
            raise InvalidInput("sizes must be >= 0 and radii > 0")

    def extended(self, more: Facilities) -> Facilities:
        """These facilities and more (e.g. a scenario's new ones)."""
        geometry = pd.concat([self.geometry, more.geometry], ignore_index=True)
        return Facilities(
            gpd.GeoDataFrame(geometry, geometry="geometry", crs=self.geometry.crs),
            np.r_[self.size, more.size],
            np.r_[self.radius, more.radius],
            self.access,
            self.snap,
        )


def reach_by_radius(
    facilities: Facilities, homes: gpd.GeoDataFrame, graph: StreetGraph | None
) -> tuple[Reach, FloatArray]:
    """Every (facility, stairwell) pair within the facility's own radius, and that radius.

    One reach query per distinct radius (crow_flies_reach, or network_reach along streets).
    """
    radius = np.asarray(facilities.radius, dtype=np.float64)
    shape = (len(facilities.geometry), len(homes))
    rows, cols, dist, radii = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)], []
    radii.append(np.zeros(0))
    if shape[0] and shape[1]:
        for value in np.unique(radius):
            idx = np.flatnonzero(radius == value)
            part = facilities.geometry.iloc[idx]
            found = (
                crow_flies_reach(part, homes, float(value))
                if graph is None
                else network_reach(
                    graph, part, homes, float(value),
                    access=facilities.access, snap=facilities.snap,
                )
            )
            rows.append(idx[found.rows])
            cols.append(found.cols)
            dist.append(found.dist)
            radii.append(np.full(found.dist.size, float(value)))
    reach = Reach(np.concatenate(rows), np.concatenate(cols), np.concatenate(dist), shape)
    return reach, np.concatenate(radii)


def demand_of(homes: pd.DataFrame, per: str, persons_per_household: float) -> FloatArray:
    """Demand per stairwell: its households, or residents (households × persons per household)."""
    if per not in PER:
        raise InvalidInput(f"unknown demand {per!r}: one of {', '.join(PER)}")
    households = pd.to_numeric(homes["households"], errors="coerce").fillna(0).to_numpy(float)
    return households * (persons_per_household if per == "resident" else 1.0)


@dataclass(frozen=True)
class StairwellSupply:
    """Per stairwell: demand, supply within reach per demand unit, reached by any facility."""

    demand: FloatArray
    ratio: FloatArray
    reached: NDArray[np.bool_]


def stairwell_supply(
    facilities: Facilities,
    homes: gpd.GeoDataFrame,
    demand: ArrayLike,
    graph: StreetGraph | None = None,
    decay: Decay = Decay(),
) -> StairwellSupply:
    """The two-step catchment of one measure over the stairwells (each kind its own radius)."""
    d = np.asarray(demand, dtype=np.float64)
    reach, radii = reach_by_radius(facilities, homes, graph)
    weights = decay.weights(reach.dist, radii)
    _, ratio = two_step_fca(reach, facilities.size, d, weight=weights)
    reached = np.bincount(reach.cols, minlength=len(homes)) > 0
    return StairwellSupply(d, ratio, reached)


def stairwell_table(
    homes: pd.DataFrame, result: StairwellSupply, target: float | None
) -> pd.DataFrame:
    """Per stairwell: households, demand, supply within reach, ratio, shortage, short households.

    shortage = demand × target − supply; households short of the target = households ×
    max(0, 1 − ratio / target) (no target: both missing).
    """
    households = pd.to_numeric(homes["households"], errors="coerce").fillna(0).to_numpy(float)
    supply = result.ratio * result.demand
    out = pd.DataFrame(
        {
            "households": as_whole(households),
            "demand": result.demand,
            "supply": supply,
            "ratio": result.ratio,
            "reached": result.reached,
        },
        index=homes.index,
    )
    if target is None:
        out["shortage"] = np.nan
        out["households_short"] = np.nan
    else:
        out["shortage"] = result.demand * target - supply
        with np.errstate(over="ignore"):  # a ratio far above the target is simply no shortage
            met = result.ratio / target
        out["households_short"] = households * np.maximum(0.0, 1.0 - met)
    return out


def level_table(per_stairwell: pd.DataFrame, keys: Sequence[object] | pd.Series, level: str,
                target: float | None) -> pd.DataFrame:  # fmt: skip
    """Per unit of a level: stairwells, households, demand, supply, ratio, shortage, reach.

    ratio = supply / demand; shortage = demand × target − supply (additive over units);
    households_reached: households of stairwells some facility reaches.
    """
    frame = pd.DataFrame(
        {
            level: np.asarray(keys),
            "stairwells": 1,
            "households": per_stairwell["households"].to_numpy(),
            "demand": per_stairwell["demand"].to_numpy(),
            "supply": per_stairwell["supply"].to_numpy(),
            "households_reached": per_stairwell["households"].to_numpy()
            * per_stairwell["reached"].to_numpy(),
            "households_short": per_stairwell["households_short"].to_numpy(),
        }
    )
    out = frame.groupby(level, sort=True, dropna=False).sum(min_count=1)
    for count in ("stairwells", "households", "households_reached"):  # integers
        out[count] = as_whole(out[count].fillna(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["ratio"] = out["supply"] / out["demand"]
        out["share_households_reached"] = out["households_reached"] / out["households"]
    out["target"] = np.nan if target is None else float(target)
    out["shortage"] = out["demand"] * out["target"] - out["supply"]
    return out.reset_index()
