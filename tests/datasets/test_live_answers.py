"""Answers that follow edits: the row_change feed, and coverage and service answers refreshed from
it equal to the answers a server with empty caches computes from scratch, on real PostGIS."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api import packed as packed_answers
from gis_service.api.app import create_app
from gis_service.api.metrics import REFRESHED_AHEAD
from gis_service.datasets import ahead_order, formats, rows_json
from gis_service.datasets.ahead_order import refresh_ahead
from gis_service.datasets.cache import versions_key
from gis_service.datasets.changes import changes_since, seen_now
from gis_service.datasets.edit_listener import EditListener
from gis_service.datasets.live import Ahead, LiveAnswers
from gis_service.settings import Settings
from tests.conftest import LiveServer, keepalive_of
from tests.datasets.conftest import COMPOUND_34, execute, rows

COVERAGE = ("/analysis/coverage", {"level": "compound"})
SHARES = ("/analysis/service-areas", {"layer": "gardens", "f": "json", "level": "compound"})
EACH = ("/analysis/service-areas", {"layer": "gardens", "f": "json", "level": "stairwell"})
TABLE = ("/analysis/service-areas", {"layer": "gardens", "f": "csv", "level": "stairwell"})
GAPS = ("/analysis/gaps", {"layer": "gardens", "level": "community"})
BY_COMMUNITY = ("/analysis/coverage", {"level": "community"})
"""A level whose units are found through the grid and compound joins."""
QUESTIONS = (COVERAGE, SHARES, EACH, TABLE, GAPS, BY_COMMUNITY)
NEW_RADIUS = ("/analysis/service-areas", {**EACH[1], "radius_m": 450})
"""Asked only after an edit: computed from the stairwells kept since SHARES, refreshed."""


def body(answer: Any) -> Any:
    """What an answer says, whatever cache it came from (JSON without `cached`, or CSV text)."""
    assert answer.status_code == 200, answer.text
    if answer.headers["content-type"].startswith("text/csv"):
        return answer.text
    payload = answer.json()
    payload.pop("cached", None)
    return payload


class Pair:
    """The server that keeps its answers (refreshed ahead of requests after each edit, or only
    when asked), and servers that compute each answer from scratch."""

    def __init__(
        self, engine: Engine, serve: Callable[[FastAPI], LiveServer], token: str,
        ahead: bool = True,
    ) -> None:  # fmt: skip
        self.engine, self.serve, self.token = engine, serve, token
        self.app = create_app(engine, settings=Settings(refresh_ahead=ahead))
        self.kept = serve(self.app)

    def refreshed_ahead(self, at_least: int) -> int:
        """How many answers the kept server refreshed with no request, once at least so many
        (waiting for its listener at most 20 s)."""
        live = self.app.state.live_answers
        deadline = time.monotonic() + 20
        while live.refreshed_ahead < at_least and time.monotonic() < deadline:
            time.sleep(0.02)
        return int(live.refreshed_ahead)

    def ask(self, path: str, params: dict[str, Any]) -> tuple[Any, str]:
        """The kept server's answer and its X-Cache."""
        with self.kept.client(self.token) as http:
            answer = http.get(path, params=params)
        return body(answer), answer.headers["x-cache"]

    def from_scratch(self, path: str, params: dict[str, Any]) -> Any:
        """The answer of a new server (empty caches, not listening) on the same database."""
        app = create_app(self.engine, settings=Settings(refresh_ahead=False))
        with self.serve(app).client(self.token) as http:
            return body(http.get(path, params=params))

    def refreshes(self) -> int:
        """How many answers the kept server refreshed from the feed."""
        return int(self.app.state.live_answers.refreshes)


def test_the_feed_names_written_rows_and_their_units_before_and_after(demo_db):
    with demo_db.connect() as conn:
        seen = seen_now(conn)
    sid, grid, compound = rows(demo_db, "SELECT id, grid_id, compound_id FROM stairwell "
                                        "WHERE compound_id = :c ORDER BY id LIMIT 1",
                               c=COMPOUND_34)[0].values()  # fmt: skip
    other = rows(demo_db, "SELECT id FROM compound WHERE id <> :c ORDER BY id LIMIT 1",
                 c=COMPOUND_34)[0]["id"]  # fmt: skip
    execute(demo_db, "UPDATE stairwell SET compound_id = :o WHERE id = :s", o=other, s=sid)
    execute(demo_db, "UPDATE building SET year_built = 1985 WHERE id = "
                     "(SELECT building_id FROM stairwell WHERE id = :s)", s=sid)  # fmt: skip
    with demo_db.connect() as conn:
        changes, now = changes_since(conn, seen)
        again, _ = changes_since(conn, now)
    assert not changes.everything and changes.stairwells == {sid}
    assert changes.units == {(grid, compound), (grid, other)}
    assert len(changes.buildings) == 1
    assert not again  # nothing written since the second look


def test_a_bulk_write_means_everything(demo_db):
    with demo_db.connect() as conn:
        seen = seen_now(conn)
    execute(demo_db, "INSERT INTO building (name, floors, geom) SELECT 'b' || i, 6, ST_Multi("
                     "ST_Buffer(ST_SetSRID(ST_MakePoint(113.3 + i * 1e-5, 23.1), 4326), 2e-6)) "
                     "FROM generate_series(1, 10001) i")
    with demo_db.connect() as conn:
        changes, _ = changes_since(conn, seen)
    assert changes.everything


EDITS = {
    "status-households":
        "UPDATE stairwell SET elevator_status = 'in_service', households = households + 5 "
        "WHERE id = (SELECT min(id) FROM stairwell WHERE compound_id = 5 "
        "AND elevator_status <> 'in_service')",
    "moved-unit":
        "UPDATE stairwell SET compound_id = (SELECT max(id) FROM compound), grid_id = NULL "
        "WHERE id = (SELECT min(id) FROM stairwell WHERE compound_id = 5)",
    "building-year":
        "UPDATE building SET year_built = 2015 WHERE id = "
        "(SELECT building_id FROM stairwell WHERE compound_id = 5 ORDER BY id LIMIT 1)",
    "moved-place":
        "UPDATE stairwell SET geom = ST_Translate(geom, 0.002, 0.001) "
        "WHERE id = (SELECT max(id) FROM stairwell WHERE compound_id = 5)",
    "added":
        "INSERT INTO stairwell (building_id, compound_id, grid_id, label, floors, households, "
        "elderly_households, elevator_status, geom) SELECT building_id, compound_id, grid_id, "
        "'9', floors, 12, 3, elevator_status, ST_Translate(geom, 0.0001, 0) FROM stairwell "
        "WHERE compound_id = 5 ORDER BY id LIMIT 1",
    "deleted":
        "DELETE FROM stairwell WHERE id = (SELECT max(s.id) FROM stairwell s WHERE NOT EXISTS "
        "(SELECT 1 FROM household h WHERE h.stairwell_id = s.id))",
}  # fmt: skip
AHEAD_EDITS = ("status-households", "building-year", "added")
"""Refreshed ahead too (the same refresh as when asked: a stairwell's and a building's write
heard, and a new row)."""


@pytest.mark.parametrize(
    ("edit", "ahead"),
    [pytest.param(sql, False, id=f"{name}-when-asked") for name, sql in EDITS.items()]
    + [pytest.param(EDITS[name], True, id=f"{name}-ahead") for name in AHEAD_EDITS],
)
def test_refreshed_answers_equal_answers_from_scratch(
    demo_db, serve, tokens, edit, ahead, monkeypatch
):
    """Answers sent in blocks of 3 rows (as a city's are sent in blocks of 1000): an edit
    re-joins only its blocks, and every answer equals that of a server with empty caches.

    Ahead: the edit (plain SQL) is heard at its commit, and the kept answers are refreshed and
    rendered again before anyone asks: the next requests find them kept, and refresh nothing.
    """
    monkeypatch.setattr(packed_answers, "PACK_FROM_BYTES", 1_000)
    monkeypatch.setattr(rows_json, "BLOCK_ROWS", 3)
    pair = Pair(demo_db, serve, tokens["planner"], ahead)
    counted = REFRESHED_AHEAD._value.get()
    before = [pair.ask(*q) for q in QUESTIONS]
    assert all(pair.ask(*q)[1] == "hit" for q in QUESTIONS)
    execute(demo_db, edit)
    if ahead:  # the two coverages and the nearest table, and the bytes of their answers
        assert pair.refreshed_ahead(3) == 3  # but the big ones (per stairwell: over 1000 here)
        missed = pair.app.state.answer_cache.stats.misses
        assert all(pair.ask(*q)[1] == "hit" for q in QUESTIONS if q not in (TABLE, EACH))
        assert pair.app.state.answer_cache.stats.misses == missed  # none rendered when asked
    for question in QUESTIONS:  # the others read the nearest table SHARES refreshed
        refreshed, cache = pair.ask(*question)
        assert cache == ("hit" if ahead else "miss") or question not in (
            COVERAGE, SHARES, BY_COMMUNITY)  # fmt: skip
        assert refreshed == pair.from_scratch(*question), question
    if ahead:
        assert pair.refreshes() == 0  # none left to the requests
        with pair.kept.client() as http:  # counted for the operator (loopback may read it)
            metrics = http.get("/metrics").text
        said = float(metrics.split("\ngis_answers_refreshed_ahead_total ")[1].split()[0])
        assert said - counted == 3
    else:
        assert pair.refreshes() >= 3  # coverages and the nearest table: not recomputed
    assert pair.ask(*NEW_RADIUS)[0] == pair.from_scratch(*NEW_RADIUS)
    assert pair.app.state.live_inputs.refreshes == 1  # its stairwells: kept, written rows re-read
    assert any(pair.ask(*q)[0] != was[0] for q, was in zip(QUESTIONS, before, strict=True))
    assert all(pair.ask(*q)[1] == "hit" for q in QUESTIONS)


@pytest.mark.parametrize("ahead", [False, True], ids=["when-asked", "ahead"])
def test_a_grid_worker_refreshed_answer_follows_row_security(demo_db, serve, tokens, ahead):
    """A stairwell moved out of grid02's grid leaves grid02's refreshed answers (refreshed
    ahead: in grid02's role and grids, with no request of grid02's)."""
    pair = Pair(demo_db, serve, tokens["grid02"], ahead)
    grid = rows(demo_db, "SELECT g.id FROM grid g JOIN user_grid ug ON ug.grid_id = g.id "
                         "JOIN app_user u ON u.id = ug.user_id WHERE u.username = 'grid02'")
    mine = [r["id"] for r in grid]
    sid = rows(demo_db, "SELECT min(id) AS id FROM stairwell WHERE grid_id = ANY(:g)", g=mine)
    elsewhere = rows(demo_db, "SELECT min(id) AS id FROM grid WHERE NOT id = ANY(:g)", g=mine)
    for question in (COVERAGE, SHARES):
        pair.ask(*question)
    execute(demo_db, "UPDATE stairwell SET grid_id = :o WHERE id = :s",
            o=elsewhere[0]["id"], s=sid[0]["id"])  # fmt: skip
    if ahead:
        assert pair.refreshed_ahead(2) == 2
    for question in (COVERAGE, SHARES, NEW_RADIUS):
        refreshed, _ = pair.ask(*question)
        assert refreshed == pair.from_scratch(*question), question
    assert pair.refreshes() == (0 if ahead else 2)
    assert pair.app.state.live_inputs.refreshes == 1


LISTENING = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
             "AND application_name = 'gis-service edit listener'")
ONE_MORE_FLAT = ("UPDATE stairwell SET households = households + 1 WHERE id = "
                 "(SELECT min(id) FROM stairwell WHERE compound_id = 5)")  # fmt: skip


def as_owner(_conn: sa.Connection) -> None:
    """The scope of the questions these tests refresh ahead: the connection's own (the owner)."""


def test_a_request_while_a_refresh_runs_ahead_waits_and_takes_its_value(demo_db):
    """One question is refreshed by one thread at a time: a request that comes while the
    refresh ahead of an edit runs (held until the request asks, and 0.3 s more) takes its
    value, refreshing nothing."""
    live, tables, calls = LiveAnswers(), ("stairwell",), []
    started, asking = threading.Event(), threading.Event()

    def refresh(conn: sa.Connection, value: int, changes: Any) -> int:
        calls.append(threading.current_thread().name)
        started.set()
        assert asking.wait(10)
        time.sleep(0.3)
        return value + len(changes.stairwells)

    ahead = Ahead(as_owner, tables, refresh)
    with demo_db.begin() as conn:
        live.value(conn, "q", versions_key(conn, tables), lambda: 0, refresh, ahead)
    execute(demo_db, ONE_MORE_FLAT)
    worker = threading.Thread(target=refresh_ahead, args=(live, demo_db.begin), name="ahead")
    worker.start()
    assert started.wait(10)
    with demo_db.begin() as conn:
        versions = versions_key(conn, tables)
        asking.set()
        value = live.value(conn, "q", versions, lambda: -1, refresh, ahead)
    worker.join(10)
    assert value == (1, True) and calls == ["ahead"]
    assert live.refreshed_ahead == 1 and live.refreshes == 0


def test_a_refresh_pass_goes_last_asked_first_and_stops_for_a_newer_edit(demo_db):
    """Two kept questions and an edit: the pass refreshes the one asked last first and, told
    that another write committed meanwhile, leaves the other to the next pass."""
    live, tables, refreshed = LiveAnswers(), ("stairwell",), []

    def refresh_of(name: str) -> Any:
        def refresh(conn: sa.Connection, value: int, changes: Any) -> int:
            refreshed.append(name)
            return value + 1

        return refresh

    for name in ("first", "last"):
        with demo_db.begin() as conn:
            ahead = Ahead(as_owner, tables, refresh_of(name))
            live.value(conn, name, versions_key(conn, tables), lambda: 0, ahead.refresh, ahead)
        time.sleep(0.01)
    execute(demo_db, ONE_MORE_FLAT)
    assert refresh_ahead(live, demo_db.begin, more_written=lambda: True) == 1
    assert refreshed == ["last"]
    assert refresh_ahead(live, demo_db.begin) == 1 and refreshed == ["last", "first"]


def test_a_follower_the_database_refuses_ends_the_pass_not_the_refresh(demo_db):
    """Followers render with no savepoint: one whose statement fails leaves the value
    refreshed, the followers after it to their next request (not run on a failed transaction),
    and the connection fit for the next pass; one failing in Python leaves the others to run."""
    live, tables, ran = LiveAnswers(), ("stairwell",), []

    def refresh(conn: sa.Connection, value: int, changes: Any) -> int:
        return value + len(changes.stairwells)

    def follower(name: str, sql: str | None = None, python: bool = False) -> Any:
        def follow(conn: sa.Connection, *_: Any) -> None:
            ran.append(name)
            if python:
                raise ValueError(name)
            if sql:
                conn.execute(sa.text(sql))

        return follow

    ahead = Ahead(as_owner, tables, refresh)
    with demo_db.begin() as conn:
        live.value(conn, "q", versions_key(conn, tables), lambda: 0, refresh, ahead)
    live.follow("q", "python", follower("python", python=True))
    live.follow("q", "refused", follower("refused", "SELECT 1 / 0"))
    live.follow("q", "after", follower("after", "SELECT 1"))
    with demo_db.connect() as held:

        @contextmanager
        def begin() -> Any:
            with held.begin():
                yield held

        execute(demo_db, ONE_MORE_FLAT)
        assert refresh_ahead(live, begin) == 1
        assert ran == ["python", "refused"]
        with demo_db.begin() as conn:
            assert live.value(conn, "q", versions_key(conn, tables), lambda: -1, refresh)[0] == 1
        execute(demo_db, ONE_MORE_FLAT)
        live.follow("q", "refused", follower("refused"))  # renders now
        assert refresh_ahead(live, begin) == 1 and ran[2:] == ["python", "after", "refused"]


def test_refreshes_ahead_go_on_after_their_connection_is_lost(demo_db):
    """The listener keeps one connection for its refreshes (no checkout or ping each time):
    killed (a database restart), the pass that meets it fails, and the next opens another."""
    backends: list[int] = []
    failed = threading.Event()
    listener_holder: list[Any] = []

    def on_write(_more_written: Callable[[], bool]) -> None:
        try:
            with listener_holder[0].transaction() as conn:
                backends.append(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        except sa.exc.DBAPIError:
            failed.set()

    listener = EditListener(demo_db, on_write)
    listener_holder.append(listener)
    listener.wanted()
    try:
        assert listener.listening.wait(10)
        notify = "SELECT pg_notify('gis_row_change', 'stairwell')"
        for _ in range(2):
            count = len(backends)
            execute(demo_db, notify)
            wait_for(lambda: len(backends) > count)  # noqa: B023
        assert backends[-1] == backends[-2]  # the same connection, kept
        execute(demo_db, f"SELECT pg_terminate_backend({backends[-1]})")
        execute(demo_db, notify)
        wait_for(failed.is_set)
        count = len(backends)
        execute(demo_db, notify)
        wait_for(lambda: len(backends) > count)
        assert backends[-1] != backends[-2]
    finally:
        listener.stop()


def wait_for(done: Callable[[], Any], seconds: float = 10) -> None:
    """Return once `done` says so (failing after `seconds`)."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "not done in time"
        time.sleep(0.01)


def test_edits_are_heard_again_after_the_listening_connection_is_lost(demo_db, serve, tokens):
    """The listening connection killed (a database restart, a proxy's idle cut): an edit
    made while nobody listens is caught up once it listens again, the kept answer is
    refreshed ahead, and a stopped server leaves no listening connection behind."""
    pair = Pair(demo_db, serve, tokens["planner"])
    pair.ask(*COVERAGE)
    listener = pair.app.state.edit_listener
    assert listener.listening.wait(10)
    killed = rows(demo_db, f"SELECT pg_terminate_backend(pid) AS done FROM ({LISTENING}) l")
    assert [r["done"] for r in killed] == [True]
    deadline = time.monotonic() + 10
    while listener.listening.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not listener.listening.is_set()
    execute(demo_db, ONE_MORE_FLAT)
    assert pair.refreshed_ahead(1) == 1
    refreshed, cache = pair.ask(*COVERAGE)
    assert cache == "hit" and refreshed == pair.from_scratch(*COVERAGE)
    assert pair.refreshes() == 0 and len(rows(demo_db, LISTENING)) == 1  # listening again
    assert keepalive_of(listener._conn.pgconn.socket) == (1, 30, 10, 3, 60_000)
    pair.kept.server.should_exit = True
    pair.kept.thread.join(10)
    deadline = time.monotonic() + 10
    while rows(demo_db, LISTENING) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rows(demo_db, LISTENING) == []


def test_an_answer_not_asked_for_long_waits_to_be_asked(demo_db, serve, tokens, monkeypatch):
    """A kept answer nobody asked for since AHEAD_FOR_S is not refreshed after an edit (no work
    for nobody): the next request refreshes it."""
    monkeypatch.setattr(ahead_order, "AHEAD_FOR_S", 0.5)
    pair = Pair(demo_db, serve, tokens["planner"])
    pair.ask(*COVERAGE)
    time.sleep(0.6)
    execute(demo_db, ONE_MORE_FLAT)
    time.sleep(1.0)
    refreshed, cache = pair.ask(*COVERAGE)
    assert cache == "miss" and refreshed == pair.from_scratch(*COVERAGE)
    assert pair.refreshes() == 1 and pair.app.state.live_answers.refreshed_ahead == 0


def test_other_tables_changed_compute_again(demo_db, serve, tokens):
    """A garden added is not in the feed: the service answer is computed anew, and shows it."""
    pair = Pair(demo_db, serve, tokens["planner"])
    pair.ask(*SHARES)
    with demo_db.begin() as conn:
        conn.execute(sa.text("INSERT INTO garden (name, kind, area_m2, geom) SELECT 'new', kind, "
                             "area_m2, ST_Translate(geom, 0.003, 0.003) FROM garden "
                             "ORDER BY id LIMIT 1"))
    refreshed, cache = pair.ask(*SHARES)
    assert cache == "miss" and pair.refreshes() == 0
    assert refreshed == pair.from_scratch(*SHARES)


def test_a_status_added_to_the_pipeline_is_counted_in_the_next_answer(demo_db, serve, tokens):
    """The pipeline is data (elevator_status): a step added by an administrator, then given
    to a stairwell, is a column of the next coverage answer, not an unknown status of a
    refresh that still counts by the old steps."""
    pair = Pair(demo_db, serve, tokens["planner"])
    before, _ = pair.ask(*COVERAGE)
    assert "status_inspected" not in before["rows"][0]
    sid = rows(demo_db, "SELECT id FROM stairwell WHERE compound_id = :c ORDER BY id LIMIT 1",
               c=COMPOUND_34)[0]["id"]  # fmt: skip
    execute(demo_db, "INSERT INTO elevator_status (code, rank, label_zh, label_en, is_final) "
                     "VALUES ('inspected', 8, '已验收', 'Inspected', false)")  # fmt: skip
    execute(demo_db, "UPDATE stairwell SET elevator_status = 'inspected' WHERE id = :s", s=sid)
    after, cache = pair.ask(*COVERAGE)
    assert cache == "miss" and pair.refreshes() == 0  # computed again, not refreshed
    compound = next(r for r in after["rows"] if r["compound_id"] == COMPOUND_34)
    assert compound["status_inspected"] == 1
    assert after == pair.from_scratch(*COVERAGE)


def test_a_kept_big_answer_is_sent_packed_to_clients_that_accept_zstd(
    shared_live, tokens, monkeypatch
):
    """The per-stairwell CSV of the district, repeated: zstd when accepted (httpx decodes it,
    the same text), as it is otherwise; the packed bytes are several times smaller."""
    monkeypatch.setattr(packed_answers, "PACK_FROM_BYTES", 10_000)  # a city's would be 100 MB
    path, params = TABLE
    with shared_live.client(tokens["planner"]) as http:
        first = http.get(path, params=params)
        assert first.headers["x-cache"] == "miss" and "content-encoding" not in first.headers
        for _ in range(50):  # packing runs in the background after the first answer
            packed = http.get(path, params=params, headers={"Accept-Encoding": "zstd"})
            if packed.headers.get("content-encoding") == "zstd":
                break
            time.sleep(0.1)
        plain = http.get(path, params=params, headers={"Accept-Encoding": "gzip;q=1, zstd;q=0"})
    assert packed.headers["content-encoding"] == "zstd" and packed.headers["x-cache"] == "hit"
    assert packed.text == plain.text == first.text
    assert "content-encoding" not in plain.headers
    assert "Accept-Encoding" in packed.headers["vary"]
    raw = int(packed.headers["content-length"])
    assert raw * 4 < len(first.content), (raw, len(first.content))


class HeldParts:
    """CSV parts of 40 rows whose later parts wait to be written until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.released, self.waited, self.written = threading.Event(), [], []
        write_part = formats.csv_part

        def held_part(table: Any, header: bool) -> Any:
            if not header:  # a later part: written only once released, in 20 ms (a city's
                self.waited.append(self.released.wait(30))  # parts take 50-100 ms)
                time.sleep(0.02)
            self.written.append(len(table))
            return write_part(table, header)

        monkeypatch.setattr(formats, "CSV_PART_ROWS", 40)
        monkeypatch.setattr(formats, "csv_part", held_part)


def test_a_big_table_is_sent_while_it_is_written_then_kept(
    shared_live, shared_demo_db, tokens, monkeypatch
):
    """The per-stairwell CSV in parts of 40 rows: its first part reaches the client while the
    others wait to be written (held here), the whole reads as one table of every stairwell of
    the district; once sent it is kept, and a repeat gets the same bytes, with their length."""
    held = HeldParts(monkeypatch)
    path, params = TABLE[0], {**TABLE[1], "radius_m": 377}
    try:
        with shared_live.client(tokens["planner"]) as http:
            with http.stream("GET", path, params=params) as answer:
                assert answer.status_code == 200 and "content-length" not in answer.headers
                chunks = answer.iter_bytes()
                first = next(chunks)
                held.released.set()
                sent = first + b"".join(chunks)
            repeat = http.get(path, params=params)
    finally:
        held.released.set()
    assert first.startswith(b"id,building_id,") and held.waited and all(held.waited)
    table = list(csv.reader(io.StringIO(sent.decode())))
    ids = [row[0] for row in table[1:]]
    stairwells = rows(shared_demo_db, "SELECT count(*) AS n FROM stairwell")
    assert table[0][0] == "id" and len(ids) == len(set(ids)) == stairwells[0]["n"] > 80
    assert repeat.headers["x-cache"] == "hit" and repeat.content == sent
    assert int(repeat.headers["content-length"]) == len(sent)


def test_a_big_table_left_by_its_client_is_written_no_further(shared_live, tokens, monkeypatch):
    """A client that goes away after the first part of the per-stairwell CSV (25+ parts): the
    parts not begun are never written, and nothing of the cut answer is kept (the next one is
    written anew, whole)."""
    held = HeldParts(monkeypatch)
    path, params = TABLE[0], {**TABLE[1], "radius_m": 388}
    try:
        with (shared_live.client(tokens["planner"]) as http,
              http.stream("GET", path, params=params) as answer):  # fmt: skip
            next(answer.iter_bytes())  # then the connection is closed
        time.sleep(0.5)  # the server hears of it
    finally:
        held.released.set()
    time.sleep(1.5)
    cut = len(held.written)
    time.sleep(0.5)
    assert len(held.written) == cut < 8, held.written  # the first, and a few in flight
    with shared_live.client(tokens["planner"]) as http:
        again = http.get(path, params=params)
    assert again.status_code == 200 and "content-length" not in again.headers  # sent anew
    assert len(held.written) - cut > 25


def test_every_repeat_of_a_kept_big_json_answer_says_it_was_cached(
    shared_live, tokens, monkeypatch
):
    """The first answer says `cached: false`; repeats say true whether they come before the
    background step that rewrites and packs the kept bytes (held here) or after it."""
    monkeypatch.setattr(packed_answers, "PACK_FROM_BYTES", 1_000)
    monkeypatch.setattr(packed_answers, "_PACKER", ThreadPoolExecutor(1))
    held = threading.Event()
    packed_answers._PACKER.submit(held.wait, 30)  # the packer is busy until released
    path, params = SHARES[0], {**SHARES[1], "radius_m": 333}
    identity = {"Accept-Encoding": "identity"}
    with shared_live.client(tokens["planner"]) as http:
        first = http.get(path, params=params, headers=identity)
        early = http.get(path, params=params, headers={"Accept-Encoding": "zstd"})
        held.set()
        for _ in range(50):
            late = http.get(path, params=params, headers={"Accept-Encoding": "zstd"})
            if late.headers.get("content-encoding") == "zstd":
                break
            time.sleep(0.1)
        plain = http.get(path, params=params, headers=identity)
    assert len(first.content) > 1_000 and first.json()["cached"] is False
    assert "content-encoding" not in early.headers  # not packed yet
    assert late.headers["content-encoding"] == "zstd"
    for repeat in (early, late, plain):
        assert repeat.headers["x-cache"] == "hit" and repeat.json()["cached"] is True
        assert body(repeat) == body(first)


def test_packing_takes_only_the_cpu_answers_leave_idle():
    """The packer thread runs at the lowest priority (nice 19), so a big answer packed in the
    background never slows the next answers on a busy machine."""
    tid = packed_answers._PACKER.submit(threading.get_native_id).result(timeout=30)
    stat = Path(f"/proc/self/task/{tid}/stat").read_text()
    assert int(stat.rsplit(")", 1)[1].split()[16]) == packed_answers.LOWEST_PRIORITY == 19


def access_kept(app: FastAPI) -> int:
    """How many layers' access stretches the app keeps on its street graphs."""
    keys = list(app.state.graph_cache._items)
    return sum(1 for key in keys if isinstance(key, tuple) and key[0] == "access")


def test_facilities_are_entered_where_they_are_now(demo_db, serve, tokens):
    """A garden's access stretches are found once for every radius and form, and found again
    when the garden moves: the answers equal a new server's, and show the move."""
    polygons = ("/analysis/service-areas", {"layer": "gardens", "radius_m": 300})
    asked = (SHARES, NEW_RADIUS, polygons)
    pair = Pair(demo_db, serve, tokens["planner"])
    before = [pair.ask(*q)[0] for q in asked]
    assert access_kept(pair.app) == 1
    execute(demo_db, "UPDATE garden SET geom = ST_Translate(geom, 0.004, -0.003) "
                     "WHERE id = (SELECT min(id) FROM garden)")  # fmt: skip
    after = [pair.ask(*q)[0] for q in asked]
    assert after == [pair.from_scratch(*q) for q in asked]
    assert after[2] != before[2] and after[1] != before[1]
    assert access_kept(pair.app) == 2
