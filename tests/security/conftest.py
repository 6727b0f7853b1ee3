"""Fixtures of the attack tests: the app as a real server process on its own demo copy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy.engine import Engine

from gis_service.db.cluster import ManagedCluster
from gis_service.db.engine import create_db_engine
from tests.conftest import DemoTemplate, admin, create_database
from tests.field.conftest import field_server  # noqa: F401  (a fixture of these tests too)
from tests.serve_process import ServerProcess, server_process


@pytest.fixture(scope="package")
def module_demo_db(pg_cluster: ManagedCluster, demo_template: DemoTemplate) -> Iterator[Engine]:
    """An engine on a demo copy shared by the attack tests that need a server process."""
    name = create_database(pg_cluster, demo_template.name)
    engine = create_db_engine(pg_cluster.url(name))
    yield engine
    engine.dispose()
    admin(pg_cluster, f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="package")
def served(
    module_demo_db: Engine, demo_template: DemoTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One `gis-service serve` process shared by the attack tests."""
    with server_process(module_demo_db, demo_template, tmp_path_factory.mktemp("served")) as srv:
        yield srv


def latencies(url: str, seconds: float) -> list[float]:
    """Seconds each GET /live took, one after the other for `seconds`."""
    found: list[float] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            client.get("/live").raise_for_status()
            found.append(time.perf_counter() - started)
    return found


def p99(values: list[float]) -> float:
    """The 99th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


@contextmanager
def attacking(attack: Callable[[threading.Event], None], threads: int) -> Iterator[None]:
    """Run `threads` attackers, each looping `attack(stop)` until the block ends."""
    stop = threading.Event()
    running = [threading.Thread(target=attack, args=(stop,), daemon=True) for _ in range(threads)]
    for thread in running:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in running:
            thread.join(timeout=60)
