"""Sessions apart from API tokens, token expiry and last use, a shared sign-in throttle, audit trail

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-02

Sessions move out of api_token into app_session, so a session secret can never be presented as a
bearer token (the two lookups read different tables). api_token gains an optional expiry and the
time of its last use. login_throttle holds failed sign-ins per user name, per client address and
per pair, shared by every worker process. audit_log is append-only: a trigger refuses UPDATE and
TRUNCATE, and DELETE of anything younger than the legal minimum of 183 days; triggers on app_user
and user_grid record role and grid changes whoever makes them (API, CLI or SQL).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MIN_RETENTION = "183 days"
ACTOR = """
    nullif(current_setting('gis.user_id', true), '')::int,
    coalesce(nullif(current_setting('gis.username', true), ''), 'db:' || session_user),
    nullif(current_setting('gis.role', true), ''),
    nullif(current_setting('gis.client_addr', true), '')
"""


def upgrade() -> None:
    op.create_table(
        "app_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client_addr", sa.String(100), nullable=True),
    )
    op.execute("""
        INSERT INTO app_session (user_id, secret_hash, created_at, last_seen_at, revoked_at)
        SELECT user_id, token_hash, created_at, created_at, revoked_at
        FROM api_token WHERE label = 'session'
    """)
    op.execute("DELETE FROM api_token WHERE label = 'session'")
    op.add_column("api_token", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("api_token", sa.Column("last_used_at", sa.DateTime(timezone=True),
                                         nullable=True))

    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now(), index=True),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now(), index=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False, server_default="ok"),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(100), nullable=True),
        sa.Column("role", sa.String(20), nullable=True),
        sa.Column("client_addr", sa.String(100), nullable=True),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("detail", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.CheckConstraint("action ~ '^[a-z][a-z_]*$'", name="ck_audit_log_action"),
        sa.CheckConstraint("outcome IN ('ok', 'refused', 'failed')", name="ck_audit_log_outcome"),
        sa.CheckConstraint("jsonb_typeof(detail) = 'object'", name="ck_audit_log_detail"),
    )
    op.create_index("ix_audit_log_username_at", "audit_log", ["username", "at"])
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"])
    op.execute(f"""
        CREATE FUNCTION gis_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF OLD.at < now() - interval '{MIN_RETENTION}' THEN
                    RETURN OLD;
                END IF;
            END IF;
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
    """)
    op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
               "FOR EACH ROW EXECUTE FUNCTION gis_audit_append_only()")
    op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION gis_audit_append_only()")
    op.execute(f"""
        CREATE FUNCTION gis_audit_user_change() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
        DECLARE
            act text;
            who text;
            info jsonb := '{{}}';
        BEGIN
            IF TG_TABLE_NAME = 'app_user' THEN
                who := coalesce(NEW.username, OLD.username);
                IF TG_OP = 'INSERT' THEN
                    act := 'user_created'; info := jsonb_build_object('role', NEW.role);
                ELSIF TG_OP = 'DELETE' THEN
                    act := 'user_deleted'; info := jsonb_build_object('role', OLD.role);
                ELSIF NEW.role IS DISTINCT FROM OLD.role THEN
                    act := 'role_changed';
                    info := jsonb_build_object('from', OLD.role, 'to', NEW.role);
                ELSIF NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
                    act := 'password_changed';
                ELSE
                    RETURN NULL;
                END IF;
            ELSE
                SELECT username INTO who FROM app_user
                WHERE id = coalesce(NEW.user_id, OLD.user_id);
                act := CASE TG_OP WHEN 'INSERT' THEN 'grid_assigned' ELSE 'grid_unassigned' END;
                info := jsonb_build_object('grid_id', coalesce(NEW.grid_id, OLD.grid_id),
                                           'user_id', coalesce(NEW.user_id, OLD.user_id));
            END IF;
            INSERT INTO audit_log (action, user_id, username, role, client_addr, target, detail)
            VALUES (act, {ACTOR}, 'user:' || coalesce(who, '?'), info);
            RETURN NULL;
        END $$;
    """)
    op.execute("CREATE TRIGGER app_user_audit AFTER INSERT OR UPDATE OR DELETE ON app_user "
               "FOR EACH ROW EXECUTE FUNCTION gis_audit_user_change()")
    op.execute("CREATE TRIGGER user_grid_audit AFTER INSERT OR DELETE ON user_grid "
               "FOR EACH ROW EXECUTE FUNCTION gis_audit_user_change()")
    op.execute("GRANT SELECT ON audit_log TO gis_admin")


def downgrade() -> None:
    op.execute("DROP TRIGGER user_grid_audit ON user_grid")
    op.execute("DROP TRIGGER app_user_audit ON app_user")
    op.execute("DROP FUNCTION gis_audit_user_change()")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION gis_audit_append_only()")
    op.drop_table("login_throttle")
    op.drop_column("api_token", "last_used_at")
    op.drop_column("api_token", "expires_at")
    op.execute("""
        INSERT INTO api_token (user_id, token_hash, label, created_at, revoked_at)
        SELECT user_id, secret_hash, 'session', created_at, revoked_at FROM app_session
    """)
    op.drop_table("app_session")
