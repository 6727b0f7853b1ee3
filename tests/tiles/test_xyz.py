"""XYZ tiles against the demo district: positions, properties, scope, aggregation, cache."""

from __future__ import annotations

import httpx

from gis_service.auth import Principal, apply_scope, hash_token
from tests.conftest import DemoTemplate
from tests.tiles.conftest import TileServer, compound34, decode, rows, tile_pixel

MVT = "application/vnd.mapbox-vector-tile"


def get(
    server: TileServer, path: str, user: str | None = "planner", **headers: str
) -> httpx.Response:
    """GET a path as a demo user (anonymous with user=None)."""
    with server.live.client(server.tokens[user] if user else None) as client:
        return client.get(path, headers=headers)


def test_a_stairwell_lands_in_its_pixel_of_its_tile_at_z17(tiles: TileServer) -> None:
    for stairwell in compound34(tiles.engine)[:5]:
        x, y, px, py = tile_pixel(stairwell.lon, stairwell.lat, 17)
        response = get(tiles, f"/tiles/stairwells/17/{x}/{y}.pbf")
        assert response.status_code == 200
        assert response.headers["content-type"] == MVT
        layer = decode(response.content)["stairwells"]
        assert layer["extent"] == 4096
        found = [f for f in layer["features"] if f["properties"]["id"] == stairwell.id]
        assert len(found) == 1, f"stairwell {stairwell.id} missing from 17/{x}/{y}"
        feature = found[0]
        gx, gy = feature["geometry"]["coordinates"]
        assert abs(gx - px) <= 1 and abs(gy - py) <= 1, ((gx, gy), (px, py))
        assert feature["id"] == stairwell.id
        assert feature["properties"] == {
            "id": stairwell.id, "label": stairwell.label,
            "elevator_status": stairwell.elevator_status,
            "survey_status": feature["properties"]["survey_status"],
            "households": stairwell.households, "compound_id": feature["properties"]["compound_id"],
            "grid_id": stairwell.grid_id,
        }
        assert set(feature["properties"]) == {
            "id", "label", "elevator_status", "survey_status", "households", "compound_id",
            "grid_id"}


def test_every_stairwell_of_a_tile_and_only_those(tiles: TileServer) -> None:
    first = compound34(tiles.engine)[0]
    x, y, _, _ = tile_pixel(first.lon, first.lat, 16)
    layer = decode(get(tiles, f"/tiles/stairwells/16/{x}/{y}.pbf").content)["stairwells"]
    inside = {f["properties"]["id"] for f in layer["features"]
              if all(0 <= c < 4096 for c in f["geometry"]["coordinates"])}
    expected = {
        r.id for r in rows(tiles.engine, "SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                                         "FROM stairwell")
        if tile_pixel(r.lon, r.lat, 16)[:2] == (x, y)
    }
    assert inside == expected and len(expected) > 50


def test_empty_tiles_and_zooms_below_minzoom_answer_204(tiles: TileServer) -> None:
    assert get(tiles, "/tiles/stairwells/17/0/0.pbf").status_code == 204
    first = compound34(tiles.engine)[0]
    x, y, _, _ = tile_pixel(first.lon, first.lat, 9)
    response = get(tiles, f"/tiles/stairwells/9/{x}/{y}.pbf")  # minzoom is 10
    assert response.status_code == 204 and response.content == b""


def test_etag_gives_304_and_gzip_is_negotiated(tiles: TileServer) -> None:
    first = compound34(tiles.engine)[0]
    x, y, _, _ = tile_pixel(first.lon, first.lat, 17)
    path = f"/tiles/stairwells/17/{x}/{y}.pbf"
    first_answer = get(tiles, path)
    etag = first_answer.headers["etag"]
    assert first_answer.headers["content-encoding"] == "gzip"
    assert "must-revalidate" in first_answer.headers["cache-control"]
    assert "max-age=" in first_answer.headers["cache-control"]
    again = get(tiles, path, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    plain = get(tiles, path, **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert decode(plain.content) == decode(first_answer.content)
    other = get(tiles, path, **{"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_grid_worker_sees_only_their_grids(tiles: TileServer) -> None:
    compound = compound34(tiles.engine)
    assert {s.grid_id for s in compound} == {2} and len(compound) == 57
    x, y, _, _ = tile_pixel(compound[0].lon, compound[0].lat, 16)
    path = f"/tiles/stairwells/16/{x}/{y}.pbf"
    ids34 = {s.id for s in compound}
    planner = decode(get(tiles, path).content)["stairwells"]["features"]
    assert ids34 & {f["properties"]["id"] for f in planner}
    answer = get(tiles, path, "grid01")  # after the planner's tile is in the cache
    grids = {f["properties"]["grid_id"]
             for f in decode(answer.content).get("stairwells", {"features": []})["features"]}
    assert 2 not in grids and grids <= {1}
    grid02 = decode(get(tiles, path, "grid02").content)["stairwells"]["features"]
    assert {f["properties"]["grid_id"] for f in grid02} == {2}
    assert ids34 & {f["properties"]["id"] for f in grid02}


def test_a_signed_in_web_map_gets_its_scope_from_the_session_cookie(
    writable: TileServer, demo_template: DemoTemplate
) -> None:  # a sign-in writes its session: on a database of its own, not the shared one
    compound = compound34(writable.engine)
    x, y, _, _ = tile_pixel(compound[0].lon, compound[0].lat, 16)
    with httpx.Client(base_url=writable.live.url) as web:  # the field pages sign in like this
        web.get("/field/login")
        form = {"username": "grid02", "password": demo_template.passwords["grid02"],
                "csrf": web.cookies["gis_csrf"], "next": "/field"}
        assert web.post("/session", data=form).status_code == 303
        answer = web.get(f"/tiles/stairwells/16/{x}/{y}.pbf")
    assert answer.status_code == 200 and "Cookie" in answer.headers["vary"]
    grids = {f["properties"]["grid_id"] for f in decode(answer.content)["stairwells"]["features"]}
    assert grids == {2}


def test_anonymous_gets_public_layers_only(tiles: TileServer) -> None:
    garden = rows(tiles.engine, "SELECT ST_X(ST_PointOnSurface(geom)) AS lon, "
                                "ST_Y(ST_PointOnSurface(geom)) AS lat FROM garden LIMIT 1")[0]
    x, y, _, _ = tile_pixel(garden.lon, garden.lat, 16)
    assert get(tiles, f"/tiles/stairwells/16/{x}/{y}.pbf", None).status_code == 401
    assert get(tiles, f"/tiles/stairwells,gardens/16/{x}/{y}.pbf", None).status_code == 401
    public = get(tiles, f"/tiles/gardens/16/{x}/{y}.pbf", None)
    assert public.status_code == 200 and decode(public.content)["gardens"]["features"]
    assert "public" in public.headers["cache-control"]
    cache = tiles.app.state.tile_cache
    hits = cache.hits
    shared = get(tiles, f"/tiles/gardens/16/{x}/{y}.pbf", "grid05")  # public: one shared entry
    assert shared.headers["etag"] == public.headers["etag"] and cache.hits == hits + 1


def test_low_zooms_aggregate_stairwells_by_status(tiles: TileServer) -> None:
    everything = rows(tiles.engine, "SELECT elevator_status, ST_X(geom) AS lon, "
                                    "ST_Y(geom) AS lat FROM stairwell")
    cells = {tile_pixel(r.lon, r.lat, 13)[:2] for r in everything}
    total, in_service = 0, 0
    by_status: dict[str, int] = {}
    for x, y in cells:
        layer = decode(get(tiles, f"/tiles/stairwells/13/{x}/{y}.pbf").content)["stairwells"]
        for feature in layer["features"]:
            props = feature["properties"]
            assert feature["geometry"]["type"] == "Point" and "label" not in props
            total += props["count"]
            in_service += props["in_service"]
            assert props["count"] == sum(v for k, v in props.items() if k.startswith("n_"))
            for key, value in props.items():
                if key.startswith("n_"):
                    by_status[key[2:]] = by_status.get(key[2:], 0) + value
    assert total == len(everything)
    assert in_service == sum(1 for r in everything if r.elevator_status == "in_service")
    expected: dict[str, int] = {}
    for r in everything:
        expected[r.elevator_status] = expected.get(r.elevator_status, 0) + 1
    assert by_status == expected


def test_one_tile_of_several_layers(tiles: TileServer) -> None:
    first = compound34(tiles.engine)[0]
    x, y, _, _ = tile_pixel(first.lon, first.lat, 16)
    both = decode(get(tiles, f"/tiles/stairwells,streets/16/{x}/{y}.pbf").content)
    assert set(both) == {"stairwells", "streets"}
    for name in both:
        alone = decode(get(tiles, f"/tiles/{name}/16/{x}/{y}.pbf").content)[name]
        assert len(alone["features"]) == len(both[name]["features"]) > 0
    streets = both["streets"]["features"]
    assert {f["geometry"]["type"] for f in streets} <= {"LineString", "MultiLineString"}


def test_filters_are_those_of_the_items_endpoint(tiles: TileServer) -> None:
    first = compound34(tiles.engine)[0]
    x, y, _, _ = tile_pixel(first.lon, first.lat, 16)
    base = f"/tiles/stairwells/16/{x}/{y}.pbf"
    everything = decode(get(tiles, base).content)["stairwells"]["features"]
    approved = decode(get(tiles, base + "?elevator_status=in_service").content)
    kept = approved["stairwells"]["features"]
    assert kept and {f["properties"]["elevator_status"] for f in kept} == {"in_service"}
    assert len(kept) == sum(f["properties"]["elevator_status"] == "in_service" for f in everything)
    cql = get(tiles, base + "?filter=households > 12 AND elevator_status <> 'none'")
    assert cql.status_code == 200
    chosen = decode(cql.content)["stairwells"]["features"]
    assert 0 < len(chosen) < len(everything)
    for feature in chosen:
        assert feature["properties"]["households"] > 12
        assert feature["properties"]["elevator_status"] != "none"
    for bad in ("?bogus=1", "?households=many", "?filter=nope = 1", "?filter=households >",
                "?filter-lang=cql2-json&filter=households>1"):
        answer = get(tiles, base + bad)
        assert answer.status_code == 400, bad
        assert answer.headers["content-type"] == "application/problem+json"


def test_bad_addresses(tiles: TileServer) -> None:
    assert get(tiles, "/tiles/nope/1/0/0.pbf").status_code == 404
    assert get(tiles, "/tiles/stairwells,nope/1/0/0.pbf").status_code == 404
    for path in ("/tiles/stairwells/25/0/0.pbf", "/tiles/stairwells/2/4/0.pbf",
                 "/tiles/stairwells/2/0/4.pbf", "/tiles/stairwells/a/0/0.pbf",
                 "/tiles/stairwells,,gardens/2/0/0.pbf"):
        assert get(tiles, path).status_code == 400, path


def test_an_edit_changes_the_tile_at_once(writable: TileServer) -> None:
    stairwell = compound34(writable.engine)[0]
    x, y, _, _ = tile_pixel(stairwell.lon, stairwell.lat, 17)
    path = f"/tiles/stairwells/17/{x}/{y}.pbf"
    before = get(writable, path)
    status = {f["properties"]["id"]: f["properties"]["elevator_status"]
              for f in decode(before.content)["stairwells"]["features"]}
    assert status[stairwell.id] == "in_service"
    assert get(writable, path, **{"If-None-Match": before.headers["etag"]}).status_code == 304
    planner = rows(writable.engine, "SELECT id FROM app_user WHERE username = 'planner'")[0]
    with writable.engine.begin() as conn:  # as the planner would, through the scoped role
        apply_scope(conn, Principal(role="planner", user_id=planner.id, username="planner"))
        conn.exec_driver_sql(
            "UPDATE stairwell SET elevator_status = 'approved' WHERE id = %(id)s",
            {"id": stairwell.id},
        )
    after = get(writable, path, **{"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    changed = {f["properties"]["id"]: f["properties"]["elevator_status"]
               for f in decode(after.content)["stairwells"]["features"]}
    assert changed[stairwell.id] == "approved"
    # the aggregated tile above it changes too (same layer data version)
    x13, y13, _, _ = tile_pixel(stairwell.lon, stairwell.lat, 13)
    cells = decode(get(writable, f"/tiles/stairwells/13/{x13}/{y13}.pbf").content)
    assert sum(f["properties"].get("n_approved", 0)
               for f in cells["stairwells"]["features"]) >= 1


def test_a_revoked_token_is_refused_on_the_very_next_tile(writable: TileServer) -> None:
    """The caller of a cached tile is remembered, yet a revocation or a change of grids
    takes effect on the next request (checked in the same query as the data versions)."""
    stairwell = compound34(writable.engine)[0]
    x, y, _, _ = tile_pixel(stairwell.lon, stairwell.lat, 17)
    path = f"/tiles/stairwells/17/{x}/{y}.pbf"
    for _ in range(3):  # the second and third come from the tile cache, the caller remembered
        assert get(writable, path, "planner").status_code == 200
        assert get(writable, path, "grid01").status_code in (200, 204)
    assert writable.app.state.tile_callers.get(hash_token(writable.tokens["planner"]))
    own = rows(writable.engine, "SELECT ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat FROM stairwell s "
               "JOIN user_grid g ON g.grid_id = s.grid_id JOIN app_user u ON u.id = g.user_id "
               "WHERE u.username = 'grid01' ORDER BY s.id LIMIT 1")[0]  # fmt: skip
    wx, wy, _, _ = tile_pixel(own.lon, own.lat, 17)
    worker_path = f"/tiles/stairwells/17/{wx}/{wy}.pbf"
    for _ in range(2):
        worker = get(writable, worker_path, "grid01")
    with writable.engine.begin() as conn:  # grid01 loses every grid: sees no stairwell at all
        conn.exec_driver_sql("DELETE FROM user_grid WHERE user_id = "
                             "(SELECT id FROM app_user WHERE username = 'grid01')")
        conn.exec_driver_sql("UPDATE api_token SET revoked_at = now() WHERE token_hash = "
                             "%(hash)s", {"hash": hash_token(writable.tokens["planner"])})
    refused = get(writable, path, "planner")
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert get(writable, path, "planner").status_code == 401
    emptied = get(writable, worker_path, "grid01")
    assert worker.status_code == 200 and worker.content, "grid01 saw stairwells before"
    assert emptied.status_code == 204
