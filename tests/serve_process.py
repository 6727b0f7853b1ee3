"""`gis-service serve` in processes of their own (one or N workers), as a deployment runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from sqlalchemy.engine import Engine

from gis_service.db.cluster import free_port
from tests.conftest import DemoTemplate


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
