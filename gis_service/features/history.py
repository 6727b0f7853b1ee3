"""What happened to a feature: its edit log, and a stairwell's elevator status changes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gis_service.catalog import Layer


def edit_history(conn: sa.Connection, layer: Layer, fid: object) -> list[dict[str, Any]]:
    """Every logged edit of a feature, oldest first (as the caller's role may read them)."""
    rows = conn.execute(
        sa.text(
            "SELECT id, at, user_id, username, action, before, after FROM edit_log "
            "WHERE table_name = :table AND feature_id = :fid ORDER BY id"
        ),
        {"table": layer.table, "fid": str(fid)},
    ).mappings()
    return [{**dict(row), "at": row["at"].isoformat()} for row in rows]


def status_history(conn: sa.Connection, fid: object) -> list[dict[str, object]]:
    """Every elevator status change of a stairwell, oldest first, with the consent rule and
    verdict a move was judged by (kept by a trigger)."""
    found = conn.execute(
        sa.text(
            "SELECT from_status, to_status, changed_on, changed_at, changed_by, consent_rule, "
            "consent_verdict "
            "FROM stairwell_status_history WHERE stairwell_id = :fid ORDER BY changed_on, id"
        ),
        {"fid": fid},
    ).mappings()
    return [
        {
            **dict(row),
            "changed_on": row["changed_on"] and row["changed_on"].isoformat(),
            "changed_at": row["changed_at"].isoformat(),
        }
        for row in found
    ]
