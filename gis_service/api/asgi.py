"""Call the app in-process (no HTTP, no extra client library): what the static map export reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.auth import Principal


async def _call(app: FastAPI, path: str) -> tuple[int, bytes]:
    parts = urlsplit(path)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "headers": [(b"host", b"export.local"), (b"accept", b"application/json")],
        "client": ("127.0.0.1", 0),
        "server": ("export.local", 80),
        "root_path": "",
    }
    status = 500
    body: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(body)


def get(app: FastAPI, path: str) -> tuple[int, bytes]:
    """GET a path (with query) from the app: status and body."""
    return asyncio.run(_call(app, path))


def reader(engine: Engine, principal: Principal) -> Callable[[str], tuple[int, bytes]]:
    """GET from a new app of this process as one user (the static export reads through it)."""
    from gis_service.api.app import create_app
    from gis_service.api.deps import get_principal

    app = create_app(engine)
    app.dependency_overrides[get_principal] = lambda: principal
    return lambda path: get(app, path)
