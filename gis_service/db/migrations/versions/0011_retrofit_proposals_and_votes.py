"""Retrofit proposals and the households' vote on each

Revision ID: 0011
Revises: 0012
Create Date: 2026-12-02

- retrofit_proposal: what the owners of a stairwell, or of a whole building, are asked to agree
  to (kind: elevator, ramp, ...), its title, when it opened and closed, its status. Its point is
  the stairwell's entrance or a point of the building, set by the database.
- household_vote: one household's vote on one proposal (agree / object / abstain / not voted),
  its date, who recorded it and an optional proof photo; its point is the household's. A vote
  must belong to a household the proposal asks; a closed or withdrawn proposal takes no votes.
- The household's own vote columns (0010) become the vote on its stairwell's *current* elevator
  proposal (the open one opened last, else the one closed last), kept true by the database:
  a vote row changing, or a proposal opening, closing or being withdrawn, rewrites them, and the
  stairwell's derived consent counts follow through 0010's triggers. Writing those columns (the
  households layer, the ledger import, the field view) records the vote on the current proposal,
  opening one for the stairwell when it has none.
- Upgrade: each stairwell with households gets one open elevator proposal holding every
  household's vote as it was (nothing lost). Downgrade drops proposals and votes; the household
  columns keep the current proposal's votes (gis_household_fill keeps its guard, inert then).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0011"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VOTES = "('agree', 'object', 'abstain', 'not_voted')"
KINDS = "('elevator', 'ramp', 'pipes', 'facade', 'other')"
STATUSES = "('open', 'closed', 'withdrawn')"
VOTE_FIELDS = ("vote", "voted_on", "recorded_by", "proof_photo_path")
DEFAULT_TITLE = "加装电梯 / Elevator"
HOUSEHOLD_SCOPE = (
    "household_id IN (SELECT h.id FROM household h JOIN stairwell s ON s.id = h.stairwell_id "
    "WHERE s.grid_id = ANY (gis_current_grids()))"
)
PROPOSAL_SCOPE = (
    "stairwell_id IN (SELECT id FROM stairwell WHERE grid_id = ANY (gis_current_grids())) "
    "OR building_id IN (SELECT building_id FROM stairwell "
    "WHERE grid_id = ANY (gis_current_grids()))"
)
FUNCTIONS = (
    "gis_current_proposal(integer)",
    "gis_household_sync(integer[])",
    "gis_vote_synced()",
    "gis_proposal_synced()",
    "gis_vote_fill()",
    "gis_proposal_fill()",
    "gis_household_vote_through()",
    "gis_household_votes_inserted()",
)


def point_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    """Version, timestamp, source key and point (filled by the database) of both tables."""
    return [
        sa.Column("source_key", sa.String(200), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    ]


def geometry_checks(table: str) -> list[sa.CheckConstraint]:
    """As models.geometry_checks."""
    return [
        sa.CheckConstraint("ST_IsValid(geom)", name=f"ck_{table}_geom_valid"),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name=f"ck_{table}_geom_not_empty"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 "
            "AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name=f"ck_{table}_geom_lonlat",
        ),
    ]


def indexes(table: str) -> None:
    """GiST and source-key indexes (as models.gist and models.source_key_index)."""
    op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")
    op.create_index(f"ux_{table}_source_key", table, ["source_key"], unique=True,
                    postgresql_where=sa.text("source_key IS NOT NULL"))  # fmt: skip


def create_tables() -> None:
    """retrofit_proposal and household_vote (as in db/models_proposal.py)."""
    op.create_table(
        "retrofit_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stairwell_id", sa.Integer(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(20), server_default="elevator", nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("opened_on", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(20), server_default="open", nullable=False),
        *point_columns(),
        *geometry_checks("retrofit_proposal"),
        sa.CheckConstraint(
            "(stairwell_id IS NULL) <> (building_id IS NULL)", name="ck_proposal_one_unit"
        ),
        sa.CheckConstraint(f"kind IN {KINDS}", name="ck_proposal_kind"),
        sa.CheckConstraint(f"status IN {STATUSES}", name="ck_proposal_status"),
        sa.CheckConstraint(
            "closed_on IS NULL OR closed_on >= opened_on", name="ck_proposal_period"
        ),
        sa.CheckConstraint("status = 'open' OR closed_on IS NOT NULL", name="ck_proposal_closed"),
        sa.ForeignKeyConstraint(["stairwell_id"], ["stairwell.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["building_id"], ["building.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_retrofit_proposal_stairwell_id", "retrofit_proposal", ["stairwell_id"])
    op.create_index("ix_retrofit_proposal_building_id", "retrofit_proposal", ["building_id"])
    indexes("retrofit_proposal")
    op.create_table(
        "household_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("vote", sa.String(20), server_default="not_voted", nullable=False),
        sa.Column("voted_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(100), nullable=True),
        sa.Column("proof_photo_path", sa.String(300), nullable=True),
        *point_columns(),
        *geometry_checks("household_vote"),
        sa.CheckConstraint(f"vote IN {VOTES}", name="ck_household_vote_vote"),
        sa.CheckConstraint(
            "vote <> 'not_voted' OR voted_on IS NULL", name="ck_household_vote_voted_on"
        ),
        sa.ForeignKeyConstraint(["proposal_id"], ["retrofit_proposal.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proposal_id", "household_id", name="ux_household_vote_once"),
    )
    op.create_index("ix_household_vote_household_id", "household_vote", ["household_id"])
    indexes("household_vote")


def migrate_votes() -> None:
    """One open elevator proposal per stairwell with households, holding every vote as it was."""
    op.execute(f"""
        INSERT INTO retrofit_proposal (stairwell_id, kind, title, opened_on, status, geom)
        SELECT s.id, 'elevator', '{DEFAULT_TITLE}',
               coalesce(min(h.voted_on), min(h.visited_on), current_date), 'open', s.geom
        FROM stairwell s JOIN household h ON h.stairwell_id = s.id
        GROUP BY s.id, s.geom
    """)
    op.execute("""
        INSERT INTO household_vote (proposal_id, household_id, vote, voted_on, recorded_by,
                                    proof_photo_path, geom)
        SELECT p.id, h.id, h.vote, h.voted_on, h.recorded_by, h.proof_photo_path, h.geom
        FROM household h JOIN retrofit_proposal p ON p.stairwell_id = h.stairwell_id
    """)


STAMP = """
    IF NEW.vote = 'not_voted' THEN
        NEW.voted_on := NULL;
    ELSIF TG_OP = 'INSERT' OR NEW.vote IS DISTINCT FROM OLD.vote THEN
        IF NEW.voted_on IS NULL
           OR (TG_OP = 'UPDATE' AND NEW.voted_on IS NOT DISTINCT FROM OLD.voted_on) THEN
            NEW.voted_on := current_date;
        END IF;
        IF NEW.recorded_by IS NULL
           OR (TG_OP = 'UPDATE' AND NEW.recorded_by IS NOT DISTINCT FROM OLD.recorded_by) THEN
            NEW.recorded_by := coalesce(
                nullif(current_setting('gis.username', true), ''), NEW.recorded_by);
        END IF;
    END IF;
"""  # a vote is dated and signed by who records it (as 0010's gis_household_fill)

FILL_PROPOSAL = """
CREATE FUNCTION gis_proposal_fill() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF NEW.stairwell_id IS NOT NULL THEN
        NEW.geom := (SELECT geom FROM stairwell WHERE id = NEW.stairwell_id);
    ELSE
        NEW.geom := (SELECT ST_PointOnSurface(geom) FROM building WHERE id = NEW.building_id);
    END IF;
    IF NEW.status <> 'open' AND NEW.closed_on IS NULL THEN
        NEW.closed_on := greatest(current_date, NEW.opened_on);
    ELSIF NEW.status = 'open' AND TG_OP = 'UPDATE' AND OLD.status <> 'open'
            AND NEW.closed_on IS NOT DISTINCT FROM OLD.closed_on THEN
        NEW.closed_on := NULL;  -- reopened
    END IF;
    RETURN NEW;
END $$;
"""

FILL_VOTE = f"""
CREATE FUNCTION gis_vote_fill() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
DECLARE p record; asked boolean;
BEGIN
    SELECT * INTO p FROM retrofit_proposal WHERE id = NEW.proposal_id;
    IF NOT FOUND THEN
        RETURN NEW;  -- the foreign key refuses it
    END IF;
    SELECT CASE WHEN p.stairwell_id IS NOT NULL THEN h.stairwell_id = p.stairwell_id
                ELSE s.building_id = p.building_id END, h.geom INTO asked, NEW.geom
    FROM household h JOIN stairwell s ON s.id = h.stairwell_id WHERE h.id = NEW.household_id;
    IF NOT coalesce(asked, true) THEN
        PERFORM gis_refuse('household_vote', 'household_id', 'vote_in_proposal_unit',
            'the household does not belong to the stairwell or building of this proposal');
    END IF;
    IF p.status <> 'open' AND (TG_OP = 'INSERT' OR (NEW.vote, NEW.voted_on, NEW.proof_photo_path)
            IS DISTINCT FROM (OLD.vote, OLD.voted_on, OLD.proof_photo_path)) THEN
        PERFORM gis_refuse('household_vote', 'proposal_id', 'vote_on_open_proposal',
            'the proposal is ' || p.status || ': its votes are final');
    END IF;
{STAMP}    RETURN NEW;
END $$;
"""

CURRENT = """
CREATE FUNCTION gis_current_proposal(sid integer) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT p.id FROM retrofit_proposal p
    WHERE p.kind = 'elevator' AND p.status <> 'withdrawn'
      AND (p.stairwell_id = sid
           OR p.building_id = (SELECT building_id FROM stairwell WHERE id = sid))
    ORDER BY p.status = 'open' DESC, coalesce(p.closed_on, p.opened_on) DESC, p.id DESC
    LIMIT 1
$$;
"""

SYNC = """
CREATE FUNCTION gis_household_sync(ids integer[]) RETURNS void LANGUAGE sql
SECURITY DEFINER SET search_path = public AS $$
    UPDATE household h SET vote = coalesce(v.vote, 'not_voted'), voted_on = v.voted_on,
           recorded_by = v.recorded_by, proof_photo_path = v.proof_photo_path
    FROM household x
    LEFT JOIN household_vote v
           ON v.household_id = x.id AND v.proposal_id = gis_current_proposal(x.stairwell_id)
    WHERE h.id = x.id AND x.id = ANY (ids)
      AND (h.vote, h.voted_on, h.recorded_by, h.proof_photo_path) IS DISTINCT FROM
          (coalesce(v.vote, 'not_voted'), v.voted_on, v.recorded_by, v.proof_photo_path)
$$;
"""

VOTE_SYNCED = """
CREATE FUNCTION gis_vote_synced() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM gis_household_sync(ARRAY(SELECT household_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM gis_household_sync(ARRAY(SELECT household_id FROM old_rows));
    ELSE
        PERFORM gis_household_sync(ARRAY(SELECT household_id FROM new_rows
                                         UNION SELECT household_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;
"""

PROPOSAL_SYNCED = """
CREATE FUNCTION gis_proposal_synced() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
DECLARE units integer[]; buildings integer[];
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        units := ARRAY(SELECT stairwell_id FROM new_rows WHERE stairwell_id IS NOT NULL);
        buildings := ARRAY(SELECT building_id FROM new_rows WHERE building_id IS NOT NULL);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        units := coalesce(units, '{}')
                 || ARRAY(SELECT stairwell_id FROM old_rows WHERE stairwell_id IS NOT NULL);
        buildings := coalesce(buildings, '{}')
                 || ARRAY(SELECT building_id FROM old_rows WHERE building_id IS NOT NULL);
    END IF;
    PERFORM gis_household_sync(ARRAY(
        SELECT h.id FROM household h JOIN stairwell s ON s.id = h.stairwell_id
        WHERE s.id = ANY (units) OR s.building_id = ANY (buildings)));
    RETURN NULL;
END $$;
"""

UPSERT_VOTE = """
    ON CONFLICT (proposal_id, household_id) DO UPDATE SET vote = EXCLUDED.vote,
        voted_on = EXCLUDED.voted_on, recorded_by = EXCLUDED.recorded_by,
        proof_photo_path = EXCLUDED.proof_photo_path
    WHERE (household_vote.vote, household_vote.voted_on, household_vote.recorded_by,
           household_vote.proof_photo_path) IS DISTINCT FROM
          (EXCLUDED.vote, EXCLUDED.voted_on, EXCLUDED.recorded_by, EXCLUDED.proof_photo_path)
"""

THROUGH = f"""
CREATE FUNCTION gis_household_vote_through() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
DECLARE pid integer;
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;  -- the columns being kept in step with household_vote
    END IF;
    pid := gis_current_proposal(NEW.stairwell_id);
    IF pid IS NULL THEN
        IF NEW.vote = 'not_voted' AND NEW.proof_photo_path IS NULL THEN
            RETURN NULL;  -- nothing to record
        END IF;
        INSERT INTO retrofit_proposal (stairwell_id, kind, title, opened_on, status)
        VALUES (NEW.stairwell_id, 'elevator', '{DEFAULT_TITLE}',
                least(coalesce(NEW.voted_on, current_date), current_date), 'open')
        RETURNING id INTO pid;
    END IF;
    INSERT INTO household_vote (proposal_id, household_id, vote, voted_on, recorded_by,
                                proof_photo_path)
    VALUES (pid, NEW.id, NEW.vote, NEW.voted_on, NEW.recorded_by, NEW.proof_photo_path)
    {UPSERT_VOTE};
    RETURN NULL;
END $$;
"""

THROUGH_INSERTED = f"""
CREATE FUNCTION gis_household_votes_inserted() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
BEGIN
    INSERT INTO retrofit_proposal (stairwell_id, kind, title, opened_on, status)
    SELECT n.stairwell_id, 'elevator', '{DEFAULT_TITLE}',
           least(coalesce(min(n.voted_on), current_date), current_date), 'open'
    FROM new_rows n
    WHERE (n.vote <> 'not_voted' OR n.proof_photo_path IS NOT NULL)
      AND gis_current_proposal(n.stairwell_id) IS NULL
    GROUP BY n.stairwell_id;
    INSERT INTO household_vote (proposal_id, household_id, vote, voted_on, recorded_by,
                                proof_photo_path)
    SELECT p.id, n.id, n.vote, n.voted_on, n.recorded_by, n.proof_photo_path
    FROM (SELECT *, gis_current_proposal(stairwell_id) AS pid FROM new_rows) n
    JOIN retrofit_proposal p ON p.id = n.pid
    {UPSERT_VOTE};
    RETURN NULL;
END $$;
"""

HOUSEHOLD_FILL = f"""
CREATE OR REPLACE FUNCTION gis_household_fill() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $$
BEGIN
    NEW.geom := (SELECT geom FROM stairwell WHERE id = NEW.stairwell_id);
    IF pg_trigger_depth() > 1 THEN
        RETURN NEW;  -- kept in step with household_vote: its values as they are
    END IF;
{STAMP}    RETURN NEW;
END $$;
"""


def create_triggers() -> None:
    """Points and defaults; the household columns kept as the current proposal's votes."""
    op.execute(HOUSEHOLD_FILL)  # 0010's, leaving alone the rows being kept in step
    for sql in (
        FILL_PROPOSAL,
        FILL_VOTE,
        CURRENT,
        SYNC,
        VOTE_SYNCED,
        PROPOSAL_SYNCED,
        THROUGH,
        THROUGH_INSERTED,
    ):
        op.execute(sql)
    for table, fill in (("retrofit_proposal", "gis_proposal_fill"),
                        ("household_vote", "gis_vote_fill")):  # fmt: skip
        op.execute(f"CREATE TRIGGER {table}_fill BEFORE INSERT OR UPDATE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {fill}()")  # fmt: skip
        op.execute(f"CREATE TRIGGER {table}_bump_version BEFORE UPDATE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION gis_bump_version()")  # fmt: skip
    for table, function in (("household_vote", "gis_vote_synced"),
                            ("retrofit_proposal", "gis_proposal_synced")):  # fmt: skip
        for event, tables in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER {table}_sync_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    op.execute(
        f"CREATE TRIGGER household_vote_through AFTER UPDATE OF {', '.join(VOTE_FIELDS)} "
        "ON household FOR EACH ROW EXECUTE FUNCTION gis_household_vote_through()"
    )
    op.execute(
        "CREATE TRIGGER household_votes_inserted AFTER INSERT ON household "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION gis_household_votes_inserted()"
    )


def grant() -> None:
    """Staff read and write; analysts read; grid workers read their grids and record votes."""
    tables = "retrofit_proposal, household_vote"
    op.execute(f"GRANT SELECT ON {tables} TO gis_analyst, gis_planner, gis_grid_worker, gis_admin")
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON {tables} TO gis_planner")
    op.execute(f"GRANT ALL ON {tables} TO gis_admin")
    op.execute("GRANT INSERT ON household_vote TO gis_grid_worker")
    op.execute(f"GRANT UPDATE ({', '.join(VOTE_FIELDS)}) ON household_vote TO gis_grid_worker")
    op.execute(
        "GRANT USAGE, SELECT ON SEQUENCE retrofit_proposal_id_seq, household_vote_id_seq "
        "TO gis_planner, gis_admin"
    )
    op.execute("GRANT USAGE, SELECT ON SEQUENCE household_vote_id_seq TO gis_grid_worker")
    for table, scope in (("retrofit_proposal", PROPOSAL_SCOPE),
                         ("household_vote", HOUSEHOLD_SCOPE)):  # fmt: skip
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY staff_all ON {table} TO gis_analyst, gis_planner, gis_admin "
                   "USING (true) WITH CHECK (true)")  # fmt: skip
        op.execute(f"CREATE POLICY grid_worker_own ON {table} TO gis_grid_worker "
                   f"USING ({scope}) WITH CHECK ({scope})")  # fmt: skip


def count_versions() -> None:
    """Caches (tiles, extents, analysis) see every write to the new tables (as in 0004)."""
    for table in ("retrofit_proposal", "household_vote"):
        op.execute(f"INSERT INTO data_version (table_name) VALUES ('{table}')")
        op.execute(
            f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE "
            f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
            "EXECUTE FUNCTION gis_bump_data_version()"
        )


def upgrade() -> None:
    create_tables()
    migrate_votes()
    create_triggers()
    grant()
    count_versions()


def downgrade() -> None:
    op.execute("DROP TRIGGER household_vote_through ON household")
    op.execute("DROP TRIGGER household_votes_inserted ON household")
    op.execute(
        "DELETE FROM data_version WHERE table_name IN ('retrofit_proposal', 'household_vote')"
    )
    op.drop_table("household_vote")
    op.drop_table("retrofit_proposal")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
