"""Fixtures of the analysis API tests: live servers on the demo district, tokens, SQL helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from tests.conftest import DemoTemplate, LiveServer

COMPOUND_34 = 5
"""Shuiyin Road No. 34 compound: 57 stairwells, 15 in service, 42 in retrofit batch 1."""


@pytest.fixture
def tokens(demo_template: DemoTemplate) -> dict[str, str]:
    """Bearer tokens of the demo users (admin, planner, analyst, grid01..grid12)."""
    return demo_template.tokens


@pytest.fixture
def shared_live(shared_demo_db: Engine, serve: Callable[[FastAPI], LiveServer]) -> LiveServer:
    """A live server (fresh caches) on the shared, read-only demo district."""
    return serve(create_app(shared_demo_db))


@pytest.fixture
def live(demo_db: Engine, serve: Callable[[FastAPI], LiveServer]) -> LiveServer:
    """A live server on a writable copy of the demo district."""
    return serve(create_app(demo_db))


def rows(engine: Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a query as dicts."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]


def execute(engine: Engine, sql: str, **params: Any) -> None:
    """Run one write as the database owner (like any SQL client would), committed."""
    with engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def assert_named_422(live: LiveServer, token: str, path: str, params: dict[str, str],
                     field: str) -> None:  # fmt: skip
    """The question is refused as 422 problem+json naming the field at fault."""
    with live.client(token) as http:
        answer = http.get(path, params=params)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in answer.text
