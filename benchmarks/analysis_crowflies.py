"""Benchmark: crow-flies service of a city, our loader + cKDTree against PostGIS ST_DWithin.

Builds a throwaway PostGIS holding the demo city of at least N stairwells (the loader of
`gis-service demo --scale N`), then answers "which stairwells have a facility within r metres
in a straight line" both ways, each --runs times (medians):
- ours as the app does it: `service_inputs` (the app's loaders of stairwells and facilities,
  projected to the metric CRS) + `nearest_table` in crow mode ("with read"), and the kernel
  alone (`crow_flies_nearest` on the points as read);
- PostGIS: EXISTS + ST_DWithin on GiST-indexed metric geometry (indexes built before, untimed).
The served sets are checked equal. Prints one JSON line.
Usage: python benchmarks/analysis_crowflies.py [--stairwells 100000] [--radius 300] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import psycopg
from common import CROW_INDEXES, CROW_SQL, demo_city, timed

from gis_service.analysis.service import crow_flies_nearest
from gis_service.datasets.params import service_params
from gis_service.datasets.runs import nearest_table, service_inputs
from gis_service.db.cluster import throwaway_cluster


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stairwells", type=int, default=100_000)
    parser.add_argument("--radius", type=float, default=300.0)
    parser.add_argument("--runs", type=int, default=3, help="runs of each side (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        engine, report, load_s = demo_city(cluster, args.stairwells)
        with engine.connect() as conn:
            params = service_params(conn, "facilities", radius_m=args.radius, mode="crow")

            def with_read() -> np.ndarray:
                near = nearest_table(service_inputs(conn, params), params)
                return np.sort(near.loc[near["served"], "id"].to_numpy(np.int64))

            ours_s, served = timed(with_read, args.runs)
            inputs = service_inputs(conn, params)
            fac = inputs.facilities
            kernel_s, _ = timed(lambda: crow_flies_nearest(
                inputs.stairwells, fac, fac["id"].to_numpy(np.int64), radius=args.radius
            ), args.runs)  # fmt: skip
        engine.dispose()
        with psycopg.connect(cluster.conninfo("bench"), autocommit=True) as sql:
            for index in CROW_INDEXES:
                sql.execute(index)
            sql.execute("ANALYZE stairwell; ANALYZE facility")
            plan = sql.execute("EXPLAIN " + CROW_SQL, {"r": args.radius}).fetchall()
            peer_s, rows = timed(
                lambda: sql.execute(CROW_SQL, {"r": args.radius}).fetchall(), args.runs
            )
    peer = np.array([r[0] for r in rows], dtype=np.int64)
    same = bool(np.array_equal(served, peer))
    print(json.dumps({
        "benchmark": "analysis_crowflies",
        "stairwells": report.counts["stairwell"],
        "facilities": len(fac),
        "radius_m": args.radius,
        "served_stairwells": int(served.size),
        "ours_s": round(ours_s, 3),
        "ours_note": "the app's loaders (service_inputs) + nearest_table, crow mode",
        "ours_kernel_s": round(kernel_s, 4),
        "postgis_s": round(peer_s, 3),
        "postgis_note": "EXISTS + ST_DWithin on GiST-indexed UTM geometry (ST_Transform index)",
        "postgis_plan_uses_index": any("Index" in str(row[0]) for row in plan),
        "speedup_with_read": round(peer_s / ours_s, 2),
        "speedup_kernel": round(peer_s / kernel_s, 1),
        "city_load_s": round(load_s, 1),
        "runs": {"ours": args.runs, "postgis": args.runs},
        "agree": same,
    }))  # fmt: skip
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
