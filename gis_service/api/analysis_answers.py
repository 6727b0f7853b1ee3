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
from gis_service.datasets.cache import ResultCache, scope_key
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
CSV_TYPE = "text/csv; charset=utf-8"
_LOCK = threading.Lock()
Body = tuple[bytes, str]
"""An answer's bytes and media type."""


def caches(request: Request) -> tuple[ResultCache, ResultCache, ResultCache]:
    """The app's result, street-graph and answer-bytes caches (made on first use)."""
    state = request.app.state
    with _LOCK:
        if getattr(state, "analysis_cache", None) is None:
            state.analysis_cache = ResultCache(maxsize=128)
            state.graph_cache = ResultCache(maxsize=8)  # graphs, stairwells as read, snaps
            limit = state.settings.answer_cache_bytes
            state.answer_cache = ResultCache(maxsize=256, max_bytes=limit)
    return state.analysis_cache, state.graph_cache, state.answer_cache


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
    results = caches(asked.request)[0]
    return results.get_or_compute(key.scoped(asked.principal, asked.conn), compute)


def answered(
    asked: Asked,
    key: ResultKey,
    compute: Callable[[], Any],
    variant: tuple[Any, ...],
    render: Callable[[Any, bool], Body],
) -> Response:
    """The answer to a question in one variant (format, level...): its bytes as last sent when
    the result and its data are unchanged, else rendered from the (cached or computed) result.

    The bytes of a hit are kept, so a repeated question costs a lookup, not a serialisation.
    """
    results, _, bodies = caches(asked.request)
    full = key.scoped(asked.principal, asked.conn)
    found, kept = bodies.get((*full, *variant))
    if found:
        return answer(kept[0], kept[1], True)
    value, hit = results.get_or_compute(full, compute)
    body, media_type = render(value, hit)
    if hit:
        bodies.put((*full, *variant), (body, media_type))
    return answer(body, media_type, hit)


def answer(body: bytes | str, media_type: str, hit: bool | None = None) -> Response:
    """A response with an X-Cache header telling whether the result came from the cache."""
    headers = {} if hit is None else {"X-Cache": "hit" if hit else "miss"}
    return Response(body, media_type=media_type, headers=headers)


def table_answer(
    conn: sa.Connection, frame: pd.DataFrame, level: str, f: str, hit: bool, meta: dict[str, Any]
) -> Response:
    """A per-level table as JSON, CSV or GeoJSON of the level's polygons, as a response."""
    body, media_type = table_body(conn, frame, level, f, hit, meta)
    return answer(body, media_type, hit)


def table_body(
    conn: sa.Connection, frame: pd.DataFrame, level: str, f: str, hit: bool, meta: dict[str, Any]
) -> Body:
    """A per-level table as JSON, CSV or GeoJSON of the level's polygons."""
    if f == "csv":
        return formats.to_csv(frame).encode(), CSV_TYPE
    if f == "geojson":
        col = f"{level}_id"
        rows = frame[frame[col].notna()]
        geoms = level_geometries(conn, level, [int(i) for i in rows[col]])
        texts = [geoms.get(int(i)) for i in rows[col]]
        return formats.feature_collection(rows, texts, rows[col].tolist(), meta), GEOJSON
    body = formats.dumps({**meta, "cached": hit, "rows": formats.records(frame)})
    return body, "application/json"


def nearest_compute(asked: Asked, params: ServiceParams, area: Area) -> Callable[[], Any]:
    """How the per-stairwell nearest facility and distance are computed on a miss."""

    def compute() -> pd.DataFrame:
        scope = scope_key(asked.principal)
        inputs = service_inputs(asked.conn, params, area, graphs=asked.graphs(), scope=scope)
        return nearest_table(inputs, params)

    return compute


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

        def polygons(polys: Any, hit: bool) -> Body:
            texts = formats.geojson_texts(polys.geometry.to_numpy())
            ids = polys["facility_id"].tolist()
            return formats.feature_collection(polys, texts, ids, meta), GEOJSON

        key = areas_key(params, per_facility, buffer_m, area)
        return answered(asked, key, compute, (f,), polygons)

    def table(near: pd.DataFrame, hit: bool) -> Body:
        if f == "csv":
            return formats.to_csv(near).encode(), CSV_TYPE
        payload: dict[str, Any] = {**meta, "cached": hit, "level": level}
        if level != "stairwell":
            shares = with_names(conn, shares_table(near, level_column(level)), level)
            payload["summary"] = formats.records(shares)
        payload["unsnapped"] = unsnapped_counts(near)
        payload["stairwells"] = formats.records(near)
        return formats.dumps(payload), "application/json"

    variant = (f,) if f == "csv" else (f, level)
    return answered(asked, nearest_key(params, area), nearest_compute(asked, params, area),
                    variant, table)  # fmt: skip


def unsnapped_counts(near: pd.DataFrame) -> dict[str, int]:
    """How many stairwells found no walkable way, by reason."""
    if "unsnapped" not in near:
        return {}
    return {str(k): int(v) for k, v in near["unsnapped"].dropna().value_counts().items()}


def gaps_answer(asked: Asked, params: ServiceParams, area: Area, level: str, f: str) -> Response:
    """Stairwells and households not served within the radius, per level, or as points."""
    conn = asked.conn
    meta = {"parameters": params.as_dict(), "area": area.as_dict(), "level": level}

    def render(near: pd.DataFrame, hit: bool) -> Body:
        if f == "geojson":
            unserved = near[~near["served"]]
            texts = formats.geojson_texts(unserved["geometry"].to_numpy())
            ids = unserved["id"].tolist()
            return formats.feature_collection(unserved, texts, ids, meta), GEOJSON
        gaps = with_names(conn, gaps_table(near, level_column(level)), level)
        return table_body(conn, gaps, level, f, hit, meta)

    compute = nearest_compute(asked, params, area)
    return answered(asked, nearest_key(params, area), compute, ("gaps", f, level), render)


def siting_answer(asked: Asked, params: SitingParams, area: Area) -> Response:
    """The chosen candidate sites and the households they newly serve, cached."""
    compute = lambda: run_siting(asked.conn, params, area, asked.graphs())  # noqa: E731
    result, hit = cached(asked, siting_key(params, area), compute)
    return answer(formats.dumps({**result, "cached": hit}), "application/json", hit)
