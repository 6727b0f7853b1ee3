"""Who changed a stairwell since the version a worker's edit was based on, and when.

A grid worker's database role reads only its own edit-log entries (row security); the conflict
dialog needs to name the others, so the entries are read with the service's own rights, for a
stairwell the caller has already been shown to see, and only who and when leave this module.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

MAX_CHANGES = 5  # the dialog names the latest few; the full history is /collections/.../history


def changes_since(engine: Engine, stairwell_id: int, version: int) -> list[dict[str, Any]]:
    """The edits that made a stairwell newer than `version`, newest first: {at, by}."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT e.at, coalesce(nullif(u.display_name, ''), e.username) AS by "
                "FROM edit_log e LEFT JOIN app_user u ON u.id = e.user_id "
                "WHERE e.table_name = 'stairwell' AND e.feature_id = :fid "
                "AND coalesce((e.after -> 'properties' ->> 'version')::int, 0) > :since "
                "ORDER BY e.id DESC LIMIT :limit"
            ),
            {"fid": str(stairwell_id), "since": version, "limit": MAX_CHANGES},
        ).mappings()
        return [{"at": row["at"].isoformat(), "by": row["by"]} for row in found]
