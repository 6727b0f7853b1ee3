"""Imports and the serving process: /live latency and RSS while big or hostile imports run.

A throwaway PostGIS with the demo district, served by `gis-service serve` (one process). A
client in a process of its own polls /live every 20 ms while, in turn: nothing happens (the
peer: idle), a 49 MB GeoJSON dry run into gardens, and a zipped Shapefile bomb (about 2 MB
expanding to 1.5 GB) into parking. The RSS of the server process, and of its import workers,
is sampled every 50 ms. Prints one JSON line: per scenario the answer's status and time, /live
p50/p99/max, RSS peak; and the server's RSS before and after.
Usage: python benchmarks/import_isolation.py [--geojson-mb 49] [--bomb-rows 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
from load import served

sys.path.append(str(Path(__file__).resolve().parents[1]))
from tests.security.hostile_files import (
    big_geojson,
    expanded_size,
    shapefile_bomb,
)

MB = 1024 * 1024


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def poll_live(base: str, stop: Any, out: Any) -> None:
    """GET /live every 20 ms until stopped; the latencies go to `out` (a queue) at the end."""
    latencies: list[float] = []
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get("/live").raise_for_status()
            latencies.append(time.perf_counter() - started)
            time.sleep(0.02)
    out.put(latencies)


def sample_rss(pid: int, stop: threading.Event, out: list[tuple[int, int]]) -> None:
    """RSS of the server and the sum over its descendants (import workers) every 50 ms."""
    server = psutil.Process(pid)
    while not stop.is_set():
        kids = 0
        for child in server.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                kids += child.memory_info().rss
        out.append((server.memory_info().rss, kids))
        time.sleep(0.05)


def scenario(base: str, pid: int, action: Callable[[], httpx.Response | None]) -> dict[str, Any]:
    """Run one action while /live is polled (from another process) and RSS sampled."""
    context = multiprocessing.get_context("spawn")
    stop, queue = context.Event(), context.Queue()
    poller = context.Process(target=poll_live, args=(base, stop, queue))
    poller.start()
    done = threading.Event()
    rss: list[tuple[int, int]] = []
    sampler = threading.Thread(target=sample_rss, args=(pid, done, rss))
    sampler.start()
    time.sleep(1.5)  # the poller process starts
    started = time.perf_counter()
    answer = action()
    seconds = time.perf_counter() - started
    time.sleep(0.5)
    stop.set()
    done.set()
    latencies: list[float] = queue.get(timeout=60)
    poller.join()
    sampler.join()
    return {
        "status": answer.status_code if answer is not None else None,
        "seconds": round(seconds, 2),
        "live_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "live_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "live_max_ms": round(max(latencies) * 1000, 1),
        "server_rss_peak_mb": round(max(r[0] for r in rss) / MB),
        "workers_rss_peak_mb": round(max(r[1] for r in rss) / MB),
    }


def post(base: str, token: str, layer: str, path: Path, dry_run: bool) -> httpx.Response:
    """Upload a file to a layer's import."""
    with httpx.Client(base_url=base, timeout=600) as client:
        return client.post(
            f"/collections/{layer}/import",
            params={"dry_run": str(dry_run).lower()},
            files={"file": (path.name, path.read_bytes())},
            headers={"Authorization": f"Bearer {token}"},
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--geojson-mb", type=float, default=49)
    parser.add_argument("--bomb-rows", type=int, default=100_000)
    parser.add_argument("--bomb-fields", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        geojson = big_geojson(Path(tmp) / "gardens.geojson", int(args.geojson_mb * MB))
        bomb = shapefile_bomb(Path(tmp) / "parking.zip", args.bomb_rows, args.bomb_fields)
        sizes = {
            "geojson_mb": round(geojson.stat().st_size / MB, 1),
            "bomb_zip_mb": round(bomb.stat().st_size / MB, 1),
            "bomb_expanded_mb": round(expanded_size(bomb) / MB),
        }
        with served(1) as (base, token, proc):
            server = psutil.Process(proc.pid)
            rss_start = server.memory_info().rss
            idle = scenario(base, proc.pid, lambda: time.sleep(3) or None)
            dry = scenario(base, proc.pid, lambda: post(base, token, "gardens", geojson, True))
            boom = scenario(base, proc.pid, lambda: post(base, token, "parking", bomb, False))
            time.sleep(2)
            rss_end = server.memory_info().rss
    print(json.dumps({
        "benchmark": "import_isolation",
        **sizes,
        "server_rss_start_mb": round(rss_start / MB),
        "server_rss_end_mb": round(rss_end / MB),
        "idle": idle,
        "geojson_dry_run": dry,
        "zip_bomb": boom,
        "dry_run_live_p99_ratio": round(dry["live_p99_ms"] / idle["live_p99_ms"], 1),
        "bomb_live_p99_ratio": round(boom["live_p99_ms"] / idle["live_p99_ms"], 1),
    }))


if __name__ == "__main__":
    main()
