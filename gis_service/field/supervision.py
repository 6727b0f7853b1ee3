"""The supervisor's work on the issue ledger: open issues with their age, the grid workers an
issue may go to, assigning and resolving (with a note) through the layer's edit rules, the
community roll-up, and the progress table as a CSV for spreadsheets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.auth import Principal
from gis_service.catalog import Layer
from gis_service.datasets.formats import to_csv
from gis_service.errors import InvalidInput, NotFound
from gis_service.features import edit
from gis_service.features.access import load
from gis_service.features.errors import PreconditionFailed
from gis_service.features.validate import Written

OPEN_ISSUES_SQL = """
    SELECT i.id, i.grid_id, g.name AS grid_name, i.category, i.status, i.note, i.assignee_id,
           i.reported_at, i.version, i.photo_path IS NOT NULL AS has_photo,
           floor(extract(epoch FROM now() - i.reported_at) / 86400)::int AS age_days
    FROM issue i LEFT JOIN grid g ON g.id = i.grid_id
    WHERE i.status <> 'resolved'
    ORDER BY i.reported_at, i.id
    LIMIT 2000
"""
COMMUNITY_SQL = """
    SELECT c.id AS community_id, c.name, c.name_en,
           count(DISTINCT g.id) AS grids,
           count(s.id) AS stairwells,
           count(s.id) FILTER (WHERE s.survey_status <> 'not_visited') AS surveyed,
           coalesce(sum(s.households), 0) AS households,
           coalesce(sum(s.households) FILTER (WHERE s.survey_status <> 'not_visited'), 0)
               AS households_reached,
           (SELECT count(*) FROM issue i JOIN grid gi ON gi.id = i.grid_id
            WHERE gi.community_id = c.id AND i.status <> 'resolved') AS open_issues
    FROM community c JOIN grid g ON g.community_id = c.id
    LEFT JOIN stairwell s ON s.grid_id = g.id
    WHERE (CAST(:grids AS int[]) IS NULL OR g.id = ANY (CAST(:grids AS int[])))
    GROUP BY c.id, c.name, c.name_en ORDER BY c.id
"""
WORKERS_SQL = """
    SELECT u.id, u.username, u.display_name,
           array_agg(g.grid_id ORDER BY g.grid_id) AS grids
    FROM app_user u JOIN user_grid g ON g.user_id = u.id
    WHERE u.role = 'grid_worker' AND u.disabled_at IS NULL
    GROUP BY u.id ORDER BY u.username
"""
MAX_NOTE = 2000


def open_issues(conn: sa.Connection) -> list[dict[str, Any]]:
    """Issues not yet resolved (as the caller may see them), oldest first, with age in days."""
    rows = conn.execute(sa.text(OPEN_ISSUES_SQL)).mappings()
    return [{**row, "reported_at": row["reported_at"].isoformat()} for row in rows]


def community_rollup(conn: sa.Connection, grids: list[int] | None) -> list[dict[str, Any]]:
    """Per community: grids, stairwells surveyed of total, households reached, open issues."""
    out = []
    for row in conn.execute(sa.text(COMMUNITY_SQL), {"grids": grids}).mappings():
        stairwells, surveyed = int(row["stairwells"]), int(row["surveyed"])
        out.append({**row, "surveyed_share": round(surveyed / stairwells, 4) if stairwells
                    else None})
    return out


def grid_workers(engine: Engine) -> list[dict[str, Any]]:
    """Active grid workers and their grids (names only: read as the service, for staff)."""
    with engine.connect() as conn:
        return [{**row, "grids": list(row["grids"])}
                for row in conn.execute(sa.text(WORKERS_SQL)).mappings()]


def change_issue(conn: sa.Connection, layer: Layer, principal: Principal, issue_id: int,
                 version: int, values: dict[str, Any]) -> dict[str, Any]:
    """Apply changes to an issue under the layer's edit rights, if it is still at `version`."""
    current = load(conn, layer, issue_id, lock=True)
    if current is None:
        raise NotFound(f"no issue {issue_id}")
    if current.values.get("version") != version:
        raise PreconditionFailed(f"issue {issue_id} changed since version {version}: reload")
    after = edit.update(conn, layer, principal, issue_id, current, Written(values, None), False)
    return {"id": issue_id, "status": after.values["status"], "version": after.values["version"]}


def assign(conn: sa.Connection, engine: Engine, layer: Layer, principal: Principal,
           issue_id: int, version: int, assignee: int) -> dict[str, Any]:
    """Give an issue to a grid worker who looks after its grid (status: assigned)."""
    current = load(conn, layer, issue_id)
    if current is None:
        raise NotFound(f"no issue {issue_id}")
    grid = current.values.get("grid_id")
    worker = next((w for w in grid_workers(engine) if w["id"] == assignee), None)
    if worker is None or grid not in worker["grids"]:
        raise InvalidInput(f"user {assignee} is no active grid worker of grid {grid}",
                           [{"field": "assignee_id", "message": "a grid worker of its grid"}])
    return change_issue(conn, layer, principal, issue_id, version,
                        {"status": "assigned", "assignee_id": assignee})


def resolve(conn: sa.Connection, layer: Layer, principal: Principal, issue_id: int,
            version: int, note: str) -> dict[str, Any]:
    """Resolve an issue, saying what was done (a note is required)."""
    note = note.strip()
    if not 1 <= len(note) <= MAX_NOTE:
        raise InvalidInput("say what was done (1 to 2000 characters)",
                           [{"field": "resolution_note", "message": "1 to 2000 characters"}])
    values = {"status": "resolved", "resolved_at": dt.datetime.now(dt.UTC),
              "resolution_note": note}
    return change_issue(conn, layer, principal, issue_id, version, values)


def progress_csv(progress: dict[str, Any], ledger: dict[str, Any],
                 headers: dict[str, str]) -> str:
    """The progress and issue figures per grid as CSV with labelled headers, formulas defused."""
    issues = {g["grid_id"]: g for g in ledger["grids"]}
    rows = []
    for grid in progress["grids"]:
        counts = issues.get(grid["grid_id"], {})
        rows.append({
            headers["grid"]: grid["name"], headers["code"]: grid["code"],
            headers["stairwells"]: grid["stairwells"], headers["surveyed"]: grid["surveyed"],
            headers["share"]: grid["surveyed_share"], headers["households"]: grid["households"],
            headers["reached"]: grid["households_reached"],
            headers["last"]: grid["last_surveyed_on"] or "",
            headers["open"]: counts.get("open", 0), headers["assigned"]: counts.get("assigned", 0),
            headers["resolved"]: counts.get("resolved", 0),
        })
    return to_csv(pd.DataFrame(rows, columns=list(headers.values())))
