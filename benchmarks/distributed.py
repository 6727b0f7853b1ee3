"""Benchmark: coverage and network service radii on the 1M-stairwell city, Dask vs one process.

Loads the demo city of at least N stairwells into a throwaway PostGIS, then runs compound
coverage and the nearest facility along streets (300 m) for every stairwell, once in this
process (the CLI's single-process path) and once on a LocalCluster of 2 worker processes
partitioned by district, checks the figures are equal, and prints one JSON line.
Usage: python benchmarks/distributed.py [--stairwells 1000000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

# This script shares its name with the `distributed` package: keep its folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import pandas as pd  # noqa: E402
import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from dask.distributed import Client, LocalCluster  # noqa: E402

from gis_service.datasets.area import Area  # noqa: E402
from gis_service.datasets.params import service_params  # noqa: E402
from gis_service.datasets.runs import coverage_table, nearest_table, service_inputs  # noqa: E402
from gis_service.db import migrate  # noqa: E402
from gis_service.db.cluster import ensure_postgis, throwaway_cluster  # noqa: E402
from gis_service.db.engine import create_db_engine  # noqa: E402
from gis_service.distributed import coverage_all, district_partitions, nearest_all  # noqa: E402
from gis_service.ingest.demo_load import load_demo  # noqa: E402


def equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """True when two frames are exactly equal."""
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except AssertionError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stairwells", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--radius-m", type=float, default=300.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "city"')
        ensure_postgis(cluster.conninfo("city"))
        engine = create_db_engine(cluster.url("city"))
        migrate.upgrade(engine)
        load_demo(engine, target_stairwells=args.stairwells)
        url = engine.url.render_as_string(hide_password=False)
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
            stairwells = conn.execute(sa.text("SELECT count(*) FROM stairwell")).scalar_one()
            districts = len(district_partitions(conn))
            params = service_params(conn, "facilities", None, args.radius_m, mode="network")
            start = time.perf_counter()
            single_cov = coverage_table(conn, "compound_id")
            single_near = nearest_table(service_inputs(conn, params, Area()), params)
            single_s = time.perf_counter() - start
        start = time.perf_counter()
        with (
            LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True,
                dashboard_address=None,
            ) as local,
            Client(local) as client,
        ):  # fmt: skip
            startup_s = time.perf_counter() - start
            start = time.perf_counter()
            dist_cov = coverage_all(client, url, "compound_id")
            dist_near = nearest_all(client, url, params)
            dist_s = time.perf_counter() - start
        engine.dispose()
    print(
        json.dumps(
            {
                "benchmark": "distributed_analysis",
                "stairwells": int(stairwells),
                "districts": districts,
                "workers": args.workers,
                "radius_m": args.radius_m,
                "single_process_s": round(single_s, 2),
                "distributed_s": round(dist_s, 2),
                "cluster_startup_s": round(startup_s, 2),
                "speedup": round(single_s / dist_s, 2),
                "coverage_equal": equal(dist_cov, single_cov),
                "nearest_equal": equal(dist_near, single_near),
                "served_stairwells": int(single_near["served"].sum()),
            }
        )
    )


if __name__ == "__main__":
    main()
