"""Import and export over HTTP against real PostGIS: roles, limits, per-row reports, formats."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.settings import get_settings
from tests.conftest import DemoTemplate, LiveServer, scalar
from tests.ingest.files import garden_frame, write

Serve = Callable[[FastAPI], LiveServer]


@pytest.fixture
def live(demo_db: Engine, serve: Serve) -> LiveServer:
    return serve(create_app(demo_db))


def upload(path: Path, name: str | None = None) -> dict[str, tuple[str, bytes]]:
    return {"file": (name or path.name, path.read_bytes())}


def gardens_file(tmp_path: Path, **changes: list[str]) -> Path:
    return write(garden_frame().assign(**changes), tmp_path / "gardens.geojson")


def gardens(engine: Engine) -> int:
    return int(scalar(engine, "SELECT count(*) FROM garden"))  # type: ignore[arg-type]


def test_planner_import_is_201_with_the_report(
    live: LiveServer, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    before = gardens(demo_db)
    with live.client(demo_template.tokens["planner"]) as client:
        answer = client.post("/collections/gardens/import", files=upload(gardens_file(tmp_path)))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["rows_written"] == 3 and len(body["ids"]) == 3 and body["rejected"] == []
    assert gardens(demo_db) == before + 3


def test_dry_run_is_200_and_writes_nothing(
    live: LiveServer, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    before = gardens(demo_db)
    with live.client(demo_template.tokens["admin"]) as client:
        answer = client.post("/collections/gardens/import", params={"dry_run": "true"},
                             files=upload(gardens_file(tmp_path)))
    assert answer.status_code == 200 and answer.json()["rows_valid"] == 3
    assert gardens(demo_db) == before


def test_rejected_rows_are_422_with_each_row_and_nothing_written(
    live: LiveServer, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    before = gardens(demo_db)
    path = gardens_file(tmp_path, kind=["pocket_park", "forest", "lake"])
    with live.client(demo_template.tokens["planner"]) as client:
        answer = client.post("/collections/gardens/import", files=upload(path))
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["detail"] == "2 of 3 rows rejected; nothing was written"
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "kind"), (3, "kind")]
    assert gardens(demo_db) == before


@pytest.mark.parametrize(
    ("user", "layer", "status"),
    [(None, "gardens", 401), ("analyst", "gardens", 403), ("grid01", "stairwells", 403),
     ("grid01", "issues", 403), ("planner", "communities", 403), ("planner", "lakes", 404)],
)
def test_who_may_import(
    live: LiveServer, demo_template: DemoTemplate, tmp_path: Path,
    user: str | None, layer: str, status: int,
) -> None:
    token = demo_template.tokens[user] if user else None
    with live.client(token) as client:
        answer = client.post(f"/collections/{layer}/import", files=upload(gardens_file(tmp_path)))
    assert answer.status_code == status, answer.text


def test_unknown_token_is_401(live: LiveServer, tmp_path: Path) -> None:
    with live.client("not-a-token") as client:
        answer = client.post("/collections/gardens/import", files=upload(gardens_file(tmp_path)))
    assert answer.status_code == 401


def test_body_above_the_limit_is_413(
    live: LiveServer, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 2000)  # read by api/guard.py
    before = gardens(demo_db)
    big = write(garden_frame(30), tmp_path / "big.geojson")
    assert big.stat().st_size > 2000
    with live.client(demo_template.tokens["planner"]) as client:
        answer = client.post("/collections/gardens/import", files=upload(big))
        assert answer.status_code == 413
        small = client.post("/collections/gardens/import",
                            files=upload(write(garden_frame(1), tmp_path / "one.geojson")))
        assert small.status_code == 201  # under the limit still works
    assert gardens(demo_db) == before + 1


@pytest.mark.parametrize(
    ("send", "status", "detail"),
    [
        ({"files": {"other": ("g.geojson", b"{}")}}, 422, "form field 'file'"),
        ({"files": {"file": ("g.kml", b"<kml/>")}}, 422, "supported extensions"),
        ({"files": {"file": ("g.geojson", b'{"type": "FeatureCollection", "features": [')}},
         422, "cannot read the file"),
        ({"json": {"type": "FeatureCollection"}}, 415, "multipart/form-data"),
        ({"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data"}},
         400, "not a valid multipart form"),
    ],
)
def test_bad_uploads_are_4xx_never_500(
    live: LiveServer, demo_template: DemoTemplate, send: dict, status: int, detail: str
) -> None:
    with live.client(demo_template.tokens["planner"]) as client:
        answer = client.post("/collections/gardens/import", **send)
    assert answer.status_code == status, answer.text
    assert detail in answer.json()["detail"]


def test_duplicate_key_refused_by_the_database_is_409_and_nothing_written(
    live: LiveServer, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    grid = gpd.read_postgis("SELECT community_id, code, name, geom FROM grid ORDER BY id LIMIT 2",
                            demo_db, geom_col="geom")
    grid["code"] = ["NEW-1", grid["code"].iloc[1]]
    path = write(grid, tmp_path / "grids.gpkg")
    before = scalar(demo_db, "SELECT count(*) FROM grid")
    with live.client(demo_template.tokens["planner"]) as client:
        answer = client.post("/collections/grids/import", files=upload(path))
    assert answer.status_code == 409, answer.text
    assert answer.json()["errors"][0]["row"] == 2
    assert scalar(demo_db, "SELECT count(*) FROM grid") == before


def test_export_formats(
    live: LiveServer, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    total = scalar(demo_db, "SELECT count(*) FROM stairwell")
    with live.client(demo_template.tokens["analyst"]) as client:
        geojson = client.get("/collections/stairwells/export")
        gpkg = client.get("/collections/stairwells/export", params={"f": "gpkg"})
        csv = client.get("/collections/stairwells/export",
                         params={"f": "csv", "elevator_status": "in_service", "labels": "false"})
    assert geojson.status_code == 200 and geojson.headers["content-type"] == "application/geo+json"
    assert len(json.loads(geojson.content)["features"]) == total
    assert gpkg.status_code == 200 and gpkg.content[:16] == b"SQLite format 3\x00"
    (tmp_path / "s.gpkg").write_bytes(gpkg.content)
    assert len(pyogrio.read_dataframe(tmp_path / "s.gpkg")) == total
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    in_service = scalar(demo_db, "SELECT count(*) FROM stairwell "
                                 "WHERE elevator_status = 'in_service'")
    assert int(csv.headers["x-feature-count"]) == in_service
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert len(lines) == in_service + 1 and lines[0].endswith("lon,lat")


def test_grid_workers_export_only_their_grids(
    live: LiveServer, demo_db: Engine, demo_template: DemoTemplate
) -> None:
    own = scalar(demo_db, "SELECT count(*) FROM stairwell s JOIN user_grid g USING (grid_id) "
                          "JOIN app_user u ON u.id = g.user_id WHERE u.username = 'grid01'")
    with live.client(demo_template.tokens["grid01"]) as client:
        answer = client.get("/collections/stairwells/export", params={"f": "geojson"})
    assert answer.status_code == 200
    assert 0 < len(answer.json()["features"]) == own < scalar(demo_db,
                                                              "SELECT count(*) FROM stairwell")


@pytest.mark.parametrize(
    ("user", "path", "status"),
    [
        (None, "/collections/gardens/export", 200),
        (None, "/collections/stairwells/export", 401),
        ("analyst", "/collections/lakes/export", 404),
        ("analyst", "/collections/gardens/export?f=shp", 400),
        ("analyst", "/collections/gardens/export?colour=green", 400),
        ("analyst", "/collections/gardens/export?kind=a&kind=b", 400),
        ("analyst", "/collections/gardens/export?area_m2=big", 400),
        ("analyst", "/collections/gardens/export?filter=kind%20%3D", 400),
        ("analyst", "/collections/gardens/export?kind=pocket_park&f=csv", 200),
    ],
)
def test_export_statuses(
    live: LiveServer, demo_template: DemoTemplate, user: str | None, path: str, status: int
) -> None:
    with live.client(demo_template.tokens[user] if user else None) as client:
        answer = client.get(path)
    assert answer.status_code == status, answer.text
