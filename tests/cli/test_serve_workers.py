"""`gis-service serve --workers 2`: two uvicorn processes, /metrics summed over both."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from tests.conftest import DemoTemplate
from tests.serve_process import server_process

REQUESTS = 60


def counted(text: str, route: str) -> float:
    """The sum of gis_http_requests_total samples of a route."""
    pattern = rf'^gis_http_requests_total\{{[^}}]*route="{re.escape(route)}"[^}}]*\}} (\S+)$'
    return sum(float(v) for v in re.findall(pattern, text, flags=re.M))


def test_two_workers_share_metrics(
    demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    auth = {"Authorization": f"Bearer {demo_template.tokens['analyst']}"}
    with server_process(demo_db, demo_template, tmp_path, workers=2, pool_size="2") as served:
        for _ in range(REQUESTS):  # new connections, so both workers take some
            answer = httpx.get(f"{served.url}/compounds/5", headers=auth, timeout=10)
            assert answer.status_code == 200
        text = httpx.get(f"{served.url}/metrics", timeout=10).text
    assert counted(text, "/compounds/{compound_id}") == REQUESTS
    files = list((tmp_path / "prometheus-multiproc").glob("counter_*.db"))
    assert len(files) >= 2, files  # one per worker process
