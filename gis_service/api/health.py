"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.engine import Engine

from gis_service import __version__
from gis_service.api.deps import get_engine
from gis_service.db import migrate
from gis_service.db.engine import check_database
from gis_service.errors import DatabaseUnavailable

router = APIRouter(tags=["health"])


@router.get("/health")
def health(engine: Engine = Depends(get_engine)) -> dict[str, Any]:
    """The service is up; with the database's PostgreSQL and PostGIS versions."""
    versions = check_database(engine)
    return {"status": "ok", "version": __version__, "database": versions}


@router.get("/live")
def live() -> dict[str, str]:
    """Liveness: the process answers (no database involved)."""
    return {"status": "ok"}


@router.get("/ready")
def ready(engine: Engine = Depends(get_engine)) -> dict[str, Any]:
    """Readiness: the database answers and is migrated to the code's head revision."""
    versions = check_database(engine)
    current = migrate.current_revision(engine)
    if current != migrate.head_revision():
        raise DatabaseUnavailable(
            f"database at revision {current}, code expects {migrate.head_revision()}: "
            "run gis-service db migrate"
        )
    return {"status": "ready", "revision": current, "database": versions}
