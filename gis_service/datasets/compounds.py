"""Compound summaries: stairwells and their retrofit status per compound (in the caller's role)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


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


def compound_summaries(conn: sa.Connection, name: str | None, limit: int) -> list[dict[str, Any]]:
    """Compounds by id with their stairwell counts, optionally by part of the name (zh or en)."""
    if name:
        return summaries(
            conn,
            "c.name ILIKE :pattern OR c.name_en ILIKE :pattern ORDER BY c.id LIMIT :limit",
            {"pattern": f"%{name}%", "limit": limit},
        )
    return summaries(conn, "true ORDER BY c.id LIMIT :limit", {"limit": limit})


OPEN_BATCH = ("planned", "applied", "approved", "under_construction")
"""Batch stages whose stairwells are still to get their elevator (completed and cancelled: no)."""


def batches(conn: sa.Connection, compound_id: int) -> list[dict[str, Any]]:
    """A compound's retrofit batches: name, stage, size in stairwells, of them in service."""
    rows = conn.execute(
        sa.text("""
        SELECT b.id, b.name, b.status, b.applied_on, b.approved_on,
               count(s.id)::int AS stairwells,
               (count(s.id) FILTER (WHERE s.elevator_status = 'in_service'))::int AS in_service,
               (count(s.id) FILTER (WHERE s.elevator_status = 'infeasible'))::int AS infeasible
        FROM retrofit_batch b LEFT JOIN stairwell s ON s.batch_id = b.id
        WHERE b.compound_id = :id GROUP BY b.id ORDER BY b.id
    """),
        {"id": compound_id},
    ).mappings()
    return [dict(row) for row in rows]


def compound_summary(conn: sa.Connection, compound_id: int) -> dict[str, Any] | None:
    """One compound's stairwell counts by elevator status, its batches and what they bring
    (stairwells in service once every open batch is built); None when it does not exist."""
    found = summaries(conn, "c.id = :id", {"id": compound_id})
    if not found:
        return None
    summary = found[0]
    summary["batches"] = batches(conn, compound_id)
    summary["projected_in_service"] = summary["in_service"] + sum(
        b["stairwells"] - b["in_service"] - b["infeasible"]
        for b in summary["batches"] if b["status"] in OPEN_BATCH
    )
    return summary
