"""Benchmark: what announcing each write (NOTIFY gis_row_change, migration 0020) costs writers.

A transaction that notifies takes PostgreSQL's one notify lock at commit, so concurrent writers
of stairwells commit one after another. Builds a throwaway PostGIS with the demo city, keeps
one connection listening (as a server does), and runs the same work with the announce
triggers on and off (the peer), alternately, the same number of times: W writers each commit K
single-row edits of their own stairwells (a grid worker's save). Checks every edit was stored,
and prints one JSON line: commits per second, median per mode, and the ratio.
Usage: python benchmarks/write_announce.py [--writers 4] [--edits 300] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from common import demo_city

from gis_service.datasets.edit_listener import CHANNEL
from gis_service.db.cluster import throwaway_cluster

TRIGGERS = ("stairwell_announce", "building_announce")


def write(conninfo: str, ids: list[int], tag: str) -> None:
    """Commit one edit of each stairwell, one transaction each."""
    with psycopg.connect(conninfo) as conn:
        for sid in ids:
            conn.execute("UPDATE stairwell SET notes = %s WHERE id = %s", (tag, sid))
            conn.commit()


def timed_writes(conninfo: str, groups: list[list[int]], tag: str) -> float:
    """Commits per second of the writers, each on its own stairwells, all at once."""
    threads = [threading.Thread(target=write, args=(conninfo, ids, tag)) for ids in groups]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(len(ids) for ids in groups) / (time.perf_counter() - started)


def listen(conninfo: str, stop: threading.Event, heard: list[int]) -> None:
    """A server's listener: LISTEN and take every notification until stopped."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        while not stop.is_set():
            heard[0] += len(list(conn.notifies(timeout=0.2)))


def main() -> None:
    """Build the city, write with and without announcing, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stairwells", type=int, default=20_000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--edits", type=int, default=300, help="per writer and run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        engine, _, _ = demo_city(cluster, args.stairwells)
        engine.dispose()
        conninfo = cluster.conninfo("bench")
        with psycopg.connect(conninfo, autocommit=True) as admin:
            ids = [r[0] for r in admin.execute(
                "SELECT id FROM stairwell ORDER BY id LIMIT %s", (args.writers * args.edits,))]
            groups = [ids[w :: args.writers] for w in range(args.writers)]
            stop, heard = threading.Event(), [0]
            listener = threading.Thread(target=listen, args=(conninfo, stop, heard))
            listener.start()
            rates: dict[str, list[float]] = {"announced": [], "silent": []}
            for run in range(args.runs):
                for mode in ("announced", "silent"):
                    verb = "ENABLE" if mode == "announced" else "DISABLE"
                    for trigger in TRIGGERS:
                        table = trigger.split("_")[0]
                        admin.execute(f"ALTER TABLE {table} {verb} TRIGGER {trigger}")
                    tag = f"{mode}-{run}"
                    rates[mode].append(timed_writes(conninfo, groups, tag))
                    stored = admin.execute("SELECT count(*) FROM stairwell WHERE notes = %s",
                                           (tag,)).fetchone()  # fmt: skip
                    assert stored is not None and stored[0] == len(ids), (mode, stored)
            stop.set()
            listener.join()
            admin.execute("ALTER TABLE stairwell ENABLE TRIGGER stairwell_announce")
            admin.execute("ALTER TABLE building ENABLE TRIGGER building_announce")
    announced = statistics.median(rates["announced"])
    silent = statistics.median(rates["silent"])
    print(json.dumps({
        "benchmark": "write_announce", "writers": args.writers, "edits": args.edits,
        "runs": args.runs, "commits_per_s": {"announced": round(announced), "silent":
                                             round(silent)},
        "announced_to_silent": round(announced / silent, 2), "heard": heard[0],
        "all_stored": True,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
