"""A grid worker signed in on the field page reads and writes only their own grids: items,
vector tiles, survey records, issues and photo uploads."""

from __future__ import annotations

import io

from PIL import Image

from tests.field.conftest import FieldServer
from tests.field.pages import rows
from tests.tiles.conftest import decode, tile_pixel


def png() -> bytes:
    """A small real PNG."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_grid_worker_cannot_read_household_data_outside_their_grid(
    field_server: FieldServer,
) -> None:
    web = field_server.signed_in("grid02")
    engine = field_server.engine
    # a stairwell of another grid whose z17 tile also holds stairwells of grid 2
    everyone = rows(engine, "SELECT id, grid_id, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                    "FROM stairwell ORDER BY id")
    tiles: dict[tuple[int, int], set[int]] = {}
    for s in everyone:
        tiles.setdefault(tile_pixel(s["lon"], s["lat"], 17)[:2], set()).add(s["grid_id"])
    other = next(s for s in everyone if s["grid_id"] != 2
                 and 2 in tiles[tile_pixel(s["lon"], s["lat"], 17)[:2]])
    assert web.get(f"/collections/stairwells/items/{other['id']}").status_code == 403
    listed = web.get(f"/collections/stairwells/items?grid_id={other['grid_id']}")
    assert listed.status_code == 200 and listed.json()["features"] == []
    mine = web.get("/collections/stairwells/items?limit=5000").json()["features"]
    assert mine and {f["properties"]["grid_id"] for f in mine} == {2}
    assert web.get(f"/collections/stairwells/items/{other['id']}/history").status_code == 403
    x, y, _, _ = tile_pixel(other["lon"], other["lat"], 17)
    with field_server.client("planner") as planner:  # the planner sees both grids in that tile
        seen = decode(planner.get(f"/tiles/stairwells/17/{x}/{y}.pbf").content)
    grids = {f["properties"]["id"]: f["properties"]["grid_id"]
             for f in seen["stairwells"]["features"]}
    assert grids[other["id"]] == other["grid_id"] and 2 in grids.values()
    tile = web.get(f"/tiles/stairwells/17/{x}/{y}.pbf")  # as the field page asks: by cookie
    assert tile.status_code == 200
    features = decode(tile.content)["stairwells"]["features"]
    assert {f["properties"]["id"] for f in features} == {i for i, g in grids.items() if g == 2}
    with field_server.client("planner") as planner:  # an issue the grid worker must not see
        elsewhere = planner.post("/collections/issues/items", json={
            "type": "Feature", "properties": {"category": "heating", "status": "open"},
            "geometry": {"type": "Point", "coordinates": [other["lon"], other["lat"]]}})
    assert elsewhere.status_code == 201, elsewhere.text
    assert elsewhere.json()["properties"]["grid_id"] == other["grid_id"]
    issues = web.get("/collections/issues/items?limit=5000").json()["features"]
    assert issues and {f["properties"]["grid_id"] for f in issues} == {2}
    web.close()


def test_grid_worker_cannot_write_outside_their_grid(field_server: FieldServer) -> None:
    engine = field_server.engine
    web = field_server.signed_in("grid02")
    csrf = {"X-CSRF-Token": web.cookies["gis_csrf"]}
    other = rows(engine, "SELECT id, version, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                 "FROM stairwell WHERE grid_id = 3 ORDER BY id LIMIT 1")[0]
    patch = web.patch(f"/collections/stairwells/items/{other['id']}",
                      json={"type": "Feature", "properties": {"households": 1}},
                      headers={**csrf, "If-Match": f'"{other["version"]}"'})
    assert patch.status_code == 403
    survey = web.post("/field/surveys", headers=csrf, json={
        "stairwell_id": other["id"], "surveyed_on": "2026-01-05", "survey_status": "visited",
        "households": 3, "elderly_households": 1, "consent_agree": 1, "consent_object": 0})
    assert survey.status_code == 403
    issue = web.post("/collections/issues/items", headers=csrf, json={
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [other["lon"], other["lat"]]},
        "properties": {"category": "heating", "status": "open", "note": "not my grid"}})
    assert issue.status_code == 403
    with field_server.client("planner") as planner:
        made = planner.post("/collections/issues/items", json={
            "type": "Feature", "properties": {"category": "water_pipes", "status": "open"},
            "geometry": {"type": "Point", "coordinates": [other["lon"], other["lat"]]}})
        assert made.status_code == 201 and made.json()["properties"]["grid_id"] == 3
    upload = web.put(f"/issues/{made.json()['id']}/photo", content=png(),
                     headers={**csrf, "Content-Type": "image/png"})
    assert upload.status_code == 403
    assert not (field_server.data_dir / "photos").exists()
    assert rows(engine, "SELECT count(*) AS n FROM survey WHERE stairwell_id = :s",
                s=other["id"])[0]["n"] == 0
    assert rows(engine, "SELECT version FROM stairwell WHERE id = :s",
                s=other["id"])[0]["version"] == other["version"]
    web.close()


def test_other_roles_and_anonymous(field_server: FieldServer) -> None:
    issue = rows(field_server.engine, "SELECT id FROM issue ORDER BY id LIMIT 1")[0]["id"]
    with field_server.client() as anonymous:
        assert anonymous.put(f"/issues/{issue}/photo", content=png(),
                             headers={"Content-Type": "image/png"}).status_code == 401
        assert anonymous.get("/field/progress").status_code == 401
        assert anonymous.get("/issues/ledger").status_code == 401
        assert anonymous.post("/field/surveys", json={}).status_code == 401
    with field_server.client("analyst") as analyst:
        assert analyst.put(f"/issues/{issue}/photo", content=png(),
                           headers={"Content-Type": "image/png"}).status_code == 403
        assert analyst.post("/field/surveys", json={}).status_code == 403


def test_tiles_of_the_field_page_accept_the_session_cookie(field_server: FieldServer) -> None:
    web = field_server.signed_in("grid02")
    mine = rows(field_server.engine, "SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat "
                "FROM stairwell WHERE grid_id = 2 ORDER BY id LIMIT 1")[0]
    x, y, _, _ = tile_pixel(mine["lon"], mine["lat"], 17)
    tile = web.get(f"/tiles/buildings,stairwells/17/{x}/{y}.pbf")
    web.close()
    assert tile.status_code == 200
    assert {f["properties"]["grid_id"] for f in decode(tile.content)["stairwells"]["features"]} \
        == {2}
