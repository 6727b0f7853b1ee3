"""GET /analysis/coverage through real HTTP against the demo district."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
import sqlalchemy as sa

from gis_service.analysis.coverage import Eligibility, coverage
from gis_service.datasets.area import Area
from gis_service.datasets.coverage import coverage_in_sql
from gis_service.datasets.load import load_stairwells, statuses
from gis_service.datasets.runs import coverage_table
from tests.datasets.conftest import COMPOUND_34, execute, rows

ELIGIBLE = "b.year_built <= 2000 AND b.floors >= 4 AND NOT b.has_original_elevator"
UNIT = {
    "grid": "s.grid_id",
    "compound": "s.compound_id",
    "community": "g.community_id",
    "subdistrict": "cm.subdistrict_id",
    "district": "sd.district_id",
}


HOUSEHOLD_COUNTS = ("eligible_households", "in_service_households", "eligible_elderly_households",
                    "in_service_elderly_households")  # fmt: skip


def sql_coverage(engine, level: str) -> dict[int, dict]:
    """Eligible and in-service counts per unit, counted independently in SQL."""
    found = rows(
        engine,
        f"""
        SELECT {UNIT[level]} AS unit,
               count(*) AS stairwells,
               count(*) FILTER (WHERE {ELIGIBLE}) AS eligible,
               count(*) FILTER (WHERE {ELIGIBLE} AND s.elevator_status = 'in_service') AS done,
               coalesce(sum(s.households) FILTER (WHERE {ELIGIBLE}), 0) AS hh,
               coalesce(sum(s.elderly_households)
                        FILTER (WHERE {ELIGIBLE} AND s.elevator_status = 'in_service'), 0) AS old
        FROM stairwell s JOIN building b ON b.id = s.building_id
        JOIN grid g ON g.id = s.grid_id JOIN community cm ON cm.id = g.community_id
        JOIN subdistrict sd ON sd.id = cm.subdistrict_id
        GROUP BY 1
        """,
    )
    return {r["unit"]: r for r in found}


def test_compound_34_is_15_of_57(shared_live, tokens):
    with shared_live.client(tokens["planner"]) as http:
        answer = http.get("/analysis/coverage", params={"level": "compound"})
    assert answer.status_code == 200
    row = next(r for r in answer.json()["rows"] if r["compound_id"] == COMPOUND_34)
    assert row["name"] == "水荫路34号大院"
    assert (row["eligible_stairwells"], row["in_service_stairwells"]) == (57, 15)
    assert row["status_applied"] == 42
    assert row["share_stairwells"] == pytest.approx(15 / 57)


def test_the_answer_and_the_api_document_state_the_eligibility_rule(shared_live, tokens):
    with shared_live.client(tokens["planner"]) as http:
        answer = http.get("/analysis/coverage", params={"cutoff_year": 1995}).json()
        document = http.get("/openapi.json").json()
    eligible = answer["definitions"]["eligible"]
    assert "end of 1995" in eligible["en"] and "no original elevator" in eligible["en"]
    assert "1995年底前建成" in eligible["zh"] and "原无电梯" in eligible["zh"]
    described = document["paths"]["/analysis/coverage"]["get"]["description"]
    assert "end of 2000, with 4 or more floors" in described and "no original elevator" in described


def test_batch_projection_15_57_to_57_57(shared_live, tokens):
    with shared_live.client(tokens["planner"]) as http:
        answer = http.get("/analysis/coverage", params={"level": "compound", "batch": 1})
    assert answer.status_code == 200
    (row,) = answer.json()["rows"]
    assert row["compound_id"] == COMPOUND_34
    assert row["label"] == "15/57 -> 57/57"
    assert row["batch_stairwells"] == 42
    assert row["after_share_households"] == pytest.approx(1.0)


@pytest.mark.parametrize("level", list(UNIT))
def test_figures_equal_an_independent_sql_count(shared_live, shared_demo_db, tokens, level):
    expected = sql_coverage(shared_demo_db, level)
    with shared_live.client(tokens["analyst"]) as http:
        answer = http.get("/analysis/coverage", params={"level": level})
    got = {r[f"{level}_id"]: r for r in answer.json()["rows"]}
    assert set(got) == set(expected)
    for unit, want in expected.items():
        row = got[unit]
        assert row["stairwells"] == want["stairwells"]
        assert row["eligible_stairwells"] == want["eligible"]
        assert row["in_service_stairwells"] == want["done"]
        assert row["eligible_households"] == want["hh"]
        assert row["in_service_elderly_households"] == want["old"]
        for count in HOUSEHOLD_COUNTS:  # 781 households, never 781.0
            assert isinstance(row[count], int), (count, row[count])


def test_csv_and_geojson_for_the_choropleth(shared_live, shared_demo_db, tokens):
    expected = sql_coverage(shared_demo_db, "community")
    with shared_live.client(tokens["planner"]) as http:
        table = http.get("/analysis/coverage", params={"level": "community", "f": "csv"})
        geo = http.get("/analysis/coverage", params={"level": "community", "f": "geojson"})
    assert table.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(table.text)))
    assert {int(r["community_id"]): int(r["in_service_stairwells"]) for r in parsed} == {
        unit: r["done"] for unit, r in expected.items()
    }
    for r in parsed:  # whole numbers in the CSV: "781", never "781.0"
        assert int(r["eligible_households"]) == expected[int(r["community_id"])]["hh"]
        assert all(int(r[count]) >= 0 for count in HOUSEHOLD_COUNTS)
    assert geo.headers["content-type"].startswith("application/geo+json")
    features = geo.json()["features"]
    assert len(features) == len(expected)
    for feature in features:
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        props = feature["properties"]
        want = expected[feature["id"]]
        assert props["share_stairwells"] == pytest.approx(want["done"] / want["eligible"])


def test_anonymous_is_401_and_grid_worker_sees_own_grid_only(shared_live, shared_demo_db, tokens):
    with shared_live.client() as http:
        assert http.get("/analysis/coverage").status_code == 401
    own = rows(
        shared_demo_db,
        "SELECT g.grid_id FROM user_grid g JOIN app_user u ON u.id = g.user_id "
        "WHERE u.username = 'grid01'",
    )
    grids = {r["grid_id"] for r in own}
    expected = sql_coverage(shared_demo_db, "grid")
    with shared_live.client(tokens["grid01"]) as http:
        by_grid = http.get("/analysis/coverage", params={"level": "grid"}).json()["rows"]
        by_district = http.get("/analysis/coverage", params={"level": "district"}).json()["rows"]
    assert grids and {r["grid_id"] for r in by_grid} == grids
    assert sum(r["stairwells"] for r in by_district) == sum(
        expected[g]["stairwells"] for g in grids
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"level": "city"}, "level"),
        ({"batch": 99}, "batch"),
        ({"batch": "one"}, "batch"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"compound_id": 99999}, "compound_id"),
        ({"f": "xlsx"}, "f"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(shared_live, tokens, params, field):
    with shared_live.client(tokens["planner"]) as http:
        answer = http.get("/analysis/coverage", params=params)
    assert answer.status_code == 422
    assert any(field in e["field"] for e in answer.json()["errors"])


def test_results_are_cached_and_a_sql_write_invalidates_them(live, demo_db, tokens):
    params = {"level": "compound", "compound_id": COMPOUND_34}
    with live.client(tokens["planner"]) as http:
        first = http.get("/analysis/coverage", params=params)
        second = http.get("/analysis/coverage", params=params)
        assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
        assert second.json()["cached"] is True
        assert second.json()["rows"] == first.json()["rows"]
        kept = http.get("/analysis/coverage", params=params)  # the bytes of the hit, kept
        as_csv = http.get("/analysis/coverage", params={**params, "f": "csv"})
        assert (kept.headers["x-cache"], kept.content) == ("hit", second.content)
        assert as_csv.headers["content-type"].startswith("text/csv")  # not the kept JSON
        execute(demo_db, "UPDATE stairwell SET elevator_status = 'in_service' WHERE batch_id = 1")
        third = http.get("/analysis/coverage", params=params)
        fourth = http.get("/analysis/coverage", params=params)
        fifth = http.get("/analysis/coverage", params=params)
    assert third.json()["rows"][0]["in_service_stairwells"] == 57  # refreshed (ahead, or asked)
    assert fifth.content == fourth.content != second.content
    assert fifth.json()["rows"][0]["in_service_stairwells"] == 57


@pytest.mark.parametrize(
    ("level", "area", "rule"),
    [
        ("compound_id", Area(), Eligibility()),
        ("grid_id", Area(), Eligibility(cutoff_year=1990, min_floors=6)),
        ("community_id", Area(), Eligibility()),
        ("district_id", Area(), Eligibility(cutoff_year=2020, min_floors=1)),
        ("compound_id", Area(compound_id=COMPOUND_34), Eligibility()),
    ],
)
def test_coverage_counted_in_sql_is_the_engine_table(shared_demo_db, level, area, rule):
    """The GROUP BY answer has the engine's columns, order, types and figures, to the digit."""
    with shared_demo_db.connect() as conn:
        stairwells = load_stairwells(conn, area)
        engine = coverage(stairwells, level, statuses(conn), rule)
        counted = coverage_table(conn, level, area, rule=rule)
    assert len(counted) >= 1
    pd.testing.assert_frame_equal(counted, engine, check_exact=True)
    assert (counted[list(HOUSEHOLD_COUNTS)].dtypes == "int64").all()


def test_coverage_counted_in_sql_keeps_stairwells_outside_any_compound(demo_db):
    """A stairwell with no compound is a unit of its own (null), as in the engine."""
    with demo_db.begin() as conn:
        conn.execute(sa.text("UPDATE stairwell SET compound_id = NULL WHERE id IN "
                             "(SELECT id FROM stairwell ORDER BY id LIMIT 3)"))  # fmt: skip
        engine = coverage(load_stairwells(conn), "compound_id", statuses(conn))
        counted = coverage_table(conn, "compound_id")
    assert counted["compound_id"].isna().sum() == 1
    assert counted["compound_id"].dtype == "Int64"  # ids stay whole: 7, never 7.0
    pd.testing.assert_frame_equal(counted, engine, check_exact=True)


PLACED = """
SELECT {unit} AS unit, count(*) AS n FROM stairwell s
LEFT JOIN grid g ON g.id = s.grid_id LEFT JOIN compound c ON c.id = s.compound_id
LEFT JOIN community cm ON cm.id = coalesce(g.community_id, c.community_id)
LEFT JOIN subdistrict sd ON sd.id = cm.subdistrict_id GROUP BY 1
"""
"""Stairwells per unit above the compound, by the rule written out: a stairwell is in its
grid's community, else in its compound's."""


def test_a_unit_above_the_compound_holds_its_stairwells_however_grid_and_compound_disagree(
    demo_db,
):
    """A stairwell whose grid and compound are in different communities is its grid's; one
    with no grid is its compound's; one with neither is in no unit. Filtering an area by such
    a unit, and re-counting a few units (or those in none) after an edit, find exactly those
    stairwells."""
    with demo_db.begin() as conn:
        split = conn.execute(sa.text(
            "SELECT s.id, c.id AS other FROM stairwell s JOIN grid g ON g.id = s.grid_id "
            "JOIN compound c ON c.community_id <> g.community_id "
            "ORDER BY s.id, c.id LIMIT 1")).one()  # fmt: skip
        conn.execute(sa.text("UPDATE stairwell SET compound_id = :c WHERE id = :s"),
                     {"c": split.other, "s": split.id})  # fmt: skip
        conn.execute(sa.text("UPDATE stairwell SET grid_id = NULL, compound_id = :c WHERE id = "
                             "(SELECT max(id) FROM stairwell WHERE id <> :s)"),
                     {"c": split.other, "s": split.id})  # fmt: skip
        conn.execute(sa.text("UPDATE stairwell SET grid_id = NULL, compound_id = NULL WHERE id = "
                             "(SELECT min(id) FROM stairwell WHERE id <> :s)"), {"s": split.id})
        pipeline = statuses(conn)
        for level, unit in (("community", "coalesce(g.community_id, c.community_id)"),
                            ("subdistrict", "cm.subdistrict_id"),
                            ("district", "sd.district_id")):  # fmt: skip
            placed = {r.unit: r.n for r in conn.execute(sa.text(PLACED.format(unit=unit)))}
            assert placed[None] == 1
            col = f"{level}_id"
            whole = coverage_table(conn, col)
            assert dict(zip(whole[col].astype(object).where(whole[col].notna(), None),
                            whole["stairwells"], strict=True)) == placed, level  # fmt: skip
            for uid, n in placed.items():
                if uid is not None:
                    area = coverage_table(conn, "compound_id", Area(**{col: uid}))
                    assert area["stairwells"].sum() == n, (level, uid)
                    one = coverage_in_sql(conn, col, Area(), pipeline, Eligibility(), {uid})
                    assert one[col].tolist() == [uid] and one["stairwells"].tolist() == [n]
                few = coverage_in_sql(conn, col, Area(), pipeline, Eligibility(), {uid, None})
                counted = dict(zip(few[col].astype(object).where(few[col].notna(), None),
                                   few["stairwells"], strict=True))  # fmt: skip
                assert counted == {uid: n, None: 1}, (level, uid)
