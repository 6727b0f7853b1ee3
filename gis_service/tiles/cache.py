"""A thread-safe LRU of gzip-compressed tiles, bounded by the total bytes it holds.

Keys carry the data version of every table a tile reads, so a write (which bumps the version in
the database, whoever makes it) makes the old entries unreachable at once; they are dropped
eagerly when a newer version of their table is first seen, and by the LRU otherwise.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

from gis_service.datasets.cache import VersionKey
from gis_service.tiles.grid import TileAddress

ENTRY_OVERHEAD = 256  # bytes counted per entry for the key, the entry object and the dict slot
GZIP_LEVEL = 4
"""zlib level of cached tiles: on the demo city's tiles as small as level 6 at 2–3× the speed."""


@dataclass(frozen=True)
class CachedTile:
    """A tile as stored: gzip bytes (empty for an empty tile) and its ETag."""

    gzipped: bytes
    etag: str
    raw_size: int

    @property
    def empty(self) -> bool:
        """True for a tile without features (answered 204)."""
        return self.raw_size == 0

    def raw(self) -> bytes:
        """The uncompressed tile, for clients that do not accept gzip."""
        return gzip.decompress(self.gzipped) if self.gzipped else b""


def make_entry(raw: bytes) -> CachedTile:
    """Compress a tile and compute its ETag (a hash of the uncompressed content)."""
    etag = 'W/"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'
    gzipped = gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0) if raw else b""
    return CachedTile(gzipped, etag, len(raw))


@dataclass(frozen=True)
class TileKey:
    """What a tile depends on: layers, address, filter, the caller's scope, data versions."""

    layers: tuple[str, ...]
    tile: TileAddress
    filter: Hashable
    scope: str
    versions: VersionKey


@dataclass
class _Building:
    """A tile one thread is building while others wait for it."""

    done: threading.Event = field(default_factory=threading.Event)
    result: CachedTile | None = None


class TileCache:
    """LRU of tiles bounded by bytes; safe to share between the threads of one process."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, max_bytes)
        self._entries: OrderedDict[Hashable, tuple[CachedTile | bytes, VersionKey, int]] = (
            OrderedDict()
        )
        self._latest: dict[str, int] = {}
        self._building: dict[Hashable, _Building] = {}
        self._pending: dict[Hashable, asyncio.Future[CachedTile]] = {}
        self._lock = threading.Lock()
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> CachedTile | bytes | None:
        """The value stored under a key (marked as recently used), or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Hashable, value: CachedTile | bytes, versions: VersionKey) -> None:
        """Store a value computed from data at the given table versions, evicting the LRU."""
        size = ENTRY_OVERHEAD + len(value.gzipped if isinstance(value, CachedTile) else value)
        if size > self.max_bytes:
            return
        with self._lock:
            if any(version < self._latest.get(table, 0) for table, version in versions):
                return  # computed from data older than what another request already saw
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old[2]
            self._entries[key] = (value, versions, size)
            self.bytes += size
            while self.bytes > self.max_bytes and self._entries:
                _, (_, _, evicted) = self._entries.popitem(last=False)
                self.bytes -= evicted

    def _hit(self, key: Hashable) -> CachedTile | None:
        """The kept tile of a key, counted as a hit, or None counted as a miss (lock held)."""
        found = self._entries.get(key)
        if found is not None and isinstance(found[0], CachedTile):
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]
        self.misses += 1
        return None

    def get_or_build(
        self, key: Hashable, versions: VersionKey, build: Callable[[], CachedTile]
    ) -> tuple[CachedTile, bool]:
        """The cached tile, else one build shared by the threads asking at once; (tile, hit)."""
        with self._lock:
            kept = self._hit(key)
            if kept is not None:
                return kept, True
            building = self._building.get(key)
            owner = building is None
            if building is None:
                building = self._building[key] = _Building()
        if not owner:
            building.done.wait(timeout=120)
            if building.result is not None:
                return building.result, True
            return build(), False  # the other build failed: try once more here
        try:
            building.result = build()
            self.put(key, building.result, versions)
            return building.result, False
        finally:
            with self._lock:
                self._building.pop(key, None)
            building.done.set()

    async def get_or_build_async(
        self, key: Hashable, versions: VersionKey, build: Callable[[], Awaitable[CachedTile]]
    ) -> tuple[CachedTile, bool]:
        """get_or_build for the event loop: one build shared by the requests of this loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            kept = self._hit(key)
            if kept is not None:
                return kept, True
            pending = self._pending.get(key)
            if pending is None or pending.get_loop() is not loop:
                future = self._pending[key] = loop.create_future()
                pending = None
        if pending is not None:
            try:
                return await asyncio.shield(pending), True
            except Exception:
                return await build(), False  # the other build failed: try once more here
        try:
            result = await build()
            self.put(key, result, versions)
            future.set_result(result)
            return result, False
        except BaseException as exc:
            failed = exc if isinstance(exc, Exception) else RuntimeError("the build was cancelled")
            future.set_exception(failed)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            with self._lock:
                if self._pending.get(key) is future:
                    del self._pending[key]

    def observe(self, versions: VersionKey) -> None:
        """Record the table versions a request saw; drop entries built from older data."""
        with self._lock:
            newer = {t for t, v in versions if v > self._latest.get(t, 0)}
            if not newer:
                return
            stale_tables = {t for t in newer if t in self._latest}
            for table, version in versions:
                if table in newer:
                    self._latest[table] = version
            if not stale_tables:
                return
            for key in [
                key
                for key, (_, vs, _) in self._entries.items()
                if any(t in stale_tables and v < self._latest[t] for t, v in vs)
            ]:
                self.bytes -= self._entries.pop(key)[2]

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._entries.clear()
            self.bytes = 0


def accepts_gzip(header: str | None) -> bool:
    """True when an Accept-Encoding header allows gzip (and does not give it q=0)."""
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip().lower().removeprefix("q=")
            try:
                return not params or float(q) > 0
            except ValueError:
                return True
    return False


__all__ = ["CachedTile", "TileCache", "TileKey", "accepts_gzip", "make_entry"]
