"""A passed vote gates the pipeline steps after consent; the checklist's missing facility kinds

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02

- elevator_status.needs_consent: the steps a stairwell may only move to while the owners' vote
  passes under the consent rule in force (applied and every step after it, infeasible aside).
- stairwell_status_history.consent_rule / consent_verdict: the rule and verdict a move was
  judged by, taken from the transaction's settings (`gis.consent_rule`, `gis.consent_verdict`)
  by the history trigger; empty for a change made without a judgement (an edit, an import).
- facility_kind: childcare, parcel point, activity ground and supermarket (the complete-community
  checklist's kinds no lookup row had).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GATED = ("applied", "approved", "under_construction", "in_service")
NEW_KINDS = [
    ("childcare", "托育点(托儿所)", "Childcare (under 3)"),
    ("parcel_point", "快递驿站", "Parcel point"),
    ("activity_ground", "公共活动场地", "Activity ground"),
    ("supermarket", "综合超市", "Supermarket"),
]
HISTORY_WITH_VERDICT = """
    CREATE OR REPLACE FUNCTION gis_stairwell_status_history() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    BEGIN
        INSERT INTO stairwell_status_history
            (stairwell_id, from_status, to_status, changed_on, changed_by,
             consent_rule, consent_verdict)
        VALUES (NEW.id, OLD.elevator_status, NEW.elevator_status, NEW.status_changed_on,
                nullif(current_setting('gis.username', true), ''),
                nullif(current_setting('gis.consent_rule', true), ''),
                nullif(current_setting('gis.consent_verdict', true), ''));
        RETURN NULL;
    END $$;
"""
HISTORY_PLAIN = """
    CREATE OR REPLACE FUNCTION gis_stairwell_status_history() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    BEGIN
        INSERT INTO stairwell_status_history
            (stairwell_id, from_status, to_status, changed_on, changed_by)
        VALUES (NEW.id, OLD.elevator_status, NEW.elevator_status, NEW.status_changed_on,
                nullif(current_setting('gis.username', true), ''));
        RETURN NULL;
    END $$;
"""


def upgrade() -> None:
    op.add_column(
        "elevator_status",
        sa.Column("needs_consent", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.execute(
        sa.text(
            "UPDATE elevator_status SET needs_consent = true WHERE code = ANY(:codes)"
        ).bindparams(codes=list(GATED))
    )
    op.add_column("stairwell_status_history", sa.Column("consent_rule", sa.String(60)))
    op.add_column("stairwell_status_history", sa.Column("consent_verdict", sa.String(40)))
    op.execute(HISTORY_WITH_VERDICT)
    kinds = sa.table("facility_kind", *(sa.column(c) for c in ("code", "label_zh", "label_en")))
    values = [dict(zip(("code", "label_zh", "label_en"), row, strict=True)) for row in NEW_KINDS]
    op.execute(postgresql.insert(kinds).values(values).on_conflict_do_nothing())


def downgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM facility_kind WHERE code = ANY(:codes) "
            "AND NOT EXISTS (SELECT 1 FROM facility f WHERE f.kind = facility_kind.code)"
        ).bindparams(codes=[k[0] for k in NEW_KINDS])
    )
    op.execute(HISTORY_PLAIN)
    op.drop_column("stairwell_status_history", "consent_verdict")
    op.drop_column("stairwell_status_history", "consent_rule")
    op.drop_column("elevator_status", "needs_consent")
