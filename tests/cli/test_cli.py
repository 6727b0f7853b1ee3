"""The console script as a user runs it: clear one-line errors, demo and db commands."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from gis_service.db import migrate
from gis_service.db.cluster import ManagedCluster
from tests.conftest import TEST_ROOT

HEAD = migrate.head_revision()

CLI = [str(Path(sys.executable).parent / "gis-service")]


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    full_env.update(env or {})
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gis-service: error:")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_wrong_database_url_is_one_line() -> None:
    refused = run("db", "status", env={"GIS_DATABASE_URL": "postgresql://u@127.0.0.1:1/none"})
    assert_one_clear_line(refused, "cannot connect to postgresql+psycopg://u@127.0.0.1:1/none")
    not_pg = run("demo", env={"GIS_DATABASE_URL": "mysql://u@localhost/x"})
    assert_one_clear_line(not_pg, "must point at PostgreSQL")
    garbage = run("demo", env={"GIS_DATABASE_URL": "::::"})
    assert_one_clear_line(garbage, "not a database URL")


def test_malformed_setting_is_one_line_naming_it() -> None:
    for command in (("--help",), ("db", "status"), ("analyze", "coverage")):
        refused = run(*command, env={"GIS_PORT": "eighty", "GIS_POOL_SIZE": "many"})
        assert_one_clear_line(refused, "GIS_P")
        assert "eighty" not in refused.stderr and "many" not in refused.stderr


def test_database_without_postgis_is_one_line(pg_cluster: ManagedCluster) -> None:
    import psycopg

    with psycopg.connect(pg_cluster.conninfo(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS plain_pg")
        conn.execute("CREATE DATABASE plain_pg")
    result = run("demo", env={"GIS_DATABASE_URL": pg_cluster.url("plain_pg")})
    assert_one_clear_line(result, "has no PostGIS extension")


def test_port_in_use_is_one_line(pg_cluster: ManagedCluster) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = run("serve", "--port", str(port), env={"GIS_DATABASE_URL": pg_cluster.url()})
    assert_one_clear_line(result, f"port {port} on 127.0.0.1 is in use")


def test_demo_and_db_commands_on_a_given_server(
    pg_cluster: ManagedCluster, fresh_database: str, tmp_path: Path
) -> None:
    env = {"GIS_DATABASE_URL": pg_cluster.url(fresh_database), "GIS_DATA_DIR": str(tmp_path)}
    loaded = run("demo", "--seed", "34", env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "stairwell 1021" in loaded.stdout or "stairwell " in loaded.stdout
    tokens = json.loads((tmp_path / "demo-tokens.json").read_text())
    assert set(tokens) >= {"admin", "planner", "analyst", "grid01"}
    assert oct((tmp_path / "demo-tokens.json").stat().st_mode)[-3:] == "600"
    status = json.loads(run("db", "status", env=env).stdout)
    assert status["managed"] is False and status["revision"] == migrate.head_revision()
    again = run("demo", env=env)
    assert_one_clear_line(again, "already holds")
    refused = run("db", "reset", env=env)
    assert_one_clear_line(refused, "--yes")
    assert run("db", "reset", "--yes", env=env).returncode == 0
    assert run("db", "downgrade", "0001", env=env).stdout.strip() == "database at revision 0001"
    assert run("db", "migrate", env=env).stdout.strip() == f"database at revision {HEAD}"


def test_managed_cluster_through_the_cli(tmp_path: Path) -> None:
    from gis_service.db.cluster import free_port

    env = {
        "GIS_DATA_DIR": str(tmp_path / "data"),
        "GIS_PG_PORT": str(free_port()),
        "GIS_PG_ROOT_DIR": str(TEST_ROOT),
    }
    try:
        assert json.loads(run("db", "status", env=env).stdout)["running"] is False
        assert run("db", "start", env=env).returncode == 0
        assert run("db", "migrate", env=env).stdout.strip() == f"database at revision {HEAD}"
        status = json.loads(run("db", "status", env=env).stdout)
        assert status["running"] is True and status["postgis"].startswith("3.")
        assert run("db", "stop", env=env).stdout.strip() == "stopped"
        assert run("db", "stop", env=env).stdout.strip() == "not running"
        # started on demand by any command that needs it
        assert run("db", "migrate", env=env).returncode == 0
    finally:
        run("db", "stop", env=env)
        cluster_dir = json.loads(run("db", "status", env=env).stdout)["cluster_dir"]
        subprocess.run(["rm", "-rf", cluster_dir], check=False)
