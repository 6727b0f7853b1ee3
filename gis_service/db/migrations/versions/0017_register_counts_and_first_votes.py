"""A stairwell edit that contradicts its household register is refused, not silently undone;
two first votes on one stairwell at once open one proposal

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

Since 0010 a stairwell with registered households takes its households, elderly households and
consent counts from the register: an update that set other figures was answered as a success
while the trigger put the register's figures back, so the writer lost the edit without a word.
Now an update that changes one of those figures to a value the register does not give is
refused (check_violation on that column, with the register's count in the message). Edits that
leave the figures as they are go through as before, and so do the register's own recounts
(an update made by a trigger, pg_trigger_depth() > 1).

Two votes on one stairwell at once (two grid workers) each opened an elevator proposal when it
had none: the later one became the current proposal and the first vote left the register.
A vote now opens its stairwell's proposal only after locking the stairwell and looking again.
Two votes at once on a stairwell whose proposal is open were already counted both: the
derived trigger counts with a fresh snapshot, and its refusal above leaves recounts alone.
"""

from collections.abc import Sequence

from gis_service.db.function_bodies import replaced

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = """
                IF pg_trigger_depth() = 1 THEN  -- a writer's own update, not a recount
                    refused := CASE
                        WHEN NEW.households IS DISTINCT FROM OLD.households
                             AND NEW.households IS DISTINCT FROM c.households THEN 'households'
                        WHEN NEW.elderly_households IS DISTINCT FROM OLD.elderly_households
                             AND NEW.elderly_households IS DISTINCT FROM c.elderly_households
                             THEN 'elderly_households'
                        WHEN NEW.consent_agree IS DISTINCT FROM OLD.consent_agree
                             AND NEW.consent_agree IS DISTINCT FROM c.consent_agree
                             THEN 'consent_agree'
                        WHEN NEW.consent_object IS DISTINCT FROM OLD.consent_object
                             AND NEW.consent_object IS DISTINCT FROM c.consent_object
                             THEN 'consent_object'
                    END;
                END IF;
                IF refused IS NOT NULL THEN
                    PERFORM gis_refuse('stairwell', refused, 'stairwell_counts_follow_register',
                        format('this stairwell''s %s registered households give its '
                               'households, elderly households and consent counts; change the '
                               'households, not the count', c.households));
                END IF;"""
COUNTED = "c := gis_household_counts(NEW.id);"
CHANGES = {
    "gis_stairwell_derived()": [
        ("DECLARE c record;", "DECLARE c record; refused text;"),
        (COUNTED, COUNTED + REFUSAL),
    ],
    "gis_household_vote_through()": [(
        "    pid := gis_current_proposal(NEW.stairwell_id);\n",
        "    pid := gis_current_proposal(NEW.stairwell_id);\n"
        "    IF pid IS NULL THEN  -- opened by a vote under way? it commits first, then look again\n"
        "        PERFORM 1 FROM stairwell WHERE id = NEW.stairwell_id FOR UPDATE;\n"
        "        pid := gis_current_proposal(NEW.stairwell_id);\n"
        "    END IF;\n",
    )],
    "gis_household_votes_inserted()": [(
        "BEGIN\n    INSERT INTO retrofit_proposal",
        "BEGIN\n"
        "    PERFORM 1 FROM stairwell WHERE id IN (SELECT n.stairwell_id FROM new_rows n\n"
        "        WHERE (n.vote <> 'not_voted' OR n.proof_photo_path IS NOT NULL)\n"
        "          AND gis_current_proposal(n.stairwell_id) IS NULL) ORDER BY id FOR UPDATE;\n"
        "    INSERT INTO retrofit_proposal",
    )],
}  # fmt: skip
"""What this migration changes in the bodies of 0010's and 0011's functions, piece by piece:
the refusal after the register's counts, and where a vote opens its stairwell's proposal
(only after locking the stairwell and looking again: two votes at once open one proposal,
not one each, where the second vote's proposal became the current one and the first vote
left the register)."""


def upgrade() -> None:
    for function, pieces in CHANGES.items():
        replaced(function, pieces)


def downgrade() -> None:
    for function, pieces in CHANGES.items():
        replaced(function, [(new, old) for old, new in reversed(pieces)])
