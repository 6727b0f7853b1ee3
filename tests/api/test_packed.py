"""Big kept answers packed with zstd in the background: under a stream of edits, only the
latest answer of each question is packed (each replaced one would cost the CPU for nothing)."""

from __future__ import annotations

import threading

import zstandard

from gis_service.api import packed
from gis_service.api.packed import PACK_FROM_BYTES, KeptBody, keep
from gis_service.datasets.cache import ResultCache


def big(mark: bytes) -> KeptBody:
    """A CSV answer just big enough to be packed."""
    return KeptBody((mark * PACK_FROM_BYTES,), "text/csv; charset=utf-8")


def test_an_answer_replaced_before_its_turn_is_not_packed() -> None:
    """While the packer is busy, two answers of one question (before and after an edit) and
    one of another are kept: the replaced one is skipped, the others packed, and the packed
    bytes are the answer's."""
    bodies = ResultCache(maxsize=16)
    gate = threading.Event()
    packed._PACKER.submit(gate.wait, 10)  # the packer still on an earlier answer
    keep(bodies, ("coverage", 1, "csv"), big(b"a"), ("coverage", "csv"))
    keep(bodies, ("coverage", 2, "csv"), big(b"b"), ("coverage", "csv"))
    keep(bodies, ("shares", 1, "csv"), big(b"c"), ("shares", "csv"))
    gate.set()
    packed._PACKER.submit(lambda: None).result(30)  # every job before it has run
    assert bodies.get(("coverage", 1, "csv"))[1].zstd is None
    latest = bodies.get(("coverage", 2, "csv"))[1]
    assert latest.zstd is not None
    assert zstandard.ZstdDecompressor().decompress(latest.zstd) == b"b" * PACK_FROM_BYTES
    assert bodies.get(("shares", 1, "csv"))[1].zstd is not None
