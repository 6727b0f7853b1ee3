"""A lean HTTP/1.1 load client: keep-alive GETs on asyncio streams, bodies read but not decoded.

The benchmarks' servers share two cores with their client. httpx's asyncio client spends about
3–4 ms of CPU per request (measured on a warm tile pass), several times what either server spends
on a cached tile, so a pass measured with it mostly measures the client. This one parses only
the status line, the headers and the body's framing (Content-Length or chunked).
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from urllib.parse import urlsplit

ACCEPT_ENCODING = "gzip, deflate, br, zstd"
"""What a browser (and httpx) sends: each server compresses as it would for a map."""


class Connection:
    """One keep-alive connection to a server (reopened when the server closes it)."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        """A connection to `base` (http://host:port) sending `headers` with every request."""
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        fixed = {"Host": f"{self.host}:{self.port}", "Accept-Encoding": ACCEPT_ENCODING, **headers}
        self.head = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode("latin-1")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, dict[bytes, bytes], bytes]:
        """Status, headers (lower-case names) and raw body of GET path."""
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(b"GET " + path.encode("latin-1") + b" HTTP/1.1\r\n" + self.head + b"\r\n")
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        body = await self._body(status, headers)
        if headers.get(b"connection", b"").lower() == b"close":
            await self.close()
        return status, headers, body

    async def _body(self, status: int, headers: dict[bytes, bytes]) -> bytes:
        assert self.reader is not None
        if status in (204, 304) or status < 200:
            return b""
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()  # the empty trailer line
                    return b"".join(chunks)
                chunks.append((await self.reader.readexactly(size + 2))[:-2])
        return await self.reader.readexactly(int(headers.get(b"content-length", b"0")))

    async def close(self) -> None:
        """Close the connection (the next get opens a new one)."""
        if self.writer is not None:
            self.writer.close()
            with suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None
