"""Idempotency-Key over real HTTP: replays of the first answer, 409 for reuse, races."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine

from tests.features.live import (
    Clients,
    log_count,
    number,
    parking,
    problem_field,
)


def test_idempotent_replay(api: Clients, demo_db: Engine) -> None:
    parked = number(demo_db, "SELECT count(*) FROM parking")
    logged = log_count(demo_db)
    with api("planner") as client:
        key = {"Idempotency-Key": "create-lot-1"}
        first = client.post("/collections/parking/items", json=parking(), headers=key)
        again = client.post("/collections/parking/items", json=parking(), headers=key)
        other = client.post("/collections/parking/items", json=parking(capacity=5), headers=key)
        assert first.status_code == again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert (again.json(), again.headers["etag"], again.headers["location"]) == (
            first.json(),
            first.headers["etag"],
            first.headers["location"],
        )
        assert other.status_code == 409
        url = first.headers["location"]
        patch_key = {"Idempotency-Key": "patch-1", "If-Match": '"1"'}
        patched = client.patch(url, json={"properties": {"capacity": 40}}, headers=patch_key)
        replayed = client.patch(url, json={"properties": {"capacity": 40}}, headers=patch_key)
        assert patched.status_code == replayed.status_code == 200  # not 412: the first answer
        assert replayed.headers["etag"] == '"2"' and replayed.json() == patched.json()
        gone = client.delete(url, headers={"Idempotency-Key": "del-1", "If-Match": '"2"'})
        gone_again = client.delete(url, headers={"Idempotency-Key": "del-1", "If-Match": '"2"'})
        assert gone.status_code == gone_again.status_code == 204
        bad_key = client.post(
            "/collections/parking/items", json=parking(), headers={"Idempotency-Key": "x" * 201}
        )
        assert bad_key.status_code == 400
    with api("admin") as client:  # keys belong to their user
        theirs = client.post("/collections/parking/items", json=parking(), headers=key)
        assert theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers
    assert number(demo_db, "SELECT count(*) FROM parking") == parked + 1
    assert log_count(demo_db) == logged + 4  # insert, update, delete, admin's insert


def test_failed_write_leaves_no_log_and_no_key(api: Clients, demo_db: Engine) -> None:
    logged = log_count(demo_db)
    with api("planner") as client:
        bad = client.post(
            "/collections/parking/items",
            json=parking(capacity=-1),
            headers={"Idempotency-Key": "k"},
        )
        good = client.post(
            "/collections/parking/items", json=parking(), headers={"Idempotency-Key": "k"}
        )
    assert bad.status_code == 422 and "capacity" in problem_field(bad)
    assert good.status_code == 201 and "idempotent-replayed" not in good.headers
    assert log_count(demo_db) == logged + 1


def test_concurrent_repeats_of_one_key_write_once(api: Clients, demo_db: Engine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    parked = number(demo_db, "SELECT count(*) FROM parking")

    def send(_: int) -> httpx.Response:
        with api("planner") as client:
            return client.post(
                "/collections/parking/items", json=parking(), headers={"Idempotency-Key": "race"}
            )

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(send, range(4)))
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum("idempotent-replayed" in a.headers for a in answers) == 3
    assert number(demo_db, "SELECT count(*) FROM parking") == parked + 1
