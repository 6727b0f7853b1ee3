"""Benchmark: `gis-service demo --scale N` (COPY streaming) vs row inserts through SQLAlchemy.

Builds a throwaway PostGIS, loads the demo city of at least N stairwells with our loader, then
inserts a sample of the same stairwell rows with SQLAlchemy executemany (the usual peer) into a
second database, checks both stored the same rows, and prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa

from gis_service.db import migrate
from gis_service.db.cluster import ensure_postgis, throwaway_cluster
from gis_service.db.engine import create_db_engine
from gis_service.ingest.demo import generate_city
from gis_service.ingest.demo_load import LOAD_ORDER, copy_frame, frame_for, load_demo, to_lonlat


def fresh_engine(cluster, name: str) -> sa.Engine:  # type: ignore[no-untyped-def]
    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    ensure_postgis(cluster.conninfo(name))
    engine = create_db_engine(cluster.url(name))
    migrate.upgrade(engine)
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stairwells", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="rows the peer inserts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        ours = fresh_engine(cluster, "ours")
        report = load_demo(ours, target_stairwells=args.stairwells)
        rows_total = sum(report.counts.values())
        with ours.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM stairwell")).scalar_one()

        # The same stairwell rows both ways, in one database: our COPY vs SQLAlchemy executemany.
        peer = fresh_engine(cluster, "peer")
        tables = generate_city(34, args.sample)
        transform = to_lonlat()
        with peer.begin() as conn:
            raw = conn.connection.driver_connection
            for table in LOAD_ORDER[: LOAD_ORDER.index("stairwell")]:
                copy_frame(raw, table, frame_for(table, tables.rows[table], transform))
        frame = frame_for("stairwell", tables.rows["stairwell"], transform)
        records = frame.where(frame.notna(), None).to_dict("records")
        columns = ", ".join(frame.columns)
        values = ", ".join(
            f"CAST(:{c} AS geometry)" if c == "geom" else f":{c}" for c in frame.columns
        )
        insert = sa.text(f"INSERT INTO stairwell ({columns}) VALUES ({values})")
        copy_times, insert_times = [], []
        for _ in range(3):
            for way, timings in (("copy", copy_times), ("insert", insert_times)):
                conn = peer.connect()
                transaction = conn.begin()
                started = time.perf_counter()
                if way == "copy":
                    copy_frame(conn.connection.driver_connection, "stairwell", frame)
                else:
                    conn.execute(insert, records)
                timings.append(time.perf_counter() - started)
                stored_sample = conn.execute(sa.text("SELECT count(*) FROM stairwell")).scalar_one()
                assert stored_sample == len(records)
                transaction.rollback()
                conn.close()
        ours_rate = len(records) / statistics.median(copy_times)
        peer_rate = len(records) / statistics.median(insert_times)
        print(
            json.dumps(
                {
                    "benchmark": "demo_scale",
                    "city_stairwells": stored,
                    "city_rows_all_tables": rows_total,
                    "city_load_seconds": round(report.seconds, 1),
                    "city_rows_per_s": round(rows_total / report.seconds),
                    "city_stairwells_per_s": round(stored / report.seconds),
                    "sample_stairwells": len(records),
                    "ours_copy_stairwells_per_s": round(ours_rate),
                    "peer": "SQLAlchemy executemany INSERT of the same rows (median of 3)",
                    "peer_stairwells_per_s": round(peer_rate),
                    "ratio": round(ours_rate / peer_rate, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
