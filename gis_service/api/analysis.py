"""Analysis endpoints: retrofit coverage, service areas, gaps and site selection (cached).

The router is built for a catalog: the layers, kinds and walking speeds a request may name
are the catalog's, listed in the OpenAPI document and checked by datasets/params.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import JsonDict

from gis_service.analysis.coverage import Eligibility
from gis_service.api.analysis_answers import (
    GEOJSON,
    Asked,
    answered,
    gaps_answer,
    service_areas_answer,
    siting_answer,
    table_body,
)
from gis_service.api.analysis_checklist import (
    COMMUNITIES,
    checklist_route,
    checklist_route_options,
)
from gis_service.api.analysis_consent import HOUSEHOLDS, consent_route, consent_route_options
from gis_service.api.analysis_supply import definitions, supply_description, supply_route
from gis_service.api.deps import get_connection, get_principal
from gis_service.api.openapi import CSV, beyond_schema, header
from gis_service.auth import Principal
from gis_service.catalog import MAX_RADIUS_M, Catalog
from gis_service.datasets.area import BBOX_PATTERN, Area, parse_bbox
from gis_service.datasets.changes import Changes
from gis_service.datasets.keys import coverage_key
from gis_service.datasets.params import (
    DEFAULT_LAYER,
    ServiceParams,
    default_layer,
    level_column,
    service_params,
)
from gis_service.datasets.runs import coverage_table, refreshed_coverage, with_names
from gis_service.datasets.siting import SitingParams

Level = Literal["grid", "compound", "community", "subdistrict", "district"]
ServedLevel = Literal["stairwell", "grid", "compound", "community", "subdistrict", "district"]
Mode = Literal["network", "crow"]
AREA_RULES = (
    "district_id, subdistrict_id, community_id, grid_id, compound_id: units that exist",
    "bbox: west < east within -180..180, south < north within -90..90",
    "the area holds data to analyse",
)
SERVICE_RULES = (
    "kind: a kind of the chosen layer",
    "radius_m or minutes, not both; minutes of walking at the chosen speed at most "
    f"{MAX_RADIUS_M:g} m; without either, the layer's default radius",
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


def coverage_route(catalog: Catalog) -> Callable[..., Response]:
    """The /analysis/coverage handler; its answers state the catalog's definitions."""

    def coverage(
        request: Request,
        level: Level = Query("compound", description="Unit the figures are grouped by"),
        batch: int | None = Query(None, description="Project this retrofit batch into service"),
        touched_only: bool = Query(True, description="With batch: only units the batch touches"),
        cutoff_year: int = Query(
            Eligibility.cutoff_year, ge=1800, le=2100, description="Eligible: completed by"
        ),
        min_floors: int = Query(
            Eligibility.min_floors, ge=1, le=200, description="Eligible: at least these floors"
        ),
        f: Literal["json", "csv", "geojson"] = Query("json", description="Output format"),
        area: Area = Depends(area_query),
        principal: Principal = Depends(get_principal),
        conn: sa.Connection = Depends(get_connection, scope="function"),
    ) -> Response:
        """Retrofit coverage of eligible stairwells per level, or a batch's projection."""
        col = level_column(level)
        rule = Eligibility(cutoff_year, min_floors)

        def compute() -> pd.DataFrame:
            table = coverage_table(conn, col, area, batch, rule, touched_only)
            return with_names(conn, table, level)

        key = coverage_key(level, batch, touched_only, rule, area)
        stated = definitions(catalog, rule)
        meta = {
            "level": level, "batch": batch, "area": area.as_dict(), "eligibility": vars(rule),
            "definitions": {n: stated[n] for n in ("eligible", "coverage") if n in stated},
        }  # fmt: skip

        def refresh(now: sa.Connection, table: pd.DataFrame, changes: Changes) -> pd.DataFrame:
            return refreshed_coverage(now, table, changes, level, area, rule)

        render = lambda at, frame, hit: table_body(at, frame, level, f, hit, meta)  # noqa: E731
        asked = Asked(request, principal, conn)
        return answered(asked, key, compute, (f,), render, None if batch else refresh)

    return coverage


class ServiceDoc:
    """The catalog's choices for a service question, as the OpenAPI document lists them."""

    def __init__(self, catalog: Catalog) -> None:
        self.layers = catalog.service_layers()
        self.default = default_layer(catalog)
        self.speeds = list(catalog.walking_speeds())
        slowest = min((p.m_per_min for p in catalog.walking_speeds().values()), default=None)
        self.max_minutes = MAX_RADIUS_M / slowest if slowest else None
        self.circles = list(catalog.life_circles())
        kinds, radii = [], []
        for layer_id in self.layers:
            service = catalog.layer(layer_id).service
            assert service is not None
            spec = catalog.layer(layer_id).field(service.kind_field)
            kinds.append(f"{layer_id}: {', '.join(spec.enum or [f'a code of {spec.enum_from}'])}")
            radii.append(f"{layer_id} {service.radii_m['default']:g} m")
        self.kinds = "Kind within the layer (all when omitted). " + "; ".join(kinds)
        self.radius = "Radius in metres (default: the layer's, per kind: " + ", ".join(radii) + ")"

    def layer(self) -> JsonDict:
        """JSON schema extras of the layer parameter."""
        return {"enum": list(self.layers)}

    def speed(self) -> JsonDict:
        """JSON schema extras of the walking speed parameter."""
        return {"enum": list(self.speeds)}

    def minutes(self) -> JsonDict:
        """JSON schema extras of minutes: no speed walks farther than MAX_RADIUS_M."""
        return {} if self.max_minutes is None else {"maximum": self.max_minutes}

    def circle(self) -> JsonDict:
        """JSON schema extras of the life circle parameter."""
        return {"enum": list(self.circles)}


def service_query_for(catalog: Catalog) -> Callable[..., ServiceParams]:
    """The dependency reading a service question of the catalog's layers from the query."""
    doc = ServiceDoc(catalog)

    def service_query(
        layer: str = Query(
            doc.default, description="Analysable layer", json_schema_extra=doc.layer()
        ),
        kind: str | None = Query(None, description=doc.kinds),
        radius_m: float | None = Query(
            None, gt=0, description=doc.radius, json_schema_extra={"maximum": MAX_RADIUS_M}
        ),
        minutes: float | None = Query(
            None,
            gt=0,
            description="Radius in minutes of walking",
            json_schema_extra=doc.minutes(),
        ),
        speed: str = Query("normal", description="Walking speed", json_schema_extra=doc.speed()),
        life_circle: str | None = Query(
            None,
            description="A life circle: its minutes at the speed (10min + elderly: "
            "within 10 minutes for an elderly person)",
            json_schema_extra=doc.circle(),
        ),
        mode: Mode = Query("network", description="Along streets or not"),
        conn: sa.Connection = Depends(get_connection, scope="function"),
    ) -> ServiceParams:
        """The validated service question of a request (default radius from the catalog)."""
        return service_params(
            conn, layer, kind, radius_m, minutes, speed, mode, catalog, life_circle
        )

    return service_query


class SitingRequest(BaseModel):
    """Where to add facilities: candidate sites serving the most unserved households."""

    model_config = ConfigDict(extra="forbid")
    layer: str = DEFAULT_LAYER
    kind: str | None = None
    radius_m: float | None = Field(default=None, gt=0, json_schema_extra={"maximum": MAX_RADIUS_M})
    minutes: float | None = Field(default=None, gt=0)
    speed: str = "normal"
    life_circle: str | None = None
    mode: Mode = "network"
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

    def area(self) -> Area:
        """The area the sites are chosen for."""
        return Area(
            self.district_id, self.subdistrict_id, self.community_id, self.grid_id,
            self.compound_id, parse_bbox(self.bbox),
        )  # fmt: skip


def siting_request_for(catalog: Catalog) -> type[SitingRequest]:
    """SitingRequest with the catalog's layers, kinds and walking speeds in its schema."""
    doc = ServiceDoc(catalog)
    model: type[SitingRequest] = create_model(
        "SitingRequest",
        __base__=SitingRequest,
        layer=(str, Field(default=doc.default, json_schema_extra=doc.layer())),
        kind=(str | None, Field(default=None, description=doc.kinds)),
        speed=(str, Field(default="normal", json_schema_extra=doc.speed())),
        minutes=(float | None, Field(default=None, gt=0, json_schema_extra=doc.minutes())),
        life_circle=(str | None, Field(default=None, json_schema_extra=doc.circle())),
    )
    return model


_ROUTERS: dict[int, tuple[Catalog, APIRouter]] = {}


def router_for(catalog: Catalog) -> APIRouter:
    """The /analysis routes of a catalog, built once (apps of one catalog share them)."""
    found = _ROUTERS.get(id(catalog))
    if found is None or found[0] is not catalog:
        found = _ROUTERS[id(catalog)] = (catalog, build_router(catalog))
    return found[1]


def build_router(catalog: Catalog) -> APIRouter:
    """The /analysis routes for a catalog (its analysable layers and walking speeds)."""
    router = APIRouter(prefix="/analysis", tags=["analysis"])
    stated = definitions(catalog)
    router.add_api_route(
        "/coverage", coverage_route(catalog), methods=["GET"],
        description="Retrofit coverage of eligible stairwells per level, or a batch's "
        "before/after projection.\n\n"
        + "\n".join(f"- {stated[n]['en']}" for n in ("eligible", "coverage") if n in stated),
        responses=tables("application/json", CSV, GEOJSON),
        openapi_extra=beyond_schema(422, "batch: a retrofit batch that exists", *AREA_RULES),
    )  # fmt: skip
    router.add_api_route(
        "/supply", supply_route(catalog, area_query), methods=["GET"],
        description=supply_description(catalog),
        responses=tables("application/json", CSV, GEOJSON),
        openapi_extra=beyond_schema(
            422, "measure: a supply measure of the chosen layer", "target: below 1,000,000",
            "the catalog states the demand; mode=network: it has a walkable network",
            *AREA_RULES,
        ),
    )  # fmt: skip
    if HOUSEHOLDS in catalog.layers:
        router.add_api_route(
            "/consent", consent_route(catalog), methods=["GET"], **consent_route_options()
        )
    if COMMUNITIES in catalog.layers and catalog.complete_community() is not None:
        router.add_api_route(
            "/complete-community", checklist_route(catalog, area_query), methods=["GET"],
            **checklist_route_options(catalog),
        )  # fmt: skip
    service_query = service_query_for(catalog)

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
        level: ServedLevel = Query(
            "compound",
            description="f=json: the unit of the served shares (the answer's summary); "
            "stairwell: instead, per stairwell the distance, minutes, facility reached and the "
            "access point used (f=csv is always per stairwell)",
        ),
        f: Literal["geojson", "json", "csv"] = Query("geojson", description="Output format"),
        area: Area = Depends(area_query),
        principal: Principal = Depends(get_principal),
        conn: sa.Connection = Depends(get_connection, scope="function"),
    ) -> Response:
        """Service-area polygons (GeoJSON), or per-stairwell nearest distances (json, csv)."""
        asked = Asked(request, principal, conn)
        return service_areas_answer(asked, params, area, per_facility, buffer_m, level, f)

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
        return gaps_answer(Asked(request, principal, conn), params, area, level, f)

    def siting(
        request: Request,
        body: SitingRequest,
        principal: Principal = Depends(get_principal),
        conn: sa.Connection = Depends(get_connection, scope="function"),
    ) -> Response:
        """Choose k candidate sites (or within a budget) serving the most unserved households."""
        svc = service_params(
            conn, body.layer, body.kind, body.radius_m, body.minutes, body.speed, body.mode,
            catalog, body.life_circle,
        )  # fmt: skip
        params = SitingParams(
            svc, body.k, body.budget, body.budget_field, body.method, body.weight,
            body.time_limit_s,
        )  # fmt: skip
        return siting_answer(Asked(request, principal, conn), params, body.area())

    siting.__annotations__["body"] = siting_request_for(catalog)  # the schema of this catalog
    router.add_api_route(
        "/siting",
        siting,
        methods=["POST"],
        responses=tables("application/json"),
        openapi_extra=beyond_schema(422, "k or budget, or both", *SERVICE_RULES, *AREA_RULES),
    )
    return router
