"""Tile callers remembered by their token for a short while, checked again on every request.

A cached tile costs one round trip: the table state query also asks whom the token names now
(tiles/render.py remembered_state), so a revoked or expired token, or a user whose role or
grids changed, is resolved again (and refused) on the very next request.
"""

from __future__ import annotations

import threading
import time

from fastapi import Request

from gis_service.auth import Principal, hash_token

MAX_CALLERS = 10_000
_LOCK = threading.Lock()


class RememberedCallers:
    """Principals by token hash, each for at most `seconds` (then looked up, and touched, anew)."""

    def __init__(self, seconds: float) -> None:
        """An empty memory keeping callers for `seconds`."""
        self.seconds = seconds
        self._items: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Principal | None:
        """The principal remembered for a token hash, if still fresh."""
        with self._lock:
            found = self._items.get(digest)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def put(self, digest: str, principal: Principal) -> None:
        """Remember a token's principal (forgetting all when full)."""
        with self._lock:
            if len(self._items) >= MAX_CALLERS:
                self._items.clear()
            self._items[digest] = (principal, time.monotonic() + self.seconds)

    def forget(self, digest: str) -> None:
        """Forget a token (it no longer names the remembered principal)."""
        with self._lock:
            self._items.pop(digest, None)


def remembered_callers(request: Request) -> RememberedCallers:
    """The app's memory of tile callers (made on first use, kept as long as a token's touch)."""
    state = request.app.state
    with _LOCK:
        if getattr(state, "tile_callers", None) is None:
            state.tile_callers = RememberedCallers(state.settings.token_touch_seconds)
    callers: RememberedCallers = state.tile_callers
    return callers


def token_digest(token: str | None) -> str | None:
    """The hash a token is remembered by (None without a token)."""
    return hash_token(token) if token else None
