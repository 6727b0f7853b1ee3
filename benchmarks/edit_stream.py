"""Benchmark: what a steady stream of field saves costs the server that refreshes answers ahead.

Builds a throwaway PostGIS with the demo city of at least N stairwells (or takes a kept one),
then serves it twice with our app (one process each), once refreshing kept answers as each
edit commits (GIS_REFRESH_AHEAD=true, the default) and once only when asked (the peer: the
same work, done by the requests). In each, a planner first asks four questions (coverage by
compound and by grid, network and crow-flies shares by compound), so they are kept; then
field saves (PATCH of a stairwell's households through the API, as the field page sends
them) come at a steady rate for a while, and meanwhile the planner asks the coverage again
every second. Measured per server: its CPU seconds during the stream (all threads; of them,
those at the lowest priority, packing big answers with zstd from CPU nothing else wants),
those of PostgreSQL meanwhile, the saves' real rate, the answers it refreshed ahead, and the
planner's calls (median and slowest). At the end both
servers' coverage must equal the PostgreSQL GROUP BY of the same rows. Prints one JSON line.
Usage: python benchmarks/edit_stream.py [--stairwells 100000] [--rate 5] [--seconds 30]
       python benchmarks/edit_stream.py --database-url URL --token PLANNER_TOKEN
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg
from common import Backends, cpu_of, demo_city, idle_priority_cpu_seconds, served
from planner_latency import COVERAGE_SQL, Planner, coverage_rows, edit

from gis_service.db.cluster import free_port, throwaway_cluster

QUESTIONS = [
    ("/analysis/coverage", {"level": "compound"}),
    ("/analysis/coverage", {"level": "grid"}),
    ("/analysis/service-areas", {"layer": "facilities", "mode": "network", "f": "json",
                                 "radius_m": 300.0, "level": "compound"}),
    ("/analysis/service-areas", {"layer": "facilities", "mode": "crow", "f": "json",
                                 "radius_m": 300.0, "level": "compound"}),
]  # fmt: skip
"""What the planner asked before the stream (kept, and refreshed ahead after each edit)."""
ASK_EVERY_S = 1.0
REFRESHED = re.compile(r"^gis_answers_refreshed_ahead_total (\S+)$", re.M)


def main() -> None:
    """Build (or take) the city, serve it both ways under the same stream, print one line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stairwells", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=5.0, help="field saves per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long they come")
    parser.add_argument("--database-url", help="a city already loaded (and migrated)")
    parser.add_argument("--token", help="with --database-url: a planner's API token")
    args = parser.parse_args()
    out: dict[str, Any] = {"benchmark": "edit_stream", "cpus": os.cpu_count(),
                           "rate_per_s": args.rate, "seconds": args.seconds,
                           "kept_questions": len(QUESTIONS)}  # fmt: skip
    if args.database_url:
        conninfo = args.database_url.replace("postgresql+psycopg://", "postgresql://")
        out.update(both(args.database_url, conninfo, args.token, args))
    else:
        with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
            engine, report, _ = demo_city(cluster, args.stairwells)
            engine.dispose()
            out.update(both(cluster.url("bench"), cluster.conninfo("bench"),
                            report.tokens["planner"], args))  # fmt: skip
    ahead, asked = out["ahead"], out["when_asked"]
    out["extra_cpu_s"] = round(ahead["server_cpu_s"] - asked["server_cpu_s"], 2)
    out["extra_postgres_cpu_s"] = round(ahead["postgres_cpu_s"] - asked["postgres_cpu_s"], 2)
    out["extra_cpu_ms_per_edit"] = round(1000 * out["extra_cpu_s"] / ahead["edits"], 1)
    out["cpu_ratio"] = round(ahead["server_cpu_s"] / asked["server_cpu_s"], 2)
    out["call_median_ratio"] = round(ahead["call_median_s"] / asked["call_median_s"], 2)
    out["agree"] = ahead["agree"] and asked["agree"]
    print(json.dumps(out))
    if not out["agree"]:
        sys.exit(1)


def both(url: str, conninfo: str, token: str, args: Any) -> dict[str, Any]:
    """The stream against a server refreshing ahead, then against one refreshing when asked."""
    with psycopg.connect(conninfo, autocommit=True) as sql:
        out: dict[str, Any] = {
            "stairwells": sql.execute("SELECT count(*) FROM stairwell").fetchone()[0]}
        for name, ahead in (("ahead", "true"), ("when_asked", "false")):
            env = {"GIS_DATABASE_URL": url, "GIS_POOL_SIZE": "4", "GIS_REFRESH_AHEAD": ahead}
            with served(["benchmarks.common:make_app", "--factory"], env, free_port(),
                        "/health") as (base, process):  # fmt: skip
                out[name] = stream(Planner(base, token), Planner(base, token), process.pid,
                                   sql, Backends(conninfo), args)  # fmt: skip
    return out


def stream(planner: Planner, field: Planner, pid: int, sql: psycopg.Connection,
           database: Backends, args: Any) -> dict[str, Any]:  # fmt: skip
    """Ask the questions, then run the saves and the planner's calls; the figures."""
    for question, given in QUESTIONS:
        planner.get(question, **given)
    count = int(args.rate * args.seconds)
    picked = [r[0] for r in sql.execute(
        "SELECT s.id FROM stairwell s WHERE NOT EXISTS (SELECT 1 FROM household h WHERE "
        "h.stairwell_id = s.id) AND NOT s.has_register ORDER BY random() LIMIT %(n)s",
        {"n": count})]  # fmt: skip
    time.sleep(2.0)  # the server settles after the first answers
    server = psutil.Process(pid)
    refreshed_before, cpu_before = refreshed(planner), cpu_of(server)
    postgres_before, idle_before = database.cpu(), idle_priority_cpu_seconds(pid)
    calls: list[float] = []
    done = threading.Event()
    path, params = QUESTIONS[0]  # the one the planner asks again

    def ask() -> None:
        while not done.wait(ASK_EVERY_S):
            calls.append(planner.get(path, **params)[0])

    asker = threading.Thread(target=ask)
    asker.start()
    started = time.monotonic()
    for index, sid in enumerate(picked):
        time.sleep(max(0.0, started + index / args.rate - time.monotonic()))
        households = sql.execute("SELECT households FROM stairwell WHERE id = %(id)s",
                                 {"id": sid}).fetchone()[0]  # fmt: skip
        edit(field, sid, {"households": (households or 0) + 1})
    wall = time.monotonic() - started
    done.set()
    asker.join()
    cpu, postgres = cpu_of(server) - cpu_before, database.cpu() - postgres_before
    idle = idle_priority_cpu_seconds(pid) - idle_before
    final = coverage_rows(planner.get(path, **params)[1].json())
    rows = sql.execute(COVERAGE_SQL.format(joins="", where=""), {"year": 2000, "floors": 4})
    peer = {r[0]: tuple(int(v) for v in r[1:]) for r in rows}
    calls = calls or [float("nan")]  # a stream shorter than ASK_EVERY_S
    return {"edits": len(picked), "wall_s": round(wall, 1),
            "edits_per_s": round(len(picked) / wall, 2), "server_cpu_s": round(cpu, 2),
            "server_cores_busy": round(cpu / wall, 2),
            "of_which_idle_priority_cpu_s": round(idle, 2), "postgres_cpu_s": round(postgres, 2),
            "refreshed_ahead": refreshed(planner) - refreshed_before, "calls": len(calls),
            "call_median_s": round(statistics.median(calls), 4),
            "call_slowest_s": round(max(calls), 4), "agree": final == peer}  # fmt: skip


def refreshed(planner: Planner) -> int:
    """The server's count of answers refreshed ahead (/metrics)."""
    found = REFRESHED.search(planner.get("/metrics")[1].text)
    return int(float(found.group(1))) if found else 0


if __name__ == "__main__":
    main()
