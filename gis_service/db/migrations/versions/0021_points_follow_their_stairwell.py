"""A household stands at its stairwell's entrance: it moves with it, and is not moved alone

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05

Households and elevator proposals take their point from their stairwell (a building's proposal
from the building) when they are written (0010, 0011), but a stairwell moved afterwards left
them at the old entrance, and an edit that moved a household alone answered 200 with the point
put back. Now a stairwell's new point is its households', their votes' and its proposals' (a
building's outline its proposals'), in the same transaction; and moving a household away from its
stairwell (more than MOVE_TOLERANCE_M) is refused, naming the rule, as a count the register
gives is (0017): not answered 200 with the edit undone. A new household is still placed at its
stairwell whatever point it gives (a ledger's approximate one).
"""

from collections.abc import Sequence

from alembic import op

from gis_service.db.function_bodies import replaced

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVE_TOLERANCE_M = 1.0
"""A household's point written within this of its stairwell's is the stairwell's (a client's
rounding of the coordinates it read)."""
TAKE_POINT = "    NEW.geom := (SELECT geom FROM stairwell WHERE id = NEW.stairwell_id);\n"
REFUSE_MOVE = f"""    IF TG_OP = 'UPDATE' AND pg_trigger_depth() = 1 AND NEW.geom IS DISTINCT FROM OLD.geom
       AND NOT coalesce(ST_DWithin(NEW.geom::geography, (SELECT geom::geography FROM stairwell
                                   WHERE id = NEW.stairwell_id), {MOVE_TOLERANCE_M}), true) THEN
        PERFORM gis_refuse('household', 'geom', 'household_at_its_stairwell',
            format('a household stands at its stairwell''s entrance: move stairwell %s, '
                   'or give the household another stairwell', NEW.stairwell_id));
    END IF;
"""
FOLLOW = """
CREATE FUNCTION gis_points_follow_stairwell() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF OLD.geom IS NOT DISTINCT FROM NEW.geom THEN
        RETURN NULL;  -- written, not moved
    END IF;
    UPDATE household SET geom = NEW.geom WHERE stairwell_id = NEW.id;
    UPDATE household_vote v SET geom = NEW.geom FROM household h
    WHERE h.id = v.household_id AND h.stairwell_id = NEW.id;
    UPDATE retrofit_proposal SET geom = NEW.geom WHERE stairwell_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER stairwell_points_follow AFTER UPDATE OF geom ON stairwell FOR EACH ROW
    EXECUTE FUNCTION gis_points_follow_stairwell();

CREATE FUNCTION gis_points_follow_building() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF OLD.geom IS NOT DISTINCT FROM NEW.geom THEN
        RETURN NULL;  -- written, not reshaped
    END IF;
    UPDATE retrofit_proposal SET geom = ST_PointOnSurface(NEW.geom)
    WHERE building_id = NEW.id AND stairwell_id IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER building_points_follow AFTER UPDATE OF geom ON building FOR EACH ROW
    EXECUTE FUNCTION gis_points_follow_building();
"""
"""A moved stairwell's households, their votes and its proposals, and a reshaped building's
proposals, take the new point (only when the point or outline itself changed: a bulk write of
other columns costs nothing more). The test is in the function, run with its search_path: a
trigger's WHEN comparing geometries is not restored by pg_restore, whose search_path is empty
(operator is not unique: public.geometry = public.geometry)."""


def upgrade() -> None:
    replaced("gis_household_fill()", [(TAKE_POINT, REFUSE_MOVE + TAKE_POINT)])
    op.execute(FOLLOW)
    op.execute("UPDATE household h SET geom = s.geom FROM stairwell s "
               "WHERE s.id = h.stairwell_id AND NOT ST_Equals(h.geom, s.geom)")  # fmt: skip
    op.execute("UPDATE household_vote v SET geom = h.geom FROM household h "
               "WHERE h.id = v.household_id AND NOT ST_Equals(v.geom, h.geom)")  # fmt: skip
    op.execute("UPDATE retrofit_proposal p SET geom = s.geom FROM stairwell s "
               "WHERE s.id = p.stairwell_id AND NOT ST_Equals(p.geom, s.geom)")  # fmt: skip


def downgrade() -> None:
    op.execute("DROP TRIGGER building_points_follow ON building")
    op.execute("DROP FUNCTION gis_points_follow_building()")
    op.execute("DROP TRIGGER stairwell_points_follow ON stairwell")
    op.execute("DROP FUNCTION gis_points_follow_stairwell()")
    replaced("gis_household_fill()", [(REFUSE_MOVE + TAKE_POINT, TAKE_POINT)])
