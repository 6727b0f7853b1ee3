"""A remembered caller's XYZ tile answered before routing (the hot path of a map being panned).

Plain ASGI middleware, innermost of ours: the request log, the metrics and the request guard
still see the request, but route matching over the app's many routes, FastAPI's parameter and
dependency handling and the exception middleware are skipped. The tile itself comes from the
same code as the routed endpoint (api/tiles.py remembered_response): the caller's token and the
tables' data versions checked in one query on every request, so a revoked token is refused on
the very next tile. Whatever that path does not answer (a first request, a filter, an error, a
database failure) goes on to the router, which answers it as before.
"""

from __future__ import annotations

import re

from fastapi import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from gis_service.api.http_middleware import HttpMiddleware
from gis_service.api.tiles import XYZ_TILE, remembered_response
from gis_service.errors import GisServiceError

XYZ_PATH = re.compile(
    r"^/tiles/([a-z][a-z0-9_]*(?:,[a-z][a-z0-9_]*)*)/([0-9]{1,2})/([0-9]{1,9})/([0-9]{1,9})\.pbf$"
)


class TilesBeforeRouting(HttpMiddleware):
    """Answer GET /tiles/{layers}/{z}/{x}/{y}.pbf of a remembered token without routing."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap the app (the XYZ route is learnt from the first routed tile)."""
        super().__init__(app)
        self.route: BaseRoute | None = None
        """The routed endpoint of XYZ tiles: its template labels the log line and metrics."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The tile when the event-loop path answers it, else the app (the router) does."""
        match = XYZ_PATH.match(scope["path"]) if scope["method"] == "GET" else None
        if match is not None and self.route is not None:
            try:
                response = await remembered_response(Request(scope, receive), *match.groups())
            except GisServiceError:  # a bad address or a refusal: the routed path words it
                response = None
            if response is not None:
                scope["route"] = self.route
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
        if match is not None and self.route is None:
            route = scope.get("route")
            if getattr(route, "path", None) == XYZ_TILE:
                self.route = route
