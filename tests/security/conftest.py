"""Fixtures of the attack tests: the app as its own process on a demo copy, attackers, clients."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from gis_service.db.cluster import ManagedCluster
from tests.conftest import DemoTemplate
from tests.field.conftest import field_server  # noqa: F401  (a fixture of these tests too)
from tests.security.served import Served, database_copy, served


@pytest.fixture(scope="package")
def target(
    pg_cluster: ManagedCluster, demo_template: DemoTemplate,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    """One `gis-service serve` process on its own demo copy, shared by the attack tests.

    One password check at a time, so an attack on it leaves the other test worker a core.
    """
    with database_copy(pg_cluster, demo_template.name) as engine, served(
        engine, tmp_path_factory.mktemp("target"), pool_size="4", login_concurrency="1"
    ) as server:
        yield server


@contextmanager
def login_client(url: str) -> Iterator[httpx.Client]:
    """A client holding the pre-login CSRF cookie and sending it as the X-CSRF-Token header."""
    with httpx.Client(base_url=url, timeout=60) as client:
        client.get("/field/login").raise_for_status()
        client.headers["X-CSRF-Token"] = client.cookies["gis_csrf"]
        yield client


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
