"""Request dependencies: the engine and a connection per request."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.engine import Engine


def get_engine(request: Request) -> Engine:
    """The app's engine."""
    engine: Engine = request.app.state.engine
    return engine


def get_connection(request: Request) -> Iterator[sa.Connection]:
    """A connection in a transaction for the request, committed when the handler succeeds."""
    with get_engine(request).begin() as conn:
        yield conn
