"""Kept analysis answers also packed with zstd, sent packed to clients that accept it.

A city's per-stairwell CSV or polygons are 100+ MB; packed they are a tenth of that, so a
repeated question costs a lookup and a small transfer (browsers and httpx accept zstd). Packing
runs once per kept answer, in the background while the first answer is sent as it is, so no
question waits for it; until it is done, repeats are sent unpacked.
"""

from __future__ import annotations

from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import zstandard
from starlette.requests import Request

from gis_service.datasets.cache import ResultCache

PACK_FROM_BYTES = 1 << 20
"""Answers smaller than this are sent as they are."""
LEVEL = 3
_PACKER = ThreadPoolExecutor(1, thread_name_prefix="pack")


@dataclass(frozen=True)
class KeptBody:
    """An answer's bytes, media type and, once packed, its zstd bytes."""

    body: bytes
    media_type: str
    zstd: bytes | None = None

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


def keep(bodies: ResultCache, key: Hashable, kept: KeptBody) -> None:
    """Keep an answer's bytes; a big one is packed in the background and kept again."""
    bodies.put(key, kept)
    if len(kept.body) >= PACK_FROM_BYTES:
        _PACKER.submit(_pack, bodies, key, kept)


def _pack(bodies: ResultCache, key: Hashable, kept: KeptBody) -> None:
    found, now = bodies.get(key)
    if not found or now is not kept:
        return  # replaced or dropped meanwhile
    packed = zstandard.ZstdCompressor(level=LEVEL, threads=-1).compress(kept.body)
    bodies.put(key, KeptBody(kept.body, kept.media_type, packed))
