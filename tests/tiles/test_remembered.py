"""Tiles of remembered callers (on the event loop): refused at once, pixels, many clients."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from gis_service.auth import hash_token
from tests.tiles.conftest import TileServer, compound34, decode, rows, run_coroutine, tile_pixel


def get(server: TileServer, path: str, user: str = "planner") -> httpx.Response:
    """GET a path with a demo user's token."""
    with server.live.client(server.tokens[user]) as client:
        return client.get(path)


def test_a_disabled_user_is_refused_on_the_very_next_tile(writable: TileServer) -> None:
    stairwell = compound34(writable.engine)[0]
    x, y, _, _ = tile_pixel(stairwell.lon, stairwell.lat, 17)
    path = f"/tiles/stairwells/17/{x}/{y}.pbf"
    answers = [get(writable, path) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[-1].headers["x-tile-cache"] == "hit"
    assert writable.app.state.tile_callers.get(hash_token(writable.tokens["planner"]))
    with writable.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE app_user SET disabled_at = now() WHERE username = 'planner'")
    refused = get(writable, path)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    with writable.engine.begin() as conn:  # enabled again: the same token works at once
        conn.exec_driver_sql("UPDATE app_user SET disabled_at = NULL WHERE username = 'planner'")
    again = get(writable, path)
    assert again.status_code == 200 and again.content == answers[0].content


def test_a_role_change_takes_effect_on_the_next_tile(writable: TileServer) -> None:
    """A planner made grid worker (without grids) sees the cached tile no more."""
    stairwell = compound34(writable.engine)[0]
    x, y, _, _ = tile_pixel(stairwell.lon, stairwell.lat, 17)
    path = f"/tiles/stairwells/17/{x}/{y}.pbf"
    for _ in range(3):
        assert get(writable, path).status_code == 200
    with writable.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE app_user SET role = 'grid_worker' WHERE username = 'planner'")
    assert get(writable, path).status_code == 204


@pytest.mark.parametrize("z", [15, 17])
def test_points_sit_on_the_pixels_postgis_computes(tiles: TileServer, z: int) -> None:
    """Our arithmetic places each point where ST_AsMVTGeom(ST_Transform(geom, 3857)) does."""
    stairwell = compound34(tiles.engine)[0]
    x, y, _, _ = tile_pixel(stairwell.lon, stairwell.lat, z)
    features = decode(get(tiles, f"/tiles/stairwells/{z}/{x}/{y}.pbf").content)["stairwells"][
        "features"
    ]
    ours = {f["id"]: tuple(f["geometry"]["coordinates"]) for f in features}
    theirs = {
        r.id: (r.px, r.py)
        for r in rows(
            tiles.engine,
            "SELECT id, ST_X(g) AS px, ST_Y(g) AS py FROM (SELECT id, ST_AsMVTGeom("
            "ST_Transform(geom, 3857), ST_TileEnvelope(:z, :x, :y), 4096, 64, true) AS g "
            "FROM stairwell) s WHERE g IS NOT NULL",
            z=z, x=x, y=y,
        )
    }  # fmt: skip
    assert len(ours) > 10
    inner = {i for i, (px, py) in theirs.items() if -63 <= px <= 4159 and -63 <= py <= 4159}
    assert inner <= set(ours), "a point PostGIS draws is missing"
    assert set(ours) <= set(theirs), "a point PostGIS leaves out is drawn"
    for fid, (px, py) in ours.items():
        assert abs(px - theirs[fid][0]) <= 1 and abs(py - theirs[fid][1]) <= 1, fid
    exact = sum(ours[i] == theirs[i] for i in ours)
    assert exact >= 0.99 * len(ours)


def test_many_clients_at_once_beyond_the_connection_pool(tiles: TileServer) -> None:
    """More concurrent tiles than pooled connections: every one answered, each as alone."""
    stairwell = compound34(tiles.engine)[0]
    paths = []
    for z in (14, 15, 16, 17):
        x, y, _, _ = tile_pixel(stairwell.lon, stairwell.lat, z)
        paths += [f"/tiles/stairwells/{z}/{x + dx}/{y + dy}.pbf" for dx in (-1, 0, 1)
                  for dy in (-1, 0, 1)]  # fmt: skip
    get(tiles, paths[0])  # the token is remembered from here on
    headers = {"Authorization": f"Bearer {tiles.tokens['planner']}"}

    async def all_at_once() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=tiles.live.url, headers=headers,
                                     timeout=60) as client:  # fmt: skip
            return await asyncio.gather(*(client.get(p) for p in paths * 2))

    answers = run_coroutine(all_at_once())
    assert all(a.status_code in (200, 204) for a in answers)
    alone = {p: get(tiles, p).content for p in paths}
    assert [a.content for a in answers] == [alone[p] for p in paths * 2]
