"""A remembered caller's XYZ tile answered before routing: same answer, same checks, logged."""

from __future__ import annotations

import gzip
import logging
import re
import time
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.api.tile_shortcut import TilesBeforeRouting
from gis_service.api.tiles import XYZ_TILE
from gis_service.auth import hash_token
from tests.conftest import DemoTemplate, start_server
from tests.tiles.conftest import TileServer, compound34, decode, run_coroutine, tile_pixel

HEADERS = ("etag", "cache-control", "vary", "content-type", "content-encoding", "x-tile-cache")


def get(server: TileServer, path: str, user: str = "planner", **headers: str) -> httpx.Response:
    """GET a path with a demo user's token."""
    with server.live.client(server.tokens[user]) as client:
        return client.get(path, headers=headers)


def tile_path(server: TileServer, z: int) -> str:
    """The tile of compound 34's first stairwell at zoom z."""
    first = compound34(server.engine)[0]
    x, y, _, _ = tile_pixel(first.lon, first.lat, z)
    return f"/tiles/stairwells/{z}/{x}/{y}.pbf"


def shortcut_answer(server: TileServer, path: str, user: str) -> tuple[int, dict[str, str], bytes,
                                                                        bool]:  # fmt: skip
    """Status, headers, body of the middleware alone (in front of an app that only records being
    called), on the served app's state; and whether the request went on to the router."""
    routed: list[bool] = []

    async def router(scope: Any, receive: Any, send: Any) -> None:
        routed.append(True)
        await send({"type": "http.response.start", "status": 599, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    shortcut = TilesBeforeRouting(router)
    shortcut.route = served_shortcut(server).route  # learnt from the routed tiles
    assert shortcut.route is not None
    token = f"Bearer {server.tokens[user]}".encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"host", b"test"), (b"authorization", token),
                                          (b"accept-encoding", b"gzip")],
             "client": ("127.0.0.1", 1), "server": ("test", 80), "app": server.app}  # fmt: skip
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    run_coroutine(shortcut(scope, receive, send))
    headers = {k.decode(): v.decode() for k, v in sent[0].get("headers", [])}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], headers, body, bool(routed)


def served_shortcut(server: TileServer) -> TilesBeforeRouting:
    """The middleware instance of the served app."""
    layer: Any = server.app.middleware_stack
    while not isinstance(layer, TilesBeforeRouting):
        layer = layer.app
    return layer


def test_the_answer_before_routing_is_the_routed_answer(tiles: TileServer) -> None:
    """The first tile of a token is routed (and remembers the caller); the next ones are answered
    before routing with the same status, headers and bytes, 304 included."""
    path = tile_path(tiles, 16)
    routed = get(tiles, path)
    assert routed.status_code == 200
    again = [get(tiles, path) for _ in range(3)]
    for answer in again:
        assert answer.status_code == 200 and answer.content == routed.content
        assert answer.headers["x-tile-cache"] == "hit" and answer.headers["x-request-id"]
        for name in HEADERS[:-1]:
            assert answer.headers[name] == routed.headers[name], name
    unchanged = get(tiles, path, **{"If-None-Match": routed.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == routed.headers["etag"]
    plain = get(tiles, path, **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert decode(plain.content) == decode(routed.content)


def test_tiles_before_routing_are_logged_and_counted_by_their_route(
    tiles: TileServer, caplog: pytest.LogCaptureFixture
) -> None:
    path = tile_path(tiles, 17)
    get(tiles, path)  # routed: the caller is remembered
    with tiles.live.client() as client:
        before = counted(client.get("/metrics").text)
    caplog.set_level(logging.INFO, logger="gis_service.request")
    answers = [get(tiles, path, **{"X-Request-ID": f"before-routing-{i}"}) for i in range(3)]
    assert all(a.status_code == 200 and a.headers["x-tile-cache"] == "hit" for a in answers)
    with tiles.live.client() as client:
        after = counted(client.get("/metrics").text)
    assert after - before == 3
    fields = [getattr(r, "fields", {}) for r in caplog.records]
    lines = [f for f in fields if f.get("request_id", "").startswith("before-routing-")]
    assert len(lines) == 3
    planner = tiles.app.state.tile_callers.get(hash_token(tiles.tokens["planner"]))
    for line in lines:
        assert line["route"] == XYZ_TILE and line["status"] == 200
        assert line["user"] == planner.user_id


def counted(metrics: str) -> float:
    """gis_http_requests_total of GET XYZ tiles answered 200."""
    pattern = re.compile(
        r'^gis_http_requests_total\{(?=.*method="GET")(?=.*route="'
        + re.escape(XYZ_TILE)
        + r'")(?=.*status="200").*\} (\S+)$',
        re.M,
    )
    return sum(float(value) for value in pattern.findall(metrics))


def test_row_security_and_revocation_hold_before_routing(writable: TileServer) -> None:
    """A grid worker's tile answered before routing holds only their grids; once the token is
    revoked the request goes on to the router (which refuses it) at once."""
    path = tile_path(writable, 16)
    get(writable, path)  # a planner's tile of compound 34 (grid 2) is in the cache
    for user, grids in (("grid01", {1}), ("grid02", {2})):
        get(writable, path, user)  # routed: the caller is remembered
        status, headers, body, routed = shortcut_answer(writable, path, user)
        assert not routed and status in (200, 204) and headers["x-tile-cache"] in ("hit", "miss")
        features = decode(gzip.decompress(body))["stairwells"]["features"] if body else []
        seen = {f["properties"]["grid_id"] for f in features}
        assert seen <= grids, user
        if user == "grid02":
            assert status == 200 and headers["content-encoding"] == "gzip" and seen == {2}
    with writable.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE api_token SET revoked_at = now() WHERE token_hash = %(hash)s",
            {"hash": hash_token(writable.tokens["grid02"])},
        )
    *_, routed = shortcut_answer(writable, path, "grid02")
    assert routed, "a revoked token's tile is not answered before routing"
    refused = get(writable, path, "grid02")
    assert refused.status_code == 401


def test_the_tile_pools_close_with_the_app(demo_db: Engine, demo_template: DemoTemplate) -> None:
    """The async tile connections end when the server shuts down (the app's lifespan)."""
    app = create_app(demo_db)
    live = start_server(app)
    try:
        server = TileServer(live, app, demo_db, demo_template.tokens)
        path = tile_path(server, 17)
        for _ in range(3):
            assert get(server, path).status_code == 200
        pools = list(app.state.tile_pools.values())
        pids = {conn.info.backend_pid for pool in pools for conn in pool._idle}
        assert pids, "the remembered caller's tiles used the async pool"
    finally:
        live.server.should_exit = True
        live.thread.join(timeout=10)
    assert app.state.tile_pools == {} and all(pool.closed for pool in pools)
    deadline = time.monotonic() + 5  # a backend ends a moment after its client says goodbye
    while alive_backends(demo_db, pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive_backends(demo_db, pids), "tile connections outlived the app"


def alive_backends(engine: Engine, pids: set[int]) -> list[int]:
    """Which of these server processes still run."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE pid = ANY(:p)"), {"p": list(pids)}
            ).scalars()
        )
