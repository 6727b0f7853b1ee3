"""Prometheus metrics: requests, latency by route, tile cache hits, answers refreshed ahead of
requests; served at /metrics."""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import Message, Receive, Scope, Send

from gis_service.api.deps import client_address, get_app_settings, get_principal
from gis_service.api.http_middleware import HttpMiddleware
from gis_service.errors import Forbidden, Unauthorized

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "gis_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "gis_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10),
)
TILE_CACHE = Counter("gis_tile_cache_total", "Tile cache lookups", ["result"], registry=REGISTRY)
REFRESHED_AHEAD = Counter(
    "gis_answers_refreshed_ahead_total",
    "Kept analysis answers refreshed as an edit committed, before anyone asked again",
    registry=REGISTRY,
)

router = APIRouter(tags=["health"])
MULTIPROCESS: list[Path] = []
"""The shared directory of `serve --workers N` (N > 1): /metrics sums every worker's files."""


def multiprocess_dir(data_dir: Path) -> Path:
    """Where `serve --workers N` processes keep their metric files (PROMETHEUS_MULTIPROC_DIR)."""
    return data_dir.resolve() / "prometheus-multiproc"


def enable_multiprocess(path: Path) -> None:
    """Serve the sum over all worker processes' metric files at /metrics."""
    MULTIPROCESS[:] = [path]


def may_read_metrics(request: Request) -> None:
    """settings.metrics_access: local (loopback or admin, the default), admin, or public."""
    access = get_app_settings(request).metrics_access
    if access == "public" or (access == "local" and is_loopback(client_address(request))):
        return
    principal = get_principal(request)
    if principal.is_anonymous:
        raise Unauthorized("/metrics is for the local host or an admin: send an admin token")
    if principal.role != "admin":
        raise Forbidden("/metrics is for admins")


def is_loopback(address: str | None) -> bool:
    """Whether an address is the machine itself (127.0.0.0/8, ::1)."""
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """The Prometheus text exposition of this process's metrics (all workers' when several)."""
    may_read_metrics(request)
    if not MULTIPROCESS:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(MULTIPROCESS[0]))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def route_template(request: Request) -> str:
    """The matched route's path template (bounded label values), or 'unmatched'."""
    return scope_route(request.scope)


def scope_route(scope: Scope) -> str:
    """The path template of the route that handled an ASGI scope, or 'unmatched'."""
    return getattr(scope.get("route"), "path", "unmatched")


class MeasureRequests(HttpMiddleware):
    """Plain ASGI middleware counting and timing requests (no per-request task or body copy)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request; label it by method, route template and status."""
        started = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route, method = scope_route(scope), scope["method"]
            LATENCY.labels(method, route).observe(time.perf_counter() - started)
            REQUESTS.labels(method, route, str(status[0])).inc()


def install_metrics(app: FastAPI) -> None:
    """Count and time every request by method, route template and status."""
    app.add_middleware(MeasureRequests)
    app.include_router(router)
