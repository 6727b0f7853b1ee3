"""Operations endpoints: liveness, readiness against the migrations, Prometheus metrics."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.db import migrate
from gis_service.db.engine import create_db_engine
from tests.conftest import LiveServer


def test_ready_checks_database_and_revision(
    shared_demo_db: Engine, pg_cluster, fresh_database: str, serve: Callable[[FastAPI], LiveServer]
) -> None:
    live = serve(create_app(shared_demo_db))
    with live.client() as client:
        assert client.get("/live").json() == {"status": "ok"}
        ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["revision"] == migrate.head_revision()
    unmigrated = serve(create_app(create_db_engine(pg_cluster.url(fresh_database))))
    with unmigrated.client() as client:
        answer = client.get("/ready")
    assert answer.status_code == 503
    assert "run gis-service db migrate" in answer.json()["detail"]


def test_metrics_count_requests_by_route(
    shared_demo_db: Engine, serve: Callable[[FastAPI], LiveServer]
) -> None:
    live = serve(create_app(shared_demo_db))
    with live.client() as client:
        for _ in range(3):
            client.get("/compounds/5")  # 401 for anonymous, still counted
        text = client.get("/metrics").text
    assert (
        'gis_http_requests_total{method="GET",route="/compounds/{compound_id}",status="401"}'
        in text
    )
    assert "gis_http_request_seconds_bucket" in text


def test_reads_go_to_the_replica_and_writes_to_the_primary(
    shared_demo_db: Engine, demo_template, serve: Callable[[FastAPI], LiveServer]
) -> None:
    from gis_service.db.engine import create_db_engine

    primary = create_db_engine(str(shared_demo_db.url.set(database="no_such_primary")))
    live = serve(create_app(primary, read_engine=shared_demo_db))
    with live.client(demo_template.tokens["planner"]) as client:
        read = client.get("/compounds/5")
        write = client.post("/compounds/5")
    assert read.status_code == 200 and read.json()["stairwells"] == 57
    assert write.status_code in (405, 503)  # never served by the replica
