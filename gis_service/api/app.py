"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service import __version__
from gis_service.api import compounds, health
from gis_service.api.metrics import install_metrics
from gis_service.api.problems import install_problem_handlers


def create_app(engine: Engine, read_engine: Engine | None = None) -> FastAPI:
    """Build the app around an engine to an up-to-date database (and an optional replica)."""
    app = FastAPI(
        title="Old-neighbourhood renewal GIS service",
        version=__version__,
        description="Elevator retrofits, community grids, gardens and parking on PostGIS.",
    )
    app.state.engine = engine
    app.state.read_engine = read_engine
    install_problem_handlers(app)
    install_metrics(app)
    app.include_router(health.router)
    app.include_router(compounds.router)
    return app
