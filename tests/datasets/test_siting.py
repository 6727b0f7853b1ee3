"""POST /analysis/siting through real HTTP against the demo district."""

from __future__ import annotations

import pytest

from tests.datasets.conftest import rows


def site(live, token, **body):
    with live.client(token) as http:
        return http.post("/analysis/siting", json=body)


def test_greedy_chooses_k_distinct_sites_serving_new_households(
    shared_live, shared_demo_db, tokens
):
    answer = site(shared_live, tokens["analyst"], layer="gardens", k=3)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    ids = result["site_ids"]
    assert len(ids) == len(set(ids)) == 3
    known = {r["id"] for r in rows(shared_demo_db, "SELECT id FROM candidate_site")}
    assert set(ids) <= known
    assert result["newly_served_households"] > 0
    assert result["newly_served_households"] == sum(
        c["newly_served_households"] for c in result["chosen"]
    )
    assert result["share_households_served_after"] > result["share_households_served_before"]
    counts = [result[c] for c in ("unserved_households_before", "newly_served_households",
                                  "newly_served_elderly_households")]  # fmt: skip
    counts += [c["newly_served_households"] for c in result["chosen"]]
    assert all(isinstance(n, int) for n in counts), counts  # 781 households, never 781.0
    assert result["method"].startswith("greedy") and result["optimality_gap"] is None


def test_exact_reports_the_gap_and_is_at_least_as_good(shared_live, tokens):
    greedy = site(shared_live, tokens["planner"], layer="gardens", k=2).json()
    exact = site(shared_live, tokens["planner"], layer="gardens", k=2, method="exact").json()
    assert exact["status"] == "optimal" and exact["optimality_gap"] == pytest.approx(0.0)
    assert exact["objective"] >= greedy["objective"] - 1e-9
    assert exact["best_bound"] == pytest.approx(exact["objective"])


def test_budget_limits_the_cost(shared_live, shared_demo_db, tokens):
    cheapest = rows(shared_demo_db, "SELECT min(cost_yuan) AS c FROM candidate_site")[0]["c"]
    result = site(
        shared_live, tokens["planner"], layer="parking", mode="crow", radius_m=100,
        budget=2 * cheapest,
    ).json()  # fmt: skip
    assert result["total_cost_yuan"] <= 2 * cheapest
    assert len(result["site_ids"]) <= 2


def test_siting_is_cached_and_needs_a_user(shared_live, tokens):
    first = site(shared_live, tokens["planner"], layer="gardens", k=1)
    second = site(shared_live, tokens["planner"], layer="gardens", k=1)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert site(shared_live, None, layer="gardens", k=1).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"layer": "gardens"}, "k"),
        ({"layer": "gardens", "k": 0}, "k"),
        ({"layer": "shops", "k": 1}, "layer"),
        ({"layer": "parking", "kind": "helipad", "k": 1}, "kind"),
        ({"layer": "gardens", "k": 1, "method": "magic"}, "method"),
        ({"layer": "gardens", "k": 1, "budget": -5}, "budget"),
        ({"layer": "gardens", "k": 1, "colour": "red"}, "colour"),
    ],
)
def test_bad_siting_requests_are_422(shared_live, tokens, body, field):
    answer = site(shared_live, tokens["planner"], **body)
    assert answer.status_code == 422, answer.text
    assert any(field in e["field"] for e in answer.json()["errors"])
