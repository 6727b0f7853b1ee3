"""Answers of the analysis endpoints: cached results as JSON, CSV or GeoJSON."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import Response

from gis_service.auth import Principal
from gis_service.datasets import formats
from gis_service.datasets.area import Area
from gis_service.datasets.cache import (
    ResultCache,
)
from gis_service.datasets.keys import ResultKey, areas_key, nearest_key, siting_key
from gis_service.datasets.load import level_geometries
from gis_service.datasets.params import ServiceParams, level_column
from gis_service.datasets.runs import (
    area_frame,
    gaps_table,
    nearest_table,
    service_inputs,
    shares_table,
    with_names,
)
from gis_service.datasets.siting import SitingParams, run_siting

GEOJSON = "application/geo+json"
_LOCK = threading.Lock()


def caches(request: Request) -> tuple[ResultCache, ResultCache]:
    """The app's result cache and street-graph cache (made on first use)."""
    state = request.app.state
    with _LOCK:
        if getattr(state, "analysis_cache", None) is None:
            state.analysis_cache = ResultCache(maxsize=128)
            state.graph_cache = ResultCache(maxsize=4)
    return state.analysis_cache, state.graph_cache


@dataclass(frozen=True)
class Asked:
    """Who asks, and where: the request (its app's caches), the caller, their connection."""

    request: Request
    principal: Principal
    conn: sa.Connection

    def graphs(self) -> ResultCache:
        """The app's street-graph cache."""
        return caches(self.request)[1]


def cached(asked: Asked, key: ResultKey, compute: Callable[[], Any]) -> tuple[Any, bool]:
    """The result of a question for this caller and the data now, computed on a miss."""
    results, _ = caches(asked.request)
    return results.get_or_compute(key.scoped(asked.principal, asked.conn), compute)


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


def nearest(asked: Asked, params: ServiceParams, area: Area) -> tuple[pd.DataFrame, bool]:
    """Per-stairwell nearest facility and distance, cached."""

    def compute() -> pd.DataFrame:
        inputs = service_inputs(asked.conn, params, area, graphs=asked.graphs())
        return nearest_table(inputs, params)

    frame, hit = cached(asked, nearest_key(params, area), compute)
    return frame, hit


def service_areas_answer(
    asked: Asked, params: ServiceParams, area: Area, per_facility: bool, buffer_m: float,
    level: str, f: str,
) -> Response:  # fmt: skip
    """Service-area polygons (GeoJSON), or per-stairwell nearest distances (json, csv)."""
    conn = asked.conn
    meta = {"parameters": params.as_dict(), "rules": params.rules.as_dict(),
            "area": area.as_dict()}  # fmt: skip
    if f == "geojson":

        def compute() -> Any:
            inputs = service_inputs(conn, params, area, stairwells=False, graphs=asked.graphs())
            return area_frame(inputs, params, per_facility, buffer_m)

        polys, hit = cached(asked, areas_key(params, per_facility, buffer_m, area), compute)
        texts = formats.geojson_texts(polys.geometry.to_numpy())
        body = formats.feature_collection(polys, texts, polys["facility_id"].tolist(), meta)
        return answer(body, GEOJSON, hit)
    near, hit = nearest(asked, params, area)
    if f == "csv":
        return answer(formats.to_csv(near), "text/csv; charset=utf-8", hit)
    payload: dict[str, Any] = {**meta, "cached": hit, "level": level}
    if level != "stairwell":
        shares = with_names(conn, shares_table(near, level_column(level)), level)
        payload["summary"] = formats.records(shares)
    payload["unsnapped"] = unsnapped_counts(near)
    payload["stairwells"] = formats.records(near)
    return answer(formats.dumps(payload), "application/json", hit)


def unsnapped_counts(near: pd.DataFrame) -> dict[str, int]:
    """How many stairwells found no walkable way, by reason."""
    if "unsnapped" not in near:
        return {}
    return {str(k): int(v) for k, v in near["unsnapped"].dropna().value_counts().items()}


def gaps_answer(asked: Asked, params: ServiceParams, area: Area, level: str, f: str) -> Response:
    """Stairwells and households not served within the radius, per level, or as points."""
    conn = asked.conn
    near, hit = nearest(asked, params, area)
    meta = {"parameters": params.as_dict(), "area": area.as_dict(), "level": level}
    if f == "geojson":
        unserved = near[~near["served"]]
        texts = formats.geojson_texts(unserved["geometry"].to_numpy())
        body = formats.feature_collection(unserved, texts, unserved["id"].tolist(), meta)
        return answer(body, GEOJSON, hit)
    return table_answer(
        conn, with_names(conn, gaps_table(near, level_column(level)), level), level, f, hit, meta
    )


def siting_answer(asked: Asked, params: SitingParams, area: Area) -> Response:
    """The chosen candidate sites and the households they newly serve, cached."""
    compute = lambda: run_siting(asked.conn, params, area, asked.graphs())  # noqa: E731
    result, hit = cached(asked, siting_key(params, area), compute)
    return answer(formats.dumps({**result, "cached": hit}), "application/json", hit)
