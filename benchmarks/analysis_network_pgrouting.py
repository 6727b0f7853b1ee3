"""Benchmark: network coverage, our one-pass multi-source Dijkstra against pgRouting.

A street lattice of >= 1M nodes (1000 x 1000, 50 m blocks), 20k source nodes, 500 m: ours
(`nearest_source_nodes`, scipy CSR, one pass) against `pgr_drivingDistance(..., equicost)`
on the same edges loaded with COPY into a throwaway PostGIS + pgRouting. pgRouting runs one
search per source over the whole graph, so it first runs on a probe sample of the sources and
its full-size time is extrapolated from 1 and the probe's sources; the reached
sets and distances are checked equal on the sample. When the extrapolated full run fits the
time budget (--pgr-budget-s), pgRouting runs on all sources instead. pgRouting builds its graph
from the edge table inside every call, so our headline time includes our graph build too (CSR
from the street lines, then the search); both sides run --runs times (medians). Prints one
JSON line.
Usage: python benchmarks/analysis_network_pgrouting.py [--size 1000] [--sources 20000]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import psycopg
from common import lattice, timed

from gis_service.analysis.network import StreetGraph, build_graph
from gis_service.analysis.routing import nearest_source_nodes
from gis_service.db.cluster import ensure_postgis, throwaway_cluster

PGR_SQL = """
SELECT node, agg_cost FROM pgr_drivingDistance(
    'SELECT id, source, target, cost FROM edges', %(vids)s::bigint[], %(limit)s,
    directed := false, equicost := true)
"""


def load_edges(conn: psycopg.Connection, graph: StreetGraph) -> None:
    """The graph's edges as a pgRouting edge table (vertex ids are node index + 1)."""
    conn.execute("CREATE TABLE edges (id bigint, source bigint, target bigint, cost float8)")
    frame = np.column_stack(
        [np.arange(1, graph.n_edges + 1), graph.u + 1, graph.v + 1, graph.length]
    )
    buffer = io.StringIO()
    np.savetxt(buffer, frame, fmt=["%d", "%d", "%d", "%.6f"], delimiter=",")
    with conn.cursor() as cur, cur.copy("COPY edges FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())
    conn.execute("ANALYZE edges")


def pgrouting(conn: psycopg.Connection, sources: np.ndarray, limit: float) -> np.ndarray:
    """Distance per node (inf where not reached) from pgr_drivingDistance with equicost."""
    rows = conn.execute(PGR_SQL, {"vids": (sources + 1).tolist(), "limit": limit}).fetchall()
    return np.array(rows, dtype=np.float64).reshape(-1, 2)


def compare(n: int, pgr_rows: np.ndarray, dist: np.ndarray) -> tuple[bool, float]:
    """Same reached node set, and the largest distance difference on it."""
    expected = np.full(n, np.inf)
    expected[pgr_rows[:, 0].astype(np.int64) - 1] = pgr_rows[:, 1]
    reached = np.isfinite(dist)
    same = bool(np.array_equal(np.isfinite(expected), reached))
    both = reached & np.isfinite(expected)
    diff = float(np.abs(expected[both] - dist[both]).max()) if both.any() else 0.0
    return same, diff


def built(lines: np.ndarray) -> StreetGraph:
    """Our street graph of the lines with its CSR matrix built (what a first search needs)."""
    graph = build_graph(lines)
    graph.matrix  # noqa: B018
    return graph


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1000, help="lattice side in nodes")
    parser.add_argument("--spacing", type=float, default=50.0, help="edge length in metres")
    parser.add_argument("--sources", type=int, default=20_000)
    parser.add_argument("--limit", type=float, default=500.0)
    parser.add_argument("--runs", type=int, default=3, help="runs of each side (median)")
    parser.add_argument("--probe", type=int, default=200, help="sources of pgRouting's probe")
    parser.add_argument(
        "--pgr-budget-s",
        type=float,
        default=300.0,
        help="run pgRouting on all sources if the extrapolated time is below this",
    )
    args = parser.parse_args()

    lines = lattice(args.size, args.spacing)
    build_s, graph = timed(lambda: built(lines), args.runs)
    rng = np.random.default_rng(42)
    sources = rng.choice(graph.n_nodes, size=min(args.sources, graph.n_nodes), replace=False)
    ours_s, reach = timed(lambda: nearest_source_nodes(graph, sources, args.limit), args.runs)
    with_build_s, _ = timed(
        lambda: nearest_source_nodes(built(lines), sources, args.limit), args.runs
    )
    probe = sources[: max(2, min(args.probe, sources.size))]
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        ensure_postgis(cluster.conninfo())
        with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
            version = conn.execute("SELECT pgr_version()").fetchone()
            load_s, _ = timed(lambda: load_edges(conn, graph), 1)
            one_s, _ = timed(lambda: pgrouting(conn, probe[:1], args.limit), args.runs)
            probe_s, pgr_rows = timed(lambda: pgrouting(conn, probe, args.limit), args.runs)
            per_source = max(probe_s - one_s, 0.0) / (probe.size - 1)
            estimate_s = one_s + per_source * (sources.size - 1)
            sample, pgr_s = probe, probe_s
            if probe.size < sources.size and estimate_s * args.runs <= args.pgr_budget_s:
                sample = sources
                pgr_s, pgr_rows = timed(lambda: pgrouting(conn, sources, args.limit), args.runs)
    ours_sample_s, sample_reach = timed(
        lambda: nearest_source_nodes(built(lines), sample, args.limit), args.runs
    )
    same, diff = compare(graph.n_nodes, pgr_rows, sample_reach.dist)
    full_s = pgr_s if sample.size == sources.size else estimate_s
    ok = same and diff < 1e-6
    print(
        json.dumps(
            {
                "benchmark": "analysis_network_pgrouting",
                "graph": f"{args.size}x{args.size} lattice, {args.spacing:g} m edges",
                "nodes": graph.n_nodes,
                "edges": graph.n_edges,
                "sources": int(sources.size),
                "limit_m": args.limit,
                "build_graph_s": round(build_s, 2),
                "ours_s": round(with_build_s, 3),
                "ours_note": "graph build (CSR from the lines) + search, as pgRouting's calls",
                "ours_search_only_s": round(ours_s, 3),
                "ours_reached_nodes": int(reach.reached.sum()),
                "pgrouting_version": version[0] if version else None,
                "pgrouting_sources": int(sample.size),
                "pgrouting_note": (
                    "all sources"
                    if sample.size == sources.size
                    else f"pgr_drivingDistance on the first {sample.size} sources only (one "
                    "search per source over the whole graph; all sources would take about "
                    f"{estimate_s:.1f} s, over the budget); full time extrapolated from 1 and "
                    f"{sample.size} sources; reached sets and distances checked on that sample"
                ),
                "pgrouting_1_source_s": round(one_s, 2),
                "pgrouting_sample_s": round(pgr_s, 2),
                "pgrouting_full_s": round(full_s, 1),
                "pgrouting_full_measured": bool(sample.size == sources.size),
                "ours_same_sample_s": round(ours_sample_s, 4),
                "speedup_same_sample": round(pgr_s / ours_sample_s, 1),
                "speedup_full": round(full_s / with_build_s, 1),
                "speedup_full_search_only": round(full_s / ours_s, 1),
                "runs": {"ours": args.runs, "pgrouting": args.runs},
                "edges_copy_s": round(load_s, 1),
                "same_reached_set": same,
                "max_abs_diff_m": diff,
                "agree": ok,
            }
        )
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
