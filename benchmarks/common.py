"""Helpers shared by the benchmark scripts (run as `python benchmarks/NAME.py`)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import shapely
import sqlalchemy as sa
from fastapi import FastAPI

from gis_service.api.app import create_app
from gis_service.db import migrate
from gis_service.db.cluster import ensure_postgis
from gis_service.db.engine import create_db_engine, resolve_database_url
from gis_service.ingest.demo_load import METRIC_CRS, DemoReport, load_demo
from gis_service.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
SRID = int(METRIC_CRS.split(":")[1])
CROW_INDEXES = [
    f"CREATE INDEX IF NOT EXISTS {table}_utm ON {table} USING gist (ST_Transform(geom, {SRID}))"
    for table in ("stairwell", "facility")
]  # the peer's own preparation (not timed): its metric geometry indexed, as ours is in memory
CROW_SQL = f"""
SELECT s.id FROM stairwell s
WHERE EXISTS (SELECT 1 FROM facility f
              WHERE ST_DWithin(ST_Transform(f.geom, {SRID}), ST_Transform(s.geom, {SRID}), %(r)s))
ORDER BY s.id
"""
"""The PostGIS peer of crow-flies service: stairwells within r metres of a facility."""


def lattice(size: int, spacing: float) -> np.ndarray:
    """size rows and size columns of streets as long lines sharing their crossing vertices."""
    axis = np.arange(size) * spacing
    x, y = np.meshgrid(axis, axis)
    rows = shapely.linestrings(np.stack([x, y], axis=-1))
    cols = shapely.linestrings(np.stack([x.T, y.T], axis=-1))
    return np.concatenate([rows, cols])


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall time of `runs` calls and the last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def make_app() -> FastAPI:
    """uvicorn factory of our app in each worker (database from GIS_DATABASE_URL)."""
    settings = get_settings()
    return create_app(create_db_engine(resolve_database_url(settings, start=False), settings))


def wait_until_ready(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    """Poll `url` until it answers 200; fail when the process ends or after two minutes."""
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.3)


@contextmanager
def server(argv: list[str], env: dict[str, str], port: int, ready: str) -> Iterator[str]:
    """A uvicorn subprocess, up when `ready` answers 200; stopped afterwards."""
    with served(argv, env, port, ready) as (base, _):
        yield base


@contextmanager
def served(argv: list[str], env: dict[str, str], port: int,
           ready: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:  # fmt: skip
    """server, also giving its process (e.g. for cpu_seconds)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", *argv, "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env={**os.environ, **env},
    )  # fmt: skip
    try:
        wait_until_ready(f"http://127.0.0.1:{port}{ready}", process, f"server {argv[0]}")
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, all its threads) a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_priority_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process's threads at the lowest priority (nice 19: work
    that only takes the CPU answers leave idle, such as packing kept answers), alive now."""
    total = 0.0
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[16]) == 19:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def postgres_cpu_seconds() -> float:
    """CPU seconds used so far by this machine's PostgreSQL processes (those alive now)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        if text.split(" (", 1)[1].startswith("postgres)"):
            total += cpu_seconds(int(stat.parent.name))
    return total


def demo_city(cluster: Any, stairwells: int) -> tuple[sa.Engine, DemoReport, float]:
    """A database "bench" in a throwaway cluster, migrated, holding the demo city of at least
    `stairwells` stairwells (as `gis-service demo --scale`): engine, load report, seconds."""
    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        conn.execute('CREATE DATABASE "bench"')
    ensure_postgis(cluster.conninfo("bench"))
    engine = create_db_engine(cluster.url("bench"))
    migrate.upgrade(engine)
    started = time.perf_counter()
    report = load_demo(engine, target_stairwells=stairwells)
    return engine, report, time.perf_counter() - started
