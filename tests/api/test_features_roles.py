"""Who may write what, over real HTTP: the role matrix, grid workers' grids, references."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import scalar
from tests.features.live import (
    POINT_34,
    SQUARE,
    Clients,
    issue,
    parking,
    point_of,
    stairwell_in_grid,
)


def test_grid_worker_reports_issues_in_own_grid_only(api: Clients, demo_db: Engine) -> None:
    own, other = stairwell_in_grid(demo_db, 2), stairwell_in_grid(demo_db, 3)
    with api("grid02") as client:
        created = client.post(
            "/collections/issues/items", json=issue(point_of(demo_db, own), stairwell_id=own)
        )
        foreign = client.post("/collections/issues/items", json=issue(point_of(demo_db, other)))
        explicit_grid = client.post(
            "/collections/issues/items", json=issue(point_of(demo_db, own), grid_id=2)
        )
    assert created.status_code == 201, created.text
    props = created.json()["properties"]
    user = scalar(demo_db, "SELECT id FROM app_user WHERE username = 'grid02'")
    assert (props["grid_id"], props["reporter_id"]) == (2, user)  # filled in by the server
    assert foreign.status_code == 403
    assert explicit_grid.status_code == 403  # grid_id is not a grid worker's field


def test_round_trip_put_by_grid_worker(api: Clients, demo_db: Engine) -> None:
    fid = stairwell_in_grid(demo_db, 2)
    with api("grid02") as client:
        feature = client.get(f"/collections/stairwells/items/{fid}").json()
        feature["properties"]["households"] += 1
        feature["properties"]["survey_status"] = "visited"
        put = client.put(
            f"/collections/stairwells/items/{fid}", json=feature, headers={"If-Match": '"1"'}
        )
        feature["properties"]["floors"] += 1
        refused = client.put(
            f"/collections/stairwells/items/{fid}", json=feature, headers={"If-Match": '"2"'}
        )
    assert put.status_code == 200, put.text
    assert put.json()["properties"]["survey_status"] == "visited"
    assert refused.status_code == 403 and "floors" in refused.json()["detail"]


def test_references_and_duplicates_are_409(api: Clients, demo_db: Engine) -> None:
    referenced = scalar(demo_db, "SELECT stairwell_id FROM issue ORDER BY id LIMIT 1")
    with api("admin") as client:
        url = f"/collections/stairwells/items/{referenced}"
        in_use = client.delete(url, headers={"If-Match": '"1"'})
        grid = client.get("/collections/grids/items/1").json()
        copy = client.post(
            "/collections/grids/items",
            json={
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": SQUARE},
                "properties": {**grid["properties"], "version": None},
            },
        )
    assert in_use.status_code == 409
    assert copy.status_code == 409  # the grid code is unique


def row_version(engine: Engine, table: str, fid: int) -> object:
    return scalar(engine, f"SELECT version FROM {table} WHERE id = :id", id=fid)


# who, method, collection, feature (grid or id), body, expected status
WRITES: list[tuple[str, str, str, str, dict[str, Any], int]] = [
    ("anonymous", "PATCH", "compounds", "id:5", {"properties": {"address": "x"}}, 401),
    ("anonymous", "POST", "parking", "", parking(), 401),
    ("analyst", "PATCH", "stairwells", "grid:2", {"properties": {"notes": "x"}}, 403),
    ("analyst", "POST", "parking", "", parking(), 403),
    (
        "planner",
        "PATCH",
        "stairwells",
        "grid:3",
        {"properties": {"elevator_status": "approved"}},
        200,
    ),
    ("planner", "PATCH", "communities", "id:1", {"properties": {"name_en": "x"}}, 403),
    ("planner", "POST", "parking", "", parking(), 201),
    ("admin", "PATCH", "communities", "id:1", {"properties": {"name_en": "Shuiyinnan"}}, 200),
    ("admin", "DELETE", "parking", "id:1", {}, 204),
    ("grid02", "PATCH", "stairwells", "grid:2", {"properties": {"households": 30}}, 200),
    (
        "grid02",
        "PATCH",
        "stairwells",
        "grid:2",
        {"properties": {"elevator_status": "applied"}},
        403,
    ),
    (
        "grid02",
        "PATCH",
        "stairwells",
        "grid:2",
        {"geometry": {"type": "Point", "coordinates": POINT_34}},
        403,
    ),
    ("grid02", "PATCH", "stairwells", "grid:3", {"properties": {"households": 30}}, 403),
    ("grid02", "DELETE", "stairwells", "grid:2", {}, 403),
    ("grid02", "PATCH", "buildings", "id:1", {"properties": {"floors": 6}}, 403),
    ("grid02", "PATCH", "issues", "id:1", {"properties": {"note": "已修复"}}, 200),
    ("grid03", "PATCH", "issues", "id:1", {"properties": {"note": "x"}}, 403),
    ("grid02", "POST", "parking", "", parking(), 403),
]


@pytest.mark.parametrize(("who", "method", "layer", "target", "body", "status"), WRITES)
def test_write_role_matrix(
    api: Clients,
    demo_db: Engine,
    who: str,
    method: str,
    layer: str,
    target: str,
    body: dict[str, Any],
    status: int,
) -> None:
    url = f"/collections/{layer}/items"
    if target.startswith("grid:"):
        url += f"/{stairwell_in_grid(demo_db, int(target[5:]))}"
    elif target.startswith("id:"):
        url += f"/{target[3:]}"
    with api("admin") as admin:
        etag = admin.get(url).headers.get("etag", "") if method != "POST" else ""
    with api(who) as client:
        answer = client.request(method, url, json=body or None, headers={"If-Match": etag})
    assert answer.status_code == status, answer.text
    if status >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
    if method == "PATCH" and status == 200:
        assert answer.headers["etag"] != etag
