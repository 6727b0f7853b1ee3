"""Scenarios: stored sets of interventions, evaluated indicator by indicator against today."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from gis_service.api.analysis import Level
from gis_service.api.analysis_answers import answer, caches
from gis_service.api.deps import get_connection, get_principal
from gis_service.api.openapi import CSV, beyond_schema, errors, header, media
from gis_service.auth import Principal
from gis_service.datasets import formats
from gis_service.datasets import scenarios as store
from gis_service.datasets.cache import scope_key
from gis_service.datasets.params import bad, level_column
from gis_service.errors import Forbidden, Unauthorized

router = APIRouter(prefix="/scenarios", tags=["scenarios"])
MAX_COMPARED = 10
SCENARIO_ID = Path(ge=1, le=2**31 - 1, description="the scenario id")
SCENARIO = {"type": "object", "description": "the scenario and its evaluation (rows by level)"}
SHOWN: dict[int | str, dict[str, Any]] = {
    200: media("application/json", CSV, schema=SCENARIO, description="as JSON or CSV (f)")
}


class Amenity(BaseModel):
    """A garden (size in m²) or parking (size in spaces) of a kind on a candidate site."""

    model_config = ConfigDict(extra="forbid")
    site_id: int
    kind: Literal["garden", "parking"]
    facility_kind: str | None = Field(
        default=None,
        max_length=100,
        description="Kind within the layer (e.g. stacked_garage); default: the layer's first",
    )
    size: float | None = Field(
        default=None, ge=0, description="Default: the site's area / 25 m² a space"
    )


class Interventions(BaseModel):
    """Stairwells put into service (by id or whole batches) and amenities on candidate sites."""

    model_config = ConfigDict(extra="forbid")
    elevators: list[int] = Field(default_factory=list, max_length=1_000_000)
    batches: list[int] = Field(default_factory=list, max_length=10_000)
    amenities: list[Amenity] = Field(default_factory=list, max_length=10_000)


class Parameters(BaseModel):
    """How a scenario is measured (each kind's radius from the catalog unless one is given)."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["network", "crow"] = "network"
    decay: Literal["none", "gaussian", "stepped"] = "none"
    garden_radius_m: float | None = Field(
        default=None, gt=0, le=5000, description="One radius for every garden kind"
    )
    parking_radius_m: float | None = Field(
        default=None, gt=0, le=5000, description="One radius for every parking kind"
    )
    cutoff_year: int = Field(default=2000, ge=1800, le=2100)
    min_floors: int = Field(default=4, ge=1, le=200)


class ScenarioIn(BaseModel):
    """A new scenario."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    interventions: Interventions
    parameters: Parameters = Parameters()


def may(conn: sa.Connection, principal: Principal, privilege: str) -> None:
    """Raise unless the caller's database role holds a privilege on the scenario table."""
    if not store.holds(conn, privilege):
        if principal.is_anonymous:
            raise Unauthorized("sign in: scenarios need a bearer token")
        raise Forbidden(f"the {principal.role} role may not {privilege.lower()} scenarios")


def evaluation(
    request: Request, conn: sa.Connection, principal: Principal, record: dict[str, Any], level: str
) -> tuple[pd.DataFrame, str, dict[str, int]]:
    """A scenario's evaluation at a level: stored when current, else cached or computed."""
    results, graphs, _ = caches(request)
    return store.current_evaluation(conn, record, level, results, graphs, scope_key(principal))


def described(record: dict[str, Any]) -> dict[str, Any]:
    """A scenario without its stored results."""
    return {k: v for k, v in record.items() if k not in ("results", "results_versions")}


def show(
    request: Request,
    conn: sa.Connection,
    principal: Principal,
    record: dict[str, Any],
    level: str,
    changed_only: bool,
    f: str,
) -> Response:
    """One scenario with its evaluation, as JSON or a CSV table."""
    frame, source, versions = evaluation(request, conn, principal, record, level)
    if changed_only:
        frame = store.only_changed(frame, ["delta"])
    if f == "csv":
        return answer(formats.to_csv(frame), "text/csv; charset=utf-8", source != "computed")
    body = {
        **described(record),
        "evaluation": {
            "level": level,
            "source": source,
            "data_versions": versions,
            "rows": formats.records(frame),
        },
    }
    return answer(formats.dumps(body), "application/json", source != "computed")


@router.post(
    "",
    status_code=201,
    responses={
        201: media(
            "application/json", schema=SCENARIO, description="stored and evaluated",
            headers={"Location": header("/scenarios/<id>")},
        ),
        **errors(
            409, 422, e409="a scenario of this name exists already",
            e422="interventions unknown to the database, or parameters out of range",
        ),
    },
    openapi_extra=beyond_schema(
        422,
        "interventions: at least one; stairwells, retrofit batches and candidate sites that "
        "exist; each amenity on a site suited to its kind",
    ),
)
def create_scenario(
    request: Request,
    body: ScenarioIn,
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """Store a scenario after checking its interventions against the database; evaluated."""
    may(conn, principal, "INSERT")
    new_id = store.create(
        conn,
        body.name,
        body.description,
        body.interventions.model_dump(),
        body.parameters.model_dump(exclude_none=True),
        principal.user_id,
        caches(request)[1],
    )
    response = show(
        request, conn, principal, store.fetch(conn, new_id, True), "compound", False, "json"
    )
    response.status_code = 201
    response.headers["Location"] = f"/scenarios/{new_id}"
    return response


@router.get("")
def list_scenarios(conn: sa.Connection = Depends(get_connection, scope="function")) -> Response:
    """Every stored scenario (without evaluations)."""
    return answer(formats.dumps(store.fetch_all(conn)), "application/json")


@router.get("/compare", responses={**SHOWN, **errors(404)})
def compare_scenarios(
    request: Request,
    ids: str = Query(
        ...,
        description=f"Scenario ids, comma-separated, e.g. 1,2 (at most {MAX_COMPARED})",
        pattern=rf"^[0-9]{{1,9}}(,[0-9]{{1,9}}){{0,{MAX_COMPARED - 1}}}$",
    ),
    level: Level = Query("compound"),
    changed_only: bool = Query(False, description="Only rows some scenario changes"),
    f: Literal["json", "csv"] = Query("json"),
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """Scenarios side by side: baseline, each scenario's value and delta per unit and indicator."""
    try:
        wanted = list(dict.fromkeys(int(part) for part in ids.split(",") if part.strip()))
    except ValueError as exc:
        raise bad("ids", "a comma-separated list of scenario ids") from exc
    if not 1 <= len(wanted) <= MAX_COMPARED:
        raise bad("ids", f"give between 1 and {MAX_COMPARED} scenario ids")
    col = level_column(level)
    described_list, parts = [], []
    for scenario_id in wanted:
        record = store.fetch(conn, scenario_id, True)
        described_list.append(described(record))
        parts.append((scenario_id, evaluation(request, conn, principal, record, level)[0]))
    merged = store.side_by_side(parts, col)
    if changed_only:
        merged = store.only_changed(merged, [f"delta_{i}" for i in wanted])
    if f == "csv":
        return answer(formats.to_csv(merged), "text/csv; charset=utf-8")
    body = {"level": level, "scenarios": described_list, "rows": formats.records(merged)}
    return answer(formats.dumps(body), "application/json")


@router.get("/{scenario_id:int}", responses={**SHOWN, **errors(404)})
def get_scenario(
    request: Request,
    scenario_id: int = SCENARIO_ID,
    level: Level = Query("compound"),
    changed_only: bool = Query(False, description="Only rows the scenario changes"),
    f: Literal["json", "csv"] = Query("json"),
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """One scenario with every indicator's baseline, scenario value and delta by level."""
    record = store.fetch(conn, scenario_id, True)
    return show(request, conn, principal, record, level, changed_only, f)


@router.delete("/{scenario_id:int}", status_code=204, responses=errors(404))
def delete_scenario(
    scenario_id: int = SCENARIO_ID,
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """Remove a stored scenario."""
    may(conn, principal, "DELETE")
    store.delete(conn, scenario_id)
    return Response(status_code=204)
