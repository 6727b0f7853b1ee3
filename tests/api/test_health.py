"""The service over real HTTP: health with versions, compound summaries, problem answers."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from tests.conftest import DemoTemplate, LiveServer


def test_health_reports_postgresql_and_postgis(
    shared_demo_db: Engine, serve: Callable[[FastAPI], LiveServer]
) -> None:
    live = serve(create_app(shared_demo_db))
    with live.client() as client:
        answer = client.get("/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["database"]["postgresql"].startswith("15")
    assert body["database"]["postgis"].startswith("3.")


def test_compound_34_summary(
    shared_demo_db: Engine, demo_template: DemoTemplate, serve: Callable[[FastAPI], LiveServer]
) -> None:
    live = serve(create_app(shared_demo_db))
    with live.client(demo_template.tokens["planner"]) as client:
        found = client.get("/compounds", params={"name": "Shuiyin Road No. 34"}).json()
        assert [c["name"] for c in found] == ["水荫路34号大院"]
        one = client.get(f"/compounds/{found[0]['id']}").json()
        missing = client.get("/compounds/999999")
        bad = client.get("/compounds/not-a-number")
    assert (one["stairwells"], one["in_service"]) == (57, 15)
    assert one["by_status"] == {"in_service": 15, "applied": 42}
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == "compound 999999 does not exist"
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "path.compound_id"


def test_database_gone_is_503_not_500(pg_cluster, serve: Callable[[FastAPI], LiveServer]) -> None:
    from gis_service.db.engine import create_db_engine

    engine = create_db_engine(pg_cluster.url("no_such_database"))
    live = serve(create_app(engine))
    with live.client() as client:
        answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"  # a refusal for now says when to come back
    # anonymous callers learn nothing of the database's whereabouts (the log has the cause)
    assert answer.json()["detail"] == "the database is not reachable; try again shortly"
    for secret in ("no_such_database", str(pg_cluster.port), "postgres", "127.0.0.1"):
        assert secret not in answer.text


def test_malformed_values_are_4xx_and_401_carries_the_challenge(
    shared_demo_db: Engine, demo_template: DemoTemplate, serve: Callable[[FastAPI], LiveServer]
) -> None:
    live = serve(create_app(shared_demo_db))
    with live.client(demo_template.tokens["planner"]) as client:
        nul = client.get("/compounds", params={"name": "a\x00b"})
    with live.client() as anonymous:
        refused = anonymous.get("/compounds")
    assert nul.status_code == 422 and nul.headers["content-type"] == "application/problem+json"
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
