"""A stairwell says whether it has a household register (has_register), kept by the register

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

Since 0017 an edit of a stairwell's households, elderly households or consent counts that the
register does not give is refused. A client that has the stairwell but not its register (the
field page offline, before the grid's household list was ever loaded) could not know, asked
the worker for the counts and had the survey refused. Now the stairwell says it: has_register
is true while the stairwell has registered households. The register's own recount keeps it
(a household added, moved or removed), and a writer cannot set it (the derived trigger says
it again on every update, and a new stairwell has none). Filling it in here leaves the
stairwells' versions as they are: it is no edit, so no edit waiting offline meets a conflict
for it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_service.db.function_bodies import replaced

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANGES = {
    "gis_stairwell_derived()": [
        ("NEW.consent_object := c.consent_object;\n",
         "NEW.consent_object := c.consent_object;\n                NEW.has_register := true;\n"),
        ("            END IF;\n            RETURN NEW;",
         "            ELSE\n                NEW.has_register := false;\n"
         "            END IF;\n            RETURN NEW;"),
    ],
    "gis_household_recount()": [
        ("consent_agree = c.consent_agree, consent_object = c.consent_object\n",
         "consent_agree = c.consent_agree, consent_object = c.consent_object,\n"
         "                   has_register = c.households > 0\n"),
        ("s.consent_object) IS DISTINCT FROM (c.households, c.elderly_households,\n"
         "                  c.consent_agree, c.consent_object);",
         "s.consent_object, s.has_register) IS DISTINCT FROM (c.households,\n"
         "                  c.elderly_households, c.consent_agree, c.consent_object,\n"
         "                  c.households > 0);"),
    ],
}  # fmt: skip
"""What this migration changes in the bodies of 0010's functions (as 0017 left them), piece by
piece: the derived trigger says whether the register has rows, and the register's recount
updates a stairwell whose register came or went even when its counts stay the same."""


NEW_STAIRWELL = """
    CREATE FUNCTION gis_stairwell_has_no_register_yet() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.has_register := false;  -- whatever a writer says: its households come after it
        RETURN NEW;
    END $$;
    CREATE TRIGGER stairwell_has_no_register_yet BEFORE INSERT ON stairwell
        FOR EACH ROW EXECUTE FUNCTION gis_stairwell_has_no_register_yet();
"""
"""A new stairwell has no register: the households that make one reference it (the derived
trigger says it on every update)."""


def upgrade() -> None:
    op.add_column("stairwell", sa.Column("has_register", sa.Boolean(), nullable=False,
                                         server_default=sa.false()))  # fmt: skip
    for function, pieces in CHANGES.items():
        replaced(function, pieces)
    op.execute(NEW_STAIRWELL)
    op.execute("ALTER TABLE stairwell DISABLE TRIGGER stairwell_bump_version")
    op.execute("UPDATE stairwell SET has_register = true "
               "WHERE id IN (SELECT stairwell_id FROM household)")  # fmt: skip
    op.execute("ALTER TABLE stairwell ENABLE TRIGGER stairwell_bump_version")


def downgrade() -> None:
    op.execute("DROP TRIGGER stairwell_has_no_register_yet ON stairwell")
    op.execute("DROP FUNCTION gis_stairwell_has_no_register_yet()")
    for function, pieces in CHANGES.items():
        replaced(function, [(new, old) for old, new in reversed(pieces)])
    op.drop_column("stairwell", "has_register")
