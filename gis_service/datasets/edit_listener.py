"""Kept answers refreshed as soon as a write of stairwells or buildings commits.

Every such statement notifies the channel gis_row_change (migration 0020), and PostgreSQL
delivers it at commit, whoever wrote (API, import, plain SQL, another server process). One
thread per server process listens on its own connection to the primary (a standby cannot
listen) and, for each burst of notifications, calls `on_write` (LiveAnswers.refresh_ahead): the
planner who asks right after an edit finds the answer refreshed, or waits for the refresh
already under way. Those refreshes run in transactions on a second connection the listener
keeps (`transaction`: checked out of the pool once and held, so no checkout and no ping on the
way to a fresh answer; the pool has one connection fewer for requests).
`on_write` is given `more_written`, which says whether another write has committed since, so
a long pass can stop and start again with the question asked last. Passes take at most SHARE
of a core: under a steady stream of saves the edits that come while it rests are one pass, and
a request in between refreshes its own answer, as without the listener. A lost connection is
opened again; while it is down, answers are refreshed when asked, as without it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

LOG = logging.getLogger(__name__)
CHANNEL = "gis_row_change"
NAME = "gis-service edit listener"
"""The listening connection's application_name (as pg_stat_activity shows it)."""
WAIT_S = 0.2
"""How long one wait for a notification lasts (and so how soon a stop is seen)."""
SHARE = 0.25
"""At most this share of a core goes to passes: after each, the listener rests (1 / SHARE - 1)
times the CPU time its thread spent (not the time it waited for a quiet moment, a connection
or the database), at most REST_MAX_S. A refresh of four kept questions on a 1M city costs
about 25 ms of CPU per edit (benchmarks/edit_stream.py)."""
REST_MAX_S = 5.0
"""The longest rest after a pass."""
RETRY_S = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Waits before opening a lost connection again, one more step each failure in a row."""


class EditListener:
    """A thread listening for committed writes, calling `on_write` after each burst of them."""

    def __init__(self, engine: Engine, on_write: Callable[[Callable[[], bool]], Any]) -> None:
        """A listener of the engine's database (started by `wanted`, ended by `stop`)."""
        self._engine = engine
        self._on_write = on_write
        self._conn: Any = None
        self._work: sa.Connection | None = None
        self._pending = False
        self._failures = 0
        self._stop = threading.Event()
        self._started = False
        self._start_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="edit-listener", daemon=True)
        self.listening = threading.Event()
        """Set while the connection listens (writes committed meanwhile are announced)."""

    def wanted(self) -> None:
        """Start listening, the first time something would be refreshed ahead."""
        with self._start_lock:
            if not self._started and not self._stop.is_set():
                self._started = True
                self._thread.start()

    def stop(self, timeout: float = WAIT_S * 5) -> None:
        """Stop listening and close the connection (waiting at most `timeout` seconds)."""
        self._stop.set()
        with self._start_lock:
            if self._started:
                self._thread.join(timeout)
                if self._thread.is_alive():
                    LOG.warning("the edit listener is still refreshing answers at shutdown")

    def _run(self) -> None:
        self._failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # the database is down, or restarted
                self.listening.clear()
                wait = RETRY_S[min(self._failures, len(RETRY_S) - 1)]
                self._failures += 1
                LOG.warning("not listening for edits (answers refresh when asked), "
                            "trying again in %.0f s: %s", wait, exc)  # fmt: skip
                self._stop.wait(wait)

    def _listen(self) -> None:
        """Listen on a connection of its own (the engine's parameters, out of its pool) until
        stopped; each burst of notifications is one call of on_write."""
        pooled = self._engine.raw_connection()
        conn: Any = pooled.driver_connection
        pooled.detach()  # ours for good: it leaves the pool, which may open another
        try:
            conn.rollback()  # the pool's ping may have begun a transaction
            conn.autocommit = True
            conn.execute(f"SET application_name = '{NAME}'")
            conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            self._failures = 0  # listening again: the next loss waits the first step again
            self._conn, self._pending = conn, True  # what was written while nobody listened
            while not self._stop.is_set():
                if self._pending or list(conn.notifies(timeout=WAIT_S, stop_after=1)):
                    self._pending = False
                    list(conn.notifies(timeout=0.0))  # the rest of the burst: one refresh
                    self._written()
        finally:
            self.listening.clear()
            self._conn = None
            conn.close()
            self._close_work()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A transaction on the listener's working connection, committed at the end (on the
        listening thread, in on_write). The connection stays open for the next; one that
        failed, or lost the database, is closed, and the next transaction opens another."""
        if self._work is None:  # checked out once, and held: never pinged again
            self._work = self._engine.connect()
        try:
            with self._work.begin():
                yield self._work
        except BaseException:
            self._close_work()
            raise

    def _close_work(self) -> None:
        """Give the working connection back to the pool (closed by it when it failed)."""
        work, self._work = self._work, None
        if work is not None:
            try:
                work.close()
            except Exception:  # the database is gone: nothing left to close
                LOG.debug("closing the working connection failed", exc_info=True)

    def more_written(self) -> bool:
        """Whether a write has committed since the refresh under way began (on the listening
        thread, during on_write; the next refresh follows it), or the listener is stopping."""
        if self._stop.is_set():
            return True
        if not self._pending and self._conn is not None:
            self._pending = bool(list(self._conn.notifies(timeout=0.0)))
        return self._pending

    def _written(self) -> None:
        started = time.thread_time()
        try:
            self._on_write(self.more_written)
        except Exception:  # a refresh that fails is done again when its answer is asked
            LOG.warning("refreshing answers after an edit failed", exc_info=True)
        spent = time.thread_time() - started
        self._stop.wait(min(REST_MAX_S, spent * (1 / SHARE - 1)))  # edits meanwhile wait
