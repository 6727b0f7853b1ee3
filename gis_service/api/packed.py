"""Kept analysis answers also packed with zstd, sent packed to clients that accept it.

A city's per-stairwell CSV or polygons are 100+ MB; packed they are a tenth of that, so a
repeated question costs a lookup and a small transfer (browsers and httpx accept zstd). Packing
runs once per kept answer, in the background a moment after the first answer is sent as it is,
so no question waits for it, and not at all for an answer replaced meanwhile (an edit's
refresh); until it is done, repeats are sent unpacked.

Answers are kept as the pieces they were sent in (api/sent.py: blocks of JSON rows, parts of a
CSV), never joined into one copy of their megabytes. A kept answer is sent to repeats, so a
JSON one must say it came from the cache: a big one is rewritten so around the one changed
member, in the same background step or by a repeat that comes first; a small one is joined
and rewritten at once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Generator, Hashable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field

import zstandard
from starlette.requests import Request

from gis_service.api.sent import Pieces
from gis_service.datasets.cache import ResultCache

LOG = logging.getLogger(__name__)

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
SETTLE_S = 0.5
"""How long a big answer is kept before it is packed: one replaced sooner by a newer answer to
its question (a stream of field saves refreshing it ahead) is never packed. Without it, a 1M
city under five saves a second spent 11 of its 15 CPU seconds packing answers nobody asked
for before they were replaced (benchmarks/edit_stream.py)."""
SLOTS = 1024
"""Questions (in one variant) whose latest big answer is remembered, so that one replaced
before its turn to be packed is not (the last used kept)."""
_LATEST: OrderedDict[Hashable, Hashable] = OrderedDict()
_LATEST_LOCK = threading.Lock()


def make_latest(slot: Hashable, key: Hashable) -> None:
    """Note that the slot's latest big answer is kept under key."""
    with _LATEST_LOCK:
        _LATEST[slot] = key
        _LATEST.move_to_end(slot)
        while len(_LATEST) > SLOTS:
            _LATEST.popitem(last=False)


Piece = bytes | memoryview
"""A piece of an answer's bytes (a kept block of JSON rows, a part of a CSV)."""


@dataclass(frozen=True)
class KeptBody:
    """An answer's bytes (the pieces it was sent as, never joined), media type and, once
    packed, its zstd bytes; `as_sent`: the bytes are still those of the first answer (a JSON
    answer then says it was not cached)."""

    pieces: tuple[Piece, ...]
    media_type: str
    zstd: bytes | None = None
    as_sent: bool = False
    answer: object = field(default_factory=object)
    """Which answer these are the bytes of (the same as they are rewritten and packed)."""

    def size(self) -> int:
        """Bytes of the answer as sent unpacked."""
        return Pieces(self.pieces).size()

    def nbytes(self) -> int:
        """Bytes held (what the answer cache's budget counts)."""
        return self.size() + len(self.zstd or b"")


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


def hit_pieces(pieces: tuple[Piece, ...], media_type: str) -> tuple[Piece, ...]:
    """The bytes a repeat of a question gets, in pieces that copy nothing of the body: the
    JSON answer saying its result came from the cache (other answers as they are)."""
    if media_type != "application/json":
        return pieces
    for index, piece in enumerate(pieces):
        at = piece.find(NOT_CACHED) if isinstance(piece, bytes) else -1
        if at >= 0:
            view = memoryview(piece)
            said = (view[:at], CACHED, view[at + len(NOT_CACHED) :])
            return (*pieces[:index], *said, *pieces[index + 1 :])
    return pieces


def is_big(size: int) -> bool:
    """Whether an answer of this many bytes is packed for repeats (and sent in pieces)."""
    return size >= PACK_FROM_BYTES


def keep(bodies: ResultCache, key: Hashable, kept: KeptBody, slot: Hashable | None = None) -> None:
    """Keep an answer's bytes (small: if as_sent made a repeat's bytes here, still in their
    pieces: joining a megabyte costs a new answer more than sending its pieces costs a repeat);
    a big one is packed, as a repeat gets it, in the background and kept again, SETTLE_S
    later, unless a newer answer of its `slot` (the same question in the same variant, after an
    edit) is kept meanwhile: under a stream of edits only the latest of each is packed."""
    big = is_big(kept.size())
    if not big and kept.as_sent:
        kept = KeptBody(hit_pieces(kept.pieces, kept.media_type), kept.media_type)
    bodies.put(key, kept)
    if big:
        if slot is not None:
            make_latest(slot, key)
        _PACKER.submit(_pack, bodies, key, kept, slot, time.monotonic() + SETTLE_S)


def sent_then_kept(
    bodies: ResultCache, key: Hashable, parts: Generator[Piece, None, None], media_type: str
) -> Generator[Piece, None, None]:
    """The parts as they are made; kept (as they are, unjoined) once the last is handed on.
    Closed early (a client gone), it closes the parts' maker and keeps nothing; a part that
    fails is logged, and the client sees its answer cut short."""
    made = []
    try:
        for part in parts:
            made.append(part)
            yield part
    except Exception:  # not GeneratorExit (a client gone): that is no failure
        LOG.exception("an answer failed while it was sent")
        raise
    finally:
        parts.close()
    keep(bodies, key, KeptBody(tuple(made), media_type))


def kept_for_repeat(bodies: ResultCache, key: Hashable, kept: KeptBody) -> KeptBody:
    """A kept answer's bytes as a repeat gets them unpacked (rewritten around the one changed
    member, and kept again, the first time a repeat is sent them so)."""
    if not kept.as_sent:
        return kept
    ready = KeptBody(hit_pieces(kept.pieces, kept.media_type), kept.media_type, kept.zstd,
                     answer=kept.answer)  # fmt: skip
    bodies.put(key, ready)
    return ready


def _pack(bodies: ResultCache, key: Hashable, kept: KeptBody, slot: Hashable | None,
          settled_at: float) -> None:  # fmt: skip
    time.sleep(max(0.0, settled_at - time.monotonic()))
    with _LATEST_LOCK:
        replaced = slot is not None and _LATEST.get(slot, key) != key
    if replaced:
        return  # a newer answer to the question came meanwhile: it is packed instead
    found, now = bodies.get(key)
    if not found or now.answer is not kept.answer:
        return  # replaced or dropped meanwhile
    pieces = hit_pieces(now.pieces, now.media_type) if now.as_sent else now.pieces
    size = sum(len(piece) for piece in pieces)
    packer = zstandard.ZstdCompressor(level=LEVEL, threads=-1).compressobj(size=size)
    packed = b"".join([*(packer.compress(piece) for piece in pieces), packer.flush()])
    bodies.put(key, KeptBody(now.pieces, now.media_type, packed, now.as_sent, now.answer))
