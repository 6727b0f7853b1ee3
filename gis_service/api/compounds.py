"""Compound summaries: stairwells and their retrofit status per compound."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query

from gis_service.api.deps import get_connection
from gis_service.api.openapi import errors
from gis_service.errors import NotFound

router = APIRouter(prefix="/compounds", tags=["compounds"])


def summaries(conn: sa.Connection, where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-compound stairwell counts, with counts by elevator status."""
    rows = conn.execute(
        sa.text(f"""
        WITH base AS (
            SELECT c.id, c.name, c.name_en, c.year_built FROM compound c WHERE {where}
        ), counts AS (
            SELECT s.compound_id, s.elevator_status, count(*) AS n, sum(s.households) AS hh
            FROM stairwell s JOIN base b ON b.id = s.compound_id
            GROUP BY s.compound_id, s.elevator_status
        )
        SELECT b.id, b.name, b.name_en, b.year_built,
               coalesce(sum(c.n), 0)::int AS stairwells,
               coalesce(sum(c.n) FILTER (WHERE c.elevator_status = 'in_service'), 0)::int
                   AS in_service,
               coalesce(sum(c.hh), 0)::int AS households,
               coalesce(jsonb_object_agg(c.elevator_status, c.n)
                        FILTER (WHERE c.elevator_status IS NOT NULL), '{{}}') AS by_status
        FROM base b LEFT JOIN counts c ON c.compound_id = b.id
        GROUP BY b.id, b.name, b.name_en, b.year_built ORDER BY b.id
    """),
        params,
    ).mappings()
    return [dict(row) for row in rows]


@router.get("")
def list_compounds(
    name: str | None = Query(default=None, description="Part of the compound's name (zh or en)"),
    limit: int = Query(default=100, ge=1, le=1000),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> list[dict[str, Any]]:
    """Compounds with their stairwell counts, optionally by part of the name."""
    if name:
        return summaries(
            conn,
            "c.name ILIKE :pattern OR c.name_en ILIKE :pattern ORDER BY c.id LIMIT :limit",
            {"pattern": f"%{name}%", "limit": limit},
        )
    return summaries(conn, "true ORDER BY c.id LIMIT :limit", {"limit": limit})


@router.get("/{compound_id}", responses=errors(404))
def get_compound(
    compound_id: int, conn: sa.Connection = Depends(get_connection, scope="function")
) -> dict[str, Any]:
    """One compound's stairwell counts by elevator status."""
    found = summaries(conn, "c.id = :id", {"id": compound_id})
    if not found:
        raise NotFound(f"compound {compound_id} does not exist")
    return found[0]
