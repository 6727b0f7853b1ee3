"""Fixtures of the tile tests: a live server on the shared demo district, and tile arithmetic."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import mapbox_vector_tile
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from tests.conftest import DemoTemplate, LiveServer, start_server

T = TypeVar("T")

EXTENT = 4096


@dataclass
class TileServer:
    """A live server and its app (to look at the tile cache)."""

    live: LiveServer
    app: FastAPI
    engine: Engine
    tokens: dict[str, str]


def run_app(engine: Engine, tokens: dict[str, str]) -> Iterator[TileServer]:
    """Serve the app on an engine until the fixture ends."""
    app = create_app(engine)
    live = start_server(app)
    yield TileServer(live, app, engine, tokens)
    live.server.should_exit = True
    live.thread.join(timeout=10)


@pytest.fixture(scope="module")
def tiles(shared_demo_db: Engine, demo_template: DemoTemplate) -> Iterator[TileServer]:
    """A server on the shared (read-only) demo district for a module of tests."""
    yield from run_app(shared_demo_db, demo_template.tokens)


@pytest.fixture
def writable(demo_db: Engine, demo_template: DemoTemplate) -> Iterator[TileServer]:
    """A server on a demo district of its own that the test may change."""
    yield from run_app(demo_db, demo_template.tokens)


def tile_pixel(lon: float, lat: float, z: int) -> tuple[int, int, float, float]:
    """Tile column, row and the position inside it (0..4096, y down) of a lon/lat point."""
    n = 2**z
    fx = (lon + 180.0) / 360.0 * n
    lat_r = math.radians(lat)
    fy = (1.0 - math.log(math.tan(lat_r) + 1.0 / math.cos(lat_r)) / math.pi) / 2.0 * n
    x, y = math.floor(fx), math.floor(fy)
    return x, y, (fx - x) * EXTENT, (fy - y) * EXTENT


def decode(content: bytes) -> dict[str, Any]:
    """Layers of an MVT, with tile coordinates as stored (y grows downwards)."""
    decoded: dict[str, Any] = mapbox_vector_tile.decode(
        content, default_options={"y_coord_down": True}
    )
    return decoded


def rows(engine: Engine, sql: str, **params: object) -> list[Any]:
    """All rows of a query."""
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def compound34(engine: Engine) -> list[Any]:
    """Stairwells of Shuiyin Road No. 34 compound: id, grid, status, lon, lat."""
    return rows(
        engine,
        "SELECT s.id, s.grid_id, s.elevator_status, s.label, s.households, "
        "ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat FROM stairwell s "
        "JOIN compound c ON c.id = s.compound_id WHERE c.name = '水荫路34号大院' ORDER BY s.id",
    )


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on a new event loop in its own thread: a test worker's main
    thread may hold a running loop already (a browser test's, say), where asyncio.run fails."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
