"""kill -9 of PostgreSQL under `gis-service serve`: the managed cluster comes back by itself.

Before, the service answered 503 until a person ran `gis-service db start`. Now the embedded
default is supervised: the crash is logged, restarts are tried with doubling delays (here kept
failing a while by a program squatting the port) and the service recovers without anyone.
With GIS_DATABASE_URL the server is not ours: 503 while it is down, recovery once it is back.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gis_service.db import migrate
from gis_service.db.cluster import (
    ManagedCluster,
    ensure_postgis,
    find_bin_dir,
    free_port,
    throwaway_cluster,
)
from gis_service.db.engine import create_db_engine
from gis_service.db.supervisor import clear_zombie_lock, postmaster_state
from tests.conftest import TEST_ROOT, wait_until_ready
from tests.security.served import log_tail

SUPERVISION = {"GIS_PG_CHECK_INTERVAL_S": "0.3", "GIS_PG_RESTART_DELAY_S": "0.5",
               "GIS_PG_RESTART_MAX_DELAY_S": "4"}  # fmt: skip


def postmaster_pid(cluster: ManagedCluster) -> int:
    """The pid the cluster's postmaster.pid names."""
    return int((cluster.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])


def ready_status(url: str) -> int:
    """/ready's status (-1 when the server does not answer at all)."""
    try:
        return httpx.get(f"{url}/ready", timeout=20).status_code
    except httpx.HTTPError:
        return -1


def wait_for(url: str, status: int, seconds: float) -> list[int]:
    """Poll /ready until it answers `status`; every status seen on the way."""
    seen, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.append(ready_status(url))
        if seen[-1] == status:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"/ready never answered {status}: {seen[-10:]}")


def log_line(log: Path, line: str, seconds: float) -> str:
    """The log once it holds this line (the supervisor logs after `pg_ctl start` returns)."""
    deadline = time.monotonic() + seconds
    while line not in (text := log.read_text()):
        assert time.monotonic() < deadline, text[-2000:]
        time.sleep(0.1)
    return text


def squat(port: int) -> socket.socket:
    """Listen on a port as soon as it is free (another program taking it)."""
    deadline = time.monotonic() + 5
    while True:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
            return sock
        except OSError:
            sock.close()
            assert time.monotonic() < deadline, "the port never came free"
            time.sleep(0.01)


def serve(folder: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`gis-service serve --no-demo` with these settings, its output in folder/server.log."""
    command = [sys.executable, "-c", "from gis_service.cli import main; main()", "serve",
               "--no-demo", "--port", str(port)]  # fmt: skip
    with (folder / "server.log").open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture
def managed(tmp_path: Path) -> Iterator[tuple[ManagedCluster, str, Path]]:
    """`gis-service serve` on its own managed cluster (the default: no GIS_DATABASE_URL)."""
    data = (tmp_path / "data").resolve()
    cluster = ManagedCluster(data_dir=data, port=free_port(), bin_dir=find_bin_dir(),
                             database="gis", root_dir=TEST_ROOT)  # fmt: skip
    env = {**os.environ, **SUPERVISION, "GIS_DATA_DIR": str(data),
           "GIS_PG_PORT": str(cluster.port), "GIS_PG_ROOT_DIR": str(TEST_ROOT)}  # fmt: skip
    env.pop("GIS_DATABASE_URL", None)
    port = free_port()
    proc = serve(tmp_path, port, env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, proc, log_tail(tmp_path / "server.log"), 180)
        yield cluster, url, tmp_path / "server.log"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        cluster.destroy()


def test_managed_postgres_is_restarted_after_kill_9_and_left_alone_after_a_stop(
    managed: tuple[ManagedCluster, str, Path],
) -> None:
    cluster, url, log = managed
    crashed = postmaster_pid(cluster)
    os.kill(crashed, signal.SIGKILL)
    with squat(cluster.port):  # restarts fail while another program holds the port
        time.sleep(2.5)
        asked = time.monotonic()
        assert ready_status(url) == 503
        assert time.monotonic() - asked < 10  # a probe answers soon (one short connect)
    seen = wait_for(url, 200, 60)
    assert postmaster_pid(cluster) != crashed
    text = log_line(log, "managed PostgreSQL restarted after", 30)
    assert "managed PostgreSQL on port" in text and "is down" in text, text[-2000:]
    assert "restart 1 of the managed PostgreSQL failed" in text, text[-2000:]
    assert "next try in 1.0 s" in text and "next try in 2.0 s" in text  # doubling delays
    assert 503 in seen or seen == [200]

    assert cluster.stop()  # what `gis-service db stop` does: respected
    time.sleep(2)
    assert postmaster_state(cluster) == "stopped" and ready_status(url) == 503
    assert log.read_text().count("restarted after") == 1


def test_an_external_database_is_not_restarted_by_the_service(tmp_path: Path) -> None:
    with throwaway_cluster(tmp_path / "pg", TEST_ROOT) as cluster:
        ensure_postgis(cluster.conninfo())
        engine = create_db_engine(cluster.url("postgres"))
        migrate.upgrade(engine)
        engine.dispose()
        port = free_port()
        env = {**os.environ, **SUPERVISION, "GIS_DATA_DIR": str(tmp_path),
               "GIS_DATABASE_URL": cluster.url("postgres")}  # fmt: skip
        proc = serve(tmp_path, port, env)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_ready(url, proc, log_tail(tmp_path / "server.log"), 120)
            os.kill(postmaster_pid(cluster), signal.SIGKILL)
            time.sleep(2.5)
            assert ready_status(url) == 503
            assert postmaster_state(cluster) == "crashed"  # nobody restarted it
            wait_for_start(cluster)
            wait_for(url, 200, 60)  # the pool reconnects by itself
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        assert "watching the managed PostgreSQL" not in (tmp_path / "server.log").read_text()


def wait_for_start(cluster: ManagedCluster) -> None:
    """Start a crashed cluster (what its operator would do), retrying while it cleans up."""
    deadline = time.monotonic() + 30
    while True:
        try:
            clear_zombie_lock(cluster)
            cluster.start()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
