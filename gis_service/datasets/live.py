"""Answers kept up to date from the row_change feed, so an edit costs a refresh, not a recompute.

Each question (with the caller's scope) keeps its latest value, the data versions it was
computed at and its place in the feed. When only fed tables (stairwells, buildings) changed
since, the question's own refresh takes the written rows and returns the value now (re-reading
those rows, re-counting the units they touch); anything else that changed, a bulk write, or a
reader too old for the feed, computes it again. Values are never changed in place: a refresh
returns a new value (pandas copy-on-write keeps that cheap), so a request still rendering the
old one is unaffected.

A question asked with `Ahead` (how a transaction takes the asker's scope) is also refreshed
with no request, as soon as a write commits (datasets/edit_listener.py calls refresh_ahead, on
a connection it keeps open; datasets/ahead_order.py says in what order and when). Before its
own reads, such a refresh costs two round trips: the scope, then the data versions with the
feed; its followers render with no savepoint. One question is worked on
by one thread at a time: a request that arrives while its refresh runs waits for it and takes
its value, rather than doing it again; one that waited for a compute that failed gets its error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from gis_service.datasets.cache import VersionKey
from gis_service.datasets.changes import (
    FED_TABLES,
    Changes,
    Seen,
    changes_since,
    seen_now,
    versions_and_changes,
)

LOG = logging.getLogger(__name__)
Refresh = Callable[[sa.Connection, Any, Changes], Any]
"""How a question's value follows written rows: (connection, value then, changes) -> value now."""
Follower = Callable[[sa.Connection, Any, VersionKey, "VersionKey | None"], None]
"""What follows a question's value refreshed ahead (its answer rendered again): (connection,
value now, data versions now, the versions it had when the value is unchanged, else None)."""
FOLLOWERS = 4
"""Followers a question keeps (the last named)."""
Begin = Callable[[], AbstractContextManager[sa.Connection]]
"""How a refresh with no request opens a transaction on the primary (committed at its end)."""


@dataclass(frozen=True)
class Ahead:
    """How a question is refreshed with no request: how an open transaction takes its asker's
    scope, the tables its data versions are of, and its refresh."""

    scope: Callable[[sa.Connection], None]
    tables: tuple[str, ...]
    refresh: Refresh


@dataclass(frozen=True)
class Kept:
    """A question's latest value, the data versions it was computed at, its place in the feed
    (and how it is refreshed with no request)."""

    versions: VersionKey
    seen: Seen
    value: Any
    ahead: Ahead | None = None


@dataclass
class Work:
    """The lock a thread holds while it refreshes or computes a question, and the last failure
    (for those who waited on it)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    failed: BaseException | None = None
    failed_at: float = -1.0


def only_fed_changed(before: VersionKey, now: VersionKey) -> bool:
    """Whether every table but the fed ones has the same data version."""
    old, new = dict(before), dict(now)
    return old.keys() == new.keys() and all(old[t] == new[t] for t in old if t not in FED_TABLES)


def at_least(kept: VersionKey, asked: VersionKey) -> bool:
    """Whether a value kept at these versions is as new as a reader at `asked` needs (every
    table's version counter as high: refreshed ahead of a reader that looked a moment ago)."""
    old, new = dict(kept), dict(asked)
    return old.keys() == new.keys() and all(old[t] >= new[t] for t in old)


def from_feed(
    conn: sa.Connection, kept: Kept, versions: VersionKey, refresh: Refresh, ahead: Ahead | None,
    feed: tuple[Changes, Seen] | None = None,
) -> Kept | None:  # fmt: skip
    """The kept value at these versions by its refresh from the feed (read here unless given),
    or None when a table other than the fed ones changed, or the feed says everything did."""
    if not only_fed_changed(kept.versions, versions):
        return None
    changes, seen = feed if feed is not None else changes_since(conn, kept.seen)
    if changes.everything:
        return None
    return Kept(versions, seen, refresh(conn, kept.value, changes) if changes else kept.value,
                ahead)  # fmt: skip


class LiveAnswers:
    """The latest value of each question, refreshed from the feed; least recently used go."""

    def __init__(self, maxsize: int = 8) -> None:
        """An empty store holding at most maxsize questions."""
        self.maxsize = maxsize
        self._kept: OrderedDict[Hashable, Kept] = OrderedDict()
        self._asked: dict[Hashable, float] = {}
        self._working: dict[Hashable, Work] = {}
        self._followers: dict[Hashable, OrderedDict[Hashable, Follower]] = {}
        self._lock = threading.Lock()
        self.refreshes = 0
        self.refreshed_ahead = 0

    def _put(self, question: Hashable, kept: Kept) -> None:
        with self._lock:
            self._kept[question] = kept
            self._kept.move_to_end(question)
            while len(self._kept) > self.maxsize:
                gone, _ = self._kept.popitem(last=False)
                self._asked.pop(gone, None)
                self._followers.pop(gone, None)
                self._forget_idle(gone)

    def _forget_idle(self, question: Hashable) -> None:
        """Drop the work entry of a question not kept, unless a thread holds or awaits it
        (under self._lock)."""
        work = self._working.get(question)
        if work is not None and question not in self._kept and not work.lock.locked():
            del self._working[question]

    def _work(self, question: Hashable) -> Work:
        with self._lock:
            return self._working.setdefault(question, Work())

    def asked(self, question: Hashable) -> None:
        """Note that the question was asked now (its answer's bytes may have been sent from
        elsewhere): the last used to go, and refreshed ahead (ahead_order.AHEAD_FOR_S)."""
        with self._lock:
            if question in self._kept:
                self._kept.move_to_end(question)
                self._asked[question] = time.monotonic()

    def asked_at(self) -> list[tuple[float, Hashable]]:
        """When each question that can be refreshed ahead was last asked (never: 0)."""
        with self._lock:
            return [(self._asked.get(question, 0.0), question)
                    for question, kept in self._kept.items() if kept.ahead]  # fmt: skip

    def follow(self, question: Hashable, name: Hashable, follower: Follower) -> None:
        """After each refresh ahead of the question, call the follower (the last FOLLOWERS
        named are kept; a name given again replaces its follower)."""
        with self._lock:
            if question not in self._kept:
                return
            named = self._followers.setdefault(question, OrderedDict())
            named[name] = follower
            named.move_to_end(name)
            while len(named) > FOLLOWERS:
                named.popitem(last=False)

    def value(
        self,
        conn: sa.Connection,
        question: Hashable,
        versions: VersionKey,
        compute: Callable[[], Any],
        refresh: Refresh,
        ahead: Ahead | None = None,
    ) -> tuple[Any, bool]:
        """The question's value at these versions (hit=True when unchanged, or refreshed ahead
        meanwhile), refreshed from the feed when only stairwells and buildings were written
        since, else computed."""
        work, waited_from = self._work(question), time.monotonic()
        try:
            with work.lock:  # a refresh running ahead is waited for, not repeated
                if work.failed is not None and work.failed_at > waited_from:
                    raise work.failed  # what the compute this request waited for met
                with self._lock:
                    kept = self._kept.get(question)
                self.asked(question)
                if kept is not None and at_least(kept.versions, versions):
                    return kept.value, True
                fresh = from_feed(conn, kept, versions, refresh, ahead) if kept else None
                if fresh is not None:
                    self.refreshes += 1
                else:
                    seen = seen_now(conn)  # before reading: what is written meanwhile is
                    try:  # read again later
                        fresh = Kept(versions, seen, compute(), ahead)
                    except Exception as exc:
                        work.failed, work.failed_at = exc, time.monotonic()
                        raise
                self._put(question, fresh)
                self.asked(question)
                return fresh.value, False
        finally:
            with self._lock:
                self._forget_idle(question)

    def refresh_ahead_one(self, question: Hashable, begin: Begin) -> bool:
        """Refresh one question from the feed in its asker's scope, with no request, in a
        transaction `begin` opens; whether it was (not when a request is working on it: that
        request refreshes it)."""
        with self._lock:
            kept = self._kept.get(question)
        if kept is None or kept.ahead is None:
            return False
        ahead = kept.ahead
        with begin() as conn:  # a connection first: none is awaited under the lock
            ahead.scope(conn)
            work = self._work(question)
            if not work.lock.acquire(blocking=False):
                return False
            try:
                return self._refreshed_ahead(conn, question, kept, ahead)
            finally:
                work.lock.release()
                with self._lock:
                    self._forget_idle(question)  # dropped meanwhile: no entry left behind

    def _refreshed_ahead(self, conn: sa.Connection, question: Hashable, kept: Kept,
                         ahead: Ahead) -> bool:  # fmt: skip
        """refresh_ahead_one with the question's lock held and its transaction open."""
        versions, changes, seen = versions_and_changes(conn, ahead.tables, kept.seen)
        fresh = None if versions == kept.versions else from_feed(
            conn, kept, versions, ahead.refresh, ahead, (changes, seen))
        with self._lock:
            if fresh is None or self._kept.get(question) is not kept:
                return False  # unchanged, to be computed when asked, or dropped meanwhile
            self._kept[question] = fresh
            followers = list(self._followers.get(question, {}).values())
        unchanged = kept.versions if fresh.value is kept.value else None
        for follower in followers:  # before the next request may take the value
            try:  # no savepoint (two round trips each): an error of the database ends the
                follower(conn, fresh.value, versions, unchanged)  # transaction, and this
            except sa.exc.DBAPIError:  # question's rendering: the rest render when asked
                LOG.warning("kept answers could not be rendered ahead", exc_info=True)
                break
            except Exception:  # its next request renders it, or says what is wrong
                LOG.warning("a kept answer could not be rendered ahead", exc_info=True)
        self.refreshed_ahead += 1
        return True
