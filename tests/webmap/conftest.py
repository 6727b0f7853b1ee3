"""Fixtures of the web map tests: one live app on the shared demo district per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from tests.conftest import DemoTemplate, LiveServer, start_server


@pytest.fixture(scope="module")
def live(shared_demo_db: Engine) -> Iterator[LiveServer]:
    """The real app serving the demo district (read-only tests)."""
    server = start_server(create_app(shared_demo_db))
    yield server
    server.server.should_exit = True
    server.thread.join(timeout=10)


@pytest.fixture(scope="module")
def planner_token(demo_template: DemoTemplate) -> str:
    """The demo planner's bearer token."""
    return demo_template.tokens["planner"]
