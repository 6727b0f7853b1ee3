"""Benchmark: one-pass multi-source Dijkstra (scipy CSR) against networkx on a street lattice.

Prints one JSON line: medians of a few runs, ours vs networkx in the same run, answers checked.
Usage: python benchmarks/analysis_network.py [--size 1000] [--sources 20000] [--limit 500]
"""

from __future__ import annotations

import argparse
import json
import sys

import networkx as nx
import numpy as np
from common import lattice, timed

from gis_service.analysis.network import StreetGraph, build_graph
from gis_service.analysis.routing import nearest_source_nodes


def to_networkx(graph: StreetGraph) -> nx.Graph:
    """The same graph in networkx (edges with their lengths as 'weight')."""
    g = nx.Graph()
    g.add_nodes_from(range(graph.n_nodes))
    g.add_weighted_edges_from(
        zip(graph.u.tolist(), graph.v.tolist(), graph.length.tolist(), strict=True)
    )
    return g


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1000, help="lattice side in nodes")
    parser.add_argument("--spacing", type=float, default=50.0, help="edge length in metres")
    parser.add_argument("--sources", type=int, default=20000)
    parser.add_argument("--limit", type=float, default=500.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nx-runs", type=int, default=1, help="networkx runs (slow)")
    parser.add_argument(
        "--nx-sources",
        type=int,
        default=0,
        help="run networkx on this many of the sources only (0 = all)",
    )
    args = parser.parse_args()

    lines = lattice(args.size, args.spacing)
    build_s, graph = timed(lambda: build_graph(lines), 1)
    rng = np.random.default_rng(42)
    sources = rng.choice(graph.n_nodes, size=min(args.sources, graph.n_nodes), replace=False)
    graph.matrix  # noqa: B018  (build the CSR once, outside the timed runs)
    ours_s, reach = timed(lambda: nearest_source_nodes(graph, sources, args.limit), args.runs)

    nx_build_s, g = timed(lambda: to_networkx(graph), 1)
    nx_src = sources if args.nx_sources <= 0 else sources[: args.nx_sources]
    nx_s, ref = timed(
        lambda: nx.multi_source_dijkstra_path_length(g, set(nx_src.tolist()), cutoff=args.limit),
        args.nx_runs,
    )
    same_s = ours_s
    if nx_src.size != sources.size:
        same_s, reach = timed(lambda: nearest_source_nodes(graph, nx_src, args.limit), args.runs)
    expected = np.full(graph.n_nodes, np.inf)
    expected[np.fromiter(ref.keys(), dtype=np.int64)] = np.fromiter(ref.values(), dtype=float)
    same_set = bool(np.array_equal(np.isfinite(expected), reach.reached))
    both = np.isfinite(expected) & reach.reached
    max_diff = float(np.abs(expected[both] - reach.dist[both]).max()) if both.any() else 0.0
    ok = same_set and max_diff < 1e-6
    note = "all sources"
    if nx_src.size != sources.size:
        note = f"networkx on {nx_src.size} of the sources; ours re-run on that sample to check"
    print(
        json.dumps(
            {
                "benchmark": "analysis_network",
                "graph": f"{args.size}x{args.size} lattice, {args.spacing:g} m edges",
                "nodes": graph.n_nodes,
                "edges": graph.n_edges,
                "sources": int(sources.size),
                "limit_m": args.limit,
                "build_graph_s": round(build_s, 3),
                "ours_dijkstra_s": round(ours_s, 4),
                "networkx_s": round(nx_s, 3),
                "networkx_graph_build_s": round(nx_build_s, 3),
                "speedup_same_sources": round(nx_s / same_s, 1),
                "networkx_sources": int(nx_src.size),
                "networkx_note": note,
                "reached_nodes": int(reach.reached.sum()),
                "same_reached_set": same_set,
                "max_abs_diff_m": max_diff,
                "runs": {"ours": args.runs, "networkx": args.nx_runs},
                "agree": ok,
            }
        )
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
