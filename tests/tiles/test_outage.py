"""Tiles while the database is down: a clear 503 at once (cached tile or not), then recovery."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.db.cluster import ManagedCluster
from gis_service.db.engine import create_db_engine
from tests.conftest import LiveServer
from tests.tiles.conftest import compound34, tile_pixel

pytestmark = pytest.mark.faults
BOUND_S = 12.0
"""A tile answers within this while the database is down (a refused connection fails at once)."""


def test_a_tile_while_the_database_is_down_is_a_clear_503(
    own_cluster: tuple[ManagedCluster, Engine, dict[str, str]],
    serve: Callable[[FastAPI], LiveServer],
) -> None:
    cluster, engine, tokens = own_cluster
    first = compound34(engine)[0]
    paths = []
    for z in (15, 16, 17):
        x, y, _, _ = tile_pixel(first.lon, first.lat, z)
        paths.append(f"/tiles/stairwells/{z}/{x}/{y}.pbf")
    app_engine = create_db_engine(cluster.url("postgres"))
    live = serve(create_app(app_engine))
    try:
        with live.client(tokens["planner"]) as client:
            for _ in range(2):  # the caller remembered, the first two tiles cached
                assert all(client.get(p).status_code == 200 for p in paths[:2])
            assert cluster.stop()
            for path in paths:  # cached, cached, never built
                started = time.monotonic()
                down = client.get(path)
                seconds = time.monotonic() - started
                assert down.status_code == 503, (path, down.status_code, down.text)
                assert down.headers["content-type"].startswith("application/problem+json")
                assert "atabase" in down.json()["detail"] and seconds < BOUND_S, down.text
                assert down.headers["retry-after"] == "5"  # the page waits that long (a 503)
            cluster.start()
            deadline = time.monotonic() + 30
            while client.get(paths[2]).status_code != 200:
                assert time.monotonic() < deadline, "tiles did not come back"
                time.sleep(0.2)
            back = [client.get(p) for p in paths]
            assert [a.status_code for a in back] == [200, 200, 200]
    finally:
        app_engine.dispose()
