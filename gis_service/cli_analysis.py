"""`gis-service analyze ...`: coverage, service areas, gaps, siting and scenarios from the shell.

`analyze supply` lives in cli_supply.py; the options they share in cli_base.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
import typer

from gis_service.analysis.coverage import Eligibility
from gis_service.catalog import default_catalog
from gis_service.cli_base import (
    BBOX,
    COMMUNITY,
    COMPOUND,
    DISTRICT,
    FORMAT,
    GRID,
    MODE,
    OUTPUT,
    SUBDISTRICT,
    area_of,
    session,
)
from gis_service.cli_checklist import checklist_command
from gis_service.cli_consent import consent_command
from gis_service.cli_supply import supply_command
from gis_service.datasets import formats
from gis_service.datasets import scenarios as store
from gis_service.datasets.params import ServiceParams, default_layer, level_column, service_params
from gis_service.datasets.runs import (
    area_frame,
    coverage_table,
    gaps_table,
    nearest_table,
    service_inputs,
    shares_table,
    with_names,
)
from gis_service.datasets.siting import SitingParams, run_siting
from gis_service.errors import GisServiceError

analyze_app = typer.Typer(
    help="Analysis: retrofit coverage, service areas, gaps, site selection, scenarios.",
    no_args_is_help=True,
)
scenario_app = typer.Typer(help="Stored scenarios: list, show, create, compare, delete.")
analyze_app.add_typer(scenario_app, name="scenario")

LEVEL = typer.Option("compound", help="grid, compound, community, subdistrict or district")
CATALOG = default_catalog()
LAYER = typer.Option(
    default_layer(CATALOG), help=f"Analysable layer: {', '.join(CATALOG.service_layers())}"
)
ALL = typer.Option(False, "--all", help="Every district at once on Dask (one task per district)")
SCHEDULER = typer.Option(
    None, "--scheduler",
    help="Dask scheduler (tcp://host:8786); else local. Its workers connect to the database "
    "from their own settings (GIS_DATABASE_URL)",
)  # fmt: skip
WORKERS = typer.Option(2, "--workers", help="Local Dask workers when there is no --scheduler")


@analyze_app.command("coverage")
def coverage_command(
    level: str = LEVEL,
    batch: int = typer.Option(None, help="Project this retrofit batch into service"),
    all_units: bool = typer.Option(False, help="With --batch: also units the batch misses"),
    cutoff_year: int = typer.Option(Eligibility.cutoff_year, help="Eligible: built up to"),
    min_floors: int = typer.Option(Eligibility.min_floors, help="Eligible: at least floors"),
    district: int = DISTRICT, subdistrict: int = SUBDISTRICT, community: int = COMMUNITY,
    grid: int = GRID, compound: int = COMPOUND, bbox: str = BBOX,
    fmt: str = FORMAT, output: Path = OUTPUT,
    every: bool = ALL, scheduler: str = SCHEDULER, workers: int = WORKERS,
) -> None:  # fmt: skip
    """Elevator retrofit coverage per level (or a batch projection: 15/57 -> 57/57)."""
    col = level_column(level)
    area = area_of(district, subdistrict, community, grid, compound, bbox)
    rule = Eligibility(cutoff_year, min_floors)
    if every and (batch is not None or not area.everything):
        raise GisServiceError("--all covers the whole city: no --batch and no area filters")
    with session("coverage") as (conn, step):
        if every:
            from gis_service.distributed import coverage_all, dask_client

            step("running on Dask")
            with dask_client(scheduler, workers) as client:
                frame = coverage_all(client, conn, col, rule)
        else:
            step("reading stairwells")
            frame = coverage_table(conn, col, area, batch, rule, not all_units)
        frame = with_names(conn, frame, level)
    if batch is None:
        shown = [col, "name", "eligible_stairwells", "in_service_stairwells", "share_stairwells",
                 "share_households", "share_elderly_households"]  # fmt: skip
    else:
        shown = [col, "name", "batch_stairwells", "label", "before_share_households",
                 "after_share_households"]  # fmt: skip
    meta = {"level": level, "batch": batch, "area": area.as_dict()}
    formats.write_table(frame, fmt, output, meta, shown)


def service_of(
    conn: sa.Connection, layer: str, kind: str | None, radius_m: float | None,
    minutes: float | None, speed: str, mode: str, life_circle: str | None = None,
) -> ServiceParams:  # fmt: skip
    """Validated service parameters."""
    return service_params(
        conn, layer, kind, radius_m, minutes, speed, mode, CATALOG, life_circle
    )


KIND = typer.Option(None, help="Kind within the layer (all when omitted)")
RADIUS = typer.Option(None, "--radius-m", help="Radius in metres (default: catalog)")
MINUTES = typer.Option(None, help="Radius in minutes of walking")
SPEED = typer.Option("normal", help=f"Walking speed: {', '.join(CATALOG.walking_speeds())}")
LIFE_CIRCLE = typer.Option(
    None, "--life-circle",
    help=f"A life circle's minutes at the speed: {', '.join(CATALOG.life_circles())}",
)
SERVED_LEVEL = typer.Option(
    "compound", help="stairwell (distance, facility and access point of each), grid, compound, "
    "community, subdistrict or district",
)
STAIRWELL_COLUMNS = ["id", "building_id", "label", "facility_id", "facility_name", "distance_m",
                     "minutes", "served", "access_lon", "access_lat", "unsnapped"]


@analyze_app.command("service-areas")
def service_areas_command(
    layer: str = LAYER, kind: str = KIND, radius_m: float = RADIUS, minutes: float = MINUTES,
    speed: str = SPEED, life_circle: str = LIFE_CIRCLE, mode: str = MODE,
    level: str = SERVED_LEVEL,
    dissolve: bool = typer.Option(False, help="One polygon for the layer, not one per facility"),
    district: int = DISTRICT, subdistrict: int = SUBDISTRICT, community: int = COMMUNITY,
    grid: int = GRID, compound: int = COMPOUND, bbox: str = BBOX,
    fmt: str = FORMAT, output: Path = OUTPUT,
    every: bool = ALL, scheduler: str = SCHEDULER, workers: int = WORKERS,
) -> None:  # fmt: skip
    """Service areas (geojson), shares served per level, or per stairwell (table/json/csv)."""
    area = area_of(district, subdistrict, community, grid, compound, bbox)
    col = "id" if level == "stairwell" else level_column(level)
    if every and (fmt == "geojson" or not area.everything or level == "stairwell"):
        raise GisServiceError("--all gives shares for the whole city: no geojson, no area filters")
    with session("service areas") as (conn, step):
        params = service_of(conn, layer, kind, radius_m, minutes, speed, mode, life_circle)
        if every:
            from gis_service.distributed import dask_client, nearest_all

            step("running on Dask")
            with dask_client(scheduler, workers) as client:
                near = nearest_all(client, conn, params)
            meta = {"parameters": params.as_dict(), "distributed": True, "level": level}
            shares = with_names(conn, shares_table(near, col), level)
            shown = [col, "name", "stairwells", "served_stairwells", "share_households",
                     "share_elderly_households"]  # fmt: skip
            formats.write_table(shares, fmt, output, meta, shown)
            return
        inputs = service_inputs(conn, params, area, stairwells=fmt != "geojson", progress=step)
        meta = {"parameters": params.as_dict(), "area": area.as_dict(), "level": level}
        if fmt == "geojson":
            polys = area_frame(inputs, params, not dissolve, 25.0)
            texts = formats.geojson_texts(polys.geometry.to_numpy())
            formats.write_out(
                formats.feature_collection(polys, texts, polys["facility_id"].tolist(), meta),
                output,
            )
            return
        near = nearest_table(inputs, params, step)
        if level == "stairwell":
            rows = pd.DataFrame(near[STAIRWELL_COLUMNS])
            formats.write_table(rows, fmt, output, meta, STAIRWELL_COLUMNS)
            return
        shares = with_names(conn, shares_table(near, col), level)
    shown = [col, "name", "stairwells", "served_stairwells", "share_households",
             "share_elderly_households"]  # fmt: skip
    formats.write_table(shares, fmt, output, meta, shown)


@analyze_app.command("gaps")
def gaps_command(
    layer: str = LAYER, kind: str = KIND, radius_m: float = RADIUS, minutes: float = MINUTES,
    speed: str = SPEED, life_circle: str = LIFE_CIRCLE, mode: str = MODE, level: str = LEVEL,
    district: int = DISTRICT, subdistrict: int = SUBDISTRICT, community: int = COMMUNITY,
    grid: int = GRID, compound: int = COMPOUND, bbox: str = BBOX,
    fmt: str = FORMAT, output: Path = OUTPUT,
) -> None:  # fmt: skip
    """Stairwells and households not served per level (geojson: the unserved stairwells)."""
    area = area_of(district, subdistrict, community, grid, compound, bbox)
    col = level_column(level)
    with session("gaps") as (conn, step):
        params = service_of(conn, layer, kind, radius_m, minutes, speed, mode, life_circle)
        near = nearest_table(service_inputs(conn, params, area, progress=step), params, step)
        meta = {"parameters": params.as_dict(), "area": area.as_dict(), "level": level}
        if fmt == "geojson":
            unserved = near[~near["served"]]
            texts = formats.geojson_texts(unserved["geometry"].to_numpy())
            formats.write_out(
                formats.feature_collection(unserved, texts, unserved["id"].tolist(), meta), output
            )
            return
        frame = with_names(conn, gaps_table(near, col), level)
    shown = [col, "name", "stairwells", "unserved_stairwells", "unserved_households",
             "share_unserved_households", "unserved_elderly_households"]  # fmt: skip
    formats.write_table(frame, fmt, output, meta, shown)


@analyze_app.command("siting")
def siting_command(
    layer: str = LAYER, kind: str = KIND, radius_m: float = RADIUS, minutes: float = MINUTES,
    speed: str = SPEED, life_circle: str = LIFE_CIRCLE, mode: str = MODE,
    k: int = typer.Option(None, "--k", "-k", help="Number of sites to choose"),
    budget: float = typer.Option(None, help="Budget over --budget-field"),
    budget_field: str = typer.Option("cost_yuan", help="cost_yuan or area_m2"),
    method: str = typer.Option("greedy", help="greedy (fast) or exact (CBC, with the gap)"),
    weight: str = typer.Option("households", help="households, elderly_households, stairwells"),
    time_limit_s: float = typer.Option(30.0, help="Time limit of the exact solver"),
    district: int = DISTRICT, subdistrict: int = SUBDISTRICT, community: int = COMMUNITY,
    grid: int = GRID, compound: int = COMPOUND, bbox: str = BBOX,
    fmt: str = FORMAT, output: Path = OUTPUT,
) -> None:  # fmt: skip
    """Choose candidate sites serving the most households not served yet."""
    area = area_of(district, subdistrict, community, grid, compound, bbox)
    with session("siting") as (conn, step):
        svc = service_of(conn, layer, kind, radius_m, minutes, speed, mode, life_circle)
        params = SitingParams(svc, k, budget, budget_field, method, weight, time_limit_s)
        result = run_siting(conn, params, area, progress=step)
    if fmt == "json":
        formats.write_out(formats.dumps(result) + b"\n", output)
        return
    chosen = pd.DataFrame(result["chosen"])
    if fmt == "csv":
        formats.write_out(formats.to_csv(chosen), output)
        return
    gap = result["optimality_gap"]
    summary = (
        f"{len(result['site_ids'])} sites ({result['method']}, {result['status']}"
        + (f", gap {100 * gap:.2f} %" if gap is not None else "")
        + f"): {result['newly_served_households']:,.0f} households newly served\n"
    )
    formats.write_out(formats.text_table(chosen) + summary if len(chosen) else summary, output)


def evaluation_of(conn: sa.Connection, record: dict[str, Any], level: str) -> pd.DataFrame:
    """A stored scenario's evaluation (stored rows when current, else computed)."""
    return store.current_evaluation(conn, record, level)[0]


def parse_amenity(text: str, kind: str) -> dict[str, Any]:
    """SITE, SITE:SIZE or SITE:SIZE:KIND as an amenity (KIND: e.g. stacked_garage)."""
    site, _, rest = text.partition(":")
    size, _, facility_kind = rest.partition(":")
    try:
        return {
            "site_id": int(site), "kind": kind, "size": float(size) if size else None,
            "facility_kind": facility_kind or None,
        }  # fmt: skip
    except ValueError as exc:
        raise GisServiceError(f"--{kind} takes SITE_ID[:SIZE[:KIND]], not {text!r}") from exc


@scenario_app.command("list")
def scenario_list(fmt: str = FORMAT, output: Path = OUTPUT) -> None:
    """Stored scenarios."""
    with session("scenarios") as (conn, _):
        rows = store.fetch_all(conn)
    frame = pd.DataFrame(rows, columns=["id", "name", "description", "created_at"])
    frame["created_at"] = frame["created_at"].astype(str)
    formats.write_table(frame, fmt, output, {})


@scenario_app.command("show")
def scenario_show(
    scenario_id: int = typer.Argument(..., help="Scenario id"), level: str = LEVEL,
    changed_only: bool = typer.Option(False, help="Only rows the scenario changes"),
    fmt: str = FORMAT, output: Path = OUTPUT,
) -> None:  # fmt: skip
    """A scenario's indicators: baseline, scenario and delta per unit of a level."""
    with session("scenario") as (conn, step):
        record = store.fetch(conn, scenario_id, True)
        step("evaluating")
        frame = evaluation_of(conn, record, level)
    if changed_only:
        frame = store.only_changed(frame, ["delta"])
    meta = {"id": scenario_id, "name": record["name"], "level": level}
    formats.write_table(frame, fmt, output, meta)


@scenario_app.command("create")
def scenario_create(
    name: str = typer.Argument(..., help="Unique name"),
    description: str = typer.Option(None, help="What the scenario is about"),
    batch: list[int] = typer.Option([], "--batch", help="Put a retrofit batch into service"),
    elevator: list[int] = typer.Option([], "--elevator", help="Put a stairwell into service"),
    garden: list[str] = typer.Option([], "--garden", help="New garden: SITE_ID[:M2[:KIND]]"),
    parking: list[str] = typer.Option(
        [], "--parking", help="New parking: SITE_ID[:SPACES[:KIND]], e.g. 3:60:stacked_garage"
    ),
    mode: str = MODE,
) -> None:  # fmt: skip
    """Store a scenario (checked against the database) and print its id."""
    raw = {
        "elevators": elevator,
        "batches": batch,
        "amenities": [parse_amenity(g, "garden") for g in garden]
        + [parse_amenity(p, "parking") for p in parking],
    }
    with session("scenario") as (conn, step):
        step("evaluating")
        new_id = store.create(conn, name, description, raw, {"mode": mode}, None)
    typer.echo(json.dumps({"id": new_id, "name": name}, ensure_ascii=False))


@scenario_app.command("compare")
def scenario_compare(
    ids: list[int] = typer.Argument(..., help="Scenario ids"), level: str = LEVEL,
    changed_only: bool = typer.Option(False, help="Only rows some scenario changes"),
    fmt: str = FORMAT, output: Path = OUTPUT,
) -> None:  # fmt: skip
    """Scenarios side by side: baseline, each scenario and its delta per unit and indicator."""
    parts = []
    with session("compare") as (conn, step):
        for scenario_id in ids:
            step(f"scenario {scenario_id}")
            parts.append(
                (scenario_id, evaluation_of(conn, store.fetch(conn, scenario_id, True), level))
            )
    merged = store.side_by_side(parts, level_column(level))
    if changed_only:
        merged = store.only_changed(merged, [f"delta_{i}" for i in ids])
    formats.write_table(merged, fmt, output, {"level": level, "ids": ids})


@scenario_app.command("delete")
def scenario_delete(scenario_id: int = typer.Argument(..., help="Scenario id")) -> None:
    """Remove a stored scenario."""
    with session("scenario") as (conn, _):
        store.delete(conn, scenario_id)
    typer.echo(f"scenario {scenario_id} deleted")


analyze_app.command("supply")(supply_command)  # after the others, as `--help` lists them
analyze_app.command("consent")(consent_command)
analyze_app.command("complete-community")(checklist_command)
