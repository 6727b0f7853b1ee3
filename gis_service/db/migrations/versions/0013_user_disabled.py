"""Users can be disabled (sign-in, sessions and tokens refused); an issue's resolution note

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02

app_user.disabled_at: when an administrator disabled the user (NULL: active). Every lookup of a
caller (tokens, sessions, the tiles' caller check, password sign-in) refuses a disabled user, so
disabling takes effect on the very next request. The audit trigger on app_user records
`user_disabled` and `user_enabled` besides role and password changes.

issue.resolution_note: what was done, written by whoever resolves the issue on the supervisor
page (which requires it); its length is bounded by the catalog (layers/issues.yaml).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR = """
    nullif(current_setting('gis.user_id', true), '')::int,
    coalesce(nullif(current_setting('gis.username', true), ''), 'db:' || session_user),
    nullif(current_setting('gis.role', true), ''),
    nullif(current_setting('gis.client_addr', true), '')
"""


def audit_function(with_disabled: bool) -> str:
    """The app_user / user_grid audit trigger function (with or without disable and enable)."""
    disabled = """
                ELSIF NEW.disabled_at IS DISTINCT FROM OLD.disabled_at THEN
                    act := CASE WHEN NEW.disabled_at IS NULL THEN 'user_enabled'
                                ELSE 'user_disabled' END;""" if with_disabled else ""
    return f"""
        CREATE OR REPLACE FUNCTION gis_audit_user_change() RETURNS trigger
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
                    act := 'password_changed';{disabled}
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
    """


def upgrade() -> None:
    op.add_column("app_user", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(audit_function(with_disabled=True))
    op.add_column("issue", sa.Column("resolution_note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("issue", "resolution_note")
    op.execute(audit_function(with_disabled=False))
    op.drop_column("app_user", "disabled_at")
