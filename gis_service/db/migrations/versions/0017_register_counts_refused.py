"""A stairwell edit that contradicts its household register is refused, not silently undone

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

Since 0010 a stairwell with registered households takes its households, elderly households and
consent counts from the register: an update that set other figures was answered as a success
while the trigger put the register's figures back, so the writer lost the edit without a word.
Now an update that changes one of those figures to a value the register does not give is
refused (check_violation on that column, with the register's count in the message); the
register's own recounts, and edits that leave the figures as they are, go through as before.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DERIVED = """
CREATE OR REPLACE FUNCTION gis_stairwell_derived() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
DECLARE
    c record;
    refused text;
BEGIN
    IF EXISTS (SELECT 1 FROM household WHERE stairwell_id = NEW.id) THEN
        c := gis_household_counts(NEW.id);
        {refusal}
        NEW.households := c.households;
        NEW.elderly_households := c.elderly_households;
        NEW.consent_agree := c.consent_agree;
        NEW.consent_object := c.consent_object;
    END IF;
    RETURN NEW;
END $$;
"""
REFUSAL = """
        refused := CASE
            WHEN NEW.households IS DISTINCT FROM OLD.households
                 AND NEW.households IS DISTINCT FROM c.households THEN 'households'
            WHEN NEW.elderly_households IS DISTINCT FROM OLD.elderly_households
                 AND NEW.elderly_households IS DISTINCT FROM c.elderly_households
                 THEN 'elderly_households'
            WHEN NEW.consent_agree IS DISTINCT FROM OLD.consent_agree
                 AND NEW.consent_agree IS DISTINCT FROM c.consent_agree THEN 'consent_agree'
            WHEN NEW.consent_object IS DISTINCT FROM OLD.consent_object
                 AND NEW.consent_object IS DISTINCT FROM c.consent_object THEN 'consent_object'
        END;
        IF refused IS NOT NULL THEN
            PERFORM gis_refuse('stairwell', refused, 'stairwell_counts_follow_register',
                format('%s: this stairwell''s %s registered households give its households, '
                       'elderly households and consent counts; change the households, '
                       'not the count', refused, c.households));
        END IF;
"""


def upgrade() -> None:
    op.execute(DERIVED.replace("{refusal}", REFUSAL.strip()))


def downgrade() -> None:
    op.execute(DERIVED.replace("{refusal}", ""))
