"""/scenarios: create, list, get with deltas, compare, delete; roles and validation."""

from __future__ import annotations

import pytest

from tests.datasets.conftest import COMPOUND_34, execute


def indicator(body: dict, unit: int, name: str, col: str = "compound_id") -> dict:
    """One evaluation row."""
    return next(r for r in body["evaluation"]["rows"] if r[col] == unit and r["indicator"] == name)


BATCH_1 = {"name": "连片加装 batch 1", "interventions": {"batches": [1]}}


def test_scenario_lifecycle_with_deltas(live, demo_db, tokens):
    planner, analyst = live.client(tokens["planner"]), live.client(tokens["analyst"])
    created = planner.post("/scenarios", json=BATCH_1)
    assert created.status_code == 201, created.text
    first = created.json()
    assert created.headers["location"] == f"/scenarios/{first['id']}"
    share = indicator(first, COMPOUND_34, "elevator_share_stairwells")
    assert share["baseline"] == pytest.approx(15 / 57)
    assert share["scenario"] == pytest.approx(1.0)
    assert share["delta"] == pytest.approx(42 / 57)
    moved = indicator(first, COMPOUND_34, "elevator_in_service_stairwells")
    assert (moved["baseline"], moved["scenario"], moved["delta"]) == (15, 57, 42)

    garden = {
        "name": "garden on the compound's demolished shed site",
        "interventions": {"amenities": [{"site_id": 5, "kind": "garden"}]},
        "parameters": {"mode": "crow"},
    }
    second = planner.post("/scenarios", json=garden).json()
    listed = analyst.get("/scenarios").json()
    assert {s["id"] for s in listed} == {first["id"], second["id"]}

    got = analyst.get(f"/scenarios/{first['id']}", params={"changed_only": "true"}).json()
    assert got["evaluation"]["source"] == "stored"
    assert {r["compound_id"] for r in got["evaluation"]["rows"]} == {COMPOUND_34}
    district = analyst.get(f"/scenarios/{first['id']}", params={"level": "district"}).json()
    assert indicator(district, 1, "elevator_in_service_stairwells", "district_id")["delta"] == 42

    compared = analyst.get(
        "/scenarios/compare", params={"ids": f"{first['id']},{second['id']}", "level": "compound"}
    )
    assert compared.status_code == 200
    row = next(
        r for r in compared.json()["rows"]
        if r["compound_id"] == COMPOUND_34 and r["indicator"] == "elevator_in_service_stairwells"
    )  # fmt: skip
    assert (row[f"delta_{first['id']}"], row[f"delta_{second['id']}"]) == (42, 0)
    garden_rows = [r for r in compared.json()["rows"] if r["indicator"] == "garden_area_ratio"]
    assert sum(r[f"delta_{second['id']}"] for r in garden_rows) > 0

    execute(demo_db, "UPDATE stairwell SET households = households + 1 WHERE id = 1")
    stale = analyst.get(f"/scenarios/{first['id']}").json()
    assert stale["evaluation"]["source"] == "computed"

    assert analyst.delete(f"/scenarios/{first['id']}").status_code == 403
    assert planner.delete(f"/scenarios/{first['id']}").status_code == 204
    assert planner.get(f"/scenarios/{first['id']}").status_code == 404
    assert planner.delete(f"/scenarios/{first['id']}").status_code == 404


def test_roles(live, tokens):
    assert live.client(tokens["analyst"]).post("/scenarios", json=BATCH_1).status_code == 403
    assert live.client().post("/scenarios", json=BATCH_1).status_code == 401
    assert live.client().get("/scenarios").status_code == 401
    assert live.client(tokens["grid01"]).get("/scenarios").status_code == 403
    planner = live.client(tokens["planner"])
    assert planner.post("/scenarios", json=BATCH_1).status_code == 201
    assert planner.post("/scenarios", json=BATCH_1).status_code == 409


@pytest.mark.parametrize(
    ("interventions", "field"),
    [
        ({"elevators": [999999]}, "interventions.elevators"),
        ({"batches": [77]}, "interventions.batches"),
        ({"amenities": [{"site_id": 9999, "kind": "garden"}]}, "interventions.amenities.0"),
        ({"amenities": [{"site_id": 1, "kind": "pool"}]}, "interventions.amenities.0.kind"),
        ({"amenities": [{"site_id": 1, "kind": "garden", "size": -1}]}, "amenities.0.size"),
        ({}, "interventions"),
        (
            {"amenities": [{"site_id": 5, "kind": "parking", "facility_kind": "pocket_park"}]},
            "interventions.amenities.facility_kind",
        ),
    ],
)
def test_interventions_are_checked_against_the_database(live, tokens, interventions, field):
    answer = live.client(tokens["planner"]).post(
        "/scenarios", json={"name": "bad", "interventions": interventions}
    )
    assert answer.status_code == 422, answer.text
    assert any(field in e["field"] for e in answer.json()["errors"])


def test_bad_reads_are_422(live, tokens):
    analyst = live.client(tokens["analyst"])
    assert analyst.get("/scenarios/compare", params={"ids": "x"}).status_code == 422
    assert analyst.get("/scenarios/1", params={"level": "planet"}).status_code == 422
    assert analyst.get("/scenarios/compare", params={"ids": "12345"}).status_code == 404
