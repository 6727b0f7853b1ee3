"""Kept analysis answers also packed with zstd, sent packed to clients that accept it.

A city's per-stairwell CSV or polygons are 100+ MB; packed they are a tenth of that, so a
repeated question costs a lookup and a small transfer (browsers and httpx accept zstd). Packing
runs once per kept answer, in the background while the first answer is sent as it is, so no
question waits for it; until it is done, repeats are sent unpacked.

A kept answer is sent to repeats, so a JSON one must say it came from the cache: a big one is
rewritten so in the same background step (a copy of megabytes the first answer does not wait
for), a small one at once; a repeat that comes first does it itself.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field

import zstandard
from starlette.requests import Request

from gis_service.datasets.cache import ResultCache

PACK_FROM_BYTES = 1 << 20
"""Answers smaller than this are sent as they are."""
LEVEL = 3
LOWEST_PRIORITY = 19
"""The packer thread's nice value: it takes only the CPU that answering leaves idle."""


def yield_to_answers() -> None:
    """Give the calling thread the lowest CPU priority (on Linux a nice value is the thread's
    own, and zstd's worker threads inherit it), so packing never slows an answer on its way."""
    with suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


_PACKER = ThreadPoolExecutor(1, thread_name_prefix="pack", initializer=yield_to_answers)


@dataclass(frozen=True)
class KeptBody:
    """An answer's bytes, media type and, once packed, its zstd bytes; `as_sent`: the bytes
    are still those of the first answer (a JSON answer then says it was not cached)."""

    body: bytes
    media_type: str
    zstd: bytes | None = None
    as_sent: bool = False
    answer: object = field(default_factory=object)
    """Which answer these are the bytes of (the same as they are rewritten and packed)."""

    def nbytes(self) -> int:
        """Bytes held (what the answer cache's budget counts)."""
        return len(self.body) + len(self.zstd or b"")


def accepts_zstd(request: Request) -> bool:
    """Whether the client accepts zstd content coding (and has not refused it with q=0)."""
    for part in request.headers.get("accept-encoding", "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() == "zstd":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


NOT_CACHED, CACHED = b'"cached":false', b'"cached":true'
"""What a JSON answer says of its result, first and in repeats (it leads the rows: the first
one found is it)."""


def hit_pieces(body: bytes, media_type: str) -> list[bytes | memoryview]:
    """The bytes a repeat of a question gets, in pieces that copy nothing of the body: the
    JSON answer saying its result came from the cache (other answers as they are)."""
    at = body.find(NOT_CACHED) if media_type == "application/json" else -1
    if at < 0:
        return [body]
    view = memoryview(body)
    return [view[:at], CACHED, view[at + len(NOT_CACHED) :]]


def as_hit(body: bytes, media_type: str) -> bytes:
    """The bytes a repeat of a question gets (hit_pieces, joined)."""
    pieces = hit_pieces(body, media_type)
    return body if len(pieces) == 1 else b"".join(pieces)


def keep(bodies: ResultCache, key: Hashable, kept: KeptBody) -> None:
    """Keep an answer's bytes (as_sent and small: made a repeat's bytes here); a big one is
    packed, as a repeat gets it, in the background and kept again."""
    big = len(kept.body) >= PACK_FROM_BYTES
    if kept.as_sent and not big:
        kept = KeptBody(as_hit(kept.body, kept.media_type), kept.media_type)
    bodies.put(key, kept)
    if big:
        _PACKER.submit(_pack, bodies, key, kept)


def kept_for_repeat(bodies: ResultCache, key: Hashable, kept: KeptBody) -> KeptBody:
    """A kept answer's bytes as a repeat gets them unpacked (rewritten, and kept again, the
    first time a repeat is sent them so)."""
    if not kept.as_sent:
        return kept
    ready = KeptBody(as_hit(kept.body, kept.media_type), kept.media_type, kept.zstd,
                     answer=kept.answer)  # fmt: skip
    bodies.put(key, ready)
    return ready


def _pack(bodies: ResultCache, key: Hashable, kept: KeptBody) -> None:
    found, now = bodies.get(key)
    if not found or now.answer is not kept.answer:
        return  # replaced or dropped meanwhile
    pieces = hit_pieces(now.body, now.media_type) if now.as_sent else [now.body]
    size = sum(len(piece) for piece in pieces)
    packer = zstandard.ZstdCompressor(level=LEVEL, threads=-1).compressobj(size=size)
    packed = b"".join([*(packer.compress(piece) for piece in pieces), packer.flush()])
    bodies.put(key, KeptBody(now.body, now.media_type, packed, now.as_sent, now.answer))
