"""Consent rules as data: the rule in force by day and city, and building-wide votes."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.catalog import default_catalog
from gis_service.datasets.consent import consent_report, pick_rule, stored_rules

LABELS = default_catalog().layer("households").labels


def test_the_rule_in_force_depends_on_the_day_and_the_city(register_db: Engine) -> None:
    with register_db.connect() as conn:
        rules = stored_rules(conn)
    assert pick_rule(rules, None, None, dt.date(2024, 5, 1)).rule.code == "civil_code_278"
    older = pick_rule(rules, None, "广州", dt.date(2019, 6, 1))
    assert older.rule.code == "two_thirds_owners_agree"
    assert pick_rule(rules, None, "广州", dt.date(2021, 1, 1)).rule.code == "civil_code_278"


def test_a_rule_where_the_building_votes_judges_every_stairwell_together(
    register_db: Engine,
) -> None:
    with register_db.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO consent_rule (code, valid_from, voters, quorum_area, quorum_owners, "
            "approval_area, approval_owners, title_zh, title_en, source) VALUES ('whole_building', "
            "'2030-01-01', 'building', '2/3', '2/3', '3/4', '3/4', '整栋表决', 'Whole building', "
            "'test')"))  # fmt: skip
        building, stairwell = conn.execute(sa.text(
            "SELECT building_id, min(id) FROM stairwell WHERE batch_id = 1 GROUP BY building_id "
            "ORDER BY building_id LIMIT 1")).one()  # fmt: skip
        flats = conn.execute(sa.text(
            "SELECT count(*) FROM household h JOIN stairwell s ON s.id = h.stairwell_id "
            "WHERE s.building_id = :b"), {"b": building}).scalar_one()  # fmt: skip
        stored = pick_rule(stored_rules(conn), None, None, dt.date(2030, 6, 1))
        assert stored.rule.code == "whole_building"
        report = consent_report(conn, stored, ("stairwell_id", stairwell), LABELS)
    (row,) = report["stairwells"]
    assert report["voters"]["unit"] == "building" and row["households"] == flats
    assert report["voters"]["label"]["zh"] == "本楼栋业主"
