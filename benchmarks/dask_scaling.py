"""Benchmark: coverage and network service radii of a city, Dask against one process, in
wall seconds and in CPU-seconds, over a curve of city sizes.

For each size N (`--stairwells 100000,300000,1000000`) it loads the demo city of at least N
stairwells into a throwaway PostGIS (or, with `--database-url N=URL`, measures the city
already at URL for that size) and runs compound coverage and the nearest facility along
streets (300 m) for every stairwell: in this process (the CLI's single-process path) and on
a local cluster of `--workers` worker processes (gis_service.distributed.dask_client, as the
CLI's `--all` starts it; both sides with the collector policy of gc_policy.py),
partitioned by groups of neighbouring districts (each partition read once on a worker,
serving both analyses; the workers connect from their own settings, GIS_DATABASE_URL, given
to them at start). It checks the figures are equal and counts CPU-seconds of every process
involved: this process (client, scheduler and nannies), all its descendants (the workers),
and the PostgreSQL cluster (its backends alive, and those it reaped, such as parallel query
workers). The CPU overhead of the distributed run over one process predicts the speedup on N
machines. Each side runs once uncounted (imports, caches: reported apart as first runs), then
`--runs` counted runs alternate between the sides and the medians are reported; the growth
exponent is the slope of log CPU-seconds against log stairwells. Prints one JSON line.
Usage: python benchmarks/distributed.py [--stairwells 100000,300000] [--workers 2]
       [--runs 3] [--database-url 1000000=postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import sqlalchemy as sa
from common import Backends, Processes, demo_city

from gis_service.datasets.area import Area
from gis_service.datasets.params import service_params
from gis_service.datasets.runs import coverage_table, nearest_table, service_inputs
from gis_service.db.cluster import throwaway_cluster
from gis_service.db.engine import create_db_engine
from gis_service.distributed import (
    coverage_all,
    dask_client,
    district_partitions,
    nearest_all,
    partitions,
)
from gis_service.gc_policy import hold_big_data


def equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """True when two frames are exactly equal (names, as categories, compared by value: each
    side lists them in the order it met them)."""
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True, check_categorical=False)
    except AssertionError:
        return False
    return True


def warm_worker() -> int:
    """A worker made ready as this process is before its timing: modules imported, connected;
    its pid."""
    from gis_service.datasets.runs import nearest_table  # noqa: F401
    from gis_service.distributed import own_engine

    with own_engine().connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    return os.getpid()


@contextmanager
def city(target: int, url: str | None) -> Iterator[tuple[str, str, float | None]]:
    """The SQLAlchemy URL and libpq conninfo of a city of `target` stairwells, and its load
    seconds: the one at url as it is, else the demo city loaded into a throwaway cluster."""
    if url is not None:
        conninfo = sa.make_url(url).set(drivername="postgresql").render_as_string(False)
        yield url, conninfo, None
        return
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        engine, _, seconds = demo_city(cluster, target)
        engine.dispose()
        yield cluster.url("bench"), cluster.conninfo("bench"), seconds


Run = tuple[float, float, dict[str, float], Any]
"""Wall seconds, CPU-seconds, CPU-seconds by part, the answers."""


def counted(work: Callable[[], Any], tree: Processes, backends: Backends, workers: set[int]) -> Run:
    """Run work once; its wall seconds and the CPU-seconds of every process and the database."""
    procs0, db0, start = tree.cpu(), backends.cpu(), time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    procs1, db = tree.cpu(), backends.cpu() - db0
    used = {pid: c - procs0.get(pid, 0.0) for pid, c in procs1.items()}
    me = used.pop(tree.root.pid)
    on_workers = sum(c for pid, c in used.items() if pid in workers)
    others = sum(c for pid, c in used.items() if pid not in workers)
    parts = {"this_process": me, "workers": on_workers, "other_processes": others, "postgres": db}
    return seconds, me + on_workers + others + db, parts, result


def one_size(
    target: int, workers: int, radius: float, runs: int, url: str | None
) -> dict[str, Any]:
    """A city of at least `target` stairwells run both ways: the figures of this size."""
    load0 = round(os.getloadavg()[0], 2)
    with city(target, url) as (db_url, conninfo, load_s):
        engine = create_db_engine(db_url)
        backends = Backends(conninfo)
        tree = Processes(psutil.Process())
        os.environ["GIS_DATABASE_URL"] = db_url  # the workers' own settings
        with (
            engine.begin() as conn,
            dask_client(n_workers=workers) as client,  # as the CLI's --dask runs
            engine.connect() as dist_conn,
        ):  # fmt: skip
            conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
            stairwells = conn.execute(sa.text("SELECT count(*) FROM stairwell")).scalar_one()
            districts = len(district_partitions(conn))
            params = service_params(conn, "facilities", None, radius, mode="network")
            pids = set(client.run(warm_worker).values())
            n_parts: list[int] = []

            def single() -> tuple[pd.DataFrame, pd.DataFrame]:
                return coverage_table(conn, "compound_id"), nearest_table(
                    service_inputs(conn, params, Area()), params
                )

            def distributed() -> tuple[pd.DataFrame, pd.DataFrame]:
                parts = partitions(client, dist_conn, params)
                n_parts.append(len(parts))
                return coverage_all(client, dist_conn, "compound_id", parts=parts), nearest_all(
                    client, dist_conn, params, parts
                )

            me_only = Processes(tree.root, tree=False)  # the idle cluster is not the single run
            versions0 = data_versions(dist_conn)
            first_single = counted(single, me_only, backends, set())
            answer = [first_single[3]]  # the latest single-process answers
            served = int(answer[0][1]["served"].sum())
            same: list[tuple[bool, bool]] = []

            def checked(run: Run) -> Run:
                """A distributed run with its answers compared to the single process's just
                before (a shared city may be edited between runs), then dropped."""
                (cov, near), (single_cov, single_near) = run[3], answer[0]
                same.append((equal(cov, single_cov), equal(near, single_near)))
                return run[0], run[1], run[2], None

            def kept(run: Run) -> Run:
                """A single-process run whose answers the next distributed run is held to."""
                answer[0] = run[3]
                return run[0], run[1], run[2], None

            first_dist = checked(counted(distributed, tree, backends, pids))
            singles: list[Run] = []
            dists: list[Run] = []
            for _ in range(runs):  # alternating: the machine's load drifts alike for both
                singles.append(kept(counted(single, me_only, backends, set())))
                dists.append(checked(counted(distributed, tree, backends, pids)))
            edited = data_versions(dist_conn) != versions0
        os.environ.pop("GIS_DATABASE_URL")
        engine.dispose()
    one, dist = median(singles), median(dists)
    overheads = [round(d[1] / s[1] - 1, 3) for s, d in zip(singles, dists, strict=True)]
    return {
        "stairwells": int(stairwells), "districts": districts, "partitions": n_parts[-1],
        "load_s": None if load_s is None else round(load_s, 1),
        "reused_city": url is not None,
        "single_process_s": round(one[0], 2), "distributed_s": round(dist[0], 2),
        "speedup": round(one[0] / dist[0], 2),
        "single_cpu_s": round(one[1], 2), "distributed_cpu_s": round(dist[1], 2),
        "single_cpu_parts_s": {k: round(v, 2) for k, v in one[2].items() if k in
                               ("this_process", "postgres")},
        "distributed_cpu_parts_s": {k: round(v, 2) for k, v in dist[2].items()},
        "cpu_overhead": round(dist[1] / one[1] - 1, 3),
        "cpu_overhead_runs": overheads,
        "first_run_cpu_s": {"single": round(first_single[1], 2),
                            "distributed": round(first_dist[1], 2)},
        "coverage_equal": all(cov for cov, _ in same),
        "nearest_equal": all(near for _, near in same),
        "served_stairwells": served,
        "data_edited_during_runs": edited,
        "loadavg_1m": [load0, round(os.getloadavg()[0], 2)],
    }  # fmt: skip


def data_versions(conn: sa.Connection) -> list[tuple[str, int]]:
    """The data version of every table (edits by others show on a shared city)."""
    rows = conn.execute(sa.text("SELECT table_name, version FROM data_version ORDER BY 1"))
    return [(str(name), int(version)) for name, version in rows]


def median(runs: list[Run]) -> Run:
    """The run of median CPU-seconds."""
    return sorted(runs, key=lambda r: r[1])[len(runs) // 2]


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
    parser.add_argument("--stairwells", default="100000,300000", help="sizes, comma")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="counted runs of each side")
    parser.add_argument("--radius-m", type=float, default=300.0)
    parser.add_argument(
        "--database-url", action="append", default=[], metavar="N=URL",
        help="measure the city already at URL as size N (no load; repeatable)",
    )  # fmt: skip
    args = parser.parse_args()
    hold_big_data()  # this process runs the one-process side as the CLI does
    reuse = dict(item.split("=", 1) for item in args.database_url)
    sizes = [int(n) for n in args.stairwells.split(",")]
    sizes += [int(n) for n in reuse if int(n) not in sizes]
    curve = [one_size(n, args.workers, args.radius_m, args.runs, reuse.get(str(n))) for n in sizes]
    overheads = [p["cpu_overhead"] for p in curve]
    print(json.dumps({
        "benchmark": "distributed_analysis", "workers": args.workers, "cpus": os.cpu_count(),
        "radius_m": args.radius_m, "runs": args.runs, "curve": curve,
        "growth_exponent": {"single_cpu_s": exponent(curve, "single_cpu_s"),
                            "distributed_cpu_s": exponent(curve, "distributed_cpu_s"),
                            "single_process_s": exponent(curve, "single_process_s"),
                            "distributed_s": exponent(curve, "distributed_s")},
        "cpu_overhead_max": max(overheads),
        "targets_met": {"cpu_overhead_20pct": all(o <= 0.2 for o in overheads)},
        "all_equal": all(p["coverage_equal"] and p["nearest_equal"] for p in curve),
        "note": "CPU-seconds: this process (client, scheduler, nannies), its descendants "
        "(workers), the PostgreSQL cluster (backends alive and reaped); medians of alternating "
        "runs",
    }))  # fmt: skip
    if not all(p["coverage_equal"] and p["nearest_equal"] for p in curve):
        sys.exit(1)


if __name__ == "__main__":
    main()
