"""Connecting when the database is slow to answer once: the engine, the tile pool and the
import worker try once more instead of failing the request."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from gis_service.db.cluster import ManagedCluster
from gis_service.db.engine import PROBE_CONNECT_TIMEOUT_S, check_database, create_db_engine
from gis_service.errors import DatabaseUnavailable
from gis_service.tiles.aio import AsyncPool
from tests.conftest import keepalive_of

pytestmark = pytest.mark.faults
TIMEOUT_S = 2  # libpq's smallest connect_timeout


@dataclass
class SilentOnce:
    """A TCP front of the test cluster that leaves its first `silent` connections unanswered
    (as a server too busy to start a backend) and passes the later ones through."""

    target_port: int
    silent: int
    port: int = 0
    accepted: int = 0
    _held: list[socket.socket] = field(default_factory=list)
    _listener: socket.socket = field(default_factory=socket.socket)

    def start(self) -> None:
        """Listen on a free loopback port and serve in a daemon thread."""
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self.accepted <= self.silent:
                self._held.append(client)  # accepted, never answered
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    def close(self) -> None:
        """Stop listening and drop the held connections."""
        self._listener.close()
        for held in self._held:
            held.close()


def pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes one way until either side closes."""
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            end.close()


@pytest.fixture
def front(pg_cluster: ManagedCluster) -> Iterator[SilentOnce]:
    """A front of the test cluster that leaves the first connection unanswered."""
    proxy = SilentOnce(pg_cluster.port, silent=1)
    proxy.start()
    yield proxy
    proxy.close()


def front_url(cluster: ManagedCluster, proxy: SilentOnce) -> str:
    """The cluster's URL through the front, with the smallest connect timeout."""
    url = make_url(cluster.url("postgres")).set(port=proxy.port)
    return url.update_query_dict({"connect_timeout": str(TIMEOUT_S)}).render_as_string(False)


def test_the_engine_connects_when_the_first_attempt_times_out(
    pg_cluster: ManagedCluster, front: SilentOnce
) -> None:
    engine = create_db_engine(front_url(pg_cluster, front))
    started = time.monotonic()
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 41 + 1")).scalar_one() == 42
    finally:
        engine.dispose()
    assert front.accepted == 2
    assert TIMEOUT_S <= time.monotonic() - started < 3 * TIMEOUT_S


def test_the_engine_gives_up_after_two_attempts(pg_cluster: ManagedCluster) -> None:
    proxy = SilentOnce(pg_cluster.port, silent=5)
    proxy.start()
    engine = create_db_engine(front_url(pg_cluster, proxy))
    try:
        with pytest.raises(sa.exc.OperationalError, match="timeout"):
            engine.connect().close()
    finally:
        engine.dispose()
        proxy.close()
    assert proxy.accepted == 2


def test_the_tile_pool_connects_when_the_first_attempt_times_out(
    pg_cluster: ManagedCluster, front: SilentOnce
) -> None:
    url = make_url(front_url(pg_cluster, front)).set(drivername="postgresql")
    pool = AsyncPool(url.render_as_string(hide_password=False), "", max_size=1)

    async def ask() -> int:
        async with pool.connection() as conn:
            cursor = await conn.execute("SELECT 41 + 1")
            row = await cursor.fetchone()
            assert row is not None
            return int(row[0])

    try:  # on a thread of its own: the test's thread may already run an event loop
        with ThreadPoolExecutor(1) as thread:
            assert thread.submit(asyncio.run, ask()).result(timeout=60) == 42
    finally:
        pool.close()
    assert front.accepted == 2 and pool.size == 0


def test_a_refused_connection_is_not_tried_again(pg_cluster: ManagedCluster) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    url = make_url(pg_cluster.url("postgres")).set(port=port).render_as_string(False)
    engine = create_db_engine(url)
    started = time.monotonic()
    try:
        with pytest.raises(sa.exc.OperationalError) as caught:
            engine.connect().close()
    finally:
        engine.dispose()
    assert not isinstance(caught.value.orig, psycopg.errors.ConnectionTimeout)
    assert time.monotonic() - started < TIMEOUT_S


def test_a_health_probe_answers_within_its_own_short_wait(pg_cluster: ManagedCluster) -> None:
    """A database port held by a program that never answers: the service's connections wait
    two attempts, but a probe (/health, /ready) gives up after one short wait."""
    proxy = SilentOnce(pg_cluster.port, silent=5)
    proxy.start()
    url = make_url(pg_cluster.url("postgres")).set(port=proxy.port).render_as_string(False)
    engine = create_db_engine(url)
    started = time.monotonic()
    try:
        with pytest.raises(DatabaseUnavailable, match="timeout"):
            check_database(engine)
    finally:
        engine.dispose()
        proxy.close()
    assert proxy.accepted == 1
    assert PROBE_CONNECT_TIMEOUT_S <= time.monotonic() - started < PROBE_CONNECT_TIMEOUT_S + 3


def test_every_connection_keeps_alive_unless_its_url_says_otherwise(
    pg_cluster: ManagedCluster,
) -> None:
    """The engine's connections have TCP keepalive (a silent network is noticed within about a
    minute); a URL's own settings win, and keepalives=0 turns it off."""
    url = make_url(pg_cluster.url())
    for query, wanted in (({}, (1, 30, 10, 3, 60_000)),
                          ({"keepalives_idle": "7"}, (1, 7, 10, 3, 60_000))):  # fmt: skip
        engine = create_db_engine(url.update_query_dict(query).render_as_string(False))
        try:
            with engine.connect() as conn:
                fd = conn.connection.driver_connection.pgconn.socket
                assert keepalive_of(fd) == wanted
        finally:
            engine.dispose()
    engine = create_db_engine(url.update_query_dict({"keepalives": "0"}).render_as_string(False))
    try:
        with engine.connect() as conn:
            off = keepalive_of(conn.connection.driver_connection.pgconn.socket)
            assert (off[0], off[4]) == (0, 0)
    finally:
        engine.dispose()
