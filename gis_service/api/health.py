"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.engine import Engine

from gis_service import __version__
from gis_service.api.deps import get_engine
from gis_service.db.engine import check_database

router = APIRouter(tags=["health"])


@router.get("/health")
def health(engine: Engine = Depends(get_engine)) -> dict[str, Any]:
    """The service is up; with the database's PostgreSQL and PostGIS versions."""
    versions = check_database(engine)
    return {"status": "ok", "version": __version__, "database": versions}
