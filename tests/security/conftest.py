"""Fixtures of the attack tests: the app as a real server process on its own demo copy."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy.engine import Engine

from gis_service.db.cluster import ManagedCluster, free_port
from gis_service.db.engine import create_db_engine
from tests.conftest import DemoTemplate, admin, create_database
from tests.field.conftest import FieldServer, contexts, field_server  # noqa: F401  (fixtures)


@dataclass
class ServerProcess:
    """`gis-service serve` in a process of its own, on a demo copy."""

    url: str
    proc: subprocess.Popen[str]
    engine: Engine
    tokens: dict[str, str]
    passwords: dict[str, str]

    def rss(self) -> int:
        """Resident memory of the server and its worker processes, in bytes."""
        root = psutil.Process(self.proc.pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])

    @contextmanager
    def login_client(self, address: str | None = None) -> Iterator[httpx.Client]:
        """A client holding the pre-login CSRF cookie, seen as coming from `address`."""
        headers = {"X-Forwarded-For": address} if address else {}
        with httpx.Client(base_url=self.url, timeout=60, headers=headers) as client:
            client.get("/field/login").raise_for_status()
            client.headers["X-CSRF-Token"] = client.cookies["gis_csrf"]
            yield client


def wait_ready(url: str, proc: subprocess.Popen[str], log: Path, seconds: float = 90) -> None:
    """Poll /ready until it answers 200 (or fail with the server's output)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(log.read_text()[-4000:])
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the server did not become ready")


@contextmanager
def server_process(
    engine: Engine, demo: DemoTemplate, data_dir: Path, workers: int = 1, **env: str
) -> Iterator[ServerProcess]:
    """Run `gis-service serve` on a database until the block ends."""
    port = free_port()
    environment = {
        **os.environ,
        "GIS_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "GIS_DATA_DIR": str(data_dir),
        "GIS_POOL_SIZE": "4",
        **{f"GIS_{k.upper()}": v for k, v in env.items()},
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cmd = [sys.executable, "-c", "from gis_service.cli import main; main()", "serve",
           "--workers", str(workers), "--port", str(port), "--no-demo"]  # fmt: skip
    log = data_dir / "server.log"  # a file, not a pipe: a full pipe would stall the server
    with log.open("w") as output:
        proc = subprocess.Popen(cmd, env=environment, stdout=output, stderr=subprocess.STDOUT,
                                text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, log)
        yield ServerProcess(url, proc, engine, demo.tokens, demo.passwords)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
