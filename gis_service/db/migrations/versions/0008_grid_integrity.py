"""Grid integrity in the database: references and points of issues stay inside their grid

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02

A foreign key is checked without row-level security, so a grid worker could link an issue to a
stairwell of another grid, and move an issue's point out of its grid while grid_id (which row
security checks) stayed. Triggers now check, in the writer's own rights (row security applies
to the lookups):
- issue: its stairwell is one the writer may see and lies in the issue's grid; its point lies
  in its grid (checked when the point, the grid or the stairwell changes, so older rows that
  break the rule can still get other edits);
- issue and survey written by a grid worker: reporter_id / surveyor_id is the worker;
- issue: grid workers insert only the columns the catalog lets them write (no assignee).
Refusals are check violations (23514) naming the column and the rule. A grid worker's row outside
their grids is left to row-level security, which refuses it as before.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORKER_ISSUE_INSERT = ("grid_id", "stairwell_id", "category", "status", "note", "reporter_id",
                       "resolved_at", "geom")

REFUSE = """
CREATE FUNCTION gis_refuse(tab text, col text, rule text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = message,
        TABLE = tab, COLUMN = col, CONSTRAINT = rule;
END $$;
"""

ISSUE_RULES = """
CREATE FUNCTION gis_issue_integrity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed boolean := TG_OP = 'INSERT';
    stairwell_grid int;
    visible boolean;
BEGIN
    IF current_user = 'gis_grid_worker'
            AND NOT coalesce(NEW.grid_id = ANY (gis_current_grids()), false) THEN
        RETURN NEW;  -- not the worker's grid: row-level security refuses the row
    END IF;
    IF current_user = 'gis_grid_worker' AND TG_OP = 'INSERT' AND NEW.reporter_id IS DISTINCT FROM
            nullif(current_setting('gis.user_id', true), '')::int THEN
        PERFORM gis_refuse('issue', 'reporter_id', 'issue_reporter_is_writer',
                           'a grid worker reports issues in their own name');
    END IF;
    IF TG_OP = 'UPDATE' THEN
        changed := NEW.stairwell_id IS DISTINCT FROM OLD.stairwell_id
                   OR NEW.grid_id IS DISTINCT FROM OLD.grid_id
                   OR NEW.geom IS DISTINCT FROM OLD.geom;
    END IF;
    IF NOT changed THEN
        RETURN NEW;
    END IF;
    IF NEW.stairwell_id IS NOT NULL THEN
        -- in the writer's rights: a grid worker sees only the stairwells of their grids
        SELECT true, s.grid_id INTO visible, stairwell_grid FROM stairwell s
        WHERE s.id = NEW.stairwell_id;
        IF visible IS NULL AND current_user = 'gis_grid_worker' THEN
            PERFORM gis_refuse('issue', 'stairwell_id', 'issue_stairwell_in_issue_grid',
                               format('stairwell %s is not in your grids', NEW.stairwell_id));
        END IF;
        IF NEW.grid_id IS NOT NULL AND stairwell_grid IS NOT NULL
                AND stairwell_grid <> NEW.grid_id THEN
            PERFORM gis_refuse('issue', 'stairwell_id', 'issue_stairwell_in_issue_grid',
                               format('stairwell %s lies in grid %s, the issue in grid %s',
                                      NEW.stairwell_id, stairwell_grid, NEW.grid_id));
        END IF;
    END IF;
    IF NEW.grid_id IS NOT NULL AND NEW.geom IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM grid g WHERE g.id = NEW.grid_id AND ST_Intersects(g.geom, NEW.geom)) THEN
        PERFORM gis_refuse('issue', 'geom', 'issue_point_in_issue_grid',
                           format('the issue''s point lies outside its grid %s', NEW.grid_id));
    END IF;
    RETURN NEW;
END $$;
"""

SURVEY_RULES = """
CREATE FUNCTION gis_survey_integrity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_user = 'gis_grid_worker'
            AND NOT EXISTS (SELECT 1 FROM stairwell WHERE id = NEW.stairwell_id) THEN
        RETURN NEW;  -- not a stairwell of the worker's grids: row-level security refuses it
    END IF;
    IF current_user = 'gis_grid_worker' AND NEW.surveyor_id IS DISTINCT FROM
            nullif(current_setting('gis.user_id', true), '')::int THEN
        PERFORM gis_refuse('survey', 'surveyor_id', 'survey_surveyor_is_writer',
                           'a grid worker records surveys in their own name');
    END IF;
    RETURN NEW;
END $$;
"""


def upgrade() -> None:
    op.execute(REFUSE)
    op.execute(ISSUE_RULES)
    op.execute(SURVEY_RULES)
    op.execute("GRANT EXECUTE ON FUNCTION gis_refuse(text, text, text, text), "
               "gis_issue_integrity(), gis_survey_integrity() TO PUBLIC")
    op.execute("CREATE TRIGGER issue_integrity BEFORE INSERT OR UPDATE ON issue "
               "FOR EACH ROW EXECUTE FUNCTION gis_issue_integrity()")
    op.execute("CREATE TRIGGER survey_integrity BEFORE INSERT OR UPDATE ON survey "
               "FOR EACH ROW EXECUTE FUNCTION gis_survey_integrity()")
    op.execute("REVOKE INSERT ON issue FROM gis_grid_worker")
    op.execute(f"GRANT INSERT ({', '.join(WORKER_ISSUE_INSERT)}) ON issue TO gis_grid_worker")


def downgrade() -> None:
    op.execute(f"REVOKE INSERT ({', '.join(WORKER_ISSUE_INSERT)}) ON issue FROM gis_grid_worker")
    op.execute("GRANT INSERT ON issue TO gis_grid_worker")
    op.execute("DROP TRIGGER survey_integrity ON survey")
    op.execute("DROP TRIGGER issue_integrity ON issue")
    op.execute("DROP FUNCTION gis_survey_integrity()")
    op.execute("DROP FUNCTION gis_issue_integrity()")
    op.execute("DROP FUNCTION gis_refuse(text, text, text, text)")
