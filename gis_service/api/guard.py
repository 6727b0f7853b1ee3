"""What every request must pass before any route, dependency, sign-in or database work runs.

- The path holds no control characters (a NUL reaching the file system was a 500): 404, as no
  resource of the service has such a name.
- The body is no larger than its limit: settings.max_upload_bytes for layer imports,
  settings.max_photo_bytes for photos (issues', votes' proofs), settings.max_body_bytes for
  everything else. A declared Content-Length above the limit gets 413 without a byte of the
  body read. A body without one (chunked) is read here up to the limit, or, for imports,
  counted as the route streams it; one byte over ends it with 413.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import Message, Receive, Scope, Send

from gis_service.api.http_middleware import HttpMiddleware
from gis_service.api.problems import problem
from gis_service.features.errors import PayloadTooLarge

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class BodyRule:
    """The body limit of the routes whose path matches, and whether they stream the body."""

    path: re.Pattern[str]
    setting: str
    what: str
    streamed: bool = False


BODY_RULES = (
    BodyRule(re.compile(r"^/collections/[^/]+/import$"), "max_upload_bytes", "the upload", True),
    BodyRule(re.compile(r"^/issues/[^/]+/photo$"), "max_photo_bytes", "the photo"),
    BodyRule(re.compile(r"^/households/[^/]+/proof$"), "max_photo_bytes", "the photo"),
)
DEFAULT_RULE = BodyRule(re.compile(""), "max_body_bytes", "the body")


def body_rule(path: str) -> BodyRule:
    """The body rule of a request path (the JSON body limit unless a route has its own)."""
    return next((rule for rule in BODY_RULES if rule.path.match(path)), DEFAULT_RULE)


def too_large(what: str, limit: int) -> str:
    """The 413 detail."""
    return f"{what} is larger than {limit} bytes"


class RequestGuard(HttpMiddleware):
    """ASGI middleware applying the path and body rules to every HTTP request."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a bad path or an oversized body before the app sees the request."""
        if CONTROL.search(scope["path"]):
            answer = problem(404, "Not found", "no resource has a control character (NUL etc.) "
                             "in its path")
            await answer(scope, receive, send)
            return
        rule = body_rule(scope["path"])
        limit = int(getattr(scope["app"].state.settings, rule.setting))
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > limit:
            await problem(413, "Payload too large", too_large(rule.what, limit))(
                scope, receive, send
            )
            return
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if not chunked or declared:
            await self.app(scope, receive, send)  # no body, or h11 holds it to its length
        elif rule.streamed:
            await self.app(scope, counting(receive, limit, rule.what), send)
        else:
            body = await read_within(receive, limit)
            if body is None:
                await problem(413, "Payload too large", too_large(rule.what, limit))(
                    scope, receive, send
                )
                return
            await self.app(scope, replay(body, receive), send)


async def read_within(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # the client went away; the app will see it too
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable giving the already read body once, then the client's messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def counting(receive: Receive, limit: int, what: str) -> Receive:
    """A receive callable ending the request with 413 once the body passes `limit` bytes."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise PayloadTooLarge(too_large(what, limit))
        return message

    return counted
