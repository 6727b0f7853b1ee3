"""A bounded in-memory result cache keyed by parameters, caller scope and data versions.

A key holds the data_version counter of every table a result was computed from, so a write
(through the API, an import or plain SQL) makes the next lookup miss; entries of old versions
age out of the LRU order.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from gis_service.auth import Principal
from gis_service.db.engine import data_versions

T = TypeVar("T")
VersionKey = tuple[tuple[str, int], ...]
"""Data versions of some tables, (table, version) sorted by table: part of every cache key."""
HIERARCHY_TABLES = ("grid", "compound", "community", "subdistrict", "district")
STAIRWELL_TABLES = ("stairwell", "building", "elevator_status", *HIERARCHY_TABLES)
"""What an answer about stairwells reads: them, their buildings and units, and the pipeline
of elevator statuses (its codes and order are coverage's funnel; versioned by migration 0016)."""


@dataclass
class CacheStats:
    """Hits and misses since the cache was made."""

    hits: int = 0
    misses: int = 0


class ResultCache:
    """Least-recently-used cache of computed results, safe across request threads."""

    def __init__(self, maxsize: int = 128, max_bytes: int | None = None) -> None:
        """An empty cache holding at most maxsize results (and max_bytes of bytes values)."""
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, Future[Any]] = {}
        """Keys being computed, and what those who ask meanwhile wait for."""
        self.stats = CacheStats()

    def __len__(self) -> int:
        """Number of cached results."""
        return len(self._items)

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """(True, value) for a cached key, (False, None) otherwise."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.stats.hits += 1
                return True, self._items[key]
            self.stats.misses += 1
            return False, None

    def put(self, key: Hashable, value: Any) -> None:
        """Store a result, dropping the least recently used beyond maxsize (or max_bytes)."""
        size = _size(value)
        if self.max_bytes is not None and size > self.max_bytes:
            return  # bigger than the whole budget: not kept
        with self._lock:
            self.bytes += size - _size(self._items.get(key))
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize or (
                self.max_bytes is not None and self.bytes > self.max_bytes
            ):
                self.bytes -= _size(self._items.popitem(last=False)[1])

    def clear(self) -> None:
        """Forget every result."""
        with self._lock:
            self._items.clear()
            self.bytes = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> tuple[T, bool]:
        """The cached value (hit=True) or a freshly computed and stored one (hit=False).

        One thread computes a key at a time: another asking meanwhile waits and takes its
        value (hit=True) or its error, so two planners opening the same city at once build one
        street graph, not two in twice the memory, and a question that times out does so once.
        """
        hit, value = self.get(key)
        if hit:
            return value, True
        with self._lock:
            running = self._computing.get(key)
            if running is None:
                mine: Future[Any] = Future()
                self._computing[key] = mine
        if running is not None:
            return running.result(), True  # the computing thread's value, or its error
        try:
            value = compute()
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        else:
            self.put(key, value)
            mine.set_result(value)
            return value, False
        finally:
            with self._lock:
                del self._computing[key]


def _size(value: Any) -> int:
    """Bytes a cached value holds in bytes objects (itself, the items of a tuple, or what its
    nbytes() method says)."""
    if isinstance(value, tuple):
        return sum(_size(item) for item in value)
    if hasattr(value, "nbytes") and callable(value.nbytes):
        return int(value.nbytes())
    return len(value) if isinstance(value, bytes) else 0


def scope_key(principal: Principal | None) -> tuple[Any, ...]:
    """What the caller may see: role and grids (row-level security differs by them)."""
    if principal is None:
        return ("owner",)
    return (principal.role, principal.grid_ids)


def versions_key(conn: sa.Connection, tables: tuple[str, ...]) -> VersionKey:
    """The data versions of the tables, as a sorted hashable tuple."""
    return as_version_key(data_versions(conn, list(tables)))


def as_version_key(found: Mapping[str, int] | None) -> VersionKey:
    """Data versions read (table: version; none: empty) as the sorted tuple answers are kept by."""
    return tuple(sorted((str(table), int(version)) for table, version in (found or {}).items()))


def freeze(value: Any) -> Hashable:
    """A hashable form of parameters (dicts, lists and sets nested)."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, set | frozenset):
        return tuple(sorted((freeze(v) for v in value), key=repr))
    hashable: Hashable = value
    return hashable
