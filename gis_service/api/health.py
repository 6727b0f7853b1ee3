"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.engine import Engine

from gis_service import __version__
from gis_service.api.deps import get_app_settings, get_engine
from gis_service.db import migrate
from gis_service.db.engine import check_database
from gis_service.errors import (
    DatabaseNotReady,
    DatabaseUnavailable,
    InstallationIncomplete,
    PostgisMissing,
)
from gis_service.readiness import database_problems
from gis_service.settings import Settings
from gis_service.shipped import incomplete_installation

router = APIRouter(tags=["health"])


def database_versions(engine: Engine) -> dict[str, str]:
    """The server's versions; a failure is answered without host or user (the log has them)."""
    try:
        return check_database(engine)
    except PostgisMissing as exc:
        raise PostgisMissing("the database has no PostGIS extension") from exc
    except DatabaseUnavailable as exc:
        raise DatabaseUnavailable("the database is not reachable; try again shortly") from exc


@router.get("/health")
def health(engine: Engine = Depends(get_engine)) -> dict[str, Any]:
    """The service is up; with the database's PostgreSQL and PostGIS versions."""
    versions = database_versions(engine)
    return {"status": "ok", "version": __version__, "database": versions}


@router.get("/live")
def live() -> dict[str, str]:
    """Liveness: the process answers (no database involved)."""
    return {"status": "ok"}


@router.get("/ready")
def ready(
    engine: Engine = Depends(get_engine), settings: Settings = Depends(get_app_settings)
) -> dict[str, Any]:
    """Readiness: the files are installed, the database answers, is migrated and has its roles."""
    problem = incomplete_installation(settings.layers_dir)
    if problem:
        raise InstallationIncomplete(problem)
    versions = database_versions(engine)
    problems = database_problems(engine)
    if problems:
        raise DatabaseNotReady("; ".join(problems))
    return {"status": "ready", "revision": migrate.current_revision(engine), "database": versions}
