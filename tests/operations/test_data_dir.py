"""Where the data lives: one absolute data dir from any directory; a refusal leaves nothing."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

from gis_service.db.cluster import free_port
from tests.cli.test_cli import assert_one_clear_line, run
from tests.conftest import TEST_ROOT

REPO = Path(__file__).resolve().parents[2]


def test_the_default_data_dir_is_the_same_from_any_directory(tmp_path: Path) -> None:
    env = {"GIS_PG_PORT": str(free_port()), "GIS_PG_ROOT_DIR": str(TEST_ROOT)}
    started = run("db", "start", env=env, cwd=REPO)
    assert started.returncode == 0, started.stderr
    try:
        here = json.loads(run("db", "status", env=env, cwd=REPO).stdout)
        below = json.loads(run("db", "status", env=env, cwd=REPO / "gis_service" / "web").stdout)
        assert below == here and below["running"] is True
        assert run("db", "stop", env=env, cwd=tmp_path).stdout.strip() == "stopped"
    finally:
        run("db", "stop", env=env, cwd=REPO)
        subprocess.run(["rm", "-rf", here["cluster_dir"]], check=False)


def test_a_busy_port_leaves_no_cluster_behind(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        env = {"GIS_DATA_DIR": "data", "GIS_PG_PORT": str(busy.getsockname()[1]),
               "GIS_PG_ROOT_DIR": str(TEST_ROOT)}
        result = run("db", "start", env=env, cwd=tmp_path)
        assert_one_clear_line(result, f"port {env['GIS_PG_PORT']} is in use")
        status = json.loads(run("db", "status", env=env, cwd=tmp_path).stdout)
    assert status["initialised"] is False
    assert status["cluster_dir"].startswith(str(TEST_ROOT)) or \
        status["cluster_dir"].startswith(str(tmp_path / "data"))  # absolute, from the cwd
    assert not Path(status["cluster_dir"]).exists()


def test_a_cluster_of_another_major_version_says_what_to_do(tmp_path: Path) -> None:
    env = {"GIS_DATA_DIR": str(tmp_path / "data"), "GIS_PG_PORT": str(free_port()),
           "GIS_PG_ROOT_DIR": str(TEST_ROOT)}
    cluster_dir = Path(json.loads(run("db", "status", env=env).stdout)["cluster_dir"])
    (cluster_dir / "data").mkdir(parents=True)
    (cluster_dir / "data" / "PG_VERSION").write_text("11\n")  # as an old server left it
    try:
        result = run("db", "start", env=env)
        assert_one_clear_line(result, "was made by PostgreSQL 11")
        assert "pg_upgrade" in result.stderr and "GIS_PG_BIN_DIR" in result.stderr
    finally:
        subprocess.run(["rm", "-rf", str(cluster_dir)], check=False)
