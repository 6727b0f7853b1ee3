"""User administration from the CLI: disable/enable at once, grid aliases, the first admin."""

from __future__ import annotations

from contextlib import closing

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from gis_service.api.app import create_app
from gis_service.cli import app as cli
from gis_service.settings import get_settings
from tests.conftest import LiveServer
from tests.field.conftest import FieldServer
from tests.field.pages import rows


def run_cli(engine: Engine, monkeypatch: pytest.MonkeyPatch, *args: str,
            stdin: str | None = None, code: int = 0) -> str:
    """Run `gis-service <args>` in-process against a database; its output."""
    monkeypatch.setattr(get_settings(), "database_url",
                        engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(cli, list(args), input=stdin)
    assert result.exit_code == code, result.output
    return result.output + str(result.exception or "")  # (main() prints a refusal's message)


def sign_in(url: str, username: str, password: str) -> httpx.Client:
    """A client holding a session cookie (the answer of the sign-in is checked by the caller)."""
    web = httpx.Client(base_url=url, timeout=30)
    web.get("/login")
    web.post("/session", json={"username": username, "password": password},
             headers={"X-CSRF-Token": web.cookies["gis_csrf"]})
    return web


def test_a_disabled_user_is_refused_at_once_everywhere_and_enabled_again(
    field_server: FieldServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = field_server.engine
    browser = sign_in(field_server.url, "planner", field_server.passwords["planner"])
    tile = "/tiles/stairwells/17/0/0.pbf"
    with closing(browser), field_server.client("planner") as script:
        assert browser.get("/session").json()["username"] == "planner"
        assert script.get("/session").json()["role"] == "planner"
        assert script.get(tile).status_code == 204  # the tiles' caller is cached now
        printed = run_cli(engine, monkeypatch, "user", "disable", "planner")
        assert "planner is disabled" in printed
        assert browser.get("/session").status_code == 401  # the session, on the next request
        assert script.get("/session").status_code == 401  # the token
        assert script.get(tile).status_code == 401  # a cached tile caller too
        assert browser.get("/maps/field-progress").status_code == 303
        again = sign_in(field_server.url, "planner", field_server.passwords["planner"])
        assert again.get("/session").status_code == 401  # no new sign-in either
        listed = run_cli(engine, monkeypatch, "user", "list")
        assert '"username": "planner"' in listed and '"disabled": true' in listed
        run_cli(engine, monkeypatch, "user", "enable", "planner")
        assert script.get("/session").json()["role"] == "planner"  # an unrevoked token works
        assert browser.get("/session").status_code == 401  # the old session ended for good
        fresh = sign_in(field_server.url, "planner", field_server.passwords["planner"])
        assert fresh.get("/session").json()["username"] == "planner"
    trail = rows(engine, "SELECT action, username, target FROM audit_log "
                 "WHERE action IN ('user_disabled', 'user_enabled') ORDER BY id")
    assert [(r["action"], r["target"]) for r in trail] == [
        ("user_disabled", "user:planner"), ("user_enabled", "user:planner")]
    assert all(r["username"].startswith("cli:") for r in trail)


def test_grid_aliases_passwd_and_user_token(
    field_server: FieldServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = field_server.engine
    run_cli(engine, monkeypatch, "user", "grant-grid", "grid03", "4", "5")
    assert "grids [4, 5]" in run_cli(engine, monkeypatch, "user", "revoke-grid", "grid03", "3")
    held = rows(engine, "SELECT array_agg(grid_id ORDER BY grid_id) AS g FROM user_grid ug "
                "JOIN app_user u ON u.id = ug.user_id WHERE u.username = 'grid03'")
    assert held[0]["g"] == [4, 5]
    unknown = run_cli(engine, monkeypatch, "user", "grant-grid", "grid03", "999", code=1)
    assert "no grid 999" in unknown
    run_cli(engine, monkeypatch, "user", "passwd", "grid03",
            stdin="a-long-new-pass\na-long-new-pass\n")
    with closing(sign_in(field_server.url, "grid03", "a-long-new-pass")) as web:
        assert web.get("/session").json()["grid_ids"] == [4, 5]
    token = run_cli(engine, monkeypatch, "user", "token", "grid03", "--expires-days", "2").strip()
    with field_server.live.client(token) as script:
        assert script.get("/session").json()["username"] == "grid03"


def test_an_empty_deployment_gets_its_first_admin_from_the_cli(
    empty_db: Engine, serve: object, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    with empty_db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM app_user")).scalar_one() == 0
    printed = run_cli(empty_db, monkeypatch, "user", "add", "root", "--role", "admin",
                      stdin="first-admin-pass\nfirst-admin-pass\n")
    assert printed.strip().endswith("added root (admin)")
    live: LiveServer = serve(create_app(empty_db))  # type: ignore[operator]
    with closing(sign_in(live.url, "root", "first-admin-pass")) as web:
        listed = web.get("/admin/users").json()["users"]
        assert [(u["username"], u["role"], u["disabled"]) for u in listed] == [
            ("root", "admin", False)]
