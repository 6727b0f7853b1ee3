"""Tiles of remembered callers on the event loop: one round trip whether cached or not.

A remembered token's caller (api/callers.py) is checked in the same query as the tables' data
versions and read rights (render.STATE_AND_CALLER_SQL), so a revoked token, a disabled user or
changed grids are refused on the very next request. A cached tile is then answered without a
thread hop or a pool ping; a new one is built in one pipelined round trip (BEGIN, the caller's
role and grids, the tile query, COMMIT), under the same role and row security as render.py.
Connections are psycopg async connections of a small pool per event loop and engine.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager, suppress
from functools import lru_cache
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from gis_service.auth import SCOPE_SQL, Principal, scope_params
from gis_service.catalog import Layer
from gis_service.db.engine import (
    CONNECT_ATTEMPTS,
    CONNECT_TIMEOUT_S,
    connect_options,
    timed_out_once,
)
from gis_service.settings import Settings
from gis_service.tiles.cache import CachedTile, TileCache, make_entry
from gis_service.tiles.grid import TileAddress
from gis_service.tiles.mvt import tile_query
from gis_service.tiles.params import TileFilter
from gis_service.tiles.render import (
    EMPTY,
    STATE_AND_CALLER_SQL,
    TableState,
    caller_params,
    caller_state,
    plan_tile,
    tile_bytes,
)

log = logging.getLogger(__name__)
DIALECT = PGDialect_psycopg()
COMPRESS_IN_THREAD = 16_384  # raw tile bytes above which gzip runs in the thread pool
AsyncConn = AsyncConnection[Any]
_POOLS_LOCK = threading.Lock()


@lru_cache(maxsize=512)
def pyformat(sql: str) -> str:
    """SQL written with :name parameters (as for sa.text) in psycopg's %(name)s style."""
    return str(sa.text(sql).compile(dialect=DIALECT))


STATE_AND_CALLER = pyformat(str(STATE_AND_CALLER_SQL))
SCOPE = pyformat(SCOPE_SQL)


class AsyncPool:
    """Autocommit psycopg connections of one event loop, opened on demand up to max_size."""

    def __init__(self, conninfo: str, options: str, max_size: int) -> None:
        """An empty pool for a database (conninfo) with libpq options."""
        self.conninfo, self.options, self.max_size = conninfo, options, max(1, max_size)
        self._idle: list[AsyncConn] = []
        self._waiters: deque[asyncio.Future[AsyncConn | None]] = deque()
        self.size = 0
        self.closed = False
        self.checks = SharedChecks()
        given = "connect_timeout" in conninfo_to_dict(conninfo)  # the URL's, else ours
        self.timeout: dict[str, Any] = {} if given else {"connect_timeout": CONNECT_TIMEOUT_S}

    async def _open(self) -> AsyncConn:
        self.size += 1
        try:
            for attempt in range(CONNECT_ATTEMPTS):
                try:
                    return await AsyncConnection.connect(
                        self.conninfo, autocommit=True, options=self.options, **self.timeout
                    )
                except psycopg.errors.ConnectionTimeout as exc:
                    if not timed_out_once(attempt, exc):
                        raise
            raise AssertionError("unreachable")  # pragma: no cover
        except BaseException:
            self.size -= 1
            self._wake(None)
            raise

    async def _acquire(self) -> AsyncConn:
        while True:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE:
                    return conn
                await self._discard(conn)
            if self.closed:
                raise psycopg.OperationalError("the tile connection pool is closed")
            if self.size < self.max_size:
                return await self._open()
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                conn = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self._release(waiter.result())  # handed over as we were cancelled
                raise
            if conn is not None:
                return conn

    def _wake(self, conn: AsyncConn | None) -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False

    def _release(self, conn: AsyncConn) -> None:
        if self.closed:
            self.size -= 1
            conn.pgconn.finish()
        elif not self._wake(conn):
            self._idle.append(conn)

    def close(self) -> None:
        """Close the idle connections now and those in use when they come back (no waiting:
        closing a libpq connection is a local call, safe from any thread or event loop)."""
        self.closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            self.size -= 1
            conn.pgconn.finish()
        while self._wake(None):  # every waiter finds the pool closed
            pass

    async def _discard(self, conn: AsyncConn) -> None:
        self.size -= 1
        self._wake(None)  # a waiter may open a connection in its place
        with suppress(psycopg.Error):
            await conn.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConn]:
        """A connection for the block, back to the pool after (closed if left unusable)."""
        conn = await self._acquire()
        try:
            yield conn
        except BaseException:
            if conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
                await self._discard(conn)
            else:
                self._release(conn)
            raise
        self._release(conn)


def pool_for(app_state: Any, engine: Engine, settings: Settings) -> AsyncPool:
    """The async pool of an engine on the running event loop (made on first use), bounded as the
    engine's pool is: GIS_POOL_SIZE and as many again."""
    key = (id(engine), id(asyncio.get_running_loop()))
    with _POOLS_LOCK:
        pools: dict[tuple[int, int], AsyncPool] | None = getattr(app_state, "tile_pools", None)
        if pools is None:
            pools = app_state.tile_pools = {}
        pool = pools.get(key)
        if pool is None:
            url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            pool = pools[key] = AsyncPool(url, connect_options(settings), 2 * settings.pool_size)
    return pool


def close_pools(app_state: Any) -> int:
    """Close every async tile pool of an app (at its shutdown); the number of pools closed."""
    with _POOLS_LOCK:
        pools: dict[tuple[int, int], AsyncPool] = getattr(app_state, "tile_pools", None) or {}
        app_state.tile_pools = {}
    for pool in pools.values():
        pool.close()
    return len(pools)


class SharedChecks:
    """Concurrent checks of one token and the same tables share one query, safely: a request
    joins only a check not yet sent (its query then starts after the request arrived, so it
    sees every commit before it: a revocation still stops the very next tile), never one in
    flight; the next check is sent when the one in flight returns."""

    def __init__(self) -> None:
        """No check waiting or in flight."""
        self._next: dict[Hashable, asyncio.Future[list[Any]]] = {}
        self._flight: dict[Hashable, asyncio.Future[list[Any]]] = {}

    async def rows(self, key: Hashable, fetch: Callable[[], Awaitable[list[Any]]]) -> list[Any]:
        """The rows of a check sent after this call began (fetch runs once per shared check)."""
        waiting = self._next.get(key)
        if waiting is not None:
            return await asyncio.shield(waiting)
        mine: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._next[key] = mine
        try:
            flight = self._flight.get(key)
            if flight is not None:
                await asyncio.wait([flight])
            del self._next[key]  # sent from here on: later requests open the next check
            self._flight[key] = mine
            rows = await fetch()
        except BaseException as exc:
            mine.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
            mine.exception()  # retrieved: no warning when nobody joined
            raise
        finally:
            for pending in (self._next, self._flight):
                if pending.get(key) is mine:
                    del pending[key]
        mine.set_result(rows)
        return rows


async def caller_state_async(
    pool: AsyncPool, principal: Principal, token_hash: str, layers: tuple[Layer, ...]
) -> dict[str, TableState] | None:
    """render.remembered_state on the event loop: one round trip, shared by concurrent checks
    of the same token and tables."""
    params = caller_params(principal, token_hash, layers)

    async def fetch() -> list[Any]:
        async with pool.connection() as conn:
            cursor = conn.cursor(row_factory=namedtuple_row)
            await cursor.execute(STATE_AND_CALLER, params)
            return await cursor.fetchall()

    key = (token_hash, tuple(params["tables"]), params["role"])
    return caller_state(principal, layers, await pool.checks.rows(key, fetch))


async def build_async(
    conn: AsyncConn, principal: Principal, plans: list[Any], tile: TileAddress
) -> CachedTile:
    """A tile built in the caller's role and grids: BEGIN, scope, query, COMMIT pipelined."""
    sql, params = tile_query(plans, tile)
    async with conn.pipeline():
        await conn.execute("BEGIN")
        await conn.execute(SCOPE, scope_params(principal))
        cursor = await conn.execute(pyformat(sql), params, binary=True)  # bytea as is, not hex
        await conn.execute("COMMIT")
    row = await cursor.fetchone()
    raw = tile_bytes(row or ())
    if len(raw) > COMPRESS_IN_THREAD:
        return await run_in_threadpool(make_entry, raw)
    return make_entry(raw)


async def remembered_tile(
    pool: AsyncPool,
    cache: TileCache,
    principal: Principal,
    token_hash: str,
    layers: tuple[Layer, ...],
    tile: TileAddress,
    tfilter: TileFilter,
) -> tuple[CachedTile, bool] | None:
    """(tile, cache hit) for a remembered caller; None when the token no longer names them.

    Raises psycopg.Error when the database fails (the caller then takes the threaded path).
    """
    state = await caller_state_async(pool, principal, token_hash, layers)
    if state is None:
        return None
    planned = plan_tile(principal, state, layers, tile, tfilter)
    if planned is None:
        return EMPTY, True

    async def build() -> CachedTile:
        async with pool.connection() as conn:
            return await build_async(conn, principal, planned.plans, tile)

    if not planned.cacheable:
        return await build(), False
    cache.observe(planned.versions)
    return await cache.get_or_build_async(planned.key, planned.versions, build)
