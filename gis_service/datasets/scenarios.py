"""Stored scenarios: interventions checked against the database, evaluation, persistence."""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import replace
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from gis_service.analysis.coverage import Eligibility
from gis_service.analysis.scenario import (
    Baseline,
    Measure,
    NewAmenity,
    Scenario,
    evaluate_scenario,
)
from gis_service.catalog import MAX_RADIUS_M, Catalog, default_catalog
from gis_service.datasets.area import Area
from gis_service.datasets.cache import STAIRWELL_TABLES, ResultCache, freeze, versions_key
from gis_service.datasets.formats import records
from gis_service.datasets.load import load_layer, load_stairwells, source_of, statuses
from gis_service.datasets.params import (
    SITES_LAYER,
    WalkRules,
    bad,
    layer_kinds,
    level_column,
    one_of,
)
from gis_service.datasets.runs import pick_crs, street_graph
from gis_service.datasets.supply import DECAYS, decay_of, facilities_of, supply_params
from gis_service.db.models import SITE_USES
from gis_service.errors import InvalidInput, NotFound

SCENARIO_TABLES = (*STAIRWELL_TABLES, "garden", "parking", "candidate_site", "street")
AMENITY_LAYERS = {"garden": "gardens", "parking": "parking"}
"""The catalog layer of each kind of new amenity a scenario may add."""
M2_PER_PARKING_SPACE = 25.0
"""Default size of a new parking lot: the site's area at 25 m² per space (access lanes included)."""


def holds(conn: sa.Connection, privilege: str) -> bool:
    """Whether the caller's database role holds a privilege (SELECT, INSERT...) on scenarios."""
    found = conn.execute(
        sa.text("SELECT has_table_privilege('scenario', :p)"), {"p": privilege}
    ).scalar_one()
    return bool(found)


def scenario_parameters(raw: dict[str, Any] | None) -> dict[str, Any]:
    """Parameters with defaults filled in (radii from the catalog); wrong ones are named."""
    raw = dict(raw or {})
    out: dict[str, Any] = {
        "mode": one_of("parameters.mode", str(raw.pop("mode", "network")), ("network", "crow")),
        "decay": one_of("parameters.decay", str(raw.pop("decay", "none")), DECAYS),
        "cutoff_year": int(raw.pop("cutoff_year", Eligibility.cutoff_year)),
        "min_floors": int(raw.pop("min_floors", Eligibility.min_floors)),
    }
    for kind in AMENITY_LAYERS:
        key = f"{kind}_radius_m"
        value = raw.pop(key, None)
        if value is not None and not 0 < float(value) <= MAX_RADIUS_M:
            raise bad(f"parameters.{key}", f"must be > 0 and at most {MAX_RADIUS_M:g} m")
        out[key] = None if value is None else float(value)  # None: each kind's own radius
    if raw:
        raise bad("parameters", f"unknown parameters: {', '.join(sorted(raw))}")
    return out


def amenity_uses(catalog: Catalog) -> dict[str, tuple[str, ...] | None]:
    """Candidate site uses (suitable_for) where each kind of amenity may go (None: any)."""
    uses: dict[str, tuple[str, ...] | None] = {}
    for kind, layer in AMENITY_LAYERS.items():
        service = catalog.layer(layer).service
        sited_on = service.sited_on if service else None
        uses[kind] = tuple(sited_on) if sited_on is not None else None
    return uses


def facility_kind(conn: sa.Connection, amenity: str, kind: Any) -> str | None:
    """The kind of a new amenity within its layer (default: the layer's first kind)."""
    layer_id = AMENITY_LAYERS.get(amenity)
    if layer_id is None:
        return None  # an unknown amenity is named by check_interventions
    kinds = layer_kinds(conn, default_catalog().layer(layer_id))
    if kind is None:
        return kinds[0]
    return one_of("interventions.amenities.facility_kind", str(kind), kinds)


def check_interventions(conn: sa.Connection, raw: dict[str, Any]) -> dict[str, Any]:
    """Interventions normalised and checked against the database (unknown ids are named)."""
    try:
        elevators = sorted({int(i) for i in raw.get("elevators", [])})
        batches = sorted({int(i) for i in raw.get("batches", [])})
        amenities: list[dict[str, Any]] = [
            {
                "site_id": int(a["site_id"]),
                "kind": str(a["kind"]),
                "facility_kind": facility_kind(conn, str(a["kind"]), a.get("facility_kind")),
                "size": None if a.get("size") is None else float(a["size"]),
            }
            for a in raw.get("amenities", [])
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise bad(
            "interventions",
            "elevators and batches are lists of ids; amenities have site_id, kind, size",
        ) from exc
    errors: list[dict[str, str]] = []

    def missing(table: str, ids: list[int]) -> list[int]:
        found = conn.execute(
            sa.text(f"SELECT id FROM {table} WHERE id = ANY(:ids)"), {"ids": ids}
        ).scalars()
        return sorted(set(ids) - {int(i) for i in found})

    if unknown := missing("stairwell", elevators):
        errors.append({"field": "interventions.elevators", "message": f"unknown {unknown[:20]}"})
    if unknown := missing("retrofit_batch", batches):
        errors.append({"field": "interventions.batches", "message": f"unknown {unknown[:20]}"})
    site_ids = [int(a["site_id"]) for a in amenities]
    uses: dict[int, str] = dict(
        conn.execute(
            sa.text("SELECT id, suitable_for FROM candidate_site WHERE id = ANY(:ids)"),
            {"ids": site_ids},
        ).all()
    )
    allowed = amenity_uses(default_catalog())
    for i, a in enumerate(amenities):
        field = f"interventions.amenities.{i}"
        if a["kind"] not in allowed:
            errors.append({"field": field, "message": "kind must be garden or parking"})
        elif a["site_id"] not in uses:
            errors.append({"field": field, "message": f"unknown candidate site {a['site_id']}"})
        elif uses[a["site_id"]] not in (allowed[a["kind"]] or SITE_USES):
            errors.append(
                {"field": field, "message": f"site {a['site_id']} is not for a {a['kind']}"}
            )
        size = a["size"]
        if size is not None and not (math.isfinite(size) and size >= 0):
            errors.append({"field": field, "message": "size must be >= 0"})
    if not (elevators or batches or amenities):
        errors.append({"field": "interventions", "message": "no intervention given"})
    if errors:
        raise InvalidInput("the scenario's interventions do not match the database", errors)
    return {"elevators": elevators, "batches": batches, "amenities": amenities}


def measures(
    conn: sa.Connection, params: dict[str, Any], crs: Any, catalog: Catalog
) -> tuple[Measure, ...]:
    """Every supply measure of the amenity layers, read now (each kind its own radius)."""
    found = []
    for amenity, layer_id in AMENITY_LAYERS.items():
        frame = load_layer(conn, source_of(catalog.layer(layer_id))).to_crs(crs)
        override = params.get(f"{amenity}_radius_m")
        for name in catalog.supply_measures(layer_id):
            asked = supply_params(conn, layer_id, name, params["mode"], "none", None, catalog)
            radii = {kind: float(override or r) for kind, r in asked.radii.items()}
            asked = replace(asked, radii=radii)
            kinds = frozenset(asked.spec.kinds) if asked.spec.kinds else None
            facilities = facilities_of(frame, asked)
            found.append(
                Measure(name, amenity, facilities, radii, asked.spec.per, asked.target, kinds)
            )
    return tuple(found)


def baseline(conn: sa.Connection, params: dict[str, Any], graphs: ResultCache | None) -> Baseline:
    """The whole city as it is: stairwells, supply measures, candidate sites, street graph."""
    catalog = default_catalog()
    homes = load_stairwells(conn, Area())
    crs = pick_crs(homes)
    network = catalog.network()
    graph = None
    if params["mode"] == "network" and network is not None:
        closed = WalkRules.of(catalog, None).closed
        graph = street_graph(conn, source_of(network), None, crs, graphs, closed)
    demand = catalog.demand()
    if demand is None:
        raise InvalidInput("the catalog states no demand (persons per household)")
    return Baseline(
        stairwells=homes.to_crs(crs),
        measures=measures(conn, params, crs, catalog),
        sites=load_layer(conn, source_of(catalog.layer(SITES_LAYER))).to_crs(crs),
        statuses=statuses(conn),
        persons_per_household=demand.persons_per_household.value,
        graph=graph,
        rule=Eligibility(params["cutoff_year"], params["min_floors"]),
        decay=decay_of(demand, params.get("decay", "none")),
    )


def as_scenario(name: str, interventions: dict[str, Any], base: Baseline) -> Scenario:
    """The engine's Scenario: batches expanded to their stairwells, default amenity sizes."""
    homes = base.stairwells
    in_batches = homes.loc[homes["batch_id"].isin(interventions["batches"]), "id"]
    elevators = sorted(set(interventions["elevators"]) | {int(i) for i in in_batches})
    area = base.sites.set_index("id")["area_m2"]
    amenities = []
    for a in interventions["amenities"]:
        size = a.get("size")
        if size is None:
            site_area = float(area.get(a["site_id"], 0.0))
            size = (
                site_area if a["kind"] == "garden" else math.floor(site_area / M2_PER_PARKING_SPACE)
            )
        kind = a.get("facility_kind")
        amenities.append(
            NewAmenity(
                int(a["site_id"]), str(a["kind"]), float(size), None if kind is None else str(kind)
            )
        )
    return Scenario(name, tuple(elevators), tuple(amenities))


def evaluate(
    conn: sa.Connection,
    name: str,
    interventions: dict[str, Any],
    parameters: dict[str, Any],
    level_col: str,
    graphs: ResultCache | None = None,
) -> pd.DataFrame:
    """Every indicator per unit of the level: baseline, scenario and delta."""
    base = baseline(conn, parameters, graphs)
    out = evaluate_scenario(base, as_scenario(name, interventions, base), level_col)
    return out.drop(columns=["scenario_name"])


EVALUATION_COLUMNS = ("indicator", "baseline", "scenario", "delta")


def current_evaluation(
    conn: sa.Connection,
    record: dict[str, Any],
    level: str,
    cache: ResultCache | None = None,
    graphs: ResultCache | None = None,
    scope: Hashable = None,
) -> tuple[pd.DataFrame, str, dict[str, int]]:
    """A stored scenario's evaluation at a level, and where it came from.

    The stored results when computed on the current data versions ("stored"), else the
    cached ("cache") or a fresh ("computed") evaluation.
    """
    versions = versions_key(conn, SCENARIO_TABLES)
    stored = record.get("results") or {}
    col = level_column(level)
    if record.get("results_versions") == dict(versions) and level in stored:
        frame = pd.DataFrame(stored[level], columns=[col, *EVALUATION_COLUMNS])
        return frame.sort_values([col, "indicator"], ignore_index=True), "stored", dict(versions)

    def compute() -> pd.DataFrame:
        interventions, parameters = record["interventions"], record["parameters"]
        return evaluate(conn, record["name"], interventions, parameters, col, graphs)

    if cache is None:
        return compute(), "computed", dict(versions)
    key = (
        "scenario",
        freeze(record["interventions"]),
        freeze(record["parameters"]),
        level,
        scope,
        versions,
    )
    frame, hit = cache.get_or_compute(key, compute)
    return frame, "cache" if hit else "computed", dict(versions)


def only_changed(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rows where some delta is neither zero nor missing."""
    deltas = frame[columns].apply(pd.to_numeric, errors="coerce").fillna(0)
    return frame[(deltas.abs() > 1e-12).any(axis=1)]


def side_by_side(parts: list[tuple[int, pd.DataFrame]], col: str) -> pd.DataFrame:
    """Evaluations of several scenarios in one table: baseline, scenario_<id>, delta_<id>."""
    merged: pd.DataFrame | None = None
    for scenario_id, frame in parts:
        part = frame.rename(
            columns={"scenario": f"scenario_{scenario_id}", "delta": f"delta_{scenario_id}"}
        )
        if merged is None:
            merged = part
        else:
            merged = merged.merge(part.drop(columns=["baseline"]), on=[col, "indicator"])
    if merged is None:
        raise InvalidInput("no scenario to compare")
    return merged


COLUMNS = "id, name, description, interventions, parameters, created_by, created_at, version"


def insert(conn: sa.Connection, values: dict[str, Any]) -> int:
    """Store a scenario; its id."""
    statement = sa.text(
        "INSERT INTO scenario (name, description, interventions, parameters, results, "
        "results_versions, created_by) VALUES (:name, :description, :interventions, "
        ":parameters, :results, :results_versions, :created_by) RETURNING id"
    ).bindparams(
        sa.bindparam("interventions", type_=JSONB),
        sa.bindparam("parameters", type_=JSONB),
        sa.bindparam("results", type_=JSONB),
        sa.bindparam("results_versions", type_=JSONB),
    )
    return int(conn.execute(statement, values).scalar_one())


def create(
    conn: sa.Connection,
    name: str,
    description: str | None,
    interventions: dict[str, Any],
    parameters: dict[str, Any] | None,
    user_id: int | None,
    graphs: ResultCache | None = None,
) -> int:
    """Check, evaluate (by compound) and store a scenario; its id."""
    checked = check_interventions(conn, interventions)
    params = scenario_parameters(parameters)
    frame = evaluate(conn, name, checked, params, "compound_id", graphs)
    values = {
        "name": name,
        "description": description,
        "interventions": checked,
        "parameters": params,
        "results": {"compound": records(frame)},
        "results_versions": dict(versions_key(conn, SCENARIO_TABLES)),
        "created_by": user_id,
    }
    return insert(conn, values)


def fetch(conn: sa.Connection, scenario_id: int, results: bool = False) -> dict[str, Any]:
    """One stored scenario (with its stored results when asked), or NotFound."""
    extra = ", results, results_versions" if results else ""
    row = (
        conn.execute(
            sa.text(f"SELECT {COLUMNS}{extra} FROM scenario WHERE id = :id"), {"id": scenario_id}
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"scenario {scenario_id} does not exist")
    return dict(row)


def fetch_all(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every stored scenario, newest last."""
    rows = conn.execute(sa.text(f"SELECT {COLUMNS} FROM scenario ORDER BY id")).mappings()
    return [dict(row) for row in rows]


def delete(conn: sa.Connection, scenario_id: int) -> None:
    """Remove a stored scenario, or NotFound."""
    gone = conn.execute(sa.text("DELETE FROM scenario WHERE id = :id"), {"id": scenario_id})
    if gone.rowcount == 0:
        raise NotFound(f"scenario {scenario_id} does not exist")
