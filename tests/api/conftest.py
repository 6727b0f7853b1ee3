"""Fixtures shared by the HTTP tests of the features API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import DemoTemplate
from tests.features.live import Clients, clients, running


@pytest.fixture
def api(demo_db: Engine, demo_template: DemoTemplate) -> Iterator[Clients]:
    """Role clients against a live server on a writable copy of the demo."""
    with running(demo_db) as live:
        yield clients(live, demo_template)
