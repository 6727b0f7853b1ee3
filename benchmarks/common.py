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
import psutil
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
    """server, also giving its process (e.g. for cpu_of)."""
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


def cpu_of(process: psutil.Process, reaped: bool = False) -> float:
    """User + system CPU-seconds of a process so far (0 when it is gone); with reaped, of the
    children it has waited for instead."""
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    if reaped:
        return float(times.children_user + times.children_system)
    return float(times.user + times.system)


class Processes:
    """CPU-seconds of a process and (with tree) all its descendants, kept by pid."""

    def __init__(self, root: psutil.Process, tree: bool = True) -> None:
        """The process root, with its descendants when tree."""
        self.root = root
        self.tree = tree
        self.seen: dict[int, psutil.Process] = {root.pid: root}

    def cpu(self) -> dict[int, float]:
        """CPU-seconds so far of every process seen, by pid."""
        for child in self.root.children(recursive=True) if self.tree else []:
            self.seen.setdefault(child.pid, child)
        return {pid: cpu_of(p) for pid, p in self.seen.items()}


class Backends:
    """CPU-seconds of one PostgreSQL cluster: its postmaster's children alive (by pid) and
    those it reaped (short-lived backends, parallel query workers)."""

    def __init__(self, conninfo: str) -> None:
        """The postmaster of the cluster behind conninfo."""
        with psycopg.connect(conninfo) as conn:  # its backend is alive while asked
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            assert row is not None
            parent = psutil.Process(int(row[0])).parent()
        assert parent is not None
        self.children = Processes(parent)

    def cpu(self) -> float:
        """CPU-seconds of its children so far (the postmaster's own idle loop left out)."""
        alive = self.children.cpu()
        alive.pop(self.children.root.pid)
        return sum(alive.values()) + cpu_of(self.children.root, reaped=True)


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
