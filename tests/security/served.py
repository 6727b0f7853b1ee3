"""The service as its own process (`gis-service serve`), watched as an attacker's target.

Security tests measure the serving process itself: its RSS (psutil) and how fast /live answers
while an attack runs, polled from a thread of the test process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from sqlalchemy.engine import Engine

from gis_service.db.cluster import ManagedCluster, free_port
from gis_service.db.engine import create_db_engine
from tests.conftest import admin, create_database, wait_until_ready

MB = 1024 * 1024


@dataclass
class Served:
    """A server process, its base URL and its log."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def rss(self) -> int:
        """The server process's resident memory in bytes."""
        return int(psutil.Process(self.proc.pid).memory_info().rss)


def log_tail(log: Path) -> Callable[[], str]:
    """The end of a server's log, read when asked."""
    return lambda: log.read_text()[-3000:]


@contextmanager
def database_copy(cluster: ManagedCluster, template: str) -> Iterator[Engine]:
    """An engine on a new copy of a template database, dropped afterwards (any fixture scope)."""
    name = create_database(cluster, template)
    engine = create_db_engine(cluster.url(name))
    try:
        yield engine
    finally:
        engine.dispose()
        admin(cluster, f'DROP DATABASE "{name}" WITH (FORCE)')


@contextmanager
def served(
    engine: Engine, folder: Path, environ: dict[str, str] | None = None, **settings: str
) -> Iterator[Served]:
    """`gis-service serve` on an engine's database, with GIS_* settings given by name."""
    port = free_port()
    env = {
        **os.environ,
        **(environ or {}),
        "GIS_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "GIS_DATA_DIR": str(folder),
        **{f"GIS_{name.upper()}": value for name, value in settings.items()},
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = folder / "server.log"
    command = [sys.executable, "-c", "from gis_service.cli import main; main()", "serve",
               "--no-demo", "--port", str(port)]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, proc, log_tail(log), 90)
        yield Served(url, proc, log)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@dataclass
class Watch:
    """/live latencies and the server's RSS, sampled while an attack runs."""

    latencies: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def p99(self) -> float:
        """The 99th percentile of /live latencies (seconds)."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


@contextmanager
def watching(server: Served, interval: float = 0.02) -> Iterator[Watch]:
    """Poll /live and sample the server's RSS every `interval` seconds during the block."""
    watch, stop = Watch(), threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    client.get("/live").raise_for_status()
                except httpx.HTTPError as exc:
                    watch.failures.append(repr(exc))
                watch.latencies.append(time.perf_counter() - started)
                watch.rss.append(server.rss())
                time.sleep(interval)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    time.sleep(0.3)
    try:
        yield watch
    finally:
        time.sleep(0.3)
        stop.set()
        thread.join(timeout=60)
