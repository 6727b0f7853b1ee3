"""Retrofit proposals as the consent analysis and the field view read them (caller's role)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gis_service.errors import NotFound

PROPOSAL = (
    "SELECT id, stairwell_id, building_id, kind, title, opened_on, closed_on, status "
    "FROM retrofit_proposal WHERE id = :id"
)


def proposal_of(conn: sa.Connection, proposal_id: int) -> dict[str, Any]:
    """One proposal the caller may see (404 otherwise), dates as ISO text."""
    row = conn.execute(sa.text(PROPOSAL), {"id": proposal_id}).mappings().first()
    if row is None:
        raise NotFound(f"no retrofit proposal {proposal_id}")
    found = dict(row)
    for day in ("opened_on", "closed_on"):
        found[day] = found[day].isoformat() if found[day] else None
    return found


def proposal_scope(proposal: dict[str, Any]) -> tuple[str, int]:
    """The stairwell or building whose owners the proposal asks."""
    if proposal["stairwell_id"] is not None:
        return "stairwell_id", int(proposal["stairwell_id"])
    return "building_id", int(proposal["building_id"])


def asks(proposal: dict[str, Any], stairwell: dict[str, Any]) -> bool:
    """Whether the proposal asks the owners of this stairwell."""
    if proposal["stairwell_id"] is not None:
        return bool(proposal["stairwell_id"] == stairwell["id"])
    return bool(proposal["building_id"] == stairwell["building_id"])
