"""Benchmark: crow-flies coverage, our cKDTree nearest against a PostGIS ST_DWithin join.

1M stairwells x 20k facilities (synthetic, uniform around the demo district in Guangzhou),
300 m. Both sides use the same projected coordinates: the points are loaded with COPY into a
throwaway PostGIS as lon/lat, projected there to UTM 49N (a GiST-indexed copy), and read back
for ours, so the served sets can be compared exactly. Prints one JSON line.
Usage: python benchmarks/analysis_crowflies.py [--stairwells 1000000] [--facilities 20000]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
import shapely
from common import timed
from pyproj import Transformer

from gis_service.analysis.service import crow_flies_nearest
from gis_service.db.cluster import ensure_postgis, throwaway_cluster
from gis_service.ingest.demo_load import METRIC_CRS, ORIGIN_LONLAT

PEER_SQL = """
SELECT s.id FROM bench_stairwell s
WHERE EXISTS (SELECT 1 FROM bench_facility f WHERE ST_DWithin(f.geom_utm, s.geom_utm, %(r)s))
"""


def synthetic(n: int, half_side_m: float, rng: np.random.Generator) -> np.ndarray:
    """n lon/lat points uniform in a square of the given half side around the demo origin."""
    to_utm = Transformer.from_crs(4326, METRIC_CRS, always_xy=True)
    to_lonlat = Transformer.from_crs(METRIC_CRS, 4326, always_xy=True)
    cx, cy = to_utm.transform(*ORIGIN_LONLAT)
    xy = rng.uniform(-half_side_m, half_side_m, (n, 2)) + np.array([cx, cy])
    lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def load(conn: psycopg.Connection, table: str, lonlat: np.ndarray) -> None:
    """COPY points into a table, add the UTM copy and GiST indexes, analyse."""
    conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, lon float8, lat float8)")
    buffer = io.StringIO()
    ids = np.arange(1, lonlat.shape[0] + 1)
    np.savetxt(buffer, np.column_stack([ids, lonlat]), fmt=["%d", "%.9f", "%.9f"], delimiter=",")
    with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())
    conn.execute(
        f"ALTER TABLE {table} ADD COLUMN geom geometry(Point, 4326), "
        "ADD COLUMN geom_utm geometry(Point, 32649)"
    )
    conn.execute(
        f"UPDATE {table} SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326), "
        "geom_utm = ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 32649)"
    )
    conn.execute(f"CREATE INDEX ON {table} USING gist (geom)")
    conn.execute(f"CREATE INDEX ON {table} USING gist (geom_utm)")
    conn.execute(f"VACUUM ANALYZE {table}")


def read_points(conn: psycopg.Connection, table: str) -> tuple[np.ndarray, np.ndarray]:
    """Ids and projected points as stored (WKB decoded by shapely, as our loaders do), by id."""
    rows = conn.execute(f"SELECT id, ST_AsBinary(geom_utm) FROM {table} ORDER BY id").fetchall()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    return ids, shapely.from_wkb(np.array([r[1] for r in rows], dtype=object))


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stairwells", type=int, default=1_000_000)
    parser.add_argument("--facilities", type=int, default=20_000)
    parser.add_argument("--radius", type=float, default=300.0)
    parser.add_argument("--half-side-m", type=float, default=30_000.0, help="area half side")
    parser.add_argument("--runs", type=int, default=3, help="runs of ours (median)")
    parser.add_argument("--peer-runs", type=int, default=1, help="runs of PostGIS (median)")
    args = parser.parse_args()

    rng = np.random.default_rng(34)
    homes = synthetic(args.stairwells, args.half_side_m, rng)
    places = synthetic(args.facilities, args.half_side_m, rng)
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        ensure_postgis(cluster.conninfo())
        with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
            start = time.perf_counter()
            load(conn, "bench_stairwell", homes)
            load(conn, "bench_facility", places)
            load_s = time.perf_counter() - start
            settings = dict(
                conn.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('max_parallel_workers_per_gather', 'work_mem', 'shared_buffers')"
                ).fetchall()
            )
            read_s, (h_ids, h_pts) = timed(lambda: read_points(conn, "bench_stairwell"), 1)
            _, (f_ids, f_pts) = timed(lambda: read_points(conn, "bench_facility"), 1)

            def ours() -> np.ndarray:
                near = crow_flies_nearest(h_pts, f_pts, f_ids, args.radius, args.radius)
                return np.sort(h_ids[near["served"].to_numpy()])

            ours_s, served = timed(ours, args.runs)
            plan = conn.execute("EXPLAIN " + PEER_SQL, {"r": args.radius}).fetchall()
            peer_s, peer_rows = timed(
                lambda: conn.execute(PEER_SQL, {"r": args.radius}).fetchall(), args.peer_runs
            )
    peer = np.sort(np.fromiter((r[0] for r in peer_rows), dtype=np.int64, count=len(peer_rows)))
    same = bool(np.array_equal(served, peer))
    print(
        json.dumps(
            {
                "benchmark": "analysis_crowflies",
                "stairwells": args.stairwells,
                "facilities": args.facilities,
                "radius_m": args.radius,
                "area_km2": round((2 * args.half_side_m / 1000) ** 2),
                "served_stairwells": int(served.size),
                "ours_s": round(ours_s, 4),
                "ours_note": "crow_flies_nearest (cKDTree) on the projected points as read",
                "ours_read_from_postgis_s": round(read_s, 3),
                "postgis_s": round(peer_s, 3),
                "postgis_note": "EXISTS + ST_DWithin on GiST-indexed UTM 49N geometry",
                "postgis_plan_uses_index": any("Index" in str(row[0]) for row in plan),
                "postgis_settings": settings,
                "speedup": round(peer_s / ours_s, 1),
                "speedup_with_our_read": round(peer_s / (ours_s + read_s), 1),
                "load_copy_and_index_s": round(load_s, 1),
                "runs": {"ours": args.runs, "postgis": args.peer_runs},
                "same_served_set": same,
                "agree": same,
            }
        )
    )
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
