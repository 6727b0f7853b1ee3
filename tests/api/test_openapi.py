"""The OpenAPI document tells the truth: schemathesis over all of it, per role; its own rules.

schemathesis runs every check it has over every operation of /api, anonymously and with each
role's token, on a writable copy of the demo: 0 failures, 0 server errors. What it is told
beyond the document is generated from the document itself (`schemathesis_config`) or named
with its reason in tests/api/schemathesis_hooks.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from gis_service.api.openapi import PROBLEM_REF, errors, install_openapi
from gis_service.api.problems import PROBLEM_JSON, install_problem_handlers
from gis_service.errors import NotFound
from gis_service.features.openapi import BEYOND_SCHEMA
from gis_service.ingest.ledger import XLSX_MEDIA
from tests.conformance import RECORDERS, Recorder
from tests.conftest import DemoTemplate, start_server
from tests.features.live import running

ROOT = Path(__file__).resolve().parents[2]
ROLES = {"anonymous": None, "admin": "admin", "planner": "planner", "analyst": "analyst",
         "grid_worker": "grid02"}
# Answers to schema-valid requests that depend on the stored state, not on the request's form:
# a stale If-Match (412) besides schemathesis' own list (409 conflicts, 404 unknown ids).
POSITIVE = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]
# A missing If-Match is 428 Precondition Required (RFC 6585), besides schemathesis' own list.
MISSING_HEADER = ["400", "401", "403", "406", "415", "422", "428"]
# Every operation gets examples, fuzzing and stateful runs. The coverage phase (boundary values,
# each parameter's negations, missing headers, undeclared methods: ~1,000 requests a layer)
# runs on every operation except the items routes of the other layers, which the same code
# builds from the catalog: one layer's coverage stands for all (it keeps the suite's time).
COVERED_LAYER = "stairwells"
COVERAGE_ROLES = ("anonymous", "admin", "grid_worker")
"""The roles the coverage phase runs with. It tests each operation's form: the checks are the
same for every role, and a role without the operation is refused before them, so it runs where
every operation's checks are reached (the administrator), where the refusals are (anonymous),
and with the one role whose grids narrow what a request may name (the grid worker). The
examples, fuzzing and stateful phases run with every role: what each may see and do."""
SLOW_PREFIX, SLOW_LIMIT_S = "/reports/", 60.0


def toml_list(values: list[str]) -> str:
    """A TOML array of strings."""
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def operation_settings(path: str, operation: dict[str, Any]) -> list[str]:
    """What schemathesis is told about one operation, from the document itself."""
    found = []
    beyond = operation.get(BEYOND_SCHEMA)
    if beyond:  # rules the document names beyond its schema; schema-valid data may break them
        statuses = toml_list(POSITIVE + sorted(beyond))
        found.append(f"checks.positive_data_acceptance.expected-statuses = {statuses}")
    layer = re.match(r"^/collections/([a-z_]+)/items", path)
    if layer and layer[1] != COVERED_LAYER:
        found.append("phases.coverage.enabled = false")
    if path.startswith(SLOW_PREFIX):  # slow by design: a PDF is drawn (1-3 s idle, 2 at once)
        found.append(f"checks.max_response_time = {SLOW_LIMIT_S}")
    return found


def schemathesis_config(document: dict[str, Any]) -> str:
    """schemathesis.toml: the global lists above, then each operation's own settings."""
    lines = [
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {toml_list(POSITIVE)}",
        "[checks.missing_required_header]",
        f"expected-statuses = {toml_list(MISSING_HEADER)}",
    ]
    for path, item in document["paths"].items():
        for operation in item.values():
            settings = operation_settings(path, operation) if isinstance(operation, dict) else []
            if settings:
                lines += [
                    "[[operations]]",
                    f"include-operation-id = {json.dumps(operation['operationId'])}",
                    *settings,
                ]
    return "\n".join(lines) + "\n"


def phases_of(role: str) -> str:
    """The schemathesis phases run with a role's token."""
    return "examples,coverage,fuzzing,stateful" if role in COVERAGE_ROLES else (
        "examples,fuzzing,stateful")


def run_schemathesis(
    url: str, token: str | None, workdir: Path, phases: str
) -> subprocess.CompletedProcess[str]:
    """schemathesis over the whole document in these phases: every check, bounded and seeded
    examples."""
    config = workdir / "schemathesis.toml"
    config.write_text(schemathesis_config(httpx.get(f"{url}/api", timeout=30).json()))
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        "--no-color",
        "--checks",
        "all",
        "--phases",
        phases,
        "--max-examples",
        "4",
        "--seed",
        "34",
        "-w",
        "1",  # hypothesis' lambda descriptions race in threads on Python 3.11
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--max-failures",
        "50",
        *(["-H", f"Authorization: Bearer {token}"] if token else []),
        f"{url}/api",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=workdir,  # schemathesis and hypothesis keep their state in the working directory
        env=env,
    )


@pytest.mark.parametrize("role", list(ROLES))
def test_schemathesis_finds_no_failure_over_the_whole_document(
    role: str, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    user = ROLES[role]
    token = demo_template.tokens[user] if user else None
    with running(demo_db, check_answers=False) as live:  # schemathesis checks every answer
        done = run_schemathesis(live.url, token, tmp_path, phases_of(role))
    (tmp_path / "schemathesis.txt").write_text(done.stdout)
    tail = done.stdout[-8000:]
    summary = done.stdout.split("SUMMARY")[-1]
    assert done.returncode == 0, tail + done.stderr[-2000:]
    assert "Failures:" not in summary and "Errors:" not in summary, tail
    assert "Selected: " in summary and " passed" in summary, tail


def test_every_error_answer_is_problem_json_with_the_one_schema(
    shared_demo_db: Engine,
) -> None:
    with running(shared_demo_db) as live:
        document = httpx.get(f"{live.url}/api", timeout=30).json()
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    ]
    assert len(operations) > 100
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        for code, response in op["responses"].items():
            if code[0] in "45":
                content = response["content"]
                assert content[PROBLEM_JSON]["schema"] == {"$ref": PROBLEM_REF}, where
                assert "application/json" not in content, where
        if op.get("parameters") or op.get("requestBody"):
            assert {"400", "422"} & set(op["responses"]), where
        if op.get("security"):
            assert "401" in op["responses"], where
    items = document["paths"]["/collections/stairwells/items"]["get"]
    limit = next(p for p in items["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 10_000  # GIS_ITEMS_MAX_LIMIT
    patch = document["paths"]["/collections/stairwells/items/{featureId}"]["patch"]
    headers = {p["name"]: p for p in patch["parameters"] if p["in"] == "header"}
    assert headers["If-Match"]["required"] and "Idempotency-Key" in headers
    assert {"412", "428", "413", "415"} <= set(patch["responses"])
    assert patch["responses"]["412"]["headers"]["ETag"]["required"]  # the version now
    tile = document["paths"]["/tiles/{layers}/{z}/{x}/{y}.pbf"]["get"]["responses"]
    assert set(tile["200"]["content"]) == {"application/vnd.mapbox-vector-tile"}
    assert {"204", "304"} <= set(tile)
    export = document["paths"]["/collections/{layer_id}/export"]["get"]["responses"]["200"]
    assert set(export["content"]) == {
        "application/geo+json", "application/geopackage+sqlite3", "text/csv", XLSX_MEDIA
    }
    page = document["paths"]["/maps/{view_id}"]["get"]["responses"]["200"]
    assert set(page["content"]) == {"text/html"}


def test_405_names_the_methods_of_the_resource(shared_demo_db: Engine) -> None:
    with running(shared_demo_db) as live, httpx.Client(base_url=live.url) as client:
        cases = {
            "/session": "GET, POST",
            "/issues/1/photo": "GET, POST, PUT",
            "/scenarios/compare": "GET",
            "/collections/stairwells/items": "GET, POST",
            "/collections/stairwells/items/1/history": "GET",
            "/tiles/gardens/15/26700/14218.pbf": "GET, HEAD",
        }
        for path, allowed in cases.items():
            answer = client.request("TRACE", path)
            assert answer.status_code == 405, path
            assert answer.headers["allow"] == allowed, path
            assert answer.headers["content-type"] == PROBLEM_JSON


def test_conformance_recorder_catches_an_undeclared_answer() -> None:
    """The suite-wide check fails a route that answers what it does not declare."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/declared", responses=errors(404))
    def declared() -> dict[str, str]:
        raise NotFound("declared")

    @app.get("/undeclared")
    def undeclared() -> dict[str, str]:
        raise NotFound("not declared")

    install_openapi(app)
    live = start_server(app)
    recorder = RECORDERS[-1]
    assert isinstance(recorder, Recorder)
    try:
        with httpx.Client(base_url=live.url) as client:
            assert client.get("/declared").status_code == 404
            assert client.get("/undeclared").status_code == 404
            assert client.post("/declared").status_code == 405
        found = recorder.violations()
    finally:
        live.server.should_exit = True
        live.thread.join(timeout=10)
    assert len(found) == 1 and "GET /undeclared -> 404: status not declared" in found[0], found


class Named(BaseModel):
    """A body FastAPI validates."""

    name: str


def test_answers_come_from_the_route_dependencies_and_declared_middleware() -> None:
    """What a route's dependencies or a middleware answer is documented without the route."""
    from gis_service.api.app import create_app
    from gis_service.api.openapi import declare_answer

    document = create_app(None).openapi()  # type: ignore[arg-type]  # no request is served
    paths = document["paths"]
    assert set(paths["/live"]["get"]["responses"]) == {"200"}
    assert {"401", "403", "422", "503"} <= set(paths["/compounds"]["get"]["responses"])
    assert "security" in paths["/compounds"]["get"] and "security" not in paths["/live"]["get"]
    create = paths["/collections/parking/items"]["post"]["responses"]
    assert create["413"]["description"].endswith("(GIS_MAX_BODY_BYTES)")
    assert {"400", "422"} <= set(paths["/scenarios"]["post"]["responses"])  # a FastAPI body

    app = FastAPI()

    @app.post("/with-body")
    def with_body(body: Named) -> dict[str, str]:
        return {"name": body.name}

    @app.get("/without")
    def without() -> dict[str, str]:
        return {}

    install_openapi(app)
    declare_answer(app, 413, "too large", with_body_only=True)
    declare_answer(app, 429, "slow down")
    small = app.openapi()["paths"]
    assert {"413", "429"} <= set(small["/with-body"]["post"]["responses"])
    assert set(small["/without"]["get"]["responses"]) == {"200", "429"}
    assert small["/without"]["get"]["responses"]["429"]["content"][PROBLEM_JSON]
