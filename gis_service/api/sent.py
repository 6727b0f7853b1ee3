"""How an answer's bytes are sent: whole, as the pieces it was made of, or in parts made while
they are sent.

A city's answers are tens or hundreds of megabytes. Joining pieces into one bytes object is a
copy into fresh memory (slow on a VM that hands pages out lazily), so a per-unit table goes out
as its kept blocks of rows (rows_json.py) and a per-stairwell CSV as its parts, each sent as it
is written.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass

from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send


@dataclass(frozen=True)
class Pieces:
    """An answer's bytes as the pieces it was made of (all made), sent without joining them."""

    pieces: Sequence[bytes | memoryview]

    def size(self) -> int:
        """Bytes in all."""
        return sum(len(piece) for piece in self.pieces)


@dataclass(frozen=True)
class Streamed:
    """An answer's bytes in parts made while they are sent (a city's per-stairwell CSV)."""

    parts: Generator[bytes | memoryview, None, None]


class PiecesResponse(Response):
    """A response sending its pieces one after the other, with their total Content-Length."""

    def __init__(
        self, pieces: Sequence[bytes | memoryview], media_type: str, headers: Mapping[str, str]
    ) -> None:
        """A 200 response of these pieces."""
        self.pieces = pieces
        length = str(Pieces(pieces).size())
        super().__init__(b"", media_type=media_type, headers={**headers, "Content-Length": length})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the head, then each piece (more_body until the last)."""
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})  # fmt: skip
        last = len(self.pieces) - 1
        for at, piece in enumerate(self.pieces):
            await send({"type": "http.response.body", "body": piece, "more_body": at < last})
        if last < 0:
            await send({"type": "http.response.body", "body": b""})


class PartsResponse(StreamingResponse):
    """A response streaming parts as they are made (chunked: its length is not known before),
    closing their maker when it ends, also early (a client gone: no part is made for nobody)."""

    def __init__(
        self, parts: Generator[bytes | memoryview, None, None], media_type: str,
        headers: Mapping[str, str],
    ) -> None:  # fmt: skip
        """A 200 response of these parts."""
        super().__init__(parts, media_type=media_type, headers=headers)
        self.parts = parts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream the parts; close their maker however the stream ends."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.parts.close()
