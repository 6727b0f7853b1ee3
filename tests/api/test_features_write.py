"""Editing over real HTTP: create, replace, patch, delete with ETags, validation, edit log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from gis_service.db.cluster import ManagedCluster
from tests.conftest import DemoTemplate, engine_on_copy, scalar
from tests.features.live import (
    POINT_34,
    Clients,
    clients,
    log_count,
    number,
    parking,
    problem_field,
    running,
    stairwell_in_grid,
)


@pytest.fixture(scope="module")
def unchanged_db(pg_cluster: ManagedCluster, demo_template: DemoTemplate) -> Iterator[Engine]:
    """A copy of the demo for tests whose writes must all be refused (so it stays unchanged)."""
    yield from engine_on_copy(pg_cluster, demo_template.name)


@pytest.fixture(scope="module")
def refusing_api(unchanged_db: Engine, demo_template: DemoTemplate) -> Iterator[Clients]:
    """Role clients against a live server on that copy."""
    with running(unchanged_db) as live:
        yield clients(live, demo_template)


def test_create_read_history(api: Clients, demo_db: Engine) -> None:
    with api("planner") as client:
        created = client.post("/collections/parking/items", json=parking())
        assert created.status_code == 201, created.text
        assert created.headers["etag"] == '"1"'
        location = created.headers["location"]
        fid = created.json()["id"]
        assert location.endswith(f"/collections/parking/items/{fid}")
        fetched = client.get(location)
        history = client.get(f"{location}/history").json()
    assert fetched.status_code == 200 and fetched.json()["properties"]["capacity"] == 12
    assert fetched.headers["etag"] == '"1"'
    [entry] = history["entries"]
    assert (entry["action"], entry["username"], entry["before"]) == ("insert", "planner", None)
    assert entry["after"]["properties"]["name"] == "便民停车场"


def test_patch_merges_put_replaces_delete_removes(api: Clients, demo_db: Engine) -> None:
    with api("planner") as client:
        created = client.post("/collections/parking/items", json=parking(compound_id=5))
        url = created.headers["location"]
        patched = client.patch(
            url,
            json={"properties": {"capacity": 30}},
            headers={
                "If-Match": created.headers["etag"],
                "Content-Type": "application/merge-patch+json",
            },
        )
        assert patched.status_code == 200, patched.text
        assert patched.headers["etag"] == '"2"'
        assert patched.json()["properties"]["compound_id"] == 5  # merge keeps the rest
        replaced = client.put(
            url, json=parking(name="立体车库", kind="stacked_garage"), headers={"If-Match": '"2"'}
        )
        assert replaced.status_code == 200, replaced.text
        props = replaced.json()["properties"]
        assert (props["kind"], props["compound_id"], props["version"]) == (
            "stacked_garage",
            None,
            3,
        )
        deleted = client.delete(url, headers={"If-Match": replaced.headers["etag"]})
        assert deleted.status_code == 204 and not deleted.content
        assert client.get(url).status_code == 404
        history = client.get(f"{url}/history").json()["entries"]
    assert [e["action"] for e in history] == ["insert", "update", "update", "delete"]
    assert history[1]["before"]["properties"]["capacity"] == 12
    assert history[1]["after"]["properties"]["capacity"] == 30
    assert history[3]["after"] is None


def test_writes_need_the_current_etag(api: Clients, demo_db: Engine) -> None:
    fid = stairwell_in_grid(demo_db, 2)
    url = f"/collections/stairwells/items/{fid}"
    before = log_count(demo_db)
    with api("planner") as client:
        body = {"properties": {"notes": "changed"}}
        assert client.patch(url, json=body).status_code == 428
        assert client.put(url, json=body).status_code == 428
        assert client.delete(url).status_code == 428
        stale = client.patch(url, json=body, headers={"If-Match": '"7"'})
        assert stale.status_code == 412
        assert client.delete(url, headers={"If-Match": '"7"'}).status_code == 412
        weak = client.patch(url, json=body, headers={"If-Match": 'W/"1"'})
        assert weak.status_code == 412  # If-Match compares strongly
        assert client.get(url).json()["properties"]["notes"] is None
        good = client.patch(url, json=body, headers={"If-Match": '"1"'})
        assert good.status_code == 200
    assert log_count(demo_db) == before + 1
    assert scalar(demo_db, "SELECT version FROM stairwell WHERE id = :id", id=fid) == 2


def test_a_stale_write_is_told_the_version_now(api: Clients, demo_db: Engine) -> None:
    """A 412 carries the ETag and the feature as the writer reads them: a field phone merges
    from it, with no second read that a replica or its cache could answer older."""
    fid = stairwell_in_grid(demo_db, 2)
    url = f"/collections/stairwells/items/{fid}"
    with api("planner") as planner, api("grid02") as worker:
        seen = worker.get(url)
        office = planner.patch(url, json={"properties": {"notes": "电梯井已测量"}},
                               headers={"If-Match": seen.headers["etag"]})  # fmt: skip
        assert office.status_code == 200, office.text
        before = log_count(demo_db)
        late = worker.patch(url, json={"properties": {"households": 9}},
                            headers={"If-Match": seen.headers["etag"]})  # fmt: skip
        now = worker.get(url)
        gone = worker.delete(url, headers={"If-Match": seen.headers["etag"]})
        gk = "http://www.opengis.net/def/crs/EPSG/0/4547"
        in_gk = worker.patch(url, json={"properties": {"households": 9}},
                             headers={"If-Match": seen.headers["etag"], "Content-Crs": f"<{gk}>"})
        now_gk = worker.get(url, params={"crs": gk})
    assert late.status_code == 412 and late.headers["content-type"] == "application/problem+json"
    assert late.headers["etag"] == office.headers["etag"] == now.headers["etag"]
    told = late.json()["current"]
    assert told == now.json()
    assert told["properties"]["notes"] == "电梯井已测量"
    assert told["properties"]["households"] == seen.json()["properties"]["households"]
    assert gone.status_code == 412 and gone.json()["current"] == now.json()
    assert in_gk.status_code == 412 and in_gk.headers["content-crs"] == f"<{gk}>"
    assert in_gk.json()["current"] == now_gk.json()  # in the CRS the write was sent in
    assert log_count(demo_db) == before  # nothing written by either


def bowtie() -> dict[str, Any]:
    ring = [
        [113.3001, 23.1481],
        [113.3003, 23.1483],
        [113.3003, 23.1481],
        [113.3001, 23.1483],
        [113.3001, 23.1481],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("stairwells", {"properties": {"consent_agree": 999}}, "consent_agree", "cannot exceed"),
    ("stairwells", {"properties": {"households": -1}}, "households", "must be at least 0"),
    ("stairwells", {"properties": {"consent_object": -3}}, "consent_object", "at least 0"),
    ("stairwells", {"properties": {"elderly_households": 500}}, "elderly_households", "exceed"),
    ("stairwells", {"properties": {"households": 5000}}, "households", "at most 1000"),
    ("stairwells", {"properties": {"floors": 0}}, "floors", "at least 1"),
    ("stairwells", {"properties": {"survey_status": "maybe"}}, "survey_status", "one of"),
    ("stairwells", {"properties": {"elevator_status": "flying"}}, "elevator_status", "one of"),
    ("stairwells", {"properties": {"floors": "seven"}}, "floors", "whole number"),
    ("stairwells", {"properties": {"floors": 2**40}}, "floors", "at most 200"),
    ("stairwells", {"properties": {"building_id": 2**40}}, "building_id", "at most 2147483647"),
    ("stairwells", {"properties": {"label": "x" * 51}}, "label", "at most 50"),
    ("stairwells", {"properties": {"label": None}}, "label", "required"),
    ("stairwells", {"properties": {"building_id": 999999}}, "building_id", "does not exist"),
    ("stairwells", {"properties": {"colour": "red"}}, "colour", "no field"),
    ("stairwells", {"properties": {"last_surveyed_on": "last week"}}, "last_surveyed_on", ""),
    (
        "stairwells",
        {"geometry": {"type": "Point", "coordinates": [23.145, 113.294]}},
        "geometry",
        "swapped",
    ),
    (
        "stairwells",
        {"geometry": {"type": "Point", "coordinates": [200, 23]}},
        "geometry",
        "out of range",
    ),
    (
        "stairwells",
        {"geometry": {"type": "Point", "coordinates": [2.35, 48.85]}},
        "geometry",
        "service area",
    ),
    (
        "stairwells",
        {"geometry": {"type": "LineString", "coordinates": [POINT_34, POINT_34]}},
        "geometry",
        "must be a Point",
    ),
    ("stairwells", {"geometry": {"type": "Point", "coordinates": []}}, "geometry", ""),
    ("stairwells", {"geometry": {"type": "Point", "coordinates": ["a", "b"]}}, "geometry", ""),
    ("stairwells", {"geometry": None}, "geometry", "required"),
    ("stairwells", {"type": "FeatureCollection"}, "type", "Feature"),
    ("gardens", {"geometry": bowtie()}, "geometry", "Self-intersection"),
    ("gardens", {"properties": {"kind": "jungle"}}, "kind", "one of"),
    ("gardens", {"properties": {"area_m2": 0}}, "area_m2", "greater than 0"),
    ("issues", {"properties": {"status": "resolved"}}, "resolved_at", "and only then"),
    ("stairwells", {"properties": {"last_surveyed_on": "1999-12-31"}}, "last_surveyed_on",
     "must not be before 2000-01-01"),
    ("stairwells", {"properties": {"notes": "x" * 2001}}, "notes", "at most 2000 characters"),
]


@pytest.mark.parametrize(("layer", "body", "field", "words"), INVALID)
def test_invalid_writes_are_422_naming_the_field(
    refusing_api: Clients,
    unchanged_db: Engine,
    layer: str,
    body: dict[str, Any],
    field: str,
    words: str,
) -> None:
    api, demo_db = refusing_api, unchanged_db
    table = {"stairwells": "stairwell", "gardens": "garden", "issues": "issue"}[layer]
    fid = scalar(demo_db, f"SELECT min(id) FROM {table}")
    before = log_count(demo_db)
    with api("admin") as client:
        answer = client.patch(
            f"/collections/{layer}/items/{fid}", json=body, headers={"If-Match": '"1"'}
        )
    assert answer.status_code == 422, answer.text
    assert field in problem_field(answer)
    assert words in answer.text
    assert log_count(demo_db) == before
    assert scalar(demo_db, f"SELECT version FROM {table} WHERE id = :id", id=fid) == 1


def test_create_needs_geometry_and_required_fields(api: Clients) -> None:
    with api("planner") as client:
        no_geometry = client.post(
            "/collections/parking/items", json={"type": "Feature", "properties": {"name": "x"}}
        )
        no_kind = client.post("/collections/parking/items", json=parking(kind=None))
        no_json = client.post(
            "/collections/parking/items",
            content=b"{oops",
            headers={"Content-Type": "application/json"},
        )
        not_json = client.post(
            "/collections/parking/items",
            content=b"name=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert no_geometry.status_code == 422 and "geometry" in problem_field(no_geometry)
    assert no_kind.status_code == 422 and "kind" in problem_field(no_kind)
    assert no_json.status_code == 400
    assert not_json.status_code == 415


def test_bodies_above_the_limit_are_413(api: Clients, demo_db: Engine) -> None:
    big = parking(name="x" * 10)
    big["padding"] = "x" * (3 * 1024 * 1024)
    before = number(demo_db, "SELECT count(*) FROM parking")
    with api("planner") as client:
        declared = client.post("/collections/parking/items", json=big)

        def chunks() -> Iterator[bytes]:
            payload = httpx.Request("POST", "/", json=big).content
            for start in range(0, len(payload), 65536):
                yield payload[start : start + 65536]

        streamed = client.post(
            "/collections/parking/items",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert "transfer-encoding" not in declared.request.headers
    assert streamed.request.headers.get("transfer-encoding") == "chunked"
    assert number(demo_db, "SELECT count(*) FROM parking") == before


def test_stairwell_history_includes_its_status_changes(api: Clients, demo_db: Engine) -> None:
    in_service = scalar(
        demo_db,
        "SELECT id FROM stairwell WHERE compound_id = 5 AND elevator_status = 'in_service' "
        "ORDER BY id LIMIT 1",
    )
    with api("planner") as planner:
        body = planner.get(f"/collections/stairwells/items/{in_service}/history").json()
    steps = [entry["to_status"] for entry in body["status_history"]]
    assert steps[0] == "proposed" and steps[-1] == "in_service"
    assert all(entry["changed_on"] for entry in body["status_history"])
