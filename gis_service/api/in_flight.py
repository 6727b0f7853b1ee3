"""How busy the app is serving HTTP requests, so work in the background (answers refreshed
ahead of an edit's readers) waits for a quiet moment rather than slow a request down.

Quiet means no request is being served and none ended in the last QUIET_S: a page or a client
sends its requests one after another, with gaps of a millisecond or two between them.
"""

from __future__ import annotations

import time

from starlette.types import Receive, Scope, Send

from gis_service.api.http_middleware import HttpMiddleware

QUIET_S = 0.05


class InFlight:
    """Requests being served and when the last one ended (changed on the event loop only)."""

    def __init__(self) -> None:
        """None yet."""
        self.count = 0
        self.ended_at = 0.0

    def busy(self) -> bool:
        """Whether a request is being served now, or one ended less than QUIET_S ago."""
        return self.count > 0 or time.monotonic() - self.ended_at < QUIET_S


class CountRequests(HttpMiddleware):
    """ASGI middleware counting the requests in flight in app.state.in_flight."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, counted while it runs."""
        counter: InFlight = scope["app"].state.in_flight
        counter.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            counter.count -= 1
            counter.ended_at = time.monotonic()
