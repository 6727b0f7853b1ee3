"""gzip for items pages when the client accepts it (tiles carry their own, cached, encoding).

Only the paths of feature pages are compressed: analysis answers are cached as bytes and sent
as they are, so a repeated question costs no compression of many megabytes.
"""

from __future__ import annotations

import re

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

ITEMS_PAGE = re.compile(r"^/collections/[^/]+/items/?$")
MINIMUM_BYTES = 1024
LEVEL = 5
"""zlib level: most of level 9's saving on GeoJSON at a fraction of its CPU."""


class ItemsGZip:
    """Compress items pages (gzip, when Accept-Encoding allows it); other paths pass through."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap an ASGI app."""
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=MINIMUM_BYTES, compresslevel=LEVEL)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand items pages to the gzip middleware, the rest straight to the app."""
        if scope["type"] == "http" and ITEMS_PAGE.match(scope["path"]):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
