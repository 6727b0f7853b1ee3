"""Benchmark: network service-area polygons (area_frame, the default GeoJSON answer) against
the way they were built before (GEOS: each street chain buffered, the buffers unioned per
facility on threads; line_buffers.py now offsets and dissolves them in Clipper).

Street graph and facilities are read once (as /analysis/service-areas does, graph cached) and
the graph's lazy parts built by a lines-only answer, so both runs start where a planner's call
starts after earlier network questions. Same inputs, same runs for both, taking turns; wall
and CPU seconds (of all threads: steadier on a shared machine). The polygons are checked
equal (facility ids, areas within the stated tolerance) and ours against a direct shapely
buffer of each sampled facility's reached lines. Prints one JSON line.

Usage: python benchmarks/service_area_polygons.py [--url postgresql+psycopg://...] |
       [--stairwells 100000]  [--radius 300] [--runs 1] [--sample 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa
from common import demo_city

from gis_service.analysis import service_area
from gis_service.analysis.service_area import QUAD_SEGS
from gis_service.datasets import formats
from gis_service.datasets.cache import ResultCache
from gis_service.datasets.params import ServiceParams, service_params
from gis_service.datasets.runs import ServiceInputs, area_frame, service_inputs
from gis_service.db.cluster import throwaway_cluster
from gis_service.db.engine import create_db_engine

BUFFER_M = 25.0
AREA_TOLERANCE = 0.005
"""Polygon areas within 0.5 % of the exact round buffer (see service_area.QUAD_SEGS)."""
APART_TOLERANCE = 1e-3
"""Ours and GEOS's direct buffer with as many chords per arc differ only where a bend's chords
fall (line_buffers.py): at most 0.1 % of a polygon's area."""


def geos_union(
    coords: np.ndarray, line: np.ndarray, group: np.ndarray, n_groups: int, buffer: float,
    quad_segs: int,
) -> np.ndarray:  # fmt: skip
    """The previous buffered_coords: each chain buffered by GEOS, the buffers unioned per group
    on threads."""
    lines = shapely.linestrings(coords, indices=line)
    order = np.argsort(group, kind="stable")
    lines, line_group = lines[order], group[order]
    first = np.searchsorted(line_group, np.arange(n_groups + 1))
    workers = min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        chunks = np.array_split(lines, workers)
        blobs = np.concatenate(
            list(pool.map(lambda c: shapely.buffer(c, buffer, quad_segs=quad_segs), chunks))
        )

        def union(i: int) -> Any:
            a, b = first[i], first[i + 1]
            return blobs[a] if b - a == 1 else shapely.union_all(blobs[a:b])

        return np.array(list(pool.map(union, range(n_groups))), dtype=object)


@contextmanager
def previous_method() -> Iterator[None]:
    """service_areas with the previous buffered_coords (the peer of this benchmark)."""
    ours = service_area.buffered_coords
    service_area.buffered_coords = geos_union  # type: ignore[assignment]
    try:
        yield
    finally:
        service_area.buffered_coords = ours


@contextmanager
def city(args: argparse.Namespace) -> Iterator[sa.Engine]:
    """The kept city at --url, or a throwaway one of --stairwells."""
    if args.url:
        yield create_db_engine(args.url)
        return
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        yield demo_city(cluster, args.stairwells)[0]


def metric_areas(inputs: ServiceInputs, params: ServiceParams, buffer: float) -> gpd.GeoDataFrame:
    """The polygons (or lines, buffer 0) in the graph's metric CRS, as area_frame builds them."""
    fac, rules = inputs.facilities, params.rules
    assert inputs.graph is not None
    ids = fac["id"].to_numpy(np.int64)
    return service_area.service_areas(
        inputs.graph, fac, params.radius_m, ids, buffer, access=rules.access, snap=rules.snap
    )


def accuracy(ours: np.ndarray, lines: np.ndarray, sample: np.ndarray) -> dict[str, float]:
    """Ours against a direct buffer of the reached lines with the same arcs (QUAD_SEGS), with
    shapely's default (8) and with near-exact arcs (64): worst relative area and symmetric
    difference."""
    out: dict[str, float] = {}
    for quad in sorted({QUAD_SEGS, 8, 64}):
        direct = shapely.buffer(lines[sample], BUFFER_M, quad_segs=quad)
        area = shapely.area(direct)
        out[f"max_rel_area_diff_q{quad}"] = float(
            np.max(np.abs(shapely.area(ours[sample]) - area) / area)
        )
        sym = shapely.area(shapely.symmetric_difference(ours[sample], direct))
        out[f"max_rel_symdiff_q{quad}"] = float(np.max(sym / area))
    return out


def run(inputs: ServiceInputs, params: ServiceParams) -> tuple[float, float, gpd.GeoDataFrame]:
    """One area_frame call: wall seconds, CPU seconds of the process (all threads), answer."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = area_frame(inputs, params, True, BUFFER_M)
    return time.perf_counter() - wall, time.process_time() - cpu, out


def alternated(inputs: ServiceInputs, params: ServiceParams, runs: int) -> tuple[Any, ...]:
    """Ours and the previous method taking turns (a shared machine's load drifts): median wall
    and CPU seconds of each, and their answers."""
    ours, before = [], []
    for _ in range(runs):
        ours.append(run(inputs, params))
        with previous_method():
            before.append(run(inputs, params))
    med = statistics.median
    return (med(r[0] for r in ours), med(r[1] for r in ours), med(r[0] for r in before),
            med(r[1] for r in before), ours[-1][2], before[-1][2])  # fmt: skip


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="database of a kept demo city (read only)")
    parser.add_argument("--stairwells", type=int, default=100_000)
    parser.add_argument("--radius", type=float, default=300.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--sample", type=int, default=200, help="facilities checked directly")
    args = parser.parse_args()

    with city(args) as engine, engine.connect() as conn:
        params = service_params(conn, "facilities", radius_m=args.radius)
        started = time.perf_counter()
        inputs = service_inputs(conn, params, stairwells=False, graphs=ResultCache())
        read_s = time.perf_counter() - started
    assert inputs.graph is not None
    lines = metric_areas(inputs, params, 0.0)  # builds the graph's lazy parts, untimed

    ours_s, ours_cpu, before_s, before_cpu, ours, before = alternated(inputs, params, args.runs)
    started = time.perf_counter()
    texts = formats.geojson_texts(ours.geometry.to_numpy())
    body = formats.feature_collection(ours, texts, ours["facility_id"].tolist(), {})
    geojson_s = time.perf_counter() - started

    same_ids = ours["facility_id"].tolist() == before["facility_id"].tolist()
    metric = inputs.crs
    area_ours = ours.to_crs(metric).area.to_numpy()
    area_before = before.to_crs(metric).area.to_numpy()
    area_diff = float(np.max(np.abs(area_ours - area_before) / area_before))
    polygons = metric_areas(inputs, params, BUFFER_M).geometry.to_numpy()
    rng = np.random.default_rng(7)
    sample = rng.choice(len(polygons), size=min(args.sample, len(polygons)), replace=False)
    checked = accuracy(polygons, lines.geometry.to_numpy(), sample)
    agree = (
        same_ids
        and checked[f"max_rel_symdiff_q{QUAD_SEGS}"] < APART_TOLERANCE
        and checked["max_rel_area_diff_q64"] < AREA_TOLERANCE
        and area_diff < APART_TOLERANCE
    )
    print(
        json.dumps(
            {
                "benchmark": "service_area_polygons",
                "stairwells": None if args.url else args.stairwells,
                "database": "kept city" if args.url else "throwaway demo city",
                "facilities": len(inputs.facilities),
                "edges": inputs.graph.n_edges,
                "radius_m": args.radius,
                "buffer_m": BUFFER_M,
                "quad_segs": QUAD_SEGS,
                "read_and_graph_s": round(read_s, 2),
                "ours_area_frame_s": round(ours_s, 2),
                "before_area_frame_s": round(before_s, 2),
                "speedup": round(before_s / ours_s, 2),
                "ours_cpu_s": round(ours_cpu, 2),
                "before_cpu_s": round(before_cpu, 2),
                "cpu_speedup": round(before_cpu / ours_cpu, 2),
                "geojson_s": round(geojson_s, 2),
                "geojson_mb": round(len(body) / 1e6, 1),
                "vertices": int(shapely.get_num_coordinates(ours.geometry.to_numpy()).sum()),
                "polygons": len(ours),
                "same_facilities": same_ids,
                "max_rel_area_diff_to_before": area_diff,
                "sampled_facilities": int(sample.size),
                **checked,
                "runs": args.runs,
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "agree": agree,
            }
        )
    )
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
