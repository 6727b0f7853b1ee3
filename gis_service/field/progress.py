"""Figures for supervisors: survey progress per grid (now and over time) and the issue ledger."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

SNAPSHOT_SQL = """
    SELECT g.id AS grid_id, g.code, g.name,
           count(s.id) AS stairwells,
           count(s.id) FILTER (WHERE s.survey_status <> 'not_visited') AS surveyed,
           count(s.id) FILTER (WHERE s.survey_status = 'follow_up') AS follow_up,
           coalesce(sum(s.households), 0) AS households,
           coalesce(sum(s.households) FILTER (WHERE s.survey_status <> 'not_visited'), 0)
               AS households_reached,
           max(s.last_surveyed_on) AS last_surveyed_on
    FROM grid g LEFT JOIN stairwell s ON s.grid_id = g.id
    WHERE (CAST(:grids AS int[]) IS NULL OR g.id = ANY (CAST(:grids AS int[])))
    GROUP BY g.id, g.code, g.name ORDER BY g.id
"""
SERIES_SQL = """
    SELECT grid_id, first_on AS day, count(*) AS stairwells, sum(households) AS households
    FROM (SELECT s.grid_id, s.id, s.households, min(v.surveyed_on) AS first_on
          FROM survey v JOIN stairwell s ON s.id = v.stairwell_id
          WHERE s.grid_id IS NOT NULL GROUP BY s.grid_id, s.id, s.households) first_visits
    GROUP BY grid_id, first_on ORDER BY grid_id, first_on
"""
LEDGER_SQL = """
    SELECT g.id AS grid_id, g.code, g.name,
           count(i.id) FILTER (WHERE i.status = 'open') AS open,
           count(i.id) FILTER (WHERE i.status = 'assigned') AS assigned,
           count(i.id) FILTER (WHERE i.status = 'resolved') AS resolved,
           count(i.id) AS total
    FROM grid g LEFT JOIN issue i ON i.grid_id = g.id
    WHERE (CAST(:grids AS int[]) IS NULL OR g.id = ANY (CAST(:grids AS int[])))
    GROUP BY g.id, g.code, g.name ORDER BY g.id
"""


def share(part: int, whole: int) -> float | None:
    """part / whole rounded to 4 places (None when whole is 0)."""
    return round(part / whole, 4) if whole else None


def survey_progress(conn: sa.Connection, grids: list[int] | None) -> dict[str, Any]:
    """Per grid: stairwells surveyed of total, households reached, and the cumulative series."""
    rows = conn.execute(sa.text(SNAPSHOT_SQL), {"grids": grids}).mappings().all()
    series: dict[int, list[dict[str, Any]]] = {}
    totals: dict[int, tuple[int, int]] = {}
    for row in conn.execute(sa.text(SERIES_SQL)).mappings():
        grid = int(row["grid_id"])
        done, reached = totals.get(grid, (0, 0))
        done, reached = done + int(row["stairwells"]), reached + int(row["households"] or 0)
        totals[grid] = (done, reached)
        series.setdefault(grid, []).append(
            {"date": row["day"].isoformat(), "stairwells_surveyed": done,
             "households_reached": reached}
        )
    out = []
    for row in rows:
        grid = int(row["grid_id"])
        out.append({
            "grid_id": grid, "code": row["code"], "name": row["name"],
            "stairwells": int(row["stairwells"]), "surveyed": int(row["surveyed"]),
            "follow_up": int(row["follow_up"]), "households": int(row["households"]),
            "households_reached": int(row["households_reached"]),
            "surveyed_share": share(int(row["surveyed"]), int(row["stairwells"])),
            "last_surveyed_on": row["last_surveyed_on"].isoformat()
            if row["last_surveyed_on"] else None,
            "series": series.get(grid, []),
        })
    total = {key: sum(g[key] for g in out) for key in
             ("stairwells", "surveyed", "follow_up", "households", "households_reached")}
    total["surveyed_share"] = share(total["surveyed"], total["stairwells"])
    return {"grids": out, "total": total}


def issue_ledger(conn: sa.Connection, grids: list[int] | None) -> dict[str, Any]:
    """Per grid: open, assigned and resolved issues and the resolution rate (resolved / total)."""
    rows = conn.execute(sa.text(LEDGER_SQL), {"grids": grids}).mappings().all()
    out = [
        {**{k: row[k] for k in ("grid_id", "code", "name")},
         **{k: int(row[k]) for k in ("open", "assigned", "resolved", "total")},
         "resolution_rate": share(int(row["resolved"]), int(row["total"]))}
        for row in rows
    ]
    total = {k: sum(g[k] for g in out) for k in ("open", "assigned", "resolved", "total")}
    return {"grids": out, "total": {**total, "resolution_rate": share(total["resolved"],
                                                                    total["total"])}}
