"""Roles are enforced by the database for every route: grants, column grants, row security."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from gis_service.api.app import create_app
from gis_service.auth import ANONYMOUS, Principal, apply_scope, authenticate
from gis_service.errors import Unauthorized
from tests.conftest import DemoTemplate, LiveServer


def as_user(engine: Engine, token: str | None) -> Principal:
    with engine.connect() as conn:
        return authenticate(conn, token)


def scoped(engine: Engine, principal: Principal, sql: str, **params: object) -> list[tuple]:
    with engine.begin() as conn:
        apply_scope(conn, principal)
        result = conn.execute(sa.text(sql), params)
        return [tuple(r) for r in result] if result.returns_rows else []


def test_tokens_resolve_to_roles_and_grids(
    shared_demo_db: Engine, demo_template: DemoTemplate
) -> None:
    worker = as_user(shared_demo_db, demo_template.tokens["grid02"])
    assert (worker.role, worker.username, worker.grid_ids) == ("grid_worker", "grid02", (2,))
    assert as_user(shared_demo_db, demo_template.tokens["planner"]).role == "planner"
    assert as_user(shared_demo_db, None) == ANONYMOUS
    with pytest.raises(Unauthorized):
        as_user(shared_demo_db, "gis_forged")


def test_grid_worker_sees_and_edits_only_their_grid(
    demo_db: Engine, demo_template: DemoTemplate
) -> None:
    worker = as_user(demo_db, demo_template.tokens["grid02"])
    visible = scoped(demo_db, worker, "SELECT DISTINCT grid_id FROM stairwell")
    assert visible == [(2,)]
    total = scoped(
        demo_db,
        as_user(demo_db, demo_template.tokens["analyst"]),
        "SELECT count(DISTINCT grid_id) FROM stairwell",
    )
    assert total == [(12,)]
    own = scoped(demo_db, worker, "SELECT min(id) FROM stairwell")[0][0]
    changed = scoped(
        demo_db,
        worker,
        "UPDATE stairwell SET households = households WHERE grid_id <> 2 RETURNING id",
    )
    assert changed == []  # rows of other grids are invisible, so nothing changes
    assert scoped(
        demo_db,
        worker,
        "UPDATE stairwell SET notes = '已入户' WHERE id = :id RETURNING notes",
        id=own,
    ) == [("已入户",)]
    with pytest.raises(DBAPIError, match="permission denied"):
        scoped(
            demo_db,
            worker,
            "UPDATE stairwell SET elevator_status = 'approved' WHERE id = :id",
            id=own,
        )
    with pytest.raises(DBAPIError, match="row-level security"):
        scoped(
            demo_db,
            worker,
            "INSERT INTO issue (grid_id, category, geom) VALUES "
            "(5, 'other', ST_SetSRID(ST_MakePoint(113.29, 23.14), 4326))",
        )
    with pytest.raises(DBAPIError, match="permission denied"):
        scoped(demo_db, worker, "DELETE FROM garden")


def test_analyst_reads_but_never_writes(demo_db: Engine, demo_template: DemoTemplate) -> None:
    analyst = as_user(demo_db, demo_template.tokens["analyst"])
    assert scoped(demo_db, analyst, "SELECT count(*) FROM stairwell")[0][0] > 1000
    with pytest.raises(DBAPIError, match="permission denied"):
        scoped(demo_db, analyst, "UPDATE garden SET name = 'x'")
    with pytest.raises(DBAPIError, match="permission denied"):
        scoped(demo_db, analyst, "SELECT * FROM api_token")


def test_planner_edits_planning_layers_and_history_records_who(
    demo_db: Engine, demo_template: DemoTemplate
) -> None:
    planner = as_user(demo_db, demo_template.tokens["planner"])
    sid = scoped(
        demo_db, planner, "SELECT id FROM stairwell WHERE elevator_status = 'applied' LIMIT 1"
    )[0][0]
    scoped(
        demo_db, planner, "UPDATE stairwell SET elevator_status = 'approved' WHERE id = :id", id=sid
    )
    assert scoped(
        demo_db,
        planner,
        "SELECT changed_by FROM stairwell_status_history "
        "WHERE stairwell_id = :id ORDER BY id DESC LIMIT 1",
        id=sid,
    ) == [("planner",)]
    with pytest.raises(DBAPIError, match="permission denied"):
        scoped(demo_db, planner, "SELECT * FROM app_user")


def test_anonymous_reads_only_public_layers(shared_demo_db: Engine) -> None:
    assert scoped(shared_demo_db, ANONYMOUS, "SELECT count(*) FROM garden")[0][0] > 0
    with pytest.raises(DBAPIError, match="permission denied"):
        scoped(shared_demo_db, ANONYMOUS, "SELECT count(*) FROM stairwell")


def test_http_answers_follow_the_roles(
    shared_demo_db: Engine, demo_template: DemoTemplate, serve: Callable[[FastAPI], LiveServer]
) -> None:
    live = serve(create_app(shared_demo_db))
    with live.client() as anonymous:
        assert anonymous.get("/compounds").status_code == 401
        bad = anonymous.get("/compounds", headers={"Authorization": "Bearer nope"})
        assert (
            bad.status_code == 401
            and bad.json()["detail"] == "the bearer token is unknown, revoked or expired"
        )
        assert anonymous.get("/compounds", headers={"Authorization": "Basic x"}).status_code == 401
    with live.client(demo_template.tokens["grid02"]) as worker:
        mine = {c["name"]: c["stairwells"] for c in worker.get("/compounds").json()}
    with live.client(demo_template.tokens["grid01"]) as other:
        theirs = {c["name"]: c["stairwells"] for c in other.get("/compounds").json()}
    assert mine["水荫路34号大院"] == 57 and theirs["水荫路34号大院"] == 0
