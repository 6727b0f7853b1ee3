"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service import __version__
from gis_service.api import (
    accounts,
    analysis,
    audit,
    compounds,
    features,
    field_households,
    health,
    ogc,
    pipeline,
    reports,
    scenarios,
    search,
    supervision,
    tiles,
    transfer,
)
from gis_service.api import field as field_api
from gis_service.api.analysis_answers import refresh_kept
from gis_service.api.compress import ItemsGZip
from gis_service.api.guard import RequestGuard
from gis_service.api.in_flight import CountRequests, InFlight
from gis_service.api.metrics import install_metrics
from gis_service.api.openapi import body_limit, declare_answer, install_openapi
from gis_service.api.pages import router as pages_router
from gis_service.api.problems import install_problem_handlers
from gis_service.api.request_log import RequestLog
from gis_service.api.tile_shortcut import TilesBeforeRouting
from gis_service.catalog import Catalog, default_catalog
from gis_service.datasets.edit_listener import EditListener
from gis_service.gc_policy import hold_big_data
from gis_service.maps_catalog import default_maps, load_maps
from gis_service.settings import Settings, get_settings
from gis_service.tiles import aio

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At start-up, every route made ready to match (pools open on first use), the garbage
    collector set for a city held in memory and the edit listener made (it starts when an
    answer is first kept); at shutdown, the listener and the async tile pools' connections
    closed."""
    await match_nothing(app)
    hold_big_data()
    listener = edit_listener(app)
    yield
    if listener is not None:
        await asyncio.to_thread(listener.stop)
    closed = aio.close_pools(app.state)
    log.debug("closed %d tile connection pools", closed)


async def match_nothing(app: FastAPI) -> None:
    """Send the router one request that no route matches (straight to the router: no
    middleware sees it), so it prepares every route now: FastAPI prepares an included
    router's routes on the first request that reaches them (60 ms on the first analysis
    call)."""
    scope: dict[str, object] = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/.match-nothing",
             "raw_path": b"/.match-nothing", "root_path": "", "query_string": b"",
             "headers": [], "client": None, "server": None}  # fmt: skip

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: object) -> None:
        """The 404 goes nowhere."""

    await app.router(scope, receive, send)


def edit_listener(app: FastAPI) -> EditListener | None:
    """A listener (not yet started) refreshing the app's kept answers after each committed
    edit, unless settings.refresh_ahead is off (the lifespan stops it)."""
    if not app.state.settings.refresh_ahead:
        return None
    app.state.edit_listener = EditListener(app.state.engine, partial(refresh_kept, app.state))
    return app.state.edit_listener


def create_app(
    engine: Engine,
    read_engine: Engine | None = None,
    catalog: Catalog | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """Build the app around an engine to an up-to-date database (and an optional replica).

    Its routes, documents and checks follow `catalog` and `settings` (default: the process's),
    which its handlers read through api/deps.py (get_catalog, get_maps, get_app_settings).
    """
    catalog = catalog or default_catalog()
    app = FastAPI(
        title="Old-neighbourhood renewal GIS service",
        version=__version__,
        description="Elevator retrofits, community grids, gardens and parking on PostGIS.",
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.read_engine = read_engine
    app.state.catalog = catalog
    app.state.settings = settings or get_settings()
    app.state.maps = default_maps() if catalog is default_catalog() else load_maps(catalog=catalog)
    install_problem_handlers(app)
    app.add_middleware(TilesBeforeRouting)  # innermost: logged, measured and guarded as routes
    app.add_middleware(ItemsGZip)
    app.add_middleware(RequestGuard)  # inside the metrics: refusals are counted too
    install_metrics(app)
    app.add_middleware(RequestLog)  # sees every answer and escaped error
    app.state.in_flight = InFlight()
    app.add_middleware(CountRequests)  # outermost: background work waits while any is served
    app.include_router(health.router)
    app.include_router(compounds.router)
    app.include_router(search.router)
    app.include_router(pipeline.router)
    app.include_router(field_api.router_for(catalog))  # before the pages: /maps/field...
    app.include_router(field_households.router)
    app.include_router(pages_router)
    app.include_router(analysis.router_for(catalog))
    app.include_router(scenarios.router)
    app.include_router(tiles.router)
    app.include_router(ogc.router_for(catalog))
    app.include_router(features.router_for(catalog, app.state.settings))
    app.include_router(transfer.router)
    app.include_router(reports.router)
    app.include_router(audit.router)
    app.include_router(accounts.router)
    app.include_router(supervision.router)
    declare_answer(app, 413, body_limit("max_body_bytes"), with_body_only=True)  # the guard's
    install_openapi(app)
    return app


def app_from_settings() -> FastAPI:
    """The app of one `serve --workers N` process: its own engines from the settings.

    The parent process has started the database, migrated it and loaded the demo already.
    """
    from gis_service.api.metrics import enable_multiprocess, multiprocess_dir
    from gis_service.db.engine import create_db_engine, normalise_url, resolve_database_url
    from gis_service.logs import configure as configure_logging

    settings = get_settings()
    configure_logging(settings.log_level or "INFO", settings.log_format)
    engine = create_db_engine(resolve_database_url(settings, start=False), settings)
    replica = None
    if settings.database_read_url:
        replica = create_db_engine(normalise_url(settings.database_read_url), settings)
    if multiprocess_dir(settings.data_dir).is_dir():
        enable_multiprocess(multiprocess_dir(settings.data_dir))
    return create_app(engine, replica, settings=settings)
