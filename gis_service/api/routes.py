"""The app's routes as one flat list (FastAPI may keep included routers nested)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import routing
from fastapi.routing import APIRoute


def flat_routes(app: Any) -> Iterator[Any]:
    """Every route of the app in matching order (each reads like the route it stands for)."""
    contexts = getattr(routing, "iter_route_contexts", None)
    if contexts is None:  # FastAPI before included routers were kept nested
        yield from app.routes
        return
    yield from contexts(app.routes)


def original(route: Any) -> Any:
    """The route as its router declared it."""
    return getattr(route, "original_route", route)


def api_routes(app: Any) -> Iterator[Any]:
    """The FastAPI routes of the app (the ones OpenAPI documents when included in the schema)."""
    for route in flat_routes(app):
        if isinstance(original(route), APIRoute):
            yield route
