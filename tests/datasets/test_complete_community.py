"""GET /analysis/complete-community through real HTTP on the demo district."""

from __future__ import annotations

import csv
import io

import pytest

from tests.datasets.conftest import COMPOUND_34, assert_named_422, execute, rows

NEW_KINDS = ("childcare", "parcel_point", "activity_ground", "supermarket")


def checklist(live, token, **params) -> dict:
    with live.client(token) as http:
        answer = http.get("/analysis/complete-community", params={"f": "json", **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def by_unit(answer: dict) -> dict[int, dict]:
    col = answer["level"] + "_id"
    return {row[col]: row for row in answer["rows"]}


def shares(row: dict) -> dict[str, float]:
    return {k["code"]: k["households_share"] for k in row["kinds"]}


def test_the_demo_communities_each_get_a_checklist_and_a_score(
    shared_live, shared_demo_db, tokens
):
    got = checklist(shared_live, tokens["planner"])
    codes = [r["code"] for r in got["requirements"]]
    assert len(codes) == 10 and got["present_share"] == 0.5
    assert "GB 50180-2018" in got["source"]["en"]
    communities = by_unit(got)
    assert len(communities) == 4 and all(r["name"] for r in communities.values())
    for row in communities.values():
        assert row["not_recorded"] == []  # every kind has a lookup row (migration 0012)
        assert sorted(row["present"] + row["missing"] + row["not_recorded"]) == sorted(codes)
        assert row["score"] == pytest.approx(100 * len(row["present"]) / 10)
        for kind in row["kinds"]:
            if kind["status"] != "not_recorded":
                assert (kind["status"] == "present") == (kind["households_share"] >= 0.5)
            assert kind["status_label"]["zh"] and kind["label"]["en"]
        missing = [k["label"]["zh"] for k in row["kinds"] if k["status"] != "present"]
        assert row["missing_zh"] == "、".join(missing)
    # Huanghua: its food market is at hand but green space is short; every community lacks
    # a kindergarten within 300 m of half of its households
    huanghua = next(r for r in communities.values() if r["name"] == "黄花社区")
    assert "food_market" in huanghua["present"] and "green_space" in huanghua["missing"]
    assert all("kindergarten" in r["missing"] for r in communities.values())
    # the demo's childcare, parcel points, activity grounds and supermarkets: a mix per community
    assert {r["name"]: r["score"] for r in communities.values()} == {
        "水荫南社区": 20, "水荫北社区": 50, "先烈中社区": 40, "黄花社区": 30}  # fmt: skip
    parcels = {r["name"] for r in communities.values() if "parcel_point" in r["present"]}
    assert parcels == {"水荫南社区", "水荫北社区", "黄花社区"}
    childcare = {r["name"]: shares(r)["childcare"] for r in communities.values()}
    assert all(0 < share < 0.5 for share in childcare.values())  # near some, never half
    checked = {r["code"] for r in got["requirements"] if r["to_check"]}
    assert checked == {"childcare", "parcel_point", "activity_ground", "food_market"}
    total = rows(shared_demo_db, "SELECT sum(households) AS n FROM stairwell")[0]["n"]
    assert sum(r["households"] for r in communities.values()) == total


def test_as_the_crow_flies_reaches_at_least_as_much_as_along_streets(shared_live, tokens):
    token = tokens["analyst"]
    walked = by_unit(checklist(shared_live, token))
    flown = by_unit(checklist(shared_live, token, mode="crow"))
    assert walked.keys() == flown.keys()
    for unit, row in walked.items():
        crow = shares(flown[unit])
        assert all(crow[c] >= s - 1e-9 for c, s in shares(row).items())
    assert any(shares(flown[u]) != shares(walked[u]) for u in walked)


def test_the_checklist_as_csv_reads_labels(shared_live, tokens):
    with shared_live.client(tokens["planner"]) as http:
        answer = http.get("/analysis/complete-community", params={"f": "csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert len(table) == 40
    kinder = [r for r in table if r["kind"] == "kindergarten"]
    assert {r["kind_zh"] for r in kinder} == {"幼儿园"} and {r["status_zh"] for r in kinder} == {
        "缺失"
    }


@pytest.mark.parametrize(("params", "field"), [({"level": "grid"}, "level"),
                                               ({"mode": "bus"}, "mode")])  # fmt: skip
def test_wrong_questions_are_named(shared_live, tokens, params, field):
    assert_named_422(shared_live, tokens["planner"], "/analysis/complete-community", params, field)


CENTRE = "(SELECT ST_Centroid(ST_Collect(geom)) FROM stairwell WHERE compound_id = :c)"


def test_hand_made_a_kindergarten_in_a_compound_fills_its_gap(live, demo_db, tokens):
    token = tokens["planner"]
    execute(demo_db, "DELETE FROM facility WHERE kind = 'kindergarten'")
    before = checklist(live, token, level="compound", compound_id=COMPOUND_34)
    assert [r["compound_id"] for r in before["rows"]] == [COMPOUND_34]
    assert shares(before["rows"][0])["kindergarten"] == 0.0
    execute(demo_db, f"INSERT INTO facility (name, kind, geom) VALUES ('幼儿园', 'kindergarten', "
            f"{CENTRE})", c=COMPOUND_34)  # fmt: skip
    after = checklist(live, token, level="compound", compound_id=COMPOUND_34)
    assert after["cached"] is False
    row = after["rows"][0]
    assert shares(row)["kindergarten"] >= 0.5 and "kindergarten" in row["present"]
    assert row["score"] == before["rows"][0]["score"] + 10


def test_hand_made_the_new_kinds_in_a_compound(live, demo_db, tokens):
    token = tokens["planner"]
    kinds = ", ".join(f"'{k}'" for k in (*NEW_KINDS, "food_market"))
    execute(demo_db, f"DELETE FROM facility WHERE kind IN ({kinds})")
    before = checklist(live, token, level="compound", compound_id=COMPOUND_34)["rows"][0]
    for code in ("childcare", "parcel_point", "activity_ground", "food_market"):
        assert code in before["missing"] and shares(before)[code] == 0.0
    assert before["not_recorded"] == []
    labels = {k["code"]: k["label"]["zh"] for k in before["kinds"]}
    assert "快递驿站" in labels["parcel_point"] and "超市" in labels["food_market"]
    # at the compound's centre: a childcare, a parcel point, an activity ground and a
    # supermarket (standing in for a food market); a second parcel point 700 m off counts not
    for kind in NEW_KINDS:
        execute(demo_db, f"INSERT INTO facility (name, kind, geom) VALUES ('{kind}', '{kind}', "
                f"{CENTRE})", c=COMPOUND_34)  # fmt: skip
    after = checklist(live, token, level="compound", compound_id=COMPOUND_34)["rows"][0]
    for code in ("childcare", "parcel_point", "activity_ground", "food_market"):
        assert code in after["present"] and shares(after)[code] >= 0.5
    assert after["score"] == before["score"] + 40
    execute(demo_db, "DELETE FROM facility WHERE kind = 'parcel_point'")
    execute(demo_db, "INSERT INTO facility (name, kind, geom) VALUES ('far', 'parcel_point', "
            f"ST_Translate({CENTRE}, 0.007, 0))", c=COMPOUND_34)  # fmt: skip
    far = checklist(live, token, level="compound", compound_id=COMPOUND_34)["rows"][0]
    assert "parcel_point" in far["missing"] and far["missing_en"].count("Parcel point") == 1
