"""How many HTTP requests the app is serving now, so work in the background (answers refreshed
ahead of an edit's readers) can wait while one is served rather than slow it down."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from gis_service.api.http_middleware import HttpMiddleware


class InFlight:
    """A count of requests being served (changed on the event loop only)."""

    def __init__(self) -> None:
        """None yet."""
        self.count = 0

    def busy(self) -> bool:
        """Whether a request is being served now."""
        return self.count > 0


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
