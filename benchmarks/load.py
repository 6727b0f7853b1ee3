"""Load test: a realistic mix of tiles (80 %), items (15 %) and edits (5 %) on loopback.

Without --url: a throwaway PostGIS with the demo district, served by `gis-service serve
--workers N`. Each of the concurrent clients loops until the time is up, drawing a kind:
a stairwell tile z14–z17 around the demo, a page of items in a small bbox, or an edit
(GET a stairwell, then PATCH its notes with If-Match as the planner). 412 on a racing edit is
a conflict, not an error. Prints one JSON line: requests/s, p50/p99 per kind, errors.
Usage: python benchmarks/load.py [--seconds 30] [--clients 16] [--workers 2]
       python benchmarks/load.py --url http://host:8000 --token PLANNER_TOKEN
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from common import wait_until_ready

MIX = (("tile", 0.80), ("items", 0.15), ("edit", 0.05))
ZOOMS = (14, 15, 16, 17)
OK = {"tile": {200, 204, 304}, "items": {200}, "edit": {200}}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Column and row of the WebMercatorQuad tile holding a point."""
    n = 2**z
    lat_r = math.radians(lat)
    y = (1.0 - math.log(math.tan(lat_r) + 1.0 / math.cos(lat_r)) / math.pi) / 2.0 * n
    return math.floor((lon + 180.0) / 360.0 * n), math.floor(y)


@dataclass
class Stats:
    """Latencies per kind, errors (with samples), 412 conflicts, HTTP requests sent."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k, _ in MIX})
    errors: int = 0
    conflicts: int = 0
    requests: int = 0
    samples: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        """Count an error and keep the first few for the report."""
        self.errors += 1
        if len(self.samples) < 5:
            self.samples.append(what)


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile in milliseconds (None without values)."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3, 2)


@dataclass
class Targets:
    """What the clients request: tile paths, item bboxes, stairwell ids to edit."""

    tiles: list[str]
    boxes: list[str]
    ids: list[int]


def targets(base: str, token: str, rng: random.Random) -> Targets:
    """Tiles and boxes around stairwells read from the API, and ids to edit."""
    auth = {"Authorization": f"Bearer {token}"}
    page = httpx.get(f"{base}/collections/stairwells/items?limit=1000", headers=auth, timeout=60)
    page.raise_for_status()
    points = [(f["id"], *f["geometry"]["coordinates"][:2]) for f in page.json()["features"]]
    tiles = sorted({f"/tiles/stairwells/{z}/{'/'.join(map(str, tile_of(x, y, z)))}.pbf"
                    for _, x, y in points for z in ZOOMS})  # fmt: skip
    boxes = [f"{x - 0.002:.6f},{y - 0.0015:.6f},{x + 0.002:.6f},{y + 0.0015:.6f}"
             for _, x, y in rng.sample(points, min(200, len(points)))]  # fmt: skip
    return Targets(tiles, boxes, [int(i) for i, _, _ in points])


async def edit(client: httpx.AsyncClient, fid: int, stats: Stats, n: int) -> int:
    """GET a stairwell, PATCH its notes with If-Match; the final status."""
    path = f"/collections/stairwells/items/{fid}"
    got = await client.get(path)
    stats.requests += 1
    if got.status_code != 200:
        return got.status_code
    body = {"type": "Feature", "properties": {"notes": f"load test edit {n}"}}
    sent = await client.patch(
        path,
        content=json.dumps(body),
        headers={"If-Match": got.headers["etag"], "Content-Type": "application/merge-patch+json"},
    )
    stats.requests += 1
    return sent.status_code


async def client_loop(
    client: httpx.AsyncClient, where: Targets, stats: Stats, deadline: float, seed: int
) -> None:
    """One client: draw a kind, request, record, until the deadline."""
    rng = random.Random(seed)
    kinds, weights = zip(*MIX, strict=True)
    n = 0
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        n += 1
        started = time.perf_counter()
        try:
            if kind == "tile":
                status = (await client.get(rng.choice(where.tiles))).status_code
                stats.requests += 1
            elif kind == "items":
                url = f"/collections/stairwells/items?limit=100&bbox={rng.choice(where.boxes)}"
                status = (await client.get(url)).status_code
                stats.requests += 1
            else:
                status = await edit(client, rng.choice(where.ids), stats, seed * 1_000_000 + n)
        except httpx.HTTPError as exc:
            stats.error(f"{kind}: {type(exc).__name__} {exc}")
            continue
        if kind == "edit" and status == 412:
            stats.conflicts += 1
        elif status not in OK[kind]:
            stats.error(f"{kind}: HTTP {status}")
            continue
        stats.latencies[kind].append(time.perf_counter() - started)


async def drive(base: str, token: str, seconds: float, clients: int, seed: int) -> dict[str, Any]:
    """Run the mix and return the figures."""
    where = targets(base, token, random.Random(seed))
    stats = Stats()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=60) as client:  # fmt: skip
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(client_loop(client, where, stats, deadline, seed + i) for i in range(clients))
        )
        elapsed = time.monotonic() - started
    done = sum(len(v) for v in stats.latencies.values())
    return {
        "seconds": round(elapsed, 1),
        "clients": clients,
        "requests_per_s": round(stats.requests / elapsed, 1),
        "operations": done,
        **{
            f"{k}_{q}_ms": percentile(v, p)
            for k, v in stats.latencies.items()
            for q, p in (("p50", 0.5), ("p99", 0.99))
        },
        "count": {k: len(v) for k, v in stats.latencies.items()},
        "errors": stats.errors,
        "edit_conflicts_412": stats.conflicts,
        "error_samples": stats.samples,
        "distinct_tiles": len(where.tiles),
    }


@contextmanager
def served(
    workers: int, env: dict[str, str] | None = None
) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """A throwaway PostGIS with the demo district served by `gis-service serve`.

    Yields the base URL, the planner's token and the server process; `env` adds settings.
    """
    from gis_service.db import migrate
    from gis_service.db.cluster import ensure_postgis, free_port, throwaway_cluster
    from gis_service.db.engine import create_db_engine
    from gis_service.ingest.demo_load import load_demo

    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        ensure_postgis(cluster.conninfo())
        engine = create_db_engine(cluster.url("postgres"))
        migrate.upgrade(engine)
        token = load_demo(engine).tokens["planner"]
        url = engine.url.render_as_string(hide_password=False)
        engine.dispose()
        port = free_port()
        settings = {**os.environ, "GIS_DATABASE_URL": url, "GIS_DATA_DIR": tmp, **(env or {})}
        proc = subprocess.Popen(
            [sys.executable, "-c", "from gis_service.cli import main; main()", "serve",
             "--no-demo", "--workers", str(workers), "--port", str(port)],
            env=settings, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_ready(f"{base}/ready", proc, "the service")
            yield base, token, proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@contextmanager
def local_service(workers: int) -> Iterator[tuple[str, str]]:
    """A throwaway PostGIS with the demo district served by `gis-service serve`; URL, token."""
    with served(workers) as (base, token, _proc):
        yield base, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="A running service (else a throwaway one is started)")
    parser.add_argument("--token", help="A planner's bearer token (with --url)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (local service)")
    parser.add_argument("--seed", type=int, default=34)
    args = parser.parse_args()
    if args.url:
        if not args.token:
            parser.error("--url needs --token (a planner's)")
        figures = asyncio.run(drive(args.url, args.token, args.seconds, args.clients, args.seed))
        figures["workers"] = None
    else:
        with local_service(args.workers) as (base, token):
            figures = asyncio.run(drive(base, token, args.seconds, args.clients, args.seed))
        figures["workers"] = args.workers
    print(json.dumps({"benchmark": "load_mix", **figures}))
    sys.exit(1 if figures["errors"] else 0)


if __name__ == "__main__":
    main()
