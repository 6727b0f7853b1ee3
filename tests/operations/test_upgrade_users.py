"""The upgrade path from the first schema keeps its users, and an operator gives them passwords."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from gis_service.api.app import create_app
from gis_service.db import migrate
from gis_service.db.cluster import ManagedCluster
from gis_service.db.engine import create_db_engine
from gis_service.ingest.demo_load import hash_token
from tests.cli.test_cli import CLI, run
from tests.conftest import LiveServer

OLD_TOKEN = "gis_token-from-the-first-release-0001"


def sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    """A password sign-in with the CSRF cookie the login page sets."""
    client.get("/field/login")
    return client.post("/session", json={"username": username, "password": password},
                       headers={"X-CSRF-Token": client.cookies["gis_csrf"]})


def test_users_of_the_first_schema_get_passwords_after_the_upgrade(
    pg_cluster: ManagedCluster, fresh_database: str, serve: Callable[[FastAPI], LiveServer]
) -> None:
    engine = create_db_engine(pg_cluster.url(fresh_database))
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        ward = conn.execute(sa.text(
            "INSERT INTO app_user (username, display_name, role) "
            "VALUES ('ward', 'Ward Chen', 'planner') RETURNING id")).scalar_one()
        conn.execute(sa.text("INSERT INTO api_token (user_id, token_hash, label) "
                             "VALUES (:u, :h, 'old')"), {"u": ward, "h": hash_token(OLD_TOKEN)})
    env = {"GIS_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    upgraded = run("db", "migrate", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Running upgrade 0001 -> 0002" in upgraded.stderr  # migration progress is logged
    listed = [json.loads(line) for line in run("user", "list", env=env).stdout.splitlines()]
    assert listed == [{"id": 1, "username": "ward", "display_name": "Ward Chen",
                       "role": "planner", "has_password": False, "disabled": False,
                       "grids": [], "tokens": 1}]
    live = serve(create_app(engine))
    with live.client(OLD_TOKEN) as old:
        assert old.get("/session").json()["role"] == "planner"  # the old token still works
    with httpx.Client(base_url=live.url) as web:
        assert sign_in(web, "ward", "a-new-password-1").status_code == 401
    short = subprocess.run([*CLI, "user", "password", "ward"], input="short\nshort\n", text=True,
                           capture_output=True, env={**os.environ, **env}, check=False)
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    given = subprocess.run([*CLI, "user", "password", "ward"],
                           input="a-new-password-1\na-new-password-1\n", text=True,
                           capture_output=True, env={**os.environ, **env}, check=False)
    assert given.returncode == 0, given.stderr
    assert given.stdout.strip().endswith("ward has a new password (0 open sessions ended)")
    assert "a-new-password-1" not in given.stdout + given.stderr
    with httpx.Client(base_url=live.url) as web:
        assert sign_in(web, "ward", "a-new-password-1").status_code == 200
        assert web.get("/session").json()["username"] == "ward"
    assert json.loads(run("user", "list", env=env).stdout)["has_password"] is True
    engine.dispose()
