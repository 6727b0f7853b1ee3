"""GET /analysis/supply through real HTTP on the demo district and on hand-made facilities."""

from __future__ import annotations

import pytest

from tests.datasets.conftest import COMPOUND_34, assert_named_422, execute, rows


def supply(live, token, **params) -> dict:
    with live.client(token) as http:
        answer = http.get("/analysis/supply", params={"f": "json", **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def by(answer: dict, key: str) -> dict:
    return {row[key]: row for row in answer["rows"]}


def test_car_spaces_by_community_add_up_and_state_their_definitions(
    shared_live, shared_demo_db, tokens
):
    token = tokens["planner"]
    communities = supply(shared_live, token, layer="parking", measure="car_spaces",
                         level="community")  # fmt: skip
    compounds = supply(shared_live, token, layer="parking", measure="car_spaces")
    assert communities["measure"]["kinds"] == ["stacked_garage", "surface_lot"]
    assert communities["measure"]["radii_m"] == {"surface_lot": 300.0, "stacked_garage": 300.0}
    assert communities["measure"]["target"] == 0.3
    assert "MOHURD" in communities["measure"]["target_source"]["en"]
    assert "2000" in communities["definitions"]["eligible"]["en"]
    assert "4层" in communities["definitions"]["eligible"]["zh"]
    total = sum(r["supply"] for r in communities["rows"])
    assert total == pytest.approx(sum(r["supply"] for r in compounds["rows"]))
    capacity = rows(shared_demo_db, "SELECT sum(capacity) AS c FROM parking "
                    "WHERE kind IN ('surface_lot', 'stacked_garage')")[0]["c"]  # fmt: skip
    assert 0 < total <= capacity + 1e-6  # a lot nobody reaches gives nobody anything
    for r in communities["rows"]:
        assert r["name"]
        assert isinstance(r["households"], int) and isinstance(r["households_reached"], int)
        assert r["shortage"] == pytest.approx(r["households"] * 0.3 - r["supply"])
        assert r["ratio"] == pytest.approx(r["supply"] / r["households"])


def test_car_spaces_alone_are_fewer_than_every_parking_kind_summed(shared_live, tokens):
    token = tokens["planner"]
    cars = by(supply(shared_live, token, layer="parking", measure="car_spaces"), "compound_id")
    for measure in ("bicycle_places", "ev_points"):
        other = by(supply(shared_live, token, layer="parking", measure=measure), "compound_id")
        assert other.keys() == cars.keys()
        assert sum(r["supply"] for r in other.values()) > 0
    no_car = [r for r in cars.values() if r["households_reached"] == 0]
    assert no_car, "some compounds reach no car space"
    assert all(r["shortage"] == pytest.approx(r["households"] * 0.3) for r in no_car)


def test_a_compound_alone_gets_what_the_whole_city_gives_it(shared_live, tokens):
    token = tokens["analyst"]
    city = by(supply(shared_live, token, layer="parking", measure="car_spaces"), "compound_id")
    one = supply(shared_live, token, layer="parking", measure="car_spaces",
                 compound_id=COMPOUND_34)  # fmt: skip
    assert [r["compound_id"] for r in one["rows"]] == [COMPOUND_34]
    row = one["rows"][0]
    assert row["supply"] == pytest.approx(city[COMPOUND_34]["supply"], rel=1e-12)
    assert row["stairwells"] == 57


def test_garden_area_is_per_resident(shared_live, tokens):
    answer = supply(shared_live, tokens["planner"], layer="gardens", level="district")
    assert answer["parameters"]["measure"] == "garden_area"
    assert answer["measure"]["per"] == "resident"
    row = answer["rows"][0]
    assert row["demand"] == pytest.approx(row["households"] * 2.62)
    assert row["shortage"] == pytest.approx(row["demand"] * 0.35 - row["supply"])


def test_decay_lowers_what_far_stairwells_get(shared_live, tokens):
    token = tokens["planner"]
    plain = by(supply(shared_live, token, layer="parking", level="stairwell"), "id")
    for decay in ("gaussian", "stepped"):
        weighted = by(supply(shared_live, token, layer="parking", level="stairwell",
                             decay=decay), "id")  # fmt: skip
        assert {i for i, r in weighted.items() if r["reached"]} == {
            i for i, r in plain.items() if r["reached"]
        }
        assert weighted != plain


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"layer": "parking", "measure": "garden_area"}, "measure"),
        ({"layer": "facilities"}, "layer"),
        ({"layer": "parking", "decay": "linear"}, "decay"),
        ({"layer": "parking", "target": "-1"}, "target"),
        ({"layer": "parking", "level": "building"}, "level"),
    ],
)
def test_wrong_questions_are_named(shared_live, tokens, params, field):
    assert_named_422(shared_live, tokens["planner"], "/analysis/supply", params, field)


STAIRWELL = """SELECT s.id, s.compound_id FROM stairwell s WHERE s.compound_id = :c
               ORDER BY s.id LIMIT 1"""
AT = ("ST_Project((SELECT geom FROM stairwell WHERE id = :s)::geography, :m, "
      "radians(:deg))::geometry")


def test_hand_made_an_ev_point_450_m_away_counts_a_shed_200_m_away_does_not(
    live, demo_db, tokens
):
    engine = demo_db
    s = rows(engine, STAIRWELL, c=COMPOUND_34)[0]["id"]
    execute(engine, "DELETE FROM parking")
    execute(engine, f"INSERT INTO parking (name, kind, capacity, geom) VALUES "
            f"('EV', 'ev_charging', 8, {AT})", s=s, m=450, deg=90)  # fmt: skip
    execute(engine, f"INSERT INTO parking (name, kind, capacity, geom) VALUES "
            f"('shed', 'bicycle_shed', 80, {AT})", s=s, m=200, deg=0)  # fmt: skip
    token = tokens["planner"]
    ev = by(supply(live, token, layer="parking", measure="ev_points", mode="crow",
                   level="stairwell"), "id")[s]  # fmt: skip
    shed = by(supply(live, token, layer="parking", measure="bicycle_places", mode="crow",
                     level="stairwell"), "id")[s]  # fmt: skip
    assert ev["reached"] and ev["ratio"] > 0
    assert not shed["reached"] and shed["ratio"] == 0


def test_hand_made_a_bicycle_shed_next_to_a_compound_leaves_its_car_shortage(
    live, demo_db, tokens
):
    engine, token = demo_db, tokens["planner"]
    ask = {"layer": "parking", "measure": "car_spaces", "compound_id": COMPOUND_34}
    bikes = {**ask, "measure": "bicycle_places"}
    before = supply(live, token, **ask)["rows"][0]
    bikes_before = supply(live, token, **bikes)["rows"][0]
    s = rows(engine, STAIRWELL, c=COMPOUND_34)[0]["id"]
    execute(engine, f"INSERT INTO parking (name, kind, capacity, geom) VALUES "
            f"('big shed', 'bicycle_shed', 500, {AT})", s=s, m=10, deg=90)  # fmt: skip
    after = supply(live, token, **ask)["rows"][0]
    assert after["shortage"] == pytest.approx(before["shortage"]) and before["shortage"] > 0
    bikes_after = supply(live, token, **bikes)["rows"][0]
    assert bikes_after["supply"] > bikes_before["supply"] + 100  # the shed serves them bicycles
