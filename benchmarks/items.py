"""Items throughput: 1,000-feature pages of stairwells from our OGC API Features and from tipg.

Both serve the same table of a throwaway PostGIS holding a demo city of >= 100k stairwells, each
as one uvicorn process on loopback (no access log); pages are fetched warm, in the same fixed
list of offsets, sorted by id, with the same properties; the feature ids must agree on every page
of the warm-up and of every timed pass (checked outside the timing). Prints one
JSON line: requests/s and median latency for ours and tipg, and their ratios.

    .venv/bin/python benchmarks/items.py [--stairwells 100000] [--pages 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import sqlalchemy as sa

PAGE = 1000


def serve_ours(url: str, port: int) -> None:
    """Run our app on a port (this script re-executed as the server process)."""
    import uvicorn

    from gis_service.api.app import create_app
    from gis_service.db.engine import create_db_engine

    app = create_app(create_db_engine(url))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextmanager
def process(command: list[str], env: dict[str, str], ready: str) -> Iterator[None]:
    """A server process, waited for until `ready` answers 200, stopped afterwards."""
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=log)
        try:
            wait_ready(proc, ready, log)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_ready(proc: subprocess.Popen[bytes], ready: str, log: IO[str]) -> None:
    """Poll until the server answers 200 (RuntimeError with its log if it exits first)."""
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{proc.args!r} exited: {log.read()[-2000:]}")
        try:
            if httpx.get(ready, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{ready} did not answer")
        time.sleep(0.3)


def fetch(client: httpx.Client, url: str) -> tuple[float, list[int]]:
    """Seconds taken by one page and the feature ids on it."""
    started = time.perf_counter()
    answer = client.get(url)
    seconds = time.perf_counter() - started
    answer.raise_for_status()
    return seconds, [int(f["id"]) for f in answer.json()["features"]]


def same_pages(ours: list[list[int]], tipg: list[list[int]], urls: list[str]) -> int:
    """Pages whose feature ids agree (full pages, in the same order); exits at the first not."""
    for mine, theirs, url in zip(ours, tipg, urls, strict=True):
        if mine != theirs or len(mine) != PAGE:
            raise SystemExit(f"feature ids differ at {url}")
    return len(ours)


def run(stairwells: int, pages: int, rounds: int) -> dict[str, object]:
    """Build the city, serve it twice, time both and compare."""
    from gis_service.catalog import default_catalog
    from gis_service.db import migrate
    from gis_service.db.cluster import ensure_postgis, free_port, throwaway_cluster
    from gis_service.db.engine import create_db_engine
    from gis_service.ingest.demo_load import load_demo

    fields = ",".join(f.name for f in default_catalog().layers["stairwells"].fields)
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        ensure_postgis(cluster.conninfo())
        url = cluster.url()
        engine = create_db_engine(url)
        migrate.upgrade(engine)
        load_started = time.perf_counter()
        report = load_demo(engine, target_stairwells=stairwells)
        load_seconds = time.perf_counter() - load_started
        with engine.connect() as conn:
            total = int(conn.execute(sa.text("SELECT count(*) FROM stairwell")).scalar_one())
        engine.dispose()
        ours_port, tipg_port = free_port(), free_port()
        step = max(1, (total - PAGE) // max(1, pages - 1))
        offsets = [min(i * step, total - PAGE) for i in range(pages)]
        ours_urls = [
            f"http://127.0.0.1:{ours_port}/collections/stairwells/items?limit={PAGE}&offset={o}"
            for o in offsets
        ]
        tipg_urls = [
            f"http://127.0.0.1:{tipg_port}/collections/public.stairwell/items"
            f"?limit={PAGE}&offset={o}&sortby=id&properties={fields}"
            for o in offsets
        ]
        tipg_env = {
            "DATABASE_URL": url.replace("postgresql+psycopg://", "postgresql://"),
            "TIPG_DB_TABLES": '["public.stairwell"]',
            "TIPG_MAX_FEATURES_PER_QUERY": "10000",
        }
        ours_cmd = [sys.executable, __file__, "--serve", url, str(ours_port)]
        tipg_cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "tipg.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(tipg_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        headers = {"Authorization": f"Bearer {report.tokens['analyst']}"}
        with (
            process(ours_cmd, {}, f"http://127.0.0.1:{ours_port}/conformance"),
            process(tipg_cmd, tipg_env, f"http://127.0.0.1:{tipg_port}/conformance"),
            httpx.Client(headers=headers, timeout=120) as ours,
            httpx.Client(timeout=120) as tipg,
        ):
            for ours_url, tipg_url in zip(ours_urls, tipg_urls, strict=True):  # warm-up
                ours_ids, tipg_ids = fetch(ours, ours_url)[1], fetch(tipg, tipg_url)[1]
                if ours_ids != tipg_ids or len(ours_ids) != PAGE:
                    raise SystemExit(f"feature ids differ at {ours_url}")
            times: dict[str, list[float]] = {"ours": [], "tipg": []}
            wall = {"ours": 0.0, "tipg": 0.0}
            checked = 0
            for _ in range(rounds):
                ids: dict[str, list[list[int]]] = {}
                for name, client, urls in (("ours", ours, ours_urls), ("tipg", tipg, tipg_urls)):
                    started = time.perf_counter()
                    fetched = [fetch(client, u) for u in urls]
                    wall[name] += time.perf_counter() - started
                    times[name] += [seconds for seconds, _ in fetched]
                    ids[name] = [page for _, page in fetched]
                checked += same_pages(ids["ours"], ids["tipg"], ours_urls)
    rps = {name: len(times[name]) / wall[name] for name in times}
    p50 = {name: statistics.median(times[name]) * 1000 for name in times}
    return {
        "benchmark": "items_1000_feature_pages",
        "stairwells": total,
        "requests": len(times["ours"]),
        "ours_rps": round(rps["ours"], 2),
        "tipg_rps": round(rps["tipg"], 2),
        "ours_p50_ms": round(p50["ours"], 1),
        "tipg_p50_ms": round(p50["tipg"], 1),
        "rps_ratio_ours_over_tipg": round(rps["ours"] / rps["tipg"], 3),
        "p50_ratio_ours_over_tipg": round(p50["ours"] / p50["tipg"], 3),
        "same_ids": True,
        "pages_checked": checked,
        "load_seconds": round(load_seconds, 1),
    }


def main() -> None:
    """Parse arguments; print one JSON line."""
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve_ours(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stairwells", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=20, help="offsets in the fixed list")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the offsets")
    args = parser.parse_args()
    print(json.dumps(run(args.stairwells, args.pages, args.rounds)))


if __name__ == "__main__":
    main()
