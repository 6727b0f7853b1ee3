"""`gis-service serve --workers 2`: two uvicorn processes, /metrics summed over both."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from gis_service.db.cluster import free_port
from tests.conftest import DemoTemplate, wait_until_ready

REQUESTS = 60


def counted(text: str, route: str) -> float:
    """The sum of gis_http_requests_total samples of a route."""
    pattern = rf'^gis_http_requests_total\{{[^}}]*route="{re.escape(route)}"[^}}]*\}} (\S+)$'
    return sum(float(v) for v in re.findall(pattern, text, flags=re.M))


def test_two_workers_share_metrics(
    demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "GIS_DATABASE_URL": demo_db.url.render_as_string(hide_password=False),
        "GIS_DATA_DIR": str(tmp_path),
        "GIS_POOL_SIZE": "2",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cmd = [sys.executable, "-c", "from gis_service.cli import main; main()", "serve",
           "--workers", "2", "--port", str(port), "--no-demo"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    auth = {"Authorization": f"Bearer {demo_template.tokens['analyst']}"}
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, proc, lambda: proc.communicate(timeout=5)[0]
                         if proc.poll() is not None else "")
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(REQUESTS):  # new connections, so both workers take some
                assert httpx.get(f"{url}/compounds/5", headers=auth, timeout=10).status_code == 200
            text = client.get("/metrics").text
        assert counted(text, "/compounds/{compound_id}") == REQUESTS
        files = list((tmp_path / "prometheus-multiproc").glob("counter_*.db"))
        assert len(files) >= 2, files  # one per worker process
    finally:
        proc.terminate()
        proc.wait(timeout=30)
