"""Benchmark: coverage and network service radii of a city, Dask against one process, in
wall seconds and in CPU-seconds, over a curve of city sizes.

For each size N (`--stairwells 100000,300000,1000000`) it loads the demo city of at least N
stairwells into a throwaway PostGIS and runs compound coverage and the nearest facility along
streets (300 m) for every stairwell: once in this process (the CLI's single-process path) and
once on a LocalCluster of `--workers` worker processes partitioned by district (each
partition read once on a worker, serving both analyses; the workers connect from their own
settings, GIS_DATABASE_URL, given to them at start). It checks the figures are equal and
counts CPU-seconds: this process (with the in-process scheduler), the workers, and the
PostgreSQL backends serving them. The CPU overhead of the distributed run over one process
predicts the speedup on N machines: each side runs twice and the second run is counted (a
long-lived process and cluster have their imports and caches; the first runs are reported
apart); the growth exponent is the slope of log CPU-seconds
against log stairwells. Prints one JSON line.
Usage: python benchmarks/distributed.py [--stairwells 100000,300000,1000000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# This script shares its name with the `distributed` package: keep its folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from dask.distributed import Client, LocalCluster  # noqa: E402

from gis_service.datasets.area import Area  # noqa: E402
from gis_service.datasets.params import service_params  # noqa: E402
from gis_service.datasets.runs import coverage_table, nearest_table, service_inputs  # noqa: E402
from gis_service.db import migrate  # noqa: E402
from gis_service.db.cluster import ensure_postgis, throwaway_cluster  # noqa: E402
from gis_service.db.engine import create_db_engine  # noqa: E402
from gis_service.distributed import (  # noqa: E402
    coverage_all,
    district_partitions,
    nearest_all,
    partitions,
)
from gis_service.ingest.demo_load import load_demo  # noqa: E402


def equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """True when two frames are exactly equal."""
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except AssertionError:
        return False
    return True


def cpu_of(process: psutil.Process) -> float:
    """User + system CPU-seconds of a process so far (0 when it is gone)."""
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return float(times.user + times.system)


def warm_worker() -> None:
    """A worker made ready as this process is before its timing: modules imported, connected."""
    from gis_service.datasets.runs import nearest_table  # noqa: F401
    from gis_service.distributed import own_engine

    with own_engine().connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def own_cpu() -> float:
    """CPU-seconds of a worker process so far (run on each worker)."""
    return cpu_of(psutil.Process())


class Backends:
    """CPU-seconds of the PostgreSQL backends of one cluster (children of its postmaster)."""

    def __init__(self, conninfo: str) -> None:
        """The postmaster of the cluster behind conninfo."""
        with psycopg.connect(conninfo) as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        parent = psutil.Process(int(row[0])).parent()
        assert parent is not None
        self.postmaster = parent
        self.seen: dict[int, psutil.Process] = {}

    def cpu(self) -> float:
        """CPU-seconds of its backends now alive (kept by pid: a pool's backends persist)."""
        for child in self.postmaster.children():
            self.seen.setdefault(child.pid, child)
        return sum(cpu_of(p) for p in self.seen.values())


def one_size(target: int, workers: int, radius: float) -> dict[str, Any]:
    """Load a city of at least `target` stairwells, run both ways, figures of this size."""
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "city"')
        ensure_postgis(cluster.conninfo("city"))
        engine = create_db_engine(cluster.url("city"))
        migrate.upgrade(engine)
        started = time.perf_counter()
        load_demo(engine, target_stairwells=target)
        load_s = time.perf_counter() - started
        backends = Backends(cluster.conninfo("city"))
        me = psutil.Process()
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
            stairwells = conn.execute(sa.text("SELECT count(*) FROM stairwell")).scalar_one()
            districts = len(district_partitions(conn))
            params = service_params(conn, "facilities", None, radius, mode="network")

            def single() -> tuple[pd.DataFrame, pd.DataFrame]:
                return coverage_table(conn, "compound_id"), nearest_table(
                    service_inputs(conn, params, Area()), params
                )

            first_cpu = cpu_of(me) + backends.cpu()
            single()  # first run: lazy imports and caches (a long-lived process has them)
            first_cpu = cpu_of(me) + backends.cpu() - first_cpu
            cpu0, db0, start = cpu_of(me), backends.cpu(), time.perf_counter()
            single_cov, single_near = single()
            single_s = time.perf_counter() - start
            single_cpu = cpu_of(me) - cpu0 + backends.cpu() - db0
        os.environ["GIS_DATABASE_URL"] = cluster.url("city")  # the workers' own settings
        start = time.perf_counter()
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as local,
            Client(local) as client,
            engine.connect() as conn,
        ):  # fmt: skip
            client.run(warm_worker)  # imports and connection: startup, as for this process
            startup_s = time.perf_counter() - start

            def distributed() -> tuple[pd.DataFrame, pd.DataFrame]:
                parts = partitions(client, conn, params)
                return coverage_all(client, conn, "compound_id", parts=parts), nearest_all(
                    client, conn, params, parts
                )

            def counted() -> tuple[float, float, float, Any]:
                worker0 = sum(client.run(own_cpu).values())
                cpu0, db0, start = cpu_of(me), backends.cpu(), time.perf_counter()
                result = distributed()
                seconds = time.perf_counter() - start
                workers_cpu = sum(client.run(own_cpu).values()) - worker0
                return seconds, cpu_of(me) - cpu0 + workers_cpu + backends.cpu() - db0, \
                    workers_cpu, result

            _, dist_first_cpu, _, _ = counted()  # fresh workers: lazy imports, caches
            dist_s, dist_cpu, worker_cpu, (dist_cov, dist_near) = counted()
        os.environ.pop("GIS_DATABASE_URL")
        engine.dispose()
    return {
        "stairwells": int(stairwells), "districts": districts, "load_s": round(load_s, 1),
        "single_process_s": round(single_s, 2), "distributed_s": round(dist_s, 2),
        "cluster_startup_s": round(startup_s, 2), "speedup": round(single_s / dist_s, 2),
        "single_cpu_s": round(single_cpu, 2), "distributed_cpu_s": round(dist_cpu, 2),
        "distributed_workers_cpu_s": round(worker_cpu, 2),
        "cpu_overhead": round(dist_cpu / single_cpu - 1, 3),
        "first_run_cpu_s": {"single": round(first_cpu, 2), "distributed": round(dist_first_cpu, 2)},
        "coverage_equal": equal(dist_cov, single_cov),
        "nearest_equal": equal(dist_near, single_near),
        "served_stairwells": int(single_near["served"].sum()),
    }  # fmt: skip


def exponent(points: list[dict[str, Any]], key: str) -> float | None:
    """Slope of log(key) against log(stairwells) (least squares), None with under two sizes."""
    if len(points) < 2:
        return None
    x = np.log([p["stairwells"] for p in points])
    y = np.log([max(p[key], 1e-9) for p in points])
    return round(float(np.polyfit(x, y, 1)[0]), 2)


def main() -> None:
    """Run every size and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stairwells", default="100000,300000,1000000", help="sizes, comma")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--radius-m", type=float, default=300.0)
    args = parser.parse_args()
    sizes = [int(n) for n in args.stairwells.split(",")]
    curve = [one_size(n, args.workers, args.radius_m) for n in sizes]
    overheads = [p["cpu_overhead"] for p in curve]
    print(json.dumps({
        "benchmark": "distributed_analysis", "workers": args.workers, "cpus": os.cpu_count(),
        "radius_m": args.radius_m, "curve": curve,
        "growth_exponent": {"single_cpu_s": exponent(curve, "single_cpu_s"),
                            "distributed_cpu_s": exponent(curve, "distributed_cpu_s"),
                            "single_process_s": exponent(curve, "single_process_s")},
        "cpu_overhead_max": max(overheads),
        "targets_met": {"cpu_overhead_20pct": all(o <= 0.2 for o in overheads)},
        "all_equal": all(p["coverage_equal"] and p["nearest_equal"] for p in curve),
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        "note": "CPU-seconds: this process (scheduler included), workers, PostgreSQL backends",
    }))  # fmt: skip
    if not all(p["coverage_equal"] and p["nearest_equal"] for p in curve):
        sys.exit(1)


if __name__ == "__main__":
    main()
