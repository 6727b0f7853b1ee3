"""Grid workers cannot reach outside their grids through references or points (issue 11, item 9).

Foreign keys are checked without row-level security, so before migration 0008 a grid worker
could link an issue to a stairwell of another grid and move an issue's point out of every grid
while its grid_id stayed. The database now refuses both, through the API and in SQL alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.auth import Principal, apply_scope
from tests.conftest import DemoTemplate
from tests.features.live import (
    Clients,
    clients,
    issue,
    issue_in_grid,
    number,
    point_of,
    running,
    stairwell_in_grid,
)

OUTSIDE_EVERY_GRID = [113.40, 23.20]  # in the service area, far from the demo district


@pytest.fixture
def api(demo_db: Engine, demo_template: DemoTemplate) -> Iterator[Clients]:
    with running(demo_db) as live:
        yield clients(live, demo_template)


def snapshot(engine: Engine, fid: int) -> tuple[Any, ...]:
    """What an attack must leave unchanged: the issue's row and the size of the edit log."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT stairwell_id, grid_id, ST_AsText(geom), version FROM issue "
                    "WHERE id = :id"),
            {"id": fid},
        ).one()
        logged = conn.execute(sa.text("SELECT count(*) FROM edit_log")).scalar_one()
    return (*row, logged)


def patch(client: httpx.Client, fid: int, body: dict[str, Any]) -> httpx.Response:
    """PATCH an issue with the If-Match of a fresh GET."""
    url = f"/collections/issues/items/{fid}"
    etag = client.get(url).headers["etag"]
    return client.patch(url, json=body, headers={"If-Match": etag})


def test_demo_data_keeps_the_rules(demo_db: Engine) -> None:
    broken = number(demo_db, """
        SELECT count(*) FROM issue i
        LEFT JOIN stairwell s ON s.id = i.stairwell_id
        LEFT JOIN grid g ON g.id = i.grid_id
        WHERE s.grid_id <> i.grid_id OR NOT ST_Intersects(g.geom, i.geom)
    """)
    assert broken == 0


def test_linking_an_issue_to_a_stairwell_of_another_grid_is_refused(
    api: Clients, demo_db: Engine
) -> None:
    fid, foreign = issue_in_grid(demo_db, 2), stairwell_in_grid(demo_db, 3)
    before = snapshot(demo_db, fid)
    with api("grid02") as client:
        answer = patch(client, fid, {"properties": {"stairwell_id": foreign}})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "stairwell_id"
    assert "not in your grids" in answer.json()["detail"]
    assert snapshot(demo_db, fid) == before


def test_moving_an_issue_out_of_its_grid_is_refused(api: Clients, demo_db: Engine) -> None:
    fid = issue_in_grid(demo_db, 2)
    before = snapshot(demo_db, fid)
    into_grid_3 = point_of(demo_db, stairwell_in_grid(demo_db, 3))
    with api("grid02") as client:
        for point in (OUTSIDE_EVERY_GRID, into_grid_3):
            answer = patch(client, fid, {"geometry": {"type": "Point", "coordinates": point}})
            assert answer.status_code == 422, answer.text
            assert answer.json()["errors"][0]["field"] == "geometry"
            assert "outside its grid 2" in answer.json()["detail"]
    assert snapshot(demo_db, fid) == before


def test_reporting_an_issue_on_a_foreign_stairwell_is_refused(
    api: Clients, demo_db: Engine
) -> None:
    own, foreign = stairwell_in_grid(demo_db, 2), stairwell_in_grid(demo_db, 3)
    count = number(demo_db, "SELECT count(*) FROM issue")
    with api("grid02") as client:
        answer = client.post(
            "/collections/issues/items", json=issue(point_of(demo_db, own), stairwell_id=foreign)
        )
    assert answer.status_code == 422, answer.text
    assert number(demo_db, "SELECT count(*) FROM issue") == count


def test_moves_and_links_inside_the_grid_still_work(api: Clients, demo_db: Engine) -> None:
    fid = issue_in_grid(demo_db, 2)
    with demo_db.connect() as conn:
        other = conn.execute(
            sa.text("SELECT id FROM stairwell WHERE grid_id = 2 AND id <> "
                    "coalesce((SELECT stairwell_id FROM issue WHERE id = :id), 0) "
                    "ORDER BY id DESC LIMIT 1"),
            {"id": fid},
        ).scalar_one()
    with api("grid02") as client:
        answer = patch(client, fid, {
            "geometry": {"type": "Point", "coordinates": point_of(demo_db, other)},
            "properties": {"stairwell_id": other},
        })
    assert answer.status_code == 200, answer.text
    assert answer.json()["properties"]["stairwell_id"] == other


def test_planners_keep_issues_consistent_too(api: Clients, demo_db: Engine) -> None:
    fid, foreign = issue_in_grid(demo_db, 2), stairwell_in_grid(demo_db, 3)
    before = snapshot(demo_db, fid)
    with api("planner") as client:
        answer = patch(client, fid, {"properties": {"stairwell_id": foreign}})
    assert answer.status_code == 422, answer.text
    assert "lies in grid 3, the issue in grid 2" in answer.json()["detail"]
    assert snapshot(demo_db, fid) == before


def worker(engine: Engine, grid: int) -> Principal:
    """The demo grid worker of a grid, as the API would see them."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT u.id, u.username FROM app_user u JOIN user_grid g ON g.user_id = u.id "
                    "WHERE u.role = 'grid_worker' AND g.grid_id = :g ORDER BY u.id LIMIT 1"),
            {"g": grid},
        ).one()
    return Principal("grid_worker", row.id, row.username, (grid,))


@pytest.mark.parametrize(
    ("sql", "column"),
    [
        # straight SQL in the worker's role, no API checks in between
        ("INSERT INTO issue (grid_id, stairwell_id, category, reporter_id, geom) "
         "SELECT 2, :foreign, 'water_pipes', :me, geom FROM stairwell WHERE id = :own",
         "stairwell_id"),
        ("UPDATE issue SET geom = ST_SetSRID(ST_MakePoint(113.40, 23.20), 4326) WHERE id = :issue",
         "geom"),
        ("INSERT INTO issue (grid_id, category, reporter_id, geom) "
         "SELECT 2, 'water_pipes', :someone, geom FROM stairwell WHERE id = :own",
         "reporter_id"),
        ("INSERT INTO survey (stairwell_id, surveyor_id, surveyed_on) "
         "VALUES (:own, :someone, current_date)", "surveyor_id"),
    ],
)
def test_the_database_itself_refuses(demo_db: Engine, sql: str, column: str) -> None:
    me = worker(demo_db, 2)
    params = {
        "own": stairwell_in_grid(demo_db, 2),
        "foreign": stairwell_in_grid(demo_db, 3),
        "issue": issue_in_grid(demo_db, 2),
        "me": me.user_id,
        "someone": worker(demo_db, 3).user_id,
    }
    with demo_db.connect() as conn, conn.begin():
        apply_scope(conn, me)
        with pytest.raises(sa.exc.IntegrityError) as refused:
            conn.execute(sa.text(sql), params)
    assert refused.value.orig is not None
    assert refused.value.orig.diag.column_name == column


def test_grid_workers_may_not_insert_an_assignee(demo_db: Engine) -> None:
    me = worker(demo_db, 2)
    with demo_db.connect() as conn, conn.begin():
        apply_scope(conn, me)
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.execute(
                sa.text("INSERT INTO issue (grid_id, category, reporter_id, assignee_id, geom) "
                        "SELECT 2, 'water_pipes', :me, :me, geom FROM stairwell WHERE id = :own"),
                {"me": me.user_id, "own": stairwell_in_grid(demo_db, 2)},
            )
