"""No blocking work on the event loop in the import, export, photo, tile and API routes.

The server runs as its own process with asyncio's debug mode on (PYTHONASYNCIODEBUG), which
logs every callback (a slice of an `async def` handler between two awaits) that holds the loop
longer than 100 ms. Each route an attacker or a busy user reaches is exercised, a 30 MB import
among them, while /live is polled; no slow callback may be logged, and the import costs the
serving process little CPU and memory (the file is read in a worker process). Before the fix
the import handler copied the upload to disk on the loop and read the file in the serving
process: a 49 MB dry run took /live to p99 631 ms, max 1.7 s (benchmarks/import_isolation.py).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest
from PIL import Image
from sqlalchemy.engine import Engine

from tests.conftest import DemoTemplate
from tests.features.live import POINT_34, issue_in_grid
from tests.security.hostile_files import big_geojson
from tests.security.served import MB, Served, served, watching
from tests.security.test_cql2_hostile import tile_of

LIVE_P99_S = 1.0
IMPORT_CPU_S = 1.5
"""Server CPU a 30 MB import may take: receiving and staging the upload, not reading it."""
IMPORT_RSS = 60 * MB
SLOW = re.compile(r"Executing .* took [0-9.]+ seconds")


@pytest.fixture
def uploads(tmp_path: Path) -> tuple[Path, bytes]:
    """A 30 MB GeoJSON of gardens and a 4 MB JPEG, made before the server starts."""
    return big_geojson(tmp_path / "gardens.geojson", 30 * MB), jpeg(4 * MB)


@pytest.fixture
def server(uploads: tuple[Path, bytes], demo_db: Engine, tmp_path: Path) -> Iterator[Served]:
    with served(demo_db, tmp_path, {"PYTHONASYNCIODEBUG": "1"}) as running:
        yield running


def jpeg(size: int) -> bytes:
    """A noisy JPEG of about `size` bytes (noise does not compress)."""
    side = int((size / 1.5) ** 0.5)
    pixels = np.random.default_rng(3).integers(0, 255, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=95)
    return out.getvalue()


def cpu_seconds(server: Served) -> float:
    """User and system CPU time the server process has used."""
    times = psutil.Process(server.proc.pid).cpu_times()
    return float(times.user + times.system)


def test_no_route_blocks_the_event_loop(
    server: Served, uploads: tuple[Path, bytes], demo_db: Engine, demo_template: DemoTemplate
) -> None:
    geojson, photo = uploads
    x, y = tile_of(*POINT_34, 16)
    fid = issue_in_grid(demo_db, 2)
    token = demo_template.tokens["planner"]
    with httpx.Client(base_url=server.url, timeout=300,
                      headers={"Authorization": f"Bearer {token}"}) as client, watching(
        server
    ) as watch:
        cpu, rss = cpu_seconds(server), server.rss()
        imported = client.post("/collections/gardens/import", params={"dry_run": "true"},
                               files={"file": (geojson.name, geojson.read_bytes())})
        cpu, rss = cpu_seconds(server) - cpu, max(watch.rss) - rss
        answers = {
            "import": imported,
            "photo": client.put(f"/issues/{fid}/photo", content=photo,
                                headers={"Content-Type": "image/jpeg"}),
            "export": client.get("/collections/stairwells/export", params={"f": "csv"}),
            "xyz tile": client.get(f"/tiles/stairwells/16/{x}/{y}.pbf"),
            "ogc tile": client.get(f"/collections/stairwells/tiles/WebMercatorQuad/16/{y}/{x}"),
            "items": client.get("/collections/stairwells/items",
                                params={"filter": "floors >= 6", "limit": 1000}),
            "coverage": client.get("/analysis/coverage", params={"level": "grid"}),
            "scenarios": client.get("/scenarios"),
        }
        time.sleep(0.5)
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == dict.fromkeys(answers, 200), statuses
    assert answers["import"].json()["rows_read"] > 10_000
    assert cpu < IMPORT_CPU_S and rss < IMPORT_RSS, (cpu, rss / MB)  # read elsewhere
    log = server.log.read_text()
    assert not SLOW.findall(log), SLOW.findall(log)[:3]
    assert not watch.failures and watch.p99() < LIVE_P99_S, sorted(watch.latencies)[-5:]


def test_the_detector_sees_a_blocking_handler(tmp_path: Path) -> None:
    """The debug log this test relies on does report a handler that blocks (no false pass)."""

    script = (
        "import asyncio, time\n"
        "async def handler():\n"
        "    time.sleep(0.3)\n"
        "asyncio.run(handler())\n"
    )
    done = subprocess.run([sys.executable, "-c", script],
                          env={**os.environ, "PYTHONASYNCIODEBUG": "1"},
                          capture_output=True, text=True, timeout=60, check=True)
    assert SLOW.search(done.stderr), done.stderr
