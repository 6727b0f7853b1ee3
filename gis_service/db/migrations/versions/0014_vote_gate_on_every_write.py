"""The vote gate holds for every write, not only for the pipeline move

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

A stairwell with a household register reaches a step marked `needs_consent` (moving forward)
only through the pipeline move, which judges the vote under the rule in force and marks the
transaction (`gis.consent_verdict = 'passed'`). A features-API PATCH, a ledger import or any
other UPDATE that moves it there is refused as a check violation naming `elevator_status`
(422). Moving back, to an ungated step, or a stairwell without a register (its counters are
all there is to judge) is unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GATE = """
CREATE FUNCTION gis_stairwell_vote_gate() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    target elevator_status%ROWTYPE;
    came_from int;
BEGIN
    SELECT * INTO target FROM elevator_status WHERE code = NEW.elevator_status;
    SELECT rank INTO came_from FROM elevator_status WHERE code = OLD.elevator_status;
    IF target.needs_consent AND target.rank > coalesce(came_from, -1)
            AND coalesce(current_setting('gis.consent_verdict', true), '') <> 'passed'
            AND EXISTS (SELECT 1 FROM household WHERE stairwell_id = NEW.id) THEN
        PERFORM gis_refuse('stairwell', 'elevator_status', 'stairwell_vote_gate',
            format('a stairwell with a household register moves to %s only when its owners'' '
                   'vote passes: use the pipeline move (POST /stairwells/%s/advance), '
                   'which judges the vote', NEW.elevator_status, NEW.id));
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER stairwell_vote_gate BEFORE UPDATE OF elevator_status ON stairwell
    FOR EACH ROW WHEN (NEW.elevator_status IS DISTINCT FROM OLD.elevator_status)
    EXECUTE FUNCTION gis_stairwell_vote_gate();
"""


def upgrade() -> None:
    """Refuse every other way past the gate."""
    op.execute(GATE)


def downgrade() -> None:
    """Only the pipeline move checks the vote again."""
    op.execute("DROP TRIGGER IF EXISTS stairwell_vote_gate ON stairwell")
    op.execute("DROP FUNCTION IF EXISTS gis_stairwell_vote_gate()")
