"""Benchmark: our vector tiles vs tipg on the same PostGIS, tables and tile list, cold and warm.

Builds a throwaway PostGIS, loads the demo city of at least N stairwells (`--stairwells`,
1,000,000 by default), draws a fixed, seeded list of distinct stairwell tiles at z12–z17 around
the populated area, and serves them by our app (uvicorn, planner token) and by tipg (uvicorn,
same database and table), each with `--workers` processes (1 by default: one uvicorn process
each; with several, uvicorn's shared accept socket hands a burst of keep-alive connections to
one worker, so a pass mostly exercises one of them). Both get the same concurrency
(`--concurrency` asyncio clients over HTTP/1.1 keep-alive). Zoom by zoom: cold is the first
pass over that zoom's tiles (PostgreSQL buffers prewarmed for both); warm the median of
`--rounds` passes after `--warmup` passes, alternating ours and tipg so that load from other
processes falls on both; `warm_one_client` a warm pass with a single client (latency without
queueing), followed by as many `/live` requests by the same asyncio client
(`live_one_client`: the framework and network floor measured the same way, at the same
moment). Ratios are given per zoom, and pooled for z12–z14 (where we aggregate) apart from
z15–z17 (where both draw every point). A warm tile is set against `/live` with the same
token (the framework and network floor): `warm_tile_to_live` is the worst zoom's ratio of
medians with both requested in turns by one synchronous client (same client, connection and
moment); `warm_tile_async_to_live_sync` keeps the earlier, mixed figure (the asyncio client's
slowest zoom against the synchronous client's `/live`). Also checks, on z15–z17 tiles, that
both tiles hold the same stairwells. Prints one JSON line. With `--database-url` and
`--token` an existing demo city is used instead, read-only (no load; pg_prewarm only if the
extension is already installed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import sqlalchemy as sa
from common import demo_city, server
from http_load import Connection

from gis_service.db.cluster import free_port, throwaway_cluster
from gis_service.db.engine import create_db_engine

ZOOMS = range(12, 18)
PROPERTIES = "id,label,elevator_status,survey_status,households,compound_id,grid_id"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Column and row of the WebMercatorQuad tile holding a point."""
    n = 2**z
    lat_r = math.radians(lat)
    y = (1.0 - math.log(math.tan(lat_r) + 1.0 / math.cos(lat_r)) / math.pi) / 2.0 * n
    return math.floor((lon + 180.0) / 360.0 * n), math.floor(y)


def tile_list(engine: sa.Engine, per_zoom: int, seed: int) -> list[tuple[int, int, int]]:
    """Distinct tiles around randomly drawn stairwells (seeded), shuffled, z12–z17."""
    rng = random.Random(seed)
    with engine.connect() as conn:
        top = int(conn.execute(sa.text("SELECT max(id) FROM stairwell")).scalar_one())
        ids = rng.sample(range(1, top + 1), min(top, per_zoom * 4))
        points = conn.execute(
            sa.text("SELECT ST_X(geom), ST_Y(geom) FROM stairwell WHERE id = ANY(:ids) "
                    "ORDER BY id"),
            {"ids": ids},
        ).all()
    tiles: list[tuple[int, int, int]] = []
    for z in ZOOMS:
        seen: set[tuple[int, int, int]] = set()
        for lon, lat in points:
            seen.add((z, *tile_of(lon, lat, z)))
            if len(seen) == per_zoom:
                break
        tiles.extend(sorted(seen))
    rng.shuffle(tiles)
    return tiles


@dataclass
class Pass:
    """Figures of one pass over the tile list."""

    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    hits: int

    def figures(self) -> dict[str, float]:
        """requests/s, p50 and p99 in milliseconds."""
        ordered = sorted(self.latencies)
        pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3, 2)  # noqa: E731
        return {"rps": round(self.requests / self.seconds, 1), "p50_ms": pick(0.5),
                "p99_ms": pick(0.99), "errors": self.errors}


async def run_pass(base: str, paths: list[str], headers: dict[str, str], clients: int) -> Pass:
    """Request every path once with `clients` concurrent clients (keep-alive connections of the
    lean client, http_load.py, opened at the start of the pass)."""
    queue = list(reversed(paths))
    latencies: list[float] = []
    errors = hits = 0
    connections = [Connection(base, headers) for _ in range(clients)]

    async def worker(conn: Connection) -> None:
        nonlocal errors, hits
        while queue:
            path = queue.pop()
            started = time.perf_counter()
            status, answer_headers, _ = await conn.get(path)
            latencies.append(time.perf_counter() - started)
            errors += status not in (200, 204)
            hits += answer_headers.get(b"x-tile-cache") == b"hit"

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(conn) for conn in connections))
    finally:
        await asyncio.gather(*(conn.close() for conn in connections))
    seconds = time.perf_counter() - started
    return Pass(len(latencies), seconds, latencies, errors, hits)


Sides = dict[str, tuple[str, dict[int, list[str]], dict[str, str]]]
"""Per server: base URL, the tile paths of each zoom, request headers."""
LOW, RAW = (12, 13, 14), (15, 16, 17)
"""Zooms where we aggregate (and tipg draws every point) and zooms where both draw raw points."""


def measure(sides: Sides, args: Any) -> dict[str, Any]:
    """Per zoom: a cold pass of each side, warm-up passes, warm passes alternating the sides,
    and a warm pass with one client; plus the low (aggregated) and raw zooms pooled."""
    figures: dict[str, dict[str, Any]] = {name: {} for name in sides}

    def once(name: str, z: int, clients: int) -> Pass:
        base, paths, headers = sides[name]
        return asyncio.run(run_pass(base, paths[z], headers, clients))

    passes: dict[str, dict[int, dict[str, Pass]]] = {name: {} for name in sides}
    for z in ZOOMS:
        for name in sides:
            passes[name][z] = {"cold": once(name, z, args.concurrency)}
        for _ in range(args.warmup):
            for name in sides:
                once(name, z, args.concurrency)
        warm: dict[str, list[Pass]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name in sides:
                warm[name].append(once(name, z, args.concurrency))
        for name in sides:
            median = sorted(warm[name], key=lambda p: p.requests / p.seconds)[len(warm[name]) // 2]
            passes[name][z]["warm"] = median
            passes[name][z]["warm_one_client"] = once(name, z, 1)
            if name == "ours":  # /live by the same client machinery, right after: the floor
                base, paths, headers = sides[name]
                live = ["/live"] * len(paths[z])
                passes[name][z]["live_one_client"] = asyncio.run(run_pass(base, live, headers, 1))
    for name, by_zoom in passes.items():
        for z, kinds in by_zoom.items():
            figures[name][f"z{z}"] = {kind: p.figures() for kind, p in kinds.items()}
            figures[name][f"z{z}"]["warm_cache_hits"] = round(
                kinds["warm"].hits / max(1, kinds["warm"].requests), 3
            )
        for label, zooms in (("low_z12_14", LOW), ("raw_z15_17", RAW)):
            figures[name][label] = {
                kind: pooled([by_zoom[z][kind] for z in zooms]).figures()
                for kind in ("cold", "warm", "warm_one_client")
            }
    return figures


def pooled(passes: list[Pass]) -> Pass:
    """Several passes as one (their requests, seconds and latencies summed)."""
    return Pass(sum(p.requests for p in passes), sum(p.seconds for p in passes),
                [x for p in passes for x in p.latencies], sum(p.errors for p in passes),
                sum(p.hits for p in passes))  # fmt: skip


def by_zoom(tiles: list[tuple[int, int, int]], template: str) -> dict[int, list[str]]:
    """The paths of the tiles of each zoom, from a template with {z}, {x} and {y}."""
    return {z: [template.format(z=z, x=x, y=y) for t, x, y in tiles if t == z] for z in ZOOMS}


def live_round_trip(base: str, token: str, runs: int = 200) -> float:
    """Median milliseconds of GET /live with the token (the network and framework floor)."""
    times = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(runs):
            started = time.perf_counter()
            client.get("/live").raise_for_status()
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def tile_and_live(base: str, token: str, paths: list[str], runs: int = 200) -> dict[str, float]:
    """Median milliseconds of a warm tile and of GET /live, both with the token, taken in turns
    by one client (the same client, connection and moment for both), and their ratio."""
    times: dict[str, list[float]] = {"tile": [], "live": []}
    hits = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        for path in paths:  # warm every tile of the list first
            client.get(path).raise_for_status()
        for i in range(runs):
            for kind, path in (("tile", paths[i % len(paths)]), ("live", "/live")):
                started = time.perf_counter()
                answer = client.get(path)
                times[kind].append(time.perf_counter() - started)
                answer.raise_for_status()
                hits += kind == "tile" and answer.headers.get("x-tile-cache") == "hit"
    tile_ms, live_ms = (statistics.median(times[k]) * 1e3 for k in ("tile", "live"))
    return {"tile_p50_ms": round(tile_ms, 3), "live_p50_ms": round(live_ms, 3),
            "ratio": round(tile_ms / live_ms, 2), "cache_hits": round(hits / runs, 3)}


def inside_ids(content: bytes, layer: str) -> set[int]:
    """Ids of the points strictly inside the tile (buffers differ; edge pixels are ambiguous)."""
    if not content:
        return set()
    decoded = mapbox_vector_tile.decode(content, default_options={"y_coord_down": True})
    return {int(f["properties"]["id"]) for f in decoded.get(layer, {"features": []})["features"]
            if all(0 < c < 4096 for c in f["geometry"]["coordinates"])}


def compare(ours: str, tipg: str, token: str, tiles: list[tuple[int, int, int]]) -> dict[str, Any]:
    """Same stairwells in both tiles, on tiles of z15–z17 (no aggregation, no cap)."""
    sample = [t for t in tiles if t[0] >= 15][:60]
    agree = 0
    features = 0
    with httpx.Client(timeout=120) as client:
        for z, x, y in sample:
            a = client.get(f"{ours}/tiles/stairwells/{z}/{x}/{y}.pbf",
                           headers={"Authorization": f"Bearer {token}"})
            b = client.get(f"{tipg}/collections/public.stairwell/tiles/WebMercatorQuad/"
                           f"{z}/{x}/{y}?properties={PROPERTIES}")
            mine, theirs = inside_ids(a.content, "stairwells"), inside_ids(b.content, "default")
            theirs = theirs or inside_ids(b.content, "stairwell")
            agree += mine == theirs
            features += len(mine)
    return {"tiles": len(sample), "agree": agree, "features": features,
            "counts_agree": agree == len(sample)}


def prewarm(engine: sa.Engine, create: bool) -> bool:
    """Load the stairwell table and its index into PostgreSQL's buffers (pg_prewarm); with an
    existing city (create=False) only when the extension is already there: it stays read-only."""
    with engine.begin() as conn:
        if create:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        elif not conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_prewarm'"))\
                .first():  # fmt: skip
            return False
        conn.execute(sa.text("SELECT pg_prewarm('stairwell'), pg_prewarm('ix_stairwell_geom')"))
    return True


@contextmanager
def city(args: Any) -> Iterator[tuple[str, str, float | None]]:
    """(database URL, planner token, load seconds): a throwaway cluster holding a new demo city,
    or the existing city of --database-url (read-only; its planner token from --token)."""
    if args.database_url:
        if not args.token:
            raise SystemExit("--database-url needs --token (a planner token of that city)")
        yield args.database_url, args.token, None
        return
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        engine, report, load_seconds = demo_city(cluster, args.stairwells)
        engine.dispose()
        yield cluster.url("bench"), report.tokens["planner"], load_seconds


def main() -> None:
    """Build the city (or take --database-url's), serve it both ways, measure, print one line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stairwells", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an existing demo city to use (read-only) "
                        "instead of loading one; with --token")  # fmt: skip
    parser.add_argument("--token", help="a planner token of the --database-url city")
    parser.add_argument("--per-zoom", type=int, default=120, help="distinct tiles per zoom")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of each server")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured passes before warm")
    parser.add_argument("--rounds", type=int, default=3, help="warm passes of each (median)")
    parser.add_argument("--seed", type=int, default=34)
    args = parser.parse_args()
    with city(args) as (url, token, load_seconds):
        engine = create_db_engine(url)
        tiles = tile_list(engine, args.per_zoom, args.seed)
        prewarmed = prewarm(engine, create=not args.database_url)
        with engine.connect() as conn:
            stairwells = int(conn.execute(sa.text("SELECT count(*) FROM stairwell")).scalar_one())
        engine.dispose()
        workers = ["--workers", str(args.workers)] if args.workers > 1 else []
        ours_env = {"GIS_DATABASE_URL": url, "GIS_POOL_SIZE": "8"}
        tipg_env = {"DATABASE_URL": url.replace("+psycopg", ""), "TIPG_DB_TABLES":
                    '["public.stairwell"]', "TIPG_DB_MAX_CONN_SIZE": "16"}
        with (server(["benchmarks.common:make_app", "--factory", *workers], ours_env,
                     free_port(), "/health") as ours_base,
              server(["tipg.main:app", *workers], tipg_env, free_port(), "/healthz") as tipg_base):
            figures = measure({
                "ours": (ours_base, by_zoom(tiles, "/tiles/stairwells/{z}/{x}/{y}.pbf"),
                         {"Authorization": f"Bearer {token}"}),
                "tipg": (tipg_base, by_zoom(tiles, "/collections/public.stairwell/tiles/"
                                            "WebMercatorQuad/{z}/{x}/{y}?properties="
                                            + PROPERTIES), {}),
            }, args)
            live_ms = live_round_trip(ours_base, token)
            in_turns = {f"z{z}": tile_and_live(ours_base, token, by_zoom(tiles, "/tiles/"
                                               "stairwells/{z}/{x}/{y}.pbf")[z]) for z in ZOOMS}
            agreement = compare(ours_base, tipg_base, token, tiles)
        ours, theirs = figures["ours"], figures["tipg"]
    ratio = lambda k, kind: round(theirs[k][kind]["p50_ms"] / ours[k][kind]["p50_ms"], 2)  # noqa: E731
    rps = lambda k, kind: round(ours[k][kind]["rps"] / theirs[k][kind]["rps"], 2)  # noqa: E731
    zones = [f"z{z}" for z in ZOOMS] + ["low_z12_14", "raw_z15_17"]
    speedups = {k: {"cold_rps": rps(k, "cold"), "warm_rps": rps(k, "warm"),
                    "cold_p50": ratio(k, "cold"), "warm_p50": ratio(k, "warm"),
                    "warm_one_client_p50": ratio(k, "warm_one_client")} for k in zones}
    warm_tile_ms = max(ours[f"z{z}"]["warm_one_client"]["p50_ms"] for z in ZOOMS)
    to_live = {f"z{z}": round(ours[f"z{z}"]["warm_one_client"]["p50_ms"]
                              / ours[f"z{z}"]["live_one_client"]["p50_ms"], 2) for z in ZOOMS}
    print(json.dumps({
        "benchmark": "tiles", "stairwells": stairwells, "existing_city": bool(args.database_url),
        "load_seconds": None if load_seconds is None else round(load_seconds, 1),
        "prewarmed": prewarmed, "tiles": len(tiles), "zooms": [12, 17],
        "concurrency": args.concurrency, "workers_each": args.workers, "cpus": os.cpu_count(),
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        "ours": ours, "tipg": theirs,
        "speedup_ours_over_tipg": speedups,
        "live_with_token_p50_ms": round(live_ms, 2),
        "warm_tile_one_client_p50_ms_worst_zoom": warm_tile_ms,
        "warm_tile_async_to_live_sync": round(warm_tile_ms / live_ms, 2),
        "warm_tile_to_live_same_client_by_zoom": to_live,
        "warm_tile_and_live_in_turns": in_turns,
        "warm_tile_to_live": max(v["ratio"] for v in in_turns.values()),
        "targets_met": {
            "cold_at_least_tipg_every_zoom": all(speedups[f"z{z}"]["cold_rps"] >= 1 for z in ZOOMS),
            "warm_5x_every_zoom": all(speedups[f"z{z}"]["warm_rps"] >= 5 for z in ZOOMS),
            "warm_tile_within_2x_live": max(v["ratio"] for v in in_turns.values()) <= 2,
            "warm_tile_within_2x_live_same_client_every_zoom": max(to_live.values()) <= 2,
        },
        "feature_check": agreement,
    }))


if __name__ == "__main__":
    main()
