"""The audit trail: security events appended (who, when, from where, what), read, and purged.

Rows are written in a transaction of their own, so a refused or failed action is recorded even
when its own work rolls back. Role and grid changes are recorded by database triggers (0007),
whoever makes them. Nothing here ever stores a password, a token or a session secret.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from gis_service.auth import Principal
    from gis_service.ingest.report import ImportReport

OUTCOMES = ("ok", "refused", "failed")
ACTIONS = {
    "sign_in": "a password sign-in (refused: wrong name or password, or throttled)",
    "sign_out": "a session closed by its user",
    "token_used": "an API token used (recorded at most once a minute per token)",
    "token_created": "an API token issued",
    "token_revoked": "an API token revoked",
    "export": "a layer exported (format, filter, feature count)",
    "import": "a file imported into a layer (dry run or not, rows written or rejected)",
    "user_created": "a user added",
    "user_deleted": "a user removed",
    "role_changed": "a user's role changed",
    "password_changed": "a user's password changed",
    "grid_assigned": "a grid assigned to a user",
    "grid_unassigned": "a grid taken from a user",
    "audit_read": "the audit trail read through the API",
    "audit_purged": "entries older than the retention removed",
}
INSERT_SQL = """
    INSERT INTO audit_log (action, outcome, user_id, username, role, client_addr, target, detail)
    VALUES (:action, :outcome, :user_id, :username, :role, :addr, :target, CAST(:detail AS jsonb))
"""
COLUMNS = "id, at, action, outcome, user_id, username, role, client_addr, target, detail"


@dataclass(frozen=True)
class Event:
    """One thing to record: what happened, to what, with what outcome."""

    action: str
    outcome: str = "ok"
    target: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def record(engine: Engine, principal: Principal, event: Event, username: str | None = None) -> None:
    """Append one event in its own transaction (`username`: the name a failed sign-in gave)."""
    with engine.begin() as conn:
        append(conn, principal, event, username)


def append(
    conn: sa.Connection, principal: Principal, event: Event, username: str | None = None
) -> None:
    """Append one event inside the caller's transaction."""
    if event.action not in ACTIONS or event.outcome not in OUTCOMES:
        raise ValueError(f"unknown audit action or outcome: {event.action}/{event.outcome}")
    conn.execute(
        sa.text(INSERT_SQL),
        {
            "action": event.action,
            "outcome": event.outcome,
            "user_id": principal.user_id,
            "username": (username if username is not None else principal.username)[:100],
            "role": None if principal.is_anonymous else principal.role,
            "addr": (principal.address or "")[:100] or None,
            "target": (event.target or "")[:200] or None,
            "detail": orjson.dumps(event.detail).decode(),
        },
    )


def import_event(report: ImportReport, outcome: str = "ok") -> Event:
    """The entry of an import: file, format, dry run, rows read, written and rejected."""
    detail = {"file": report.source, "format": report.format, "dry_run": report.dry_run,
              "rows_read": report.rows_read, "rows_written": report.rows_written,
              "rows_rejected": report.rows_rejected}
    return Event("import", outcome, target=report.layer, detail=detail)


@dataclass(frozen=True)
class Query:
    """Filters of an audit query (all optional), newest first, paged by id."""

    action: str | None = None
    username: str | None = None
    target: str | None = None
    outcome: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    before_id: int | None = None
    limit: int = 100


def events(conn: sa.Connection, query: Query) -> list[dict[str, Any]]:
    """The entries matching a query, newest first, as JSON-ready dicts."""
    rows = conn.execute(
        sa.text(f"""
            SELECT {COLUMNS} FROM audit_log
            WHERE (CAST(:action AS text) IS NULL OR action = :action)
              AND (CAST(:username AS text) IS NULL OR username = :username)
              AND (CAST(:target AS text) IS NULL OR target = :target)
              AND (CAST(:outcome AS text) IS NULL OR outcome = :outcome)
              AND (CAST(:since AS timestamptz) IS NULL OR at >= :since)
              AND (CAST(:until AS timestamptz) IS NULL OR at < :until)
              AND (CAST(:before AS bigint) IS NULL OR id < :before)
            ORDER BY id DESC LIMIT :limit
        """),
        {"action": query.action, "username": query.username, "target": query.target,
         "outcome": query.outcome, "since": query.since, "until": query.until,
         "before": query.before_id, "limit": query.limit},
    ).mappings()
    return [{**row, "at": row["at"].isoformat()} for row in rows]


def purge(engine: Engine, retention_days: int, principal: Principal) -> int:
    """Delete entries older than the retention (the database refuses < 183 days); how many."""
    with engine.begin() as conn:
        removed = conn.execute(
            sa.text("DELETE FROM audit_log WHERE at < now() - make_interval(days => :days)"),
            {"days": retention_days},
        ).rowcount
        if removed:
            event = Event("audit_purged", detail={"removed": removed, "days": retention_days})
            append(conn, principal, event)
    return int(removed)
