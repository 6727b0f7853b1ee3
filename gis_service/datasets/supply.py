"""Supply per household read from PostGIS: a measure's facilities, the demand, the catchment.

The question names a layer and one of its supply measures (layers/*.yaml `service.supply`);
kinds, radii, size field, target, persons per household and the decay come from the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
from pyproj import CRS

from gis_service.analysis.supply import (
    Decay,
    Facilities,
    demand_of,
    level_table,
    stairwell_supply,
    stairwell_table,
)
from gis_service.catalog import Catalog, Demand, Layer, SupplyMeasure, default_catalog
from gis_service.datasets.area import Area, margin_box
from gis_service.datasets.cache import ResultCache
from gis_service.datasets.load import load_layer, load_stairwells
from gis_service.datasets.params import (
    MODES,
    Sources,
    bad,
    default_radius,
    layer_kinds,
    one_of,
    service_layer,
)
from gis_service.datasets.runs import SNAP_SLACK_M, Progress, pick_crs, quiet, street_graph

DECAYS = ("none", "gaussian", "stepped")


def decay_of(demand: Demand, kind: str) -> Decay:
    """The catalog's decay of a kind (none, gaussian, stepped)."""
    one_of("decay", kind, DECAYS)
    steps = tuple((float(share), float(weight)) for share, weight in demand.decay.steps)
    return Decay(kind, demand.decay.gaussian_sigma, steps)


def measure_kinds(conn: sa.Connection, layer: Layer, measure: SupplyMeasure) -> tuple[str, ...]:
    """The kinds a measure counts (all of the layer's when it names none)."""
    return tuple(measure.kinds) if measure.kinds else tuple(layer_kinds(conn, layer))


@dataclass(frozen=True)
class SupplyParams:
    """A supply question: a layer's measure, along streets or not, decay, target, radii."""

    layer: str
    measure: str
    mode: str
    decay: str
    target: float | None
    radii: dict[str, float]
    persons_per_household: float
    spec: SupplyMeasure = field(compare=False, repr=False, kw_only=True)
    rules: Demand = field(compare=False, repr=False, kw_only=True)
    sources: Sources = field(compare=False, repr=False, kw_only=True)

    def as_dict(self) -> dict[str, Any]:
        """The question, for reports and cache keys."""
        return {
            "layer": self.layer, "measure": self.measure, "mode": self.mode,
            "decay": self.decay, "target": self.target, "radii_m": dict(self.radii),
            "persons_per_household": self.persons_per_household, "per": self.spec.per,
        }  # fmt: skip

    def max_radius(self) -> float:
        """The largest radius of the kinds counted."""
        return max(self.radii.values())


def supply_measure(
    catalog: Catalog, layer: Layer, measure: str | None
) -> tuple[str, SupplyMeasure]:
    """A layer's supply measure by name (its first when None); InvalidInput naming them."""
    measures = catalog.supply_measures(layer.id)
    if not measures:
        raise bad("layer", f"the layer {layer.id!r} states no supply measure")
    name = measure if measure is not None else next(iter(measures))
    return one_of("measure", name, list(measures)), measures[name]


def supply_params(
    conn: sa.Connection,
    layer: str,
    measure: str | None = None,
    mode: str = "network",
    decay: str = "none",
    target: float | None = None,
    catalog: Catalog | None = None,
) -> SupplyParams:
    """Validate a supply question against the catalog (each kind's radius from it)."""
    catalog = catalog or default_catalog()
    found = service_layer(catalog, layer)
    name, spec = supply_measure(catalog, found, measure)
    one_of("mode", mode, MODES)
    one_of("decay", decay, DECAYS)
    rules = catalog.demand()
    if rules is None:
        raise bad("layer", "the catalog states no demand (persons per household, definitions)")
    if target is not None and not 0 < target < 1e6:
        raise bad("target", "the target must be > 0")
    sources = Sources.of(catalog, found)
    if mode == "network" and sources.streets is None:
        raise bad("mode", "the catalog has no walkable network: use mode=crow")
    radii = {kind: default_radius(found, kind) for kind in measure_kinds(conn, found, spec)}
    goal = target if target is not None else (spec.target.value if spec.target else None)
    return SupplyParams(
        layer, name, mode, decay, goal, radii, rules.persons_per_household.value,
        spec=spec, rules=rules, sources=sources,
    )  # fmt: skip


def facilities_of(frame: gpd.GeoDataFrame, params: SupplyParams) -> Facilities:
    """The rows of the measure's kinds as Facilities: size from its field, radius by kind."""
    kinds = frame["kind"].astype(str) if len(frame) else pd.Series([], dtype=str)
    keep = kinds.isin(list(params.radii)).to_numpy()
    rows = frame[keep].reset_index(drop=True)
    size = pd.to_numeric(rows[params.spec.size_field], errors="coerce").fillna(0).to_numpy(float)
    radius = rows["kind"].astype(str).map(params.radii).to_numpy(float)
    walk = params.sources.rules
    return Facilities(rows[["id", "kind", "geometry"]], np.maximum(size, 0.0), radius,
                      walk.access, walk.snap)  # fmt: skip


@dataclass(frozen=True)
class SupplyResult:
    """Per stairwell of the area: ids, hierarchy, households, demand, supply, ratio, shortage."""

    stairwells: pd.DataFrame
    facilities: int


def run_supply(
    conn: sa.Connection,
    params: SupplyParams,
    area: Area = Area(),
    graphs: ResultCache | None = None,
    progress: Progress = quiet,
) -> SupplyResult:
    """The catchment of a measure for the stairwells of an area.

    Facilities within the largest radius of the area, and every stairwell those facilities
    reach (twice the radius), share the supply, so a border stairwell gets what the whole
    city's answer gives it.
    """
    wanted = load_stairwells(conn, area)
    reach = params.max_radius()
    box = margin_box(conn, area, 2 * reach + SNAP_SLACK_M)
    progress("reading stairwells")
    homes = wanted if box is None else load_stairwells(conn, Area(bbox=box))
    progress(f"reading {params.layer}")
    near = margin_box(conn, area, reach + SNAP_SLACK_M)
    frame = load_layer(conn, params.sources.facilities, near)
    crs: CRS = pick_crs(homes, frame) if len(homes) or len(frame) else CRS.from_epsg(3857)
    graph = None
    network = params.sources.streets
    if params.mode == "network" and network is not None and len(homes) and len(frame):
        progress("building the street graph")
        graph = street_graph(conn, network, box, crs, graphs, params.sources.rules.closed)
    metric = homes.to_crs(crs)
    facilities = facilities_of(frame.to_crs(crs), params)
    decay = decay_of(params.rules, params.decay)
    progress("sharing the supply (two-step catchment)")
    demand = demand_of(metric, params.spec.per, params.persons_per_household)
    found = stairwell_supply(facilities, metric, demand, graph, decay)
    table = stairwell_table(metric, found, params.target)
    keep = ["id", "grid_id", "compound_id", "community_id", "subdistrict_id", "district_id"]
    out = pd.concat([pd.DataFrame(homes[keep]), table], axis=1)
    out["geometry"] = homes.geometry.to_numpy()
    inside = out["id"].isin(wanted["id"]).to_numpy()
    return SupplyResult(out[inside].reset_index(drop=True), len(facilities.size))


def supply_level_table(result: SupplyResult, level_col: str, target: float | None) -> pd.DataFrame:
    """Per unit of a level (grid_id, compound_id, community_id, ...)."""
    rows = result.stairwells
    return level_table(rows, rows[level_col], level_col, target)
