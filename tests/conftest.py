"""Fixtures: a real throwaway PostGIS cluster, template databases cloned per test, a live server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa
import uvicorn
import yaml
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.catalog import LAYERS_DIR
from gis_service.db import migrate
from gis_service.db.cluster import ManagedCluster, ensure_postgis, free_port, throwaway_cluster
from gis_service.db.engine import create_db_engine
from gis_service.ingest.demo_load import load_demo
from tests import hygiene
from tests.conformance import RECORDERS, recorded

RUN = hygiene.current_run()  # this run's tag, inherited by everything the suite starts
TEST_ROOT = hygiene.run_dir(RUN)  # every throwaway cluster of this run lives below it
DEMO_SEED = 34


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--keep-test-clusters` leaves this run's clusters running for debugging."""
    parser.addoption(
        "--keep-test-clusters", action="store_true",
        help="leave the run's PostgreSQL clusters and processes for debugging (removed next run)",
    )


def _owns_run(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")  # the xdist controller, or a run without xdist


def pytest_configure(config: pytest.Config) -> None:
    """The run's owner first removes what earlier runs that crashed left behind."""
    if _owns_run(config):
        hygiene.sweep_orphans()


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's owner stops every process the run started and removes its clusters."""
    if not _owns_run(config):
        return
    if config.getoption("--keep-test-clusters"):
        hygiene.keep(RUN)
        return
    hygiene.sweep(RUN)


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedCluster]:
    """A throwaway cluster for the whole test session (never skipped: PostGIS is installed)."""
    with throwaway_cluster(tmp_path_factory.mktemp("gis-data"), TEST_ROOT) as cluster:
        yield cluster


def admin(cluster: ManagedCluster, sql: str) -> None:
    """Run one statement on the cluster's maintenance database."""
    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        conn.execute(sql)


def create_database(cluster: ManagedCluster, template: str | None = None) -> str:
    """Create a fresh database (cloned from a template when given) and return its name."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin(cluster, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


@pytest.fixture(scope="session")
def empty_template(pg_cluster: ManagedCluster) -> str:
    """A migrated database with no data, used as a template."""
    name = create_database(pg_cluster)
    ensure_postgis(pg_cluster.conninfo(name))
    engine = create_db_engine(pg_cluster.url(name))
    migrate.upgrade(engine)
    engine.dispose()
    return name


@dataclass
class DemoTemplate:
    """The demo district loaded once; tests clone it."""

    name: str
    tokens: dict[str, str]
    passwords: dict[str, str]


@pytest.fixture(scope="session")
def demo_template(pg_cluster: ManagedCluster, empty_template: str) -> DemoTemplate:
    """A database holding the demo district, used as a template.

    Without the household register: many tests edit stairwell figures directly (the field
    survey form, CHECK rules), which the database derives from a stairwell's households.
    """
    name = create_database(pg_cluster, empty_template)
    engine = create_db_engine(pg_cluster.url(name))
    report = load_demo(engine, seed=DEMO_SEED, households=False)
    engine.dispose()
    return DemoTemplate(name, report.tokens, report.passwords)


@pytest.fixture(scope="session")
def register_template(pg_cluster: ManagedCluster, empty_template: str) -> DemoTemplate:
    """The demo district as `gis-service demo` loads it: with every stairwell's households."""
    name = create_database(pg_cluster, empty_template)
    engine = create_db_engine(pg_cluster.url(name))
    report = load_demo(engine, seed=DEMO_SEED)
    engine.dispose()
    return DemoTemplate(name, report.tokens, report.passwords)


@pytest.fixture
def register_db(pg_cluster: ManagedCluster, register_template: DemoTemplate) -> Iterator[Engine]:
    """An engine on a copy of the demo district with its household register."""
    yield from engine_on_copy(pg_cluster, register_template.name)


@pytest.fixture
def fresh_database(pg_cluster: ManagedCluster) -> Iterator[str]:
    """An empty database with PostGIS but no schema; its name."""
    name = create_database(pg_cluster)
    ensure_postgis(pg_cluster.conninfo(name))
    yield name
    admin(pg_cluster, f'DROP DATABASE "{name}" WITH (FORCE)')


def engine_on_copy(cluster: ManagedCluster, template: str) -> Iterator[Engine]:
    name = create_database(cluster, template)
    engine = create_db_engine(cluster.url(name))
    yield engine
    engine.dispose()
    admin(cluster, f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def empty_db(pg_cluster: ManagedCluster, empty_template: str) -> Iterator[Engine]:
    """An engine on a migrated, empty database of its own."""
    yield from engine_on_copy(pg_cluster, empty_template)


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[tuple[ManagedCluster, Engine, dict[str, str]]]:
    """A throwaway cluster of this test's own (it gets stopped) with the demo district."""
    with throwaway_cluster(tmp_path / "data", TEST_ROOT) as cluster:
        ensure_postgis(cluster.conninfo())
        engine = create_db_engine(cluster.url("postgres"))
        migrate.upgrade(engine)
        tokens = load_demo(engine).tokens
        yield cluster, engine, tokens
        engine.dispose()


@pytest.fixture
def demo_db(pg_cluster: ManagedCluster, demo_template: DemoTemplate) -> Iterator[Engine]:
    """An engine on a copy of the demo district that this test may change."""
    yield from engine_on_copy(pg_cluster, demo_template.name)


@pytest.fixture(scope="session")
def shared_demo_db(pg_cluster: ManagedCluster, demo_template: DemoTemplate) -> Iterator[Engine]:
    """An engine on one copy of the demo district shared by tests that only read.

    The database is read-only (default_transaction_read_only): a test that writes to it,
    even through a sign-in or an import, fails at once instead of changing what others read.
    """
    name = create_database(pg_cluster, demo_template.name)
    admin(pg_cluster, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    engine = create_db_engine(pg_cluster.url(name))
    yield engine
    engine.dispose()
    admin(pg_cluster, f'DROP DATABASE "{name}" WITH (FORCE)')


@dataclass
class LiveServer:
    """A uvicorn server on a loopback port, running an app in a thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def client(self, token: str | None = None) -> httpx.Client:
        """An HTTP client to this server, optionally with a bearer token."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def start_server(app: FastAPI, check_answers: bool = True) -> LiveServer:
    """Serve an app on a free loopback port until stopped (its answers checked against /api)."""
    port = free_port()
    served = recorded(app) if check_answers else app
    config = uvicorn.Config(served, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a busy shared machine starts it slowly
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture(autouse=True)
def answers_follow_the_openapi_document() -> Iterator[None]:
    """After each test: every answer its live servers gave is one the app's document declares."""
    yield
    found = [line for recorder in RECORDERS for line in recorder.violations()]
    assert not found, "answers the OpenAPI document does not declare (add them to the route's " \
        "responses, see gis_service/api/openapi.py):\n" + "\n".join(dict.fromkeys(found))


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], LiveServer]]:
    """Start live servers for apps; all are stopped after the test."""
    servers: list[LiveServer] = []

    def run(app: FastAPI) -> LiveServer:
        live = start_server(app)
        servers.append(live)
        return live

    yield run
    for live in servers:
        live.server.should_exit = True
        live.thread.join(timeout=10)


def wait_until_ready(
    url: str, proc: subprocess.Popen[Any], output: Callable[[], str], seconds: float = 60
) -> None:
    """Poll a server process's /ready until it answers 200; fail with its output otherwise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, output()
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not become ready: {output()}")


def catalog_copy(target: Path, changes: dict[str, dict[str, object]]) -> Path:
    """A copy of layers/ at target, with top-level keys of some files changed (or new files)."""
    shutil.copytree(LAYERS_DIR, target)
    for layer, change in changes.items():
        path = target / f"{layer}.yaml"
        data = yaml.safe_load(path.read_text()) if path.exists() else {}
        data.update(change)
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return target


def scalar(engine: Engine, sql: str, **params: object) -> object:
    """One value from a query."""
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


CHROMIUM = "/usr/bin/chromium"  # Debian's chromium; never a downloaded browser
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (Playwright's sync API allows one per thread)."""
    from playwright.sync_api import sync_playwright

    # routes see the field page's service worker's own requests (the default from 1.5x on)
    os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def keepalive_of(fd: int) -> tuple[int, ...]:
    """A connection's TCP keepalive as its socket has it: on, idle s, interval s, probes, and
    the user timeout in ms (a silent network fails the listener, which listens again)."""
    with socket.socket(fileno=os.dup(fd)) as sock:
        return (sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) and 1,
                *(sock.getsockopt(socket.IPPROTO_TCP, option) for option in (
                    socket.TCP_KEEPIDLE, socket.TCP_KEEPINTVL, socket.TCP_KEEPCNT,
                    socket.TCP_USER_TIMEOUT)))  # fmt: skip
