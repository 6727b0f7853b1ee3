"""Operations endpoints: liveness, readiness against the migrations, Prometheus metrics."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.db import migrate
from gis_service.db.engine import create_db_engine
from tests.conftest import DemoTemplate, LiveServer, scalar


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
    shared_demo_db: Engine, demo_template: DemoTemplate, serve: Callable[[FastAPI], LiveServer]
) -> None:
    primary = create_db_engine(str(shared_demo_db.url.set(database="no_such_primary")))
    live = serve(create_app(primary, read_engine=shared_demo_db))
    sid = scalar(shared_demo_db, "SELECT min(id) FROM stairwell WHERE compound_id = 5")
    stored = "SELECT version::text || coalesce(notes, '-') FROM stairwell WHERE id = :id"
    before = scalar(shared_demo_db, stored, id=sid)
    with live.client(demo_template.tokens["planner"]) as client:
        summary = client.get("/compounds/5")
        item = client.get(f"/collections/stairwells/items/{sid}")
        write = client.patch(
            f"/collections/stairwells/items/{sid}",
            json={"type": "Feature", "properties": {"notes": "written to the replica?"}},
            headers={"If-Match": item.headers["etag"]},
        )
    assert summary.status_code == 200 and summary.json()["stairwells"] == 57
    assert item.status_code == 200 and item.json()["id"] == sid
    # the edit goes to the primary, which is down: 503, and the replica is left as it was
    assert write.status_code == 503, write.text
    assert write.headers["content-type"] == "application/problem+json"
    assert scalar(shared_demo_db, stored, id=sid) == before
