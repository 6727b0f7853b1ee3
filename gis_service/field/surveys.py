"""The field view's records: the grid a page opens on, and the surveys workers write."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

SURVEY_FIELDS = ("surveyed_on", "households", "elderly_households", "consent_agree",
                 "consent_object", "notes")  # fmt: skip


def grid_outline(conn: sa.Connection, grid: int | None) -> dict[str, Any] | None:
    """A grid's id, code, name and bounds ([[s, w], [n, e]]); the first grid when none is named."""
    row = conn.execute(
        sa.text(
            "SELECT id, code, name, ST_XMin(geom) AS w, ST_YMin(geom) AS s, ST_XMax(geom) AS e, "
            "ST_YMax(geom) AS n FROM grid "
            "WHERE id = coalesce(CAST(:grid AS int), (SELECT min(id) FROM grid))"
        ),
        {"grid": grid},
    ).first()
    if row is None:
        return None
    return {"id": row.id, "code": row.code, "name": row.name,
            "bounds": [[row.s, row.w], [row.n, row.e]]}  # fmt: skip


def add_survey(conn: sa.Connection, stairwell_id: int, surveyor_id: int | None,
               values: dict[str, Any]) -> int:  # fmt: skip
    """Append one visit to a stairwell (checked values); the new survey's id."""
    row = conn.execute(
        sa.text(
            "INSERT INTO survey (stairwell_id, surveyor_id, surveyed_on, households, "
            "elderly_households, consent_agree, consent_object, notes) VALUES (:sid, :uid, "
            ":surveyed_on, :households, :elderly_households, :consent_agree, :consent_object, "
            ":notes) RETURNING id"
        ),
        {"sid": stairwell_id, "uid": surveyor_id, **{k: values.get(k) for k in SURVEY_FIELDS}},
    ).one()
    return int(row.id)
