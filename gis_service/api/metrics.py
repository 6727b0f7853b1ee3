"""Prometheus metrics: requests, latency by route, tile cache hits; served at /metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
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

router = APIRouter(tags=["health"])
MULTIPROCESS: list[Path] = []
"""The shared directory of `serve --workers N` (N > 1): /metrics sums every worker's files."""


def multiprocess_dir(data_dir: Path) -> Path:
    """Where `serve --workers N` processes keep their metric files (PROMETHEUS_MULTIPROC_DIR)."""
    return data_dir.resolve() / "prometheus-multiproc"


def enable_multiprocess(path: Path) -> None:
    """Serve the sum over all worker processes' metric files at /metrics."""
    MULTIPROCESS[:] = [path]


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """The Prometheus text exposition of this process's metrics (all workers' when several)."""
    if not MULTIPROCESS:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(MULTIPROCESS[0]))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def route_template(request: Request) -> str:
    """The matched route's path template (bounded label values), or 'unmatched'."""
    route = request.scope.get("route")
    return getattr(route, "path", "unmatched")


def install_metrics(app: FastAPI) -> None:
    """Count and time every request by method, route template and status."""

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = route_template(request)
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        return response

    app.include_router(router)
