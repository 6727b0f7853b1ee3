"""Our hand-written CQL2 parsers (text, JSON) against pygeofilter and cql2 (cql2-rs).

Builds the demo city in a throwaway cluster, parses the same real stairwell filters (text, and
their JSON form) with each parser, checks that each means the same (the ids its SQL selects in
PostGIS equal those of our compiler's SQL with bound values), times the parsing (median of the
same number of runs) and records what each does with hostile input (deep nesting, a huge
literal, a very long OR chain) in a child process, so that a crash is recorded, not suffered.
Prints one JSON line.

Run: python benchmarks/cql2_parsers.py [--runs 200]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cql2
import sqlalchemy as sa
from pygeofilter.backends.sql import to_sql_where
from pygeofilter.parsers.cql2_json import parse as pgf_json
from pygeofilter.parsers.cql2_text import parse as pgf_text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import timed
from gis_service.catalog import default_catalog
from gis_service.features import cql2 as our_text
from gis_service.features import cql2_json as our_json
from gis_service.features.filters import cql2_to_sql

BOX = "POLYGON((113.290 23.140, 113.300 23.140, 113.300 23.150, 113.290 23.150, 113.290 23.140))"
FILTERS = [
    "elevator_status = 'applied' AND compound_id = 5",
    "households > 10 AND elderly_households >= 3",
    "elevator_status IN ('approved', 'under_construction', 'in_service') OR floors = 7",
    "floors BETWEEN 5 AND 6 AND NOT (elevator_status = 'none')",
    "label LIKE '1%' AND consent_agree > consent_object",
    f"S_INTERSECTS(geometry, {BOX})",
    f"S_INTERSECTS(geometry, {BOX}) AND elevator_status <> 'in_service'",
    "last_surveyed_on IS NULL OR households < 8",
]
HOSTILE = {
    "nesting_5000": "(" * 5000 + "households > 1" + ")" * 5000,
    "literal_10MB": "label = '" + "x" * 10_000_000 + "'",
    "or_chain_20000": " OR ".join(["households = 1"] * 20_000),
}
CHILD = """
import sys, time
kind, path = sys.argv[1], sys.argv[2]
text = open(path).read()
started = time.perf_counter()
try:
    if kind == "ours":
        from gis_service.features.cql2 import parse
        parse(text)
    elif kind == "pygeofilter":
        from pygeofilter.parsers.cql2_text import parse
        parse(text)
    else:
        import cql2
        cql2.parse_text(text)
    print("parsed", round(time.perf_counter() - started, 3))
except Exception as exc:
    print("refused", type(exc).__name__, round(time.perf_counter() - started, 3))
"""


def ids(conn: sa.Connection, where: str, params: dict[str, Any] | None = None) -> list[int]:
    """Ids of the stairwells a WHERE clause selects."""
    sql = f"SELECT id FROM stairwell WHERE {where} ORDER BY id"
    return [int(i) for i in conn.execute(sa.text(sql), params or {}).scalars()]


def as_geom(sql: str) -> str:
    """A third-party SQL with the CQL2 `geometry` property named as our column, and its
    geometry literals given SRID 4326 (both leave them SRID 0, which PostGIS refuses to compare
    with stored CRS84 geometries: CQL2 says literals are CRS84)."""
    sql = sql.replace('"geometry"', "geom").replace("geometry,", "geom,")
    sql = re.sub(r"(ST_GeomFromWKB\(x'[0-9A-Fa-f]+')\)", r"\1, 4326)", sql)
    return re.sub(r"(st_geomfromtext\('[^']*')\)", r"\1, 4326)", sql, flags=re.I)


def hostile(kind: str, text: str) -> str:
    """What one parser does with one hostile filter, run in a child process (60 s at most)."""
    with tempfile.NamedTemporaryFile("w", suffix=".cql2", delete=False) as handle:
        handle.write(text)
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, kind, handle.name], capture_output=True, text=True,
            timeout=60, check=False, cwd=Path(__file__).resolve().parent.parent,
        )
    except subprocess.TimeoutExpired:
        return "timeout 60 s"
    finally:
        Path(handle.name).unlink()
    if done.returncode != 0:
        return f"crashed (exit {done.returncode})"
    return done.stdout.strip()


def run(runs: int) -> dict[str, Any]:
    """Build the city, compare meanings, time the parsers, try the hostile inputs."""
    from gis_service.db import migrate
    from gis_service.db.cluster import ensure_postgis, throwaway_cluster
    from gis_service.db.engine import create_db_engine
    from gis_service.ingest.demo_load import load_demo

    layer = default_catalog().layers["stairwells"]
    texts = FILTERS
    jsons = [cql2.parse_text(t).to_json() for t in texts]
    json_texts = [json.dumps(j) for j in jsons]
    one: dict[str, Callable[[str], Any]] = {
        "ours_text": our_text.parse, "ours_json": our_json.parse,
        "pygeofilter_text": pgf_text, "pygeofilter_json": pgf_json,
        "cql2_text": cql2.parse_text, "cql2_json": cql2.parse_json,
    }
    inputs = {name: json_texts if name.endswith("json") else texts for name in one}
    rejected: dict[str, list[str]] = {name: [] for name in one}
    for name, parse in one.items():
        for index, text in enumerate(inputs[name]):
            try:
                parse(text)
            except Exception as exc:  # a form this parser does not read
                rejected[name].append(f"#{index} {type(exc).__name__}: {texts[index][:40]}")
    # the same work for each: the filters every parser reads
    common = [i for i in range(len(texts))
              if not any(r.startswith(f"#{i} ") for rs in rejected.values() for r in rs)]
    parsers: dict[str, Callable[[], Any]] = {
        name: (lambda p=parse, n=name: [p(inputs[n][i]) for i in common])
        for name, parse in one.items()
    }
    medians = {name: timed(fn, runs)[0] * 1000 for name, fn in parsers.items()}
    fields = {f.name: f.name for f in layer.fields} | {"geometry": "geom"}
    agree: dict[str, list[str]] = {"pygeofilter": [], "cql2": [], "ours_json": []}
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        ensure_postgis(cluster.conninfo())
        engine = create_db_engine(cluster.url())
        migrate.upgrade(engine)
        load_demo(engine, target_stairwells=1000)
        with engine.connect() as conn:
            for text, as_json in zip(texts, json_texts, strict=True):
                ours = cql2_to_sql(text, layer)
                expected = ids(conn, ours.sql, ours.params)
                from_json = cql2_to_sql(as_json, layer, lang="cql2-json")
                verdicts = {
                    "ours_json": lambda f=from_json: ids(conn, f.sql, f.params),
                    "pygeofilter": lambda t=text: ids(
                        conn, as_geom(to_sql_where(pgf_text(t), fields))),
                    "cql2": lambda t=text: ids(conn, as_geom(cql2.parse_text(t).to_sql())),
                }
                for name, found in verdicts.items():
                    try:
                        same = found() == expected
                    except Exception as exc:  # a parser or its SQL that PostGIS refuses
                        conn.rollback()
                        agree[name].append(f"error {type(exc).__name__}: {text[:40]}")
                        continue
                    if not same:
                        agree[name].append(f"differs: {text[:40]}")
                assert expected, text  # every filter selects something in the demo
    started = time.perf_counter()
    refused = {
        case: {kind: hostile(kind, text) for kind in ("ours", "pygeofilter", "cql2")}
        for case, text in HOSTILE.items()
    }
    return {
        "benchmark": "cql2_parsers",
        "filters": len(texts),
        "timed_filters": len(common),
        "rejected_valid_filters": {k: v for k, v in rejected.items() if v},
        "runs": runs,
        "median_ms_all_filters": {k: round(v, 3) for k, v in medians.items()},
        "ratio_to_ours_text": {
            k: round(v / medians["ours_text"], 2) for k, v in medians.items()
        },
        "disagreements": agree,
        "hostile": refused,
        "hostile_seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    """Parse arguments, run, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(run(args.runs), ensure_ascii=False))


if __name__ == "__main__":
    main()
