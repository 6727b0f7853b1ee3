"""One log line per request: method, route template, status, latency, user, request id.

The request id comes from a well-formed X-Request-ID header or is made here; it is echoed in the
answer's X-Request-ID. Answers of 500 and above log at error level with their cause (set on
request.state.cause by the problem handlers, or the exception that escaped).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from gis_service.api.http_middleware import HttpMiddleware
from gis_service.api.metrics import scope_route

log = logging.getLogger("gis_service.request")
GOOD_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when well-formed, else a new one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if GOOD_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


class RequestLog(HttpMiddleware):
    """Plain ASGI middleware writing the request line after the answer is sent."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, echo its id, then log it."""
        rid = request_id(scope)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", rid.encode())]
            await send(message)

        cause: str | None = None
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            cause = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
            raise
        finally:
            write_line(scope, status, time.perf_counter() - started, rid, cause)


def write_line(scope: Scope, status: int, seconds: float, rid: str, cause: str | None) -> None:
    """The request's log line (error level for 5xx, with the cause)."""
    state: dict[str, Any] = scope.get("state", {}) or {}
    principal = state.get("principal")
    fields: dict[str, Any] = {
        "method": scope["method"], "route": scope_route(scope), "status": status,
        "ms": round(seconds * 1000, 1), "user": getattr(principal, "user_id", None) or "-",
        "request_id": rid,
    }
    cause = cause or state.get("cause")
    if status >= 500:
        fields["cause"] = cause or "-"
        log.error("request failed", extra={"fields": fields})
    else:
        log.info("request", extra={"fields": fields})
