"""Analysis endpoints: retrofit coverage, service areas, gaps and site selection (cached)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from gis_service.analysis.coverage import Eligibility
from gis_service.api.deps import get_connection, get_principal
from gis_service.api.openapi import CSV, beyond_schema, header
from gis_service.auth import Principal
from gis_service.datasets import formats
from gis_service.datasets.area import BBOX_PATTERN, Area, parse_bbox
from gis_service.datasets.cache import (
    HIERARCHY_TABLES,
    STAIRWELL_TABLES,
    ResultCache,
    freeze,
    scope_key,
    versions_key,
)
from gis_service.datasets.load import LAYER_TABLES, level_geometries
from gis_service.datasets.params import (
    MAX_RADIUS_M,
    SPEEDS,
    ServiceParams,
    level_column,
    service_params,
)
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

router = APIRouter(prefix="/analysis", tags=["analysis"])
Level = Literal["grid", "compound", "community", "subdistrict", "district"]
Layer = Literal["gardens", "parking", "facilities"]
GEOJSON = "application/geo+json"
_LOCK = threading.Lock()
MAX_MINUTES = MAX_RADIUS_M / min(SPEEDS.values())
AREA_RULES = (
    "district_id, subdistrict_id, community_id, grid_id, compound_id: units that exist",
    "bbox: west < east within -180..180, south < north within -90..90",
    "the area holds data to analyse",
)
SERVICE_RULES = (
    "kind: a kind of the chosen layer",
    "radius_m or minutes, not both; minutes of walking at the chosen speed at most "
    f"{MAX_RADIUS_M:g} m; without either, the layer's default radius from the catalog",
    "mode=network: the area has streets",
)
CACHE_HEADER = {"X-Cache": header("hit when the result came from the cache, else miss")}
TABLE = {"type": "object", "description": "the parameters, then one row per unit"}
FEATURES = {"type": "object", "description": "a GeoJSON FeatureCollection"}


def tables(*kinds: str) -> dict[int | str, dict[str, Any]]:
    """The answers of an analysis: JSON, CSV or GeoJSON by `f`, from the cache or computed."""
    schemas = {"application/json": TABLE, GEOJSON: FEATURES, CSV: None}
    content = {kind: ({"schema": schemas[kind]} if schemas[kind] else {}) for kind in kinds}
    ok = {"description": "the result in the format asked for (f)", "content": content}
    return {200: {**ok, "headers": CACHE_HEADER}}


def caches(request: Request) -> tuple[ResultCache, ResultCache]:
    """The app's result cache and street-graph cache (made on first use)."""
    state = request.app.state
    with _LOCK:
        if getattr(state, "analysis_cache", None) is None:
            state.analysis_cache = ResultCache(maxsize=128)
            state.graph_cache = ResultCache(maxsize=4)
    return state.analysis_cache, state.graph_cache


def cached(
    request: Request,
    conn: sa.Connection,
    principal: Principal,
    key: tuple[Hashable, ...],
    tables: tuple[str, ...],
    compute: Callable[[], Any],
) -> tuple[Any, bool]:
    """A result for key + caller scope + data versions of tables, computed on a miss."""
    results, _ = caches(request)
    full = (*key, scope_key(principal), versions_key(conn, tables))
    return results.get_or_compute(full, compute)


def area_query(
    district_id: int | None = Query(None, description="Only this district"),
    subdistrict_id: int | None = Query(None, description="Only this subdistrict"),
    community_id: int | None = Query(None, description="Only this community"),
    grid_id: int | None = Query(None, description="Only this grid"),
    compound_id: int | None = Query(None, description="Only this compound"),
    bbox: str | None = Query(
        None, description="west,south,east,north in degrees", pattern=BBOX_PATTERN
    ),
) -> Area:
    """The area filter of a request."""
    return Area(district_id, subdistrict_id, community_id, grid_id, compound_id, parse_bbox(bbox))


def answer(body: bytes | str, media_type: str, hit: bool | None = None) -> Response:
    """A response with an X-Cache header telling whether the result came from the cache."""
    headers = {} if hit is None else {"X-Cache": "hit" if hit else "miss"}
    return Response(body, media_type=media_type, headers=headers)


def table_answer(
    conn: sa.Connection, frame: pd.DataFrame, level: str, f: str, hit: bool, meta: dict[str, Any]
) -> Response:
    """A per-level table as JSON, CSV or GeoJSON of the level's polygons."""
    if f == "csv":
        return answer(formats.to_csv(frame), "text/csv; charset=utf-8", hit)
    if f == "geojson":
        col = f"{level}_id"
        rows = frame[frame[col].notna()]
        geoms = level_geometries(conn, level, [int(i) for i in rows[col]])
        texts = [geoms.get(int(i)) for i in rows[col]]
        body = formats.feature_collection(rows, texts, rows[col].tolist(), meta)
        return answer(body, GEOJSON, hit)
    return answer(
        formats.dumps({**meta, "cached": hit, "rows": formats.records(frame)}),
        "application/json",
        hit,
    )


@router.get(
    "/coverage",
    responses=tables("application/json", CSV, GEOJSON),
    openapi_extra=beyond_schema(422, "batch: a retrofit batch that exists", *AREA_RULES),
)
def coverage(
    request: Request,
    level: Level = Query("compound", description="Unit the figures are grouped by"),
    batch: int | None = Query(None, description="Project this retrofit batch into service"),
    touched_only: bool = Query(True, description="With batch: only units the batch touches"),
    cutoff_year: int = Query(Eligibility.cutoff_year, ge=1800, le=2100),
    min_floors: int = Query(Eligibility.min_floors, ge=1, le=200),
    f: Literal["json", "csv", "geojson"] = Query("json", description="Output format"),
    area: Area = Depends(area_query),
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """Retrofit coverage of eligible stairwells per level, or a batch's before/after projection."""
    col = level_column(level)
    rule = Eligibility(cutoff_year, min_floors)
    key = ("coverage", level, batch, touched_only, cutoff_year, min_floors, area.key())
    tables = (*STAIRWELL_TABLES, "retrofit_batch")

    def compute() -> pd.DataFrame:
        return with_names(conn, coverage_table(conn, col, area, batch, rule, touched_only), level)

    frame, hit = cached(request, conn, principal, key, tables, compute)
    meta = {"level": level, "batch": batch, "area": area.as_dict(), "eligibility": vars(rule)}
    return table_answer(conn, frame, level, f, hit, meta)


def service_query(
    layer: Layer = Query("gardens", description="Facility layer"),
    kind: str | None = Query(None, description="Kind within the layer (all when omitted)"),
    radius_m: float | None = Query(None, gt=0, le=MAX_RADIUS_M, description="Radius in metres"),
    minutes: float | None = Query(
        None, gt=0, le=MAX_MINUTES, description="Radius in minutes of walking"
    ),
    speed: Literal["normal", "elderly"] = Query("normal", description="Walking speed"),
    mode: Literal["network", "crow"] = Query("network", description="Along streets or not"),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> ServiceParams:
    """The validated service question of a request (default radius from the catalog)."""
    return service_params(conn, layer, kind, radius_m, minutes, speed, mode)


def service_tables(params: ServiceParams) -> tuple[str, ...]:
    """Tables a service answer depends on."""
    return (*STAIRWELL_TABLES, LAYER_TABLES[params.layer], "street")


def nearest(
    request: Request,
    conn: sa.Connection,
    principal: Principal,
    params: ServiceParams,
    area: Area,
) -> tuple[pd.DataFrame, bool]:
    """Per-stairwell nearest facility and distance, cached."""
    _, graphs = caches(request)

    def compute() -> pd.DataFrame:
        return nearest_table(service_inputs(conn, params, area, graphs=graphs), params)

    key = ("nearest", freeze(params.as_dict()), area.key())
    frame, hit = cached(request, conn, principal, key, service_tables(params), compute)
    return frame, hit


@router.get(
    "/service-areas",
    responses=tables(GEOJSON, "application/json", CSV),
    openapi_extra=beyond_schema(422, *SERVICE_RULES, *AREA_RULES),
)
def service_areas(
    request: Request,
    params: ServiceParams = Depends(service_query),
    per_facility: bool = Query(True, description="One polygon per facility, or one dissolved"),
    buffer_m: float = Query(25.0, ge=0, le=200, description="Buffer around reached streets"),
    level: Level = Query("compound", description="f=json: unit of the served shares"),
    f: Literal["geojson", "json", "csv"] = Query("geojson", description="Output format"),
    area: Area = Depends(area_query),
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """Service-area polygons (GeoJSON), or per-stairwell nearest distances (json, csv)."""
    meta = {"parameters": params.as_dict(), "area": area.as_dict()}
    if f == "geojson":
        _, graphs = caches(request)

        def compute() -> Any:
            inputs = service_inputs(conn, params, area, stairwells=False, graphs=graphs)
            return area_frame(inputs, params, per_facility, buffer_m)

        key = ("areas", freeze(params.as_dict()), per_facility, buffer_m, area.key())
        tables = (LAYER_TABLES[params.layer], "street", *HIERARCHY_TABLES)
        polys, hit = cached(request, conn, principal, key, tables, compute)
        texts = formats.geojson_texts(polys.geometry.to_numpy())
        body = formats.feature_collection(polys, texts, polys["facility_id"].tolist(), meta)
        return answer(body, GEOJSON, hit)
    near, hit = nearest(request, conn, principal, params, area)
    if f == "csv":
        return answer(formats.to_csv(near), "text/csv; charset=utf-8", hit)
    col = level_column(level)
    shares = with_names(conn, shares_table(near, col), level)
    payload = {
        **meta,
        "cached": hit,
        "level": level,
        "summary": formats.records(shares),
        "stairwells": formats.records(near),
    }
    return answer(formats.dumps(payload), "application/json", hit)


@router.get(
    "/gaps",
    responses=tables("application/json", CSV, GEOJSON),
    openapi_extra=beyond_schema(422, *SERVICE_RULES, *AREA_RULES),
)
def gaps(
    request: Request,
    params: ServiceParams = Depends(service_query),
    level: Level = Query("compound", description="Unit the gaps are counted by"),
    f: Literal["json", "csv", "geojson"] = Query("json", description="geojson: the stairwells"),
    area: Area = Depends(area_query),
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """Stairwells and households not served within the radius, per level, or as points."""
    near, hit = nearest(request, conn, principal, params, area)
    meta = {"parameters": params.as_dict(), "area": area.as_dict(), "level": level}
    if f == "geojson":
        unserved = near[~near["served"]]
        texts = formats.geojson_texts(unserved["geometry"].to_numpy())
        body = formats.feature_collection(unserved, texts, unserved["id"].tolist(), meta)
        return answer(body, GEOJSON, hit)
    return table_answer(
        conn, with_names(conn, gaps_table(near, level_column(level)), level), level, f, hit, meta
    )


class SitingRequest(BaseModel):
    """Where to add facilities: candidate sites serving the most unserved households."""

    model_config = ConfigDict(extra="forbid")
    layer: Layer = "gardens"
    kind: str | None = None
    radius_m: float | None = Field(default=None, gt=0, le=MAX_RADIUS_M)
    minutes: float | None = Field(default=None, gt=0, le=MAX_MINUTES)
    speed: Literal["normal", "elderly"] = "normal"
    mode: Literal["network", "crow"] = "network"
    k: int | None = Field(default=None, ge=1, le=1000, description="Number of sites to choose")
    budget: float | None = Field(default=None, ge=0, description="Total of budget_field allowed")
    budget_field: Literal["cost_yuan", "area_m2"] = "cost_yuan"
    method: Literal["greedy", "exact"] = "greedy"
    weight: Literal["households", "elderly_households", "stairwells"] = "households"
    time_limit_s: float = Field(default=30.0, gt=0, le=300)
    district_id: int | None = None
    subdistrict_id: int | None = None
    community_id: int | None = None
    grid_id: int | None = None
    compound_id: int | None = None
    bbox: str | None = Field(
        default=None, description="west,south,east,north in degrees", pattern=BBOX_PATTERN
    )


@router.post(
    "/siting",
    responses=tables("application/json"),
    openapi_extra=beyond_schema(
        422, "k or budget, or both", *SERVICE_RULES, *AREA_RULES
    ),
)
def siting(
    request: Request,
    body: SitingRequest,
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """Choose k candidate sites (or within a budget) serving the most unserved households."""
    svc = service_params(
        conn, body.layer, body.kind, body.radius_m, body.minutes, body.speed, body.mode
    )
    params = SitingParams(
        svc, body.k, body.budget, body.budget_field, body.method, body.weight, body.time_limit_s
    )
    area = Area(
        body.district_id,
        body.subdistrict_id,
        body.community_id,
        body.grid_id,
        body.compound_id,
        parse_bbox(body.bbox),
    )
    _, graphs = caches(request)
    key = ("siting", freeze(params.as_dict()), area.key())
    tables = (*service_tables(svc), "candidate_site")
    result, hit = cached(
        request, conn, principal, key, tables, lambda: run_siting(conn, params, area, graphs)
    )
    return answer(formats.dumps({**result, "cached": hit}), "application/json", hit)
