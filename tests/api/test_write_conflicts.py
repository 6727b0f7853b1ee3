"""What the database stops is answered for what it is: a deadlock rolled back is a conflict to
send again, a statement timeout a timeout; neither is a database gone."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from starlette.requests import Request

from gis_service.api.app import create_app
from gis_service.settings import Settings
from tests.conftest import DemoTemplate
from tests.features.live import clients, running, stairwell_in_grid

TOUCH = "SELECT id FROM stairwell WHERE id = :id FOR UPDATE"  # as a vote opening a proposal does


def deadlock(engine: Engine) -> OperationalError:
    """Two transactions that each hold one stairwell and want the other's: the error of the
    one PostgreSQL rolls back."""
    ids = [r.id for r in engine.connect().execute(sa.text(
        "SELECT id FROM stairwell ORDER BY id LIMIT 2"))]  # fmt: skip
    first, second = engine.connect(), engine.connect()
    met: list[OperationalError] = []
    try:
        first.begin()
        second.begin()
        first.execute(sa.text(TOUCH), {"id": ids[0]})
        second.execute(sa.text(TOUCH), {"id": ids[1]})

        def first_wants_the_second() -> None:
            try:
                first.execute(sa.text(TOUCH), {"id": ids[1]})
            except OperationalError as exc:
                met.append(exc)

        waiting = threading.Thread(target=first_wants_the_second)
        waiting.start()
        time.sleep(0.3)
        try:
            second.execute(sa.text(TOUCH), {"id": ids[0]})
        except OperationalError as exc:
            met.append(exc)
        waiting.join(30)
    finally:
        first.close()
        second.close()
    assert len(met) == 1
    return met[0]


def handled(engine: Engine, error: OperationalError, method: str, path: str) -> tuple[
    int, dict[str, Any]
]:
    """The status and problem body the app's handler answers a request with for this error."""
    app = create_app(engine)
    scope = {"type": "http", "method": method, "path": path, "query_string": b"",
             "headers": [], "app": app}  # fmt: skip
    handler = app.exception_handlers[OperationalError]
    asked = handler(Request(scope), error)  # type: ignore[arg-type]
    with ThreadPoolExecutor(1) as thread:  # its own event loop: a browser's runs in this thread
        answer = thread.submit(asyncio.run, asked).result()
    return answer.status_code, orjson.loads(answer.body)


def test_a_deadlock_is_answered_409_send_again_not_database_unavailable(demo_db: Engine) -> None:
    """psycopg raises a deadlock as an operational error, as it does a database that is gone:
    the writer is told its write met another one and to send it again, not that the database
    cannot be reached (503)."""
    error = deadlock(demo_db)
    assert error.orig is not None and error.orig.sqlstate == "40P01"  # type: ignore[attr-defined]
    status, body = handled(demo_db, error, "PATCH", "/collections/stairwells/items/1")
    assert status == 409 and body["title"] == "Conflict"
    assert "send it again" in body["detail"] and "reach" not in body["detail"]


def test_a_statement_stopped_by_its_timeout_says_so_not_that_the_database_is_gone(
    demo_db: Engine,
) -> None:
    """psycopg raises a statement timeout as an operational error too: the answer is 503
    "Query timeout", not "the database is not reachable"."""
    with demo_db.connect() as conn:
        conn.execute(sa.text("SET statement_timeout = 50"))
        try:
            conn.execute(sa.text("SELECT pg_sleep(1)"))
        except OperationalError as exc:
            error = exc
    assert error.orig is not None and error.orig.sqlstate == "57014"  # type: ignore[attr-defined]
    status, body = handled(demo_db, error, "GET", "/analysis/coverage")
    assert status == 503 and body["title"] == "Query timeout"


def test_a_grid_worker_saves_while_an_import_of_the_layer_is_under_way(
    demo_db: Engine, demo_template: DemoTemplate
) -> None:
    """An import into stairwells (one transaction, not yet committed) and a grid worker saving
    a stairwell of their grid: the save answers at once (it waited for the import's commit, on
    the table's one data-version row, and failed at the timeout), and a planner's answers
    follow each commit: the save's at once, the import's when it commits (seen as the next
    answer's refresh: answers are refreshed when asked here, not ahead)."""
    saved = stairwell_in_grid(demo_db, 2)
    imported = stairwell_in_grid(demo_db, 3)
    with (running(demo_db, settings=Settings(refresh_ahead=False)) as live,
          clients(live, demo_template)("planner") as planner):  # fmt: skip
        api = clients(live, demo_template)
        assert planner.get("/analysis/coverage").status_code == 200
        assert planner.get("/analysis/coverage").headers["x-cache"] == "hit"
        importing = demo_db.connect()
        importing.begin()
        importing.execute(sa.text("UPDATE stairwell SET notes = 'imported' WHERE id = :id"),
                          {"id": imported})  # fmt: skip
        try:
            with api("grid02") as worker:
                url = f"/collections/stairwells/items/{saved}"
                etag = worker.get(url).headers["etag"]
                started = time.monotonic()
                answer = worker.patch(url, json={"properties": {"notes": "saved"}},
                                      headers={"If-Match": etag}, timeout=10)  # fmt: skip
                waited = time.monotonic() - started
            assert answer.status_code == 200, answer.text
            assert waited < 5
            assert planner.get("/analysis/coverage").headers["x-cache"] == "miss"
            assert planner.get(url).json()["properties"]["notes"] == "saved"
            before = planner.get(f"/collections/stairwells/items/{imported}")
            assert before.json()["properties"]["notes"] != "imported"
            assert planner.get("/analysis/coverage").headers["x-cache"] == "hit"
            importing.commit()
        finally:
            importing.close()
        assert planner.get("/analysis/coverage").headers["x-cache"] == "miss"
        after = planner.get(f"/collections/stairwells/items/{imported}")
        assert after.json()["properties"]["notes"] == "imported"
