"""`gis-service db backup` / `db restore`: a round trip into a new data dir and cluster."""

from __future__ import annotations

import hashlib
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import pytest
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.db.cluster import ManagedCluster, find_bin_dir, free_port, throwaway_cluster
from gis_service.db.engine import create_db_engine
from gis_service.settings import get_settings
from tests.cli.test_cli import assert_one_clear_line, run
from tests.conftest import TEST_ROOT, start_server
from tests.field.conftest import FieldServer
from tests.field.test_issues import image, report_issue

VIEWERS = [None, "analyst", "planner", "grid02", "grid05", "admin"]
TILE = "/tiles/stairwells,issues/16/53392/28434.pbf"


def seen_by(url: str, token: str | None, issue: int) -> dict[str, Any]:
    """What one caller sees: features of every kind, the photo, a tile, the compounds."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    seen: dict[str, Any] = {}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for layer in ("stairwells", "issues", "gardens", "grids", "compounds"):
            answer = client.get(f"/collections/{layer}/items", params={"limit": 10000})
            features = answer.json().get("features", []) if answer.status_code == 200 else []
            seen[layer] = (answer.status_code,
                           sorted((f["id"], hashlib.sha1(repr(sorted(
                               f["properties"].items())).encode()).hexdigest()) for f in features))
        photo = client.get(f"/issues/{issue}/photo")
        seen["photo"] = (photo.status_code, hashlib.sha1(photo.content).hexdigest())
        tile = client.get(TILE)
        seen["tile"] = (tile.status_code,
                        tile_features(tile.content) if tile.status_code == 200 else None)
        seen["compounds"] = client.get("/compounds").status_code
    return seen


def tile_features(content: bytes) -> dict[str, list[str]]:
    """A vector tile's features per layer, in a stable order (rows may come back reordered)."""
    decoded = mapbox_vector_tile.decode(content) if content else {}
    return {name: sorted(repr((f.get("id"), sorted(f["properties"].items()), f["geometry"]))
                         for f in layer["features"]) for name, layer in decoded.items()}


@pytest.fixture
def restored_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Settings of a new data dir whose managed cluster the restore creates (removed after)."""
    env = {"GIS_DATA_DIR": str(tmp_path / "restored"), "GIS_PG_PORT": str(free_port()),
           "GIS_PG_ROOT_DIR": str(TEST_ROOT)}
    yield env
    ManagedCluster((tmp_path / "restored").resolve(), int(env["GIS_PG_PORT"]), find_bin_dir(),
                   root_dir=TEST_ROOT).destroy()


def test_backup_restore_round_trip_keeps_what_every_role_sees(
    field_server: FieldServer, restored_env: dict[str, str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issue, _ = report_issue(field_server)  # signs grid02 in: a session and its signing key
    with field_server.client("grid02") as api:
        assert api.put(f"/issues/{issue}/photo", content=image(),
                       headers={"Content-Type": "image/png"}).status_code == 200
    web = field_server.signed_in("grid05")  # a browser session that must survive the move
    before = {user: seen_by(field_server.url, field_server.tokens[user] if user else None, issue)
              for user in VIEWERS}
    assert before["grid02"]["photo"][0] == 200 and before[None]["photo"][0] != 200
    assert before["grid02"]["stairwells"] != before["grid05"]["stairwells"]  # row security
    assert before["planner"]["tile"][1]["stairwells"]  # the tile holds features to compare
    source = {"GIS_DATABASE_URL": field_server.engine.url.render_as_string(hide_password=False),
              "GIS_DATA_DIR": str(field_server.data_dir)}
    file = tmp_path / "site.gisbackup"
    made = run("db", "backup", str(file), env=source)
    assert made.returncode == 0, made.stderr
    assert file.stat().st_mode & 0o777 == 0o600  # password hashes and the session key inside
    with tarfile.open(file) as archive:
        names = archive.getnames()
    assert {"manifest.json", "database.dump", "session-secret",
            f"photos/issue-{issue}.jpg"} <= set(names)
    assert run("db", "backup", str(file), env=source).returncode == 1  # never overwritten

    restored = run("db", "restore", str(file), env=restored_env)
    assert restored.returncode == 0, restored.stderr
    assert "1 photos" in restored.stdout
    data_dir = Path(restored_env["GIS_DATA_DIR"])
    assert (data_dir / "session-secret").read_bytes() == \
        (field_server.data_dir / "session-secret").read_bytes()
    cluster = ManagedCluster(data_dir.resolve(), int(restored_env["GIS_PG_PORT"]), find_bin_dir(),
                             root_dir=TEST_ROOT)
    engine = create_db_engine(cluster.url())
    monkeypatch.setattr(get_settings(), "data_dir", data_dir)
    live = start_server(create_app(engine))
    try:
        assert httpx.get(f"{live.url}/ready").status_code == 200
        after = {user: seen_by(live.url, field_server.tokens[user] if user else None, issue)
                 for user in VIEWERS}
        assert after == before
        web.base_url = httpx.URL(live.url)  # the same session cookie, on the restored service
        assert web.get("/field").status_code == 200
        # a second restore into the now non-empty target is refused, in one line
        again = run("db", "restore", str(file), env=restored_env)
        assert_one_clear_line(again, "is not empty")
    finally:
        web.close()
        live.server.should_exit = True
        live.thread.join(timeout=10)
        engine.dispose()


def test_a_restore_without_the_roles_is_not_ready_and_answers_503(
    demo_db: Engine, tmp_path: Path
) -> None:
    """A plain pg_restore into a new cluster (no gis_* roles): 503 with the remedy, never 422."""
    env = {"GIS_DATABASE_URL": demo_db.url.render_as_string(hide_password=False),
           "GIS_DATA_DIR": str(tmp_path / "data")}
    file = tmp_path / "demo.gisbackup"
    assert run("db", "backup", str(file), env=env).returncode == 0
    with tarfile.open(file) as archive:
        archive.extract("database.dump", tmp_path, set_attrs=False)
    with throwaway_cluster(tmp_path / "bare", TEST_ROOT, database="gis") as cluster:
        subprocess.run(  # errors on every GRANT to the missing roles, the tables load
            [str(cluster.bin_dir / "pg_restore"), "--no-owner", "-h", "127.0.0.1", "-p",
             str(cluster.port), "-U", "postgres", "-d", "gis", str(tmp_path / "database.dump")],
            capture_output=True, check=False,
        )
        engine = create_db_engine(cluster.url())
        live = start_server(create_app(engine))
        try:
            ready = httpx.get(f"{live.url}/ready")
            assert ready.status_code == 503
            assert "gis_analyst" in ready.json()["detail"]
            assert "gis-service db restore" in ready.json()["detail"]
            items = httpx.get(f"{live.url}/collections/gardens/items")
            assert items.status_code == 503, items.text
            assert "gis_anonymous" in items.json()["detail"]
        finally:
            live.server.should_exit = True
            live.thread.join(timeout=10)
            engine.dispose()


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    env = {"GIS_DATA_DIR": str(tmp_path / "data"), "GIS_PG_PORT": str(free_port()),
           "GIS_PG_ROOT_DIR": str(TEST_ROOT)}
    bogus = tmp_path / "bogus.tar"
    (tmp_path / "evil").write_text("x")
    with tarfile.open(bogus, "w") as archive:
        archive.add(tmp_path / "evil", "../evil")
    assert_one_clear_line(run("db", "restore", str(bogus), env=env), "unexpected member '../evil'")
    assert_one_clear_line(run("db", "restore", str(tmp_path / "none"), env=env),
                          "no such backup file")
    assert not (tmp_path / "data").exists()  # refused before any cluster was made
