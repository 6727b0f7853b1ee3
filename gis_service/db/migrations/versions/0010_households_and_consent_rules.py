"""The household register under each stairwell, and consent rules as versioned data

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

- household: one flat under a stairwell (floor, door, exclusive area, owner group, residents 60+
  and with limited mobility, the vote on the elevator with its date, recorder and proof). Its
  point is its stairwell's entrance, set by the database. Owner names are column-granted to
  planners, admins and grid workers only; row security keeps grid workers in their grids.
- The stairwell's households, elderly households and consent counts are derived from its
  households whenever it has any: statement triggers recount the stairwells a change touches,
  and a stairwell update cannot set other figures while a register exists.
- consent_rule: who votes, quorum and approval by area and headcount (exact fractions), per city
  and period; seeded with Civil Code art. 278 and the older "2/3 of the owners agree" rule.
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VOTES = "('agree', 'object', 'abstain', 'not_voted')"
FRACTION = "^[0-9]{1,3}/[1-9][0-9]{0,2}$"
FRACTIONS = ("quorum_area", "quorum_owners", "approval_area", "approval_owners")
PUBLIC_COLUMNS = (
    "id", "stairwell_id", "floor", "door", "area_m2", "owner_group", "elderly",
    "limited_mobility", "visited_on", "vote", "voted_on", "recorded_by", "proof_photo_path",
    "source_key", "version", "updated_at", "geom",
)  # fmt: skip
WORKER_FIELDS = (
    "owner_names",
    "elderly",
    "limited_mobility",
    "visited_on",
    "vote",
    "voted_on",
    "recorded_by",
    "proof_photo_path",
)
SCOPE = "stairwell_id IN (SELECT id FROM stairwell WHERE grid_id = ANY (gis_current_grids()))"
FUNCTIONS = (
    "gis_household_fill()",
    "gis_household_recount()",
    "gis_stairwell_derived()",
    "gis_household_counts(integer)",
)
SEED = [
    {
        "code": "civil_code_278", "city": None, "valid_from": dt.date(2021, 1, 1), "voters": "stairwell",
        "quorum_area": "2/3", "quorum_owners": "2/3", "approval_area": "3/4",
        "approval_owners": "3/4", "approval_base": "participating",
        "title_zh": "《民法典》第二百七十八条(改建、重建共有部分)",
        "title_en": "Civil Code art. 278 (rebuilding or changing common parts)",
        "source": "民法典第278条:专有部分面积占比三分之二以上且人数占比三分之二以上的业主参与表决;"
                  "应当经参与表决专有部分面积四分之三以上且参与表决人数四分之三以上的业主同意。"
                  " / Civil Code of the PRC, art. 278 (in force 2021-01-01).",
    },
    {
        "code": "two_thirds_owners_agree", "city": "广州", "valid_from": dt.date(2016, 1, 1),
        "valid_until": dt.date(2021, 1, 1), "voters": "stairwell", "quorum_area": None,
        "quorum_owners": None, "approval_area": None, "approval_owners": "2/3",
        "approval_base": "all",
        "title_zh": "旧规:本单元三分之二以上业主同意",
        "title_en": "Older city rule: 2/3 of the owners agree (by headcount)",
        "source": "Older city rules (e.g. Guangzhou 2016) asked that 2/3 of the owners agree; "
                  "check against the text the city applied.",
    },
]  # fmt: skip


def create_tables() -> None:
    """The household and consent_rule tables (as in db/models_household.py)."""
    op.create_table(
        "household",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stairwell_id", sa.Integer(), nullable=False),
        sa.Column("floor", sa.SmallInteger(), nullable=False),
        sa.Column("door", sa.String(20), nullable=False),
        sa.Column("area_m2", sa.Numeric(7, 2), nullable=False),
        sa.Column("owner_group", sa.String(50), nullable=True),
        sa.Column("owner_names", sa.String(200), nullable=True),
        sa.Column("elderly", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("limited_mobility", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=True),
        sa.Column("vote", sa.String(20), server_default="not_voted", nullable=False),
        sa.Column("voted_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(100), nullable=True),
        sa.Column("proof_photo_path", sa.String(300), nullable=True),
        sa.Column("source_key", sa.String(200), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_household_geom_valid"),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name="ck_household_geom_not_empty"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 "
            "AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="ck_household_geom_lonlat",
        ),
        sa.CheckConstraint("floor BETWEEN -5 AND 200", name="ck_household_floor"),
        sa.CheckConstraint("area_m2 > 0 AND area_m2 <= 2000", name="ck_household_area"),
        sa.CheckConstraint("elderly >= 0 AND elderly <= 20", name="ck_household_elderly"),
        sa.CheckConstraint(
            "limited_mobility >= 0 AND limited_mobility <= 20", name="ck_household_mobility"
        ),
        sa.CheckConstraint(f"vote IN {VOTES}", name="ck_household_vote"),
        sa.CheckConstraint("vote <> 'not_voted' OR voted_on IS NULL", name="ck_household_voted_on"),
        sa.ForeignKeyConstraint(["stairwell_id"], ["stairwell.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stairwell_id", "door", name="ux_household_door"),
    )
    op.create_index("ix_household_stairwell_id", "household", ["stairwell_id"])
    op.create_index("ix_household_geom", "household", ["geom"], postgresql_using="gist")
    op.create_index(
        "ux_household_source_key",
        "household",
        ["source_key"],
        unique=True,
        postgresql_where=sa.text("source_key IS NOT NULL"),
    )
    op.create_table(
        "consent_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("voters", sa.String(20), server_default="stairwell", nullable=False),
        *(sa.Column(name, sa.String(8), nullable=True) for name in FRACTIONS),
        sa.Column("approval_base", sa.String(20), server_default="participating", nullable=False),
        sa.Column("title_zh", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint("voters IN ('stairwell', 'building')", name="ck_consent_rule_voters"),
        *(
            sa.CheckConstraint(
                f"{name} IS NULL OR {name} ~ '{FRACTION}'", name=f"ck_consent_{name}"
            )
            for name in FRACTIONS
        ),
        sa.CheckConstraint(
            "approval_base IN ('participating', 'all')", name="ck_consent_rule_base"
        ),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until > valid_from", name="ck_consent_rule_period"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )


def create_triggers() -> None:
    """Households take their stairwell's point and their recorder; stairwells their counts."""
    op.execute("""
        CREATE FUNCTION gis_household_fill() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = public AS $$
        BEGIN
            NEW.geom := (SELECT geom FROM stairwell WHERE id = NEW.stairwell_id);
            IF NEW.vote = 'not_voted' THEN
                NEW.voted_on := NULL;
            ELSIF TG_OP = 'INSERT' OR NEW.vote IS DISTINCT FROM OLD.vote THEN
                IF NEW.voted_on IS NULL
                   OR (TG_OP = 'UPDATE' AND NEW.voted_on IS NOT DISTINCT FROM OLD.voted_on) THEN
                    NEW.voted_on := current_date;
                END IF;
                IF NEW.recorded_by IS NULL
                   OR (TG_OP = 'UPDATE' AND NEW.recorded_by IS NOT DISTINCT FROM OLD.recorded_by)
                THEN
                    NEW.recorded_by := coalesce(
                        nullif(current_setting('gis.username', true), ''), NEW.recorded_by);
                END IF;
            END IF;
            RETURN NEW;
        END $$;
    """)
    op.execute(
        "CREATE TRIGGER household_fill BEFORE INSERT OR UPDATE ON household "
        "FOR EACH ROW EXECUTE FUNCTION gis_household_fill()"
    )
    op.execute(
        "CREATE TRIGGER household_bump_version BEFORE UPDATE ON household "
        "FOR EACH ROW EXECUTE FUNCTION gis_bump_version()"
    )
    op.execute("""
        CREATE FUNCTION gis_household_counts(sid integer, OUT households integer,
            OUT elderly_households integer, OUT consent_agree integer, OUT consent_object integer)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
            SELECT count(*)::int, count(*) FILTER (WHERE elderly > 0)::int,
                   count(*) FILTER (WHERE vote = 'agree')::int,
                   count(*) FILTER (WHERE vote = 'object')::int
            FROM household WHERE stairwell_id = sid
        $$;
    """)
    op.execute("""
        CREATE FUNCTION gis_stairwell_derived() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = public AS $$
        DECLARE c record;
        BEGIN
            IF EXISTS (SELECT 1 FROM household WHERE stairwell_id = NEW.id) THEN
                c := gis_household_counts(NEW.id);
                NEW.households := c.households;
                NEW.elderly_households := c.elderly_households;
                NEW.consent_agree := c.consent_agree;
                NEW.consent_object := c.consent_object;
            END IF;
            RETURN NEW;
        END $$;
    """)
    op.execute(
        "CREATE TRIGGER stairwell_derived BEFORE UPDATE ON stairwell "
        "FOR EACH ROW EXECUTE FUNCTION gis_stairwell_derived()"
    )
    op.execute("""
        CREATE FUNCTION gis_household_recount() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = public AS $$
        DECLARE touched integer[];
        BEGIN
            IF TG_OP = 'INSERT' THEN
                touched := ARRAY(SELECT DISTINCT stairwell_id FROM new_rows);
            ELSIF TG_OP = 'DELETE' THEN
                touched := ARRAY(SELECT DISTINCT stairwell_id FROM old_rows);
            ELSE
                touched := ARRAY(SELECT stairwell_id FROM new_rows
                                 UNION SELECT stairwell_id FROM old_rows);
            END IF;
            UPDATE stairwell s SET households = c.households,
                   elderly_households = c.elderly_households,
                   consent_agree = c.consent_agree, consent_object = c.consent_object
            FROM unnest(touched) AS t(id), LATERAL gis_household_counts(t.id) c
            WHERE s.id = t.id AND (s.households, s.elderly_households, s.consent_agree,
                  s.consent_object) IS DISTINCT FROM (c.households, c.elderly_households,
                  c.consent_agree, c.consent_object);
            RETURN NULL;
        END $$;
    """)
    op.execute(
        "CREATE TRIGGER household_recount_insert AFTER INSERT ON household "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION gis_household_recount()"
    )
    op.execute(
        "CREATE TRIGGER household_recount_update AFTER UPDATE ON household "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION gis_household_recount()"
    )
    op.execute(
        "CREATE TRIGGER household_recount_delete AFTER DELETE ON household "
        "REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION gis_household_recount()"
    )


def grant() -> None:
    """Staff read and write; analysts read all but names; grid workers their grids' votes."""
    op.execute("GRANT SELECT ON household, consent_rule TO gis_planner, gis_grid_worker, gis_admin")
    op.execute(f"GRANT SELECT ({', '.join(PUBLIC_COLUMNS)}) ON household TO gis_analyst")
    op.execute("GRANT SELECT ON consent_rule TO gis_analyst")
    op.execute("GRANT INSERT, UPDATE, DELETE ON household TO gis_planner")
    op.execute("GRANT ALL ON household, consent_rule TO gis_admin")
    op.execute(f"GRANT UPDATE ({', '.join(WORKER_FIELDS)}) ON household TO gis_grid_worker")
    op.execute(
        "GRANT USAGE, SELECT ON SEQUENCE household_id_seq, consent_rule_id_seq "
        "TO gis_planner, gis_admin"
    )
    op.execute("ALTER TABLE household ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY staff_all ON household TO gis_analyst, gis_planner, gis_admin "
        "USING (true) WITH CHECK (true)"
    )
    op.execute(
        f"CREATE POLICY grid_worker_own ON household TO gis_grid_worker "
        f"USING ({SCOPE}) WITH CHECK ({SCOPE})"
    )


def count_versions() -> None:
    """Caches (tiles, extents, analysis) see every write to the new tables (as in 0004)."""
    for table in ("household", "consent_rule"):
        op.execute(f"INSERT INTO data_version (table_name) VALUES ('{table}')")
        op.execute(f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE "
                   f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                   "EXECUTE FUNCTION gis_bump_data_version()")


def upgrade() -> None:
    create_tables()
    create_triggers()
    grant()
    count_versions()
    rule = sa.table("consent_rule", *(sa.column(k) for k in SEED[0] | {"valid_until": None}))
    op.bulk_insert(rule, [{"valid_until": None, **row} for row in SEED])  # type: ignore[arg-type]


def downgrade() -> None:
    op.execute("DELETE FROM data_version WHERE table_name IN ('household', 'consent_rule')")
    for name in (
        "household_recount_insert",
        "household_recount_update",
        "household_recount_delete",
        "household_bump_version",
        "household_fill",
    ):
        op.execute(f"DROP TRIGGER {name} ON household")
    op.execute("DROP TRIGGER stairwell_derived ON stairwell")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    op.drop_table("consent_rule")
    op.drop_table("household")
