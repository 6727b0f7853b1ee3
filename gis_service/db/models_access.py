"""Tables of access control: browser sessions, the shared sign-in throttle, the audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.db.models import Base


class AppSession(Base):
    """A signed-in browser session (cookie), kept apart from API tokens."""

    __tablename__ = "app_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    last_seen_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    client_addr: Mapped[str | None] = mapped_column(sa.String(100))


class LoginThrottle(Base):
    """Failed sign-ins under one key (user name, client address or both), shared by workers."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(sa.String(250), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    last_failure_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), index=True
    )
    blocked_until: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class AuditLog(Base):
    """Append-only trail of security events: who, when, from where, what, with what outcome."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.CheckConstraint("action ~ '^[a-z][a-z_]*$'", name="ck_audit_log_action"),
        sa.CheckConstraint("outcome IN ('ok', 'refused', 'failed')", name="ck_audit_log_outcome"),
        sa.CheckConstraint("jsonb_typeof(detail) = 'object'", name="ck_audit_log_detail"),
        sa.Index("ix_audit_log_username_at", "username", "at"),
        sa.Index("ix_audit_log_action_at", "action", "at"),
    )
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(40))
    outcome: Mapped[str] = mapped_column(sa.String(10), server_default="ok")
    user_id: Mapped[int | None] = mapped_column(sa.Integer)
    username: Mapped[str | None] = mapped_column(sa.String(100))
    role: Mapped[str | None] = mapped_column(sa.String(20))
    client_addr: Mapped[str | None] = mapped_column(sa.String(100))
    target: Mapped[str | None] = mapped_column(sa.String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
