"""The database itself refuses what must never be stored."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from gis_service.rows.messages import MESSAGES, TRIGGER_RULES
from tests.conftest import scalar

STAIRWELL_34 = (
    "SELECT s.id FROM stairwell s JOIN compound c ON c.id = s.compound_id "
    "WHERE c.name = '水荫路34号大院' ORDER BY s.id LIMIT 1"
)


def refused(engine: Engine, sql: str, **params: object) -> str:
    """Run a write that must fail; return the database's message."""
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.execute(sa.text(sql), params)
    return str(caught.value.orig)


@pytest.mark.parametrize(
    ("change", "constraint"),
    [
        (
            "households = -1, elderly_households = 0, consent_agree = 0, consent_object = 0",
            "ck_stairwell_households|ck_stairwell_consent",
        ),
        ("elderly_households = households + 1", "ck_stairwell_elderly"),
        ("consent_agree = households, consent_object = 1", "ck_stairwell_consent"),
        ("consent_agree = -2", "ck_stairwell_consent"),
        ("survey_status = 'maybe'", "ck_stairwell_survey_status"),
        ("maintenance_model = 'nobody'", "ck_stairwell_maintenance"),
        ("floors = 0", "ck_stairwell_floors"),
        ("geom = ST_SetSRID(ST_MakePoint(200, 23), 4326)", "ck_stairwell_geom_lonlat"),
    ],
)
def test_stairwell_rules_are_enforced_by_the_database(
    demo_db: Engine, change: str, constraint: str
) -> None:
    stairwell = scalar(demo_db, STAIRWELL_34)
    message = refused(demo_db, f"UPDATE stairwell SET {change} WHERE id = :id", id=stairwell)
    assert any(name in message for name in constraint.split("|"))
    assert scalar(demo_db, "SELECT households >= 0 FROM stairwell WHERE id = :id", id=stairwell)


def test_unknown_elevator_status_is_refused(demo_db: Engine) -> None:
    stairwell = scalar(demo_db, STAIRWELL_34)
    message = refused(
        demo_db, "UPDATE stairwell SET elevator_status = 'teleporter' WHERE id = :id", id=stairwell
    )
    assert "elevator_status" in message


def test_a_city_can_extend_the_pipeline_as_data(demo_db: Engine) -> None:
    stairwell = scalar(demo_db, STAIRWELL_34)
    with demo_db.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO elevator_status (code, rank, label_zh, label_en) "
                "VALUES ('public_notice', 35, '公示', 'Public notice')"
            )
        )
        conn.execute(
            sa.text("UPDATE stairwell SET elevator_status = 'public_notice' WHERE id = :id"),
            {"id": stairwell},
        )
    assert (
        scalar(demo_db, "SELECT elevator_status FROM stairwell WHERE id = :id", id=stairwell)
        == "public_notice"
    )


def test_self_intersecting_building_is_refused(demo_db: Engine) -> None:
    bowtie = (
        "MULTIPOLYGON(((113.29 23.14, 113.291 23.141, 113.291 23.14, 113.29 23.141, 113.29 23.14)))"
    )
    message = refused(
        demo_db,
        "INSERT INTO building (name, floors, geom) VALUES ('x', 6, ST_GeomFromText(:wkt, 4326))",
        wkt=bowtie,
    )
    assert "ck_building_geom_valid" in message


def test_wrong_geometry_type_and_srid_are_refused(demo_db: Engine) -> None:
    refused(
        demo_db,
        "INSERT INTO garden (name, kind, area_m2, geom) VALUES "
        "('g', 'pocket_park', 10, ST_SetSRID(ST_MakePoint(113.29, 23.14), 4326))",
    )
    refused(
        demo_db,
        "INSERT INTO facility (name, kind, geom) VALUES "
        "('f', 'police_room', ST_SetSRID(ST_MakePoint(113.29, 23.14), 4490))",
    )


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        (
            "INSERT INTO parking (name, kind, capacity, geom) VALUES ('p', 'helipad', 3, "
            "ST_SetSRID(ST_MakePoint(113.29, 23.14), 4326))",
            "ck_parking_kind",
        ),
        (
            "INSERT INTO parking (name, kind, capacity, geom) VALUES ('p', 'surface_lot', -3, "
            "ST_SetSRID(ST_MakePoint(113.29, 23.14), 4326))",
            "ck_parking_capacity",
        ),
        ("UPDATE issue SET status = 'forgotten'", "ck_issue_status"),
        ("UPDATE issue SET status = 'resolved', resolved_at = NULL", "ck_issue_resolved_at"),
        ("UPDATE app_user SET role = 'superuser'", "ck_app_user_role"),
        (
            "INSERT INTO survey (stairwell_id, surveyed_on, households, consent_agree) "
            "VALUES ((SELECT min(id) FROM stairwell), '2025-01-01', 10, 11)",
            "ck_survey_consent",
        ),
    ],
)
def test_other_rules_are_enforced_by_the_database(
    demo_db: Engine, sql: str, constraint: str
) -> None:
    assert constraint in refused(demo_db, sql)


def test_edit_log_is_append_only(demo_db: Engine) -> None:
    with demo_db.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO edit_log (table_name, feature_id, action, after) "
                "VALUES ('stairwell', '1', 'update', '{\"households\": 3}')"
            )
        )
    assert "append-only" in refused(demo_db, "UPDATE edit_log SET action = 'delete'")
    assert "append-only" in refused(demo_db, "DELETE FROM edit_log")
    assert "append-only" in refused(demo_db, "TRUNCATE edit_log")
    assert scalar(demo_db, "SELECT count(*) FROM edit_log") == 1


def test_status_changes_are_kept_as_history_and_versions_bump(demo_db: Engine) -> None:
    stairwell = scalar(demo_db, STAIRWELL_34 + " OFFSET 20")
    version = scalar(demo_db, "SELECT version FROM stairwell WHERE id = :id", id=stairwell)
    with demo_db.begin() as conn:
        conn.execute(sa.text("SET LOCAL gis.username = 'planner'"))
        for status in ("approved", "under_construction"):
            conn.execute(
                sa.text("UPDATE stairwell SET elevator_status = :s WHERE id = :id"),
                {"s": status, "id": stairwell},
            )
    with demo_db.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT from_status, to_status, changed_by FROM stairwell_status_history "
                "WHERE stairwell_id = :id AND changed_by = 'planner' ORDER BY id"
            ),
            {"id": stairwell},
        ).all()
    assert [tuple(r) for r in rows] == [
        ("applied", "approved", "planner"),
        ("approved", "under_construction", "planner"),
    ]
    assert (
        scalar(demo_db, "SELECT version FROM stairwell WHERE id = :id", id=stairwell) == version + 2
    )
    assert "append-only" in refused(
        demo_db, "UPDATE stairwell_status_history SET to_status = 'none'"
    )


def test_foreign_keys_hold(demo_db: Engine) -> None:
    with pytest.raises(IntegrityError), demo_db.begin() as conn:
        conn.execute(sa.text("UPDATE stairwell SET building_id = 999999 WHERE id = 1"))


def test_every_write_bumps_its_tables_data_version(demo_db: Engine) -> None:
    def version(table: str) -> object:
        return scalar(demo_db, "SELECT version FROM data_version WHERE table_name = :t", t=table)

    stairwells, gardens = version("stairwell"), version("garden")
    with demo_db.begin() as conn:
        conn.execute(sa.text("UPDATE stairwell SET notes = 'x' WHERE id = 1"))
    assert version("stairwell") == stairwells + 1  # type: ignore[operator]
    assert version("garden") == gardens


def test_every_rule_a_trigger_refuses_by_has_its_zh_and_en_message(demo_db: Engine) -> None:
    """The rules the triggers name when they refuse a write (gis_refuse) are the ones
    rows/messages.py lists, each said in Chinese and English: a page shows a refusal in its
    own language, never the API's English or a rule's code."""
    with demo_db.connect() as conn:
        bodies = conn.execute(sa.text(
            "SELECT prosrc FROM pg_proc WHERE proname <> 'gis_refuse' "
            "AND prosrc LIKE '%gis_refuse(%'")).scalars().all()  # fmt: skip
    named = {rule for body in bodies
             for rule in re.findall(r"gis_refuse\([^,]+,[^,]+,\s*'(\w+)'", body)}  # fmt: skip
    assert named == set(TRIGGER_RULES)
    for lang in ("zh", "en"):
        assert all(MESSAGES[lang].get(rule) for rule in TRIGGER_RULES)
    assert not any(rule in MESSAGES["zh"][rule] for rule in TRIGGER_RULES)  # words, not codes
