"""Rules the database enforces itself, and the lookup lists as data

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = (
    "grid",
    "compound",
    "building",
    "retrofit_batch",
    "stairwell",
    "garden",
    "parking",
    "facility",
    "street",
    "candidate_site",
    "issue",
)

ELEVATOR_STATUSES = [
    ("none", 0, "未启动", "Not started", False),
    ("proposed", 1, "意向征集", "Proposed", False),
    ("consenting", 2, "征求意见", "Gathering consent", False),
    ("applied", 3, "已申请", "Applied", False),
    ("approved", 4, "已批复(规划许可)", "Approved (planning permit)", False),
    ("under_construction", 5, "施工中", "Under construction", False),
    ("in_service", 6, "已投入使用", "In service", True),
    ("infeasible", 7, "不具备条件", "Infeasible", True),
]
FACILITY_KINDS = [
    ("micro_fire_station", "微型消防站", "Micro fire station"),
    ("elderly_service_centre", "长者服务中心", "Elderly service centre"),
    ("community_service_centre", "社区服务站", "Community service centre"),
    ("party_people_centre", "党群服务中心", "Party-and-people service centre"),
    ("police_room", "社区警务室", "Community police room"),
    ("property_office", "物业管理处", "Property management office"),
    ("access_gate", "门禁", "Access control gate"),
    ("health_centre", "社区卫生服务站", "Community health station"),
    ("kindergarten", "幼儿园", "Kindergarten"),
    ("food_market", "肉菜市场", "Food market"),
    ("refuse_point", "垃圾收集点", "Refuse collection point"),
]
ISSUE_CATEGORIES = [
    ("water_pipes", "水管漏水", "Leaking water pipes"),
    ("heating", "暖气不热", "Cold radiators"),
    ("parking_disorder", "停车乱象", "Disorderly parking"),
    ("ground_locks", "私装地锁", "Private ground locks"),
    ("access_control", "门禁缺失", "Missing access control"),
    ("illegal_structure", "违章搭建", "Illegal structure"),
    ("other", "其他", "Other"),
]


def upgrade() -> None:
    seeds = (
        (
            "elevator_status",
            ("code", "rank", "label_zh", "label_en", "is_final"),
            ELEVATOR_STATUSES,
        ),
        ("facility_kind", ("code", "label_zh", "label_en"), FACILITY_KINDS),
        ("issue_category", ("code", "label_zh", "label_en"), ISSUE_CATEGORIES),
    )
    for table, columns, rows in seeds:
        lookup = sa.table(table, *(sa.column(c) for c in columns))
        values = [dict(zip(columns, row, strict=True)) for row in rows]
        op.execute(postgresql.insert(lookup).values(values).on_conflict_do_nothing())

    op.execute("""
        CREATE FUNCTION gis_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.version := OLD.version + 1;
            NEW.updated_at := now();
            RETURN NEW;
        END $$;
    """)
    for table in VERSIONED:
        op.execute(
            f"CREATE TRIGGER {table}_bump_version BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION gis_bump_version()"
        )

    op.execute("""
        CREATE FUNCTION gis_stairwell_status_date() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.elevator_status IS DISTINCT FROM OLD.elevator_status
               AND NEW.status_changed_on IS NOT DISTINCT FROM OLD.status_changed_on THEN
                NEW.status_changed_on := current_date;
            END IF;
            RETURN NEW;
        END $$;
    """)
    op.execute(
        "CREATE TRIGGER stairwell_status_date BEFORE UPDATE OF elevator_status "
        "ON stairwell FOR EACH ROW EXECUTE FUNCTION gis_stairwell_status_date()"
    )
    op.execute("""
        CREATE FUNCTION gis_stairwell_status_history() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO stairwell_status_history
                (stairwell_id, from_status, to_status, changed_on, changed_by)
            VALUES (NEW.id, OLD.elevator_status, NEW.elevator_status, NEW.status_changed_on,
                    nullif(current_setting('gis.username', true), ''));
            RETURN NULL;
        END $$;
    """)
    op.execute(
        "CREATE TRIGGER stairwell_status_history AFTER UPDATE OF elevator_status "
        "ON stairwell FOR EACH ROW "
        "WHEN (OLD.elevator_status IS DISTINCT FROM NEW.elevator_status) "
        "EXECUTE FUNCTION gis_stairwell_status_history()"
    )

    op.execute("""
        CREATE FUNCTION gis_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END $$;
    """)
    # The edit log is never changed; status history rows are never rewritten (they go only
    # with their stairwell).
    for table, events in (("edit_log", "UPDATE OR DELETE"), ("stairwell_status_history", "UPDATE")):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE {events} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION gis_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION gis_append_only()"
        )


def downgrade() -> None:
    for table in ("edit_log", "stairwell_status_history"):
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    op.execute("DROP FUNCTION gis_append_only()")
    op.execute("DROP TRIGGER stairwell_status_history ON stairwell")
    op.execute("DROP FUNCTION gis_stairwell_status_history()")
    op.execute("DROP TRIGGER stairwell_status_date ON stairwell")
    op.execute("DROP FUNCTION gis_stairwell_status_date()")
    for table in VERSIONED:
        op.execute(f"DROP TRIGGER {table}_bump_version ON {table}")
    op.execute("DROP FUNCTION gis_bump_version()")
    # Lookup rows that data still references stay (they are data now).
    op.execute("DELETE FROM issue_category WHERE code NOT IN (SELECT category FROM issue)")
    op.execute("DELETE FROM facility_kind WHERE code NOT IN (SELECT kind FROM facility)")
    op.execute(
        "DELETE FROM elevator_status WHERE code NOT IN (SELECT elevator_status FROM stairwell)"
    )
