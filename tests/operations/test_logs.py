"""Log lines as an operator reads them: one per request, causes of failures, no secrets."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.db.cluster import ManagedCluster, free_port
from gis_service.db.engine import create_db_engine
from tests.cli.test_cli import CLI
from tests.conftest import DemoTemplate, LiveServer, admin, wait_until_ready


def test_serve_writes_one_json_line_per_request_without_secrets(
    pg_cluster: ManagedCluster, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    user, password = f"svc_{uuid.uuid4().hex[:8]}", f"Pw{uuid.uuid4().hex}"
    admin(pg_cluster, f"CREATE ROLE {user} LOGIN SUPERUSER PASSWORD '{password}'")
    url = f"postgresql://{user}:{password}@127.0.0.1:{pg_cluster.port}/{demo_db.url.database}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    env.update(GIS_DATABASE_URL=url, GIS_DATA_DIR=str(tmp_path), GIS_PORT=str(port),
               GIS_LOG_FORMAT="json")
    proc = subprocess.Popen([*CLI, "serve", "--no-demo"], env=env, cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, proc, lambda: "server exited")
        planner = httpx.get(f"{base}/collections/stairwells/items", params={"limit": 3},
                            headers={"Authorization": f"Bearer {demo_template.tokens['planner']}",
                                     "X-Request-ID": "trace-42"})
        assert planner.status_code == 200 and planner.headers["x-request-id"] == "trace-42"
        made_up = httpx.get(f"{base}/compounds/1", headers={"X-Request-ID": "bad id;drop"})
        assert made_up.headers["x-request-id"] not in ("", "bad id;drop")
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert password not in out + err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert len(lines) == len(err.strip().splitlines()), err  # every line is JSON
    requests = [line for line in lines if line["logger"] == "gis_service.request"]
    traced = next(line for line in requests if line["request_id"] == "trace-42")
    assert traced["route"] == "/collections/stairwells/items"
    assert traced["method"] == "GET" and traced["status"] == 200
    assert traced["ms"] > 0 and traced["time"].endswith("Z")
    assert traced["user"] == planner_id(demo_db)
    other = next(line for line in requests if line["request_id"] == made_up.headers["x-request-id"])
    assert other["route"] == "/compounds/{compound_id}" and other["user"] == "-"
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # uvicorn's, same format


def planner_id(engine: Engine) -> int:
    """The demo planner's user id."""
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(
            "SELECT id FROM app_user WHERE username = 'planner'").scalar_one())


def test_a_503_is_logged_with_its_cause_but_answered_without_it(
    pg_cluster: ManagedCluster, serve: Callable[[FastAPI], LiveServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    live = serve(create_app(create_db_engine(pg_cluster.url("no_such_database"))))
    with caplog.at_level(logging.INFO, logger="gis_service.request"):
        answer = httpx.get(f"{live.url}/health")
    assert answer.status_code == 503 and "no_such_database" not in answer.text
    failed = [r for r in caplog.records if r.name == "gis_service.request"]
    assert [r.levelname for r in failed] == ["ERROR"]
    fields = failed[0].fields  # type: ignore[attr-defined]
    assert fields["status"] == 503 and fields["route"] == "/health"
    assert 'database "no_such_database" does not exist' in fields["cause"]


def test_log_lines_hide_passwords_in_any_format() -> None:
    from gis_service.logs import JsonFormatter, KeyValueFormatter

    record = logging.LogRecord(
        "gis_service.x", logging.ERROR, __file__, 1,
        "cannot use postgresql://svc:hunter2@db.example/gis nor host=db password=hunter2", None,
        None,
    )
    for formatter in (KeyValueFormatter(), JsonFormatter()):
        line = formatter.format(record)
        assert "hunter2" not in line and "svc:***@db.example" in line and "password=***" in line


def test_a_malformed_database_url_is_never_echoed() -> None:
    from tests.cli.test_cli import assert_one_clear_line, run

    for url in ("postgresql://gis:hunter2@db:notaport/gis", "gis:hunter2@db/gis",
                "postgres ql://gis:hunter2@db/gis"):
        result = run("db", "status", env={"GIS_DATABASE_URL": url})
        assert_one_clear_line(result, "GIS_DATABASE_URL is not a database URL")
        assert "hunter2" not in result.stderr + result.stdout
