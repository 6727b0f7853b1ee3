"""Helpers for the features API tests: live servers, role clients, features in and out of grids."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.settings import Settings
from tests.conftest import DemoTemplate, LiveServer, scalar, start_server

ROLES = ("anonymous", "analyst", "planner", "grid02", "grid03", "admin")
COMPOUND_34 = 5  # 水荫路34号大院, in grid 2, 57 stairwells
POINT_34 = [113.2942, 23.1450]  # inside grid 2, in compound 34
SQUARE = [
    [
        [113.3001, 23.1481],
        [113.3003, 23.1481],
        [113.3003, 23.1483],
        [113.3001, 23.1483],
        [113.3001, 23.1481],
    ]
]


@contextmanager
def running(
    engine: Engine, check_answers: bool = True, settings: Settings | None = None
) -> Iterator[LiveServer]:
    """A live server for the app on an engine, stopped afterwards (see tests/conformance.py)."""
    live = start_server(create_app(engine, settings=settings), check_answers)
    try:
        yield live
    finally:
        live.server.should_exit = True
        live.thread.join(timeout=10)


@dataclass
class Clients:
    """HTTP clients for each demo role against one live server."""

    live: LiveServer
    tokens: dict[str, str]

    def __call__(self, who: str = "anonymous") -> httpx.Client:
        """A client acting as a demo user ('anonymous' without a token)."""
        return self.live.client(None if who == "anonymous" else self.tokens[who])

    def get(self, who: str, path: str, **kwargs: object) -> httpx.Response:
        """One GET as a demo user."""
        with self(who) as client:
            return client.get(path, **kwargs)  # type: ignore[arg-type]


def clients(live: LiveServer, demo: DemoTemplate) -> Clients:
    """Role clients for a live server."""
    return Clients(live, demo.tokens)


def first_id(engine: Engine, sql: str, **params: object) -> int:
    """The first id a query returns."""
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def stairwell_in_grid(engine: Engine, grid: int) -> int:
    """A stairwell of one grid."""
    return first_id(engine, "SELECT min(id) FROM stairwell WHERE grid_id = :g", g=grid)


def issue_in_grid(engine: Engine, grid: int) -> int:
    """An issue of one grid."""
    return first_id(engine, "SELECT min(id) FROM issue WHERE grid_id = :g", g=grid)


def problem_field(answer: httpx.Response) -> list[str]:
    """The fields a problem+json answer names."""
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    return [e["field"] for e in answer.json().get("errors", [])]


def number(engine: Engine, sql: str, **params: object) -> int:
    """One integer from a query."""
    return int(str(scalar(engine, sql, **params)))


def log_count(engine: Engine) -> int:
    """Rows in the edit log."""
    return number(engine, "SELECT count(*) FROM edit_log")


def parking(**props: Any) -> dict[str, Any]:
    """A parking feature body."""
    properties = {"name": "便民停车场", "kind": "surface_lot", "capacity": 12, **props}
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": POINT_34},
        "properties": properties,
    }


def issue(point: list[float], **props: Any) -> dict[str, Any]:
    """An issue feature body."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": point},
        "properties": {"category": "water_pipes", "status": "open", "note": "漏水", **props},
    }


def point_of(engine: Engine, stairwell: int) -> list[float]:
    """A stairwell's lon/lat."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT ST_X(geom), ST_Y(geom) FROM stairwell WHERE id = :id"),
            {"id": stairwell},
        ).one()
    return [float(row[0]), float(row[1])]
