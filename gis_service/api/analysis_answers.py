"""Answers of the analysis endpoints: cached results as JSON, CSV or GeoJSON."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd
import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import Response

from gis_service.api.metrics import REFRESHED_AHEAD
from gis_service.api.packed import (
    KeptBody,
    Piece,
    accepts_zstd,
    is_big,
    keep,
    kept_for_repeat,
    sent_then_kept,
)
from gis_service.api.sent import PartsResponse, Pieces, PiecesResponse, Streamed
from gis_service.auth import Principal, apply_scope
from gis_service.datasets import formats
from gis_service.datasets.ahead_order import refresh_ahead
from gis_service.datasets.area import Area
from gis_service.datasets.cache import ResultCache, VersionKey, scope_key
from gis_service.datasets.changes import Changes
from gis_service.datasets.edit_listener import EditListener
from gis_service.datasets.keys import ResultKey, areas_key, nearest_key, siting_key
from gis_service.datasets.live import Ahead, Follower, LiveAnswers, Refresh
from gis_service.datasets.load import level_geometries
from gis_service.datasets.params import ServiceParams, level_column
from gis_service.datasets.rows_json import json_with_rows
from gis_service.datasets.runs import (
    Nearest,
    area_frame,
    gaps_of_shares,
    nearest_table,
    refreshed_nearest,
    refreshed_shares,
    service_inputs,
    written_stairwells,
)
from gis_service.datasets.siting import SitingParams, run_siting

GEOJSON = "application/geo+json"
CSV_TYPE = "text/csv; charset=utf-8"
_LOCK = threading.Lock()
Body = tuple[bytes, str]
"""An answer's bytes and media type."""
Rendered = tuple[bytes | Pieces | Streamed, str]
"""An answer's bytes (whole, in pieces, or in parts sent as they are made) and media type."""
Render = Callable[[sa.Connection, Any, bool], Rendered]
"""How a result is rendered: (connection, result, whether it was kept) -> bytes, media type."""


def caches(request: Request) -> tuple[ResultCache, ResultCache, ResultCache]:
    """The app's result, street-graph and answer-bytes caches (made on first use)."""
    state = request.app.state
    with _LOCK:
        if getattr(state, "analysis_cache", None) is None:
            state.analysis_cache = ResultCache(maxsize=128)
            state.graph_cache = ResultCache(maxsize=12)  # graphs, and places on them:
            # the stairwells' snaps and each layer's access stretches (small)
            limit = state.settings.answer_cache_bytes
            state.answer_cache = ResultCache(maxsize=256, max_bytes=limit)
            state.live_answers = LiveAnswers()
            state.live_inputs = LiveAnswers(maxsize=2)  # a city's stairwells, as read
    return state.analysis_cache, state.graph_cache, state.answer_cache


def live_answers(request: Request) -> LiveAnswers:
    """The app's answers kept up to date from the row_change feed."""
    caches(request)
    live: LiveAnswers = request.app.state.live_answers
    return live


def refresh_kept(state: Any, more_written: Callable[[], bool]) -> None:
    """Refresh the app's kept answers after an edit committed (the edit listener's call, on
    its thread: the transactions are on the listener's own connection)."""
    live: LiveAnswers | None = getattr(state, "live_answers", None)
    if live is not None:
        begin = state.edit_listener.transaction
        REFRESHED_AHEAD.inc(refresh_ahead(live, begin, state.in_flight.busy, more_written))


def ahead_of(asked: Asked, tables: tuple[str, ...], refresh: Refresh) -> Ahead | None:
    """How the question is refreshed after an edit with no request, when the app listens for
    edits: in the caller's scope, on the listener's connection to the primary (a replica may
    not have the edit yet)."""
    listener: EditListener | None = getattr(asked.request.app.state, "edit_listener", None)
    if listener is None:
        return None
    listener.wanted()
    return Ahead(partial(apply_scope, principal=asked.principal), tables, refresh)


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
    render: Render,
    refresh: Refresh | None = None,
) -> Response:
    """The answer to a question in one variant (format, level...): its bytes as last sent when
    the result and its data are unchanged, else rendered from the (cached, refreshed or
    computed) result.

    The bytes are kept, so a repeated question costs a lookup, not a serialisation.
    With `refresh`, the result follows written stairwells and buildings (datasets/live.py),
    and, when the app listens for edits, is refreshed and rendered again as soon as one
    commits, so the next request finds its bytes kept (or waits for the refresh under way).
    """
    results, _, bodies = caches(asked.request)
    question, versions = key.split(asked.principal, asked.conn)
    asked_for = (*question, versions, *variant)
    sent, ahead = kept_answer(asked.request, bodies, asked_for), None
    if refresh is None:
        if sent is not None:
            return sent
        value, hit = results.get_or_compute((*question, versions), compute)
    else:
        live = live_answers(asked.request)
        if sent is not None:
            live.asked(question)  # refreshed ahead while it is asked
            return sent
        ahead = ahead_of(asked, key.tables, refresh)
        value, hit = live.value(asked.conn, question, versions, compute, refresh, ahead)
        sent = kept_answer(asked.request, bodies, asked_for) if hit and ahead else None
        if sent is not None:  # refreshed and rendered ahead while this request waited
            return sent
    body, media_type = render(asked.conn, value, hit)
    if ahead is not None and cheap_to_render_again(body):
        live.follow(question, variant, rendered_ahead(bodies, question, variant, render))
    return sent_and_kept(bodies, asked_for, body, media_type, hit, (*question, *variant))


def kept_answer(request: Request, bodies: ResultCache, key: tuple[Any, ...]) -> Response | None:
    """The kept bytes of an answer (packed when they are and the client accepts zstd), if any."""
    found, kept = bodies.get(key)
    if not found:
        return None
    if kept.zstd is not None and accepts_zstd(request):
        packed = answer(kept.zstd, kept.media_type, True)
        packed.headers["Content-Encoding"] = "zstd"
        return packed
    repeat = kept_for_repeat(bodies, key, kept)
    return answer(Pieces(repeat.pieces), kept.media_type, True)


def cheap_to_render_again(body: bytes | Pieces | Streamed) -> bool:
    """Whether an answer is rendered again after each edit, before anyone asks: JSON rows
    spliced from the last answer (in pieces), or a small answer; never a streamed one (a
    city's CSV) or a big one written whole (per-stairwell records)."""
    if isinstance(body, Streamed):
        return False
    return isinstance(body, Pieces) or not is_big(len(body))


def rendered_ahead(
    bodies: ResultCache, question: tuple[Any, ...], variant: tuple[Any, ...], render: Render
) -> Follower:
    """How a variant's bytes follow its question's value refreshed ahead: rendered (as a
    repeat gets them) and kept under the new data versions."""

    def follow(conn: sa.Connection, value: Any, versions: VersionKey,
               unchanged_from: VersionKey | None) -> None:  # fmt: skip
        if unchanged_from is not None:  # a write this scope cannot see: the same bytes
            found, kept = bodies.get((*question, unchanged_from, *variant))
            if found:
                bodies.put((*question, versions, *variant), kept)
                return
        body, media_type = render(conn, value, True)
        if not isinstance(body, Streamed):
            keep(bodies, (*question, versions, *variant), KeptBody(pieces_of(body), media_type),
                 (*question, *variant))  # fmt: skip

    return follow


def pieces_of(body: bytes | Pieces) -> tuple[Piece, ...]:
    """An answer's bytes as the pieces it is kept in."""
    return tuple(body.pieces) if isinstance(body, Pieces) else (body,)


def sent_and_kept(
    bodies: ResultCache, key: tuple[Any, ...], body: bytes | Pieces | Streamed, media_type: str,
    hit: bool, slot: tuple[Any, ...] | None = None,
) -> Response:  # fmt: skip
    """A new answer's response; its bytes are kept for repeats as the pieces they are sent in,
    never joined (a streamed answer's once its last part is made), packed unless a newer
    answer of the slot comes first (packed.keep)."""
    if isinstance(body, Streamed):
        parts = sent_then_kept(bodies, key, body.parts, media_type)
        return PartsResponse(parts, media_type, answer_headers(hit))
    keep(bodies, key, KeptBody(pieces_of(body), media_type, as_sent=not hit), slot)
    return answer(body, media_type, hit)


def answer(body: bytes | str | Pieces, media_type: str, hit: bool | None = None) -> Response:
    """A response with the answer's headers (answer_headers), its pieces sent as they are."""
    if isinstance(body, Pieces):
        return PiecesResponse(body.pieces, media_type, answer_headers(hit))
    return Response(body, media_type=media_type, headers=answer_headers(hit))


def answer_headers(hit: bool | None) -> dict[str, str]:
    """X-Cache telling whether the result came from the cache, and Vary: Accept-Encoding (a
    kept answer may be sent packed)."""
    headers = {"Vary": "Accept-Encoding"}
    if hit is not None:
        headers["X-Cache"] = "hit" if hit else "miss"
    return headers


def table_answer(
    conn: sa.Connection, frame: pd.DataFrame, level: str, f: str, hit: bool, meta: dict[str, Any]
) -> Response:
    """A per-level table as JSON, CSV or GeoJSON of the level's polygons, as a response."""
    body, media_type = table_body(conn, frame, level, f, hit, meta)
    return answer(body, media_type, hit)


def table_body(
    conn: sa.Connection, frame: pd.DataFrame, level: str, f: str, hit: bool, meta: dict[str, Any]
) -> tuple[bytes | Pieces, str]:
    """A per-level table as JSON, CSV or GeoJSON of the level's polygons."""
    if f == "csv":
        return formats.to_csv_bytes(frame), CSV_TYPE
    if f == "geojson":
        col = f"{level}_id"
        rows = frame[frame[col].notna()]
        geoms = level_geometries(conn, level, [int(i) for i in rows[col]])
        texts = [geoms.get(int(i)) for i in rows[col]]
        return formats.feature_collection(rows, texts, rows[col].tolist(), meta), GEOJSON
    return Pieces(json_with_rows({**meta, "cached": hit}, "rows", frame)), "application/json"


def nearest_compute(asked: Asked, params: ServiceParams, area: Area) -> Callable[[], Any]:
    """How the per-stairwell nearest facility and distance are computed on a miss."""

    def compute() -> Nearest:
        scope = scope_key(asked.principal)
        live = asked.request.app.state.live_inputs
        inputs = service_inputs(asked.conn, params, area, graphs=asked.graphs(), scope=scope,
                                live=live)  # fmt: skip
        return Nearest(nearest_table(inputs, params))

    return compute


def nearest_refresh(asked: Asked, params: ServiceParams, area: Area) -> Refresh:
    """How a per-stairwell nearest answer follows written stairwells and buildings."""

    graphs = asked.graphs()

    def refresh(conn: sa.Connection, before: Nearest, changes: Changes) -> Nearest:
        written = written_stairwells(conn, changes)
        table = refreshed_nearest(conn, before.table, written, params, area, graphs)
        return refreshed_shares(conn, before, table, written)

    return refresh


def answered_nearest(
    asked: Asked, params: ServiceParams, area: Area, variant: tuple[Any, ...],
    render: Render,
) -> Response:  # fmt: skip
    """An answer rendered from the per-stairwell nearest table (computed, kept or refreshed)."""
    compute, refresh = nearest_compute(asked, params, area), nearest_refresh(asked, params, area)
    return answered(asked, nearest_key(params, area), compute, variant, render, refresh)


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

        def polygons(_: sa.Connection, polys: Any, hit: bool) -> Body:
            texts = formats.geojson_texts(polys.geometry.to_numpy())
            ids = polys["facility_id"].tolist()
            return formats.feature_collection(polys, texts, ids, meta), GEOJSON

        key = areas_key(params, per_facility, buffer_m, area)
        return answered(asked, key, compute, (f,), polygons)

    def table(at: sa.Connection, near: Nearest, hit: bool) -> Rendered:
        if f == "csv":  # a city's is 100+ MB: sent as it is written
            return Streamed(formats.csv_parts(near.table)), CSV_TYPE
        payload: dict[str, Any] = {**meta, "cached": hit, "level": level}
        tail = {"unsnapped": near.unsnapped_counts()}
        if level == "stairwell":
            return formats.dumps({**payload, "stairwells": formats.records(near.table),
                                  **tail}), "application/json"  # fmt: skip
        # a unit's shares, without a row per stairwell (a city's would be 200 MB)
        pieces = json_with_rows(payload, "summary", near.shares_at(at, level), tail)
        return Pieces(pieces), "application/json"

    return answered_nearest(asked, params, area, (f,) if f == "csv" else (f, level), table)


def gaps_answer(asked: Asked, params: ServiceParams, area: Area, level: str, f: str) -> Response:
    """Stairwells and households not served within the radius, per level, or as points."""
    meta = {"parameters": params.as_dict(), "area": area.as_dict(), "level": level}

    def render(at: sa.Connection, nearest: Nearest, hit: bool) -> Rendered:
        near = nearest.table
        if f == "geojson":
            unserved = near[~near["served"]]
            texts = formats.geojson_texts(unserved["geometry"].to_numpy())
            ids = unserved["id"].tolist()
            return formats.feature_collection(unserved, texts, ids, meta), GEOJSON
        gaps = gaps_of_shares(nearest.shares_at(at, level), level_column(level))
        return table_body(at, gaps, level, f, hit, meta)

    return answered_nearest(asked, params, area, ("gaps", f, level), render)


def siting_answer(asked: Asked, params: SitingParams, area: Area) -> Response:
    """The chosen candidate sites and the households they newly serve, cached."""
    compute = lambda: run_siting(asked.conn, params, area, asked.graphs())  # noqa: E731
    result, hit = cached(asked, siting_key(params, area), compute)
    return answer(formats.dumps({**result, "cached": hit}), "application/json", hit)
