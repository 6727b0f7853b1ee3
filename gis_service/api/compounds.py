"""Compound summaries: stairwells and their retrofit status per compound."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query

from gis_service.api.deps import get_connection
from gis_service.api.openapi import errors
from gis_service.datasets.compounds import compound_summaries, compound_summary
from gis_service.errors import NotFound

router = APIRouter(prefix="/compounds", tags=["compounds"])


@router.get("")
def list_compounds(
    name: str | None = Query(default=None, description="Part of the compound's name (zh or en)"),
    limit: int = Query(default=100, ge=1, le=1000),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> list[dict[str, Any]]:
    """Compounds with their stairwell counts, optionally by part of the name."""
    return compound_summaries(conn, name, limit)


@router.get("/{compound_id}", responses=errors(404))
def get_compound(
    compound_id: int, conn: sa.Connection = Depends(get_connection, scope="function")
) -> dict[str, Any]:
    """One compound's stairwell counts by elevator status."""
    found = compound_summary(conn, compound_id)
    if found is None:
        raise NotFound(f"compound {compound_id} does not exist")
    return found
