"""The audit trail: sign-ins, token use, exports, imports, role and grid changes; who, when, from
where, what; append-only, kept for the retention; never a secret; read by admins (API, CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from typer.testing import CliRunner

from gis_service.auth import Principal, apply_scope
from gis_service.cli import app as cli
from gis_service.settings import Settings, get_settings
from tests.field.conftest import FieldServer
from tests.field.pages import rows
from tests.ingest.files import garden_frame, write

WHERE = "203.0.113.5"


def entries(server: FieldServer, sql_filter: str, **params: object) -> list[Any]:
    """Audit rows matching a condition, oldest first."""
    return rows(server.engine, f"SELECT * FROM audit_log WHERE {sql_filter} ORDER BY id", **params)


def run_cli(server: FieldServer, monkeypatch: pytest.MonkeyPatch, *args: str,
            stdin: str | None = None) -> str:
    """Run `gis-service <args>` in-process against the server's database; its output."""
    url = server.engine.url.render_as_string(hide_password=False)
    monkeypatch.setattr(get_settings(), "database_url", url)
    result = CliRunner().invoke(cli, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_sign_ins_exports_imports_and_token_use_are_recorded_without_secrets(
    field_server: FieldServer, tmp_path: Path
) -> None:
    with httpx.Client(base_url=field_server.url, headers={"X-Forwarded-For": WHERE}) as web:
        web.get("/field/login")
        csrf = {"X-CSRF-Token": web.cookies["gis_csrf"]}
        wrong = web.post("/session", json={"username": "grid07", "password": "hunter2-wrong"},
                         headers=csrf)
        assert wrong.status_code == 401
        right = web.post("/session", json={"username": "grid07",
                                           "password": field_server.passwords["grid07"]},
                         headers=csrf)
        assert right.status_code == 200
        assert web.post("/session/logout", headers={"X-CSRF-Token": web.cookies["gis_csrf"]}
                        ).status_code == 204
    signs = entries(field_server, "username = 'grid07' AND action IN ('sign_in', 'sign_out')")
    assert [(e["action"], e["outcome"]) for e in signs] == [
        ("sign_in", "refused"), ("sign_in", "ok"), ("sign_out", "ok")]
    assert {e["client_addr"] for e in signs} == {WHERE}
    assert signs[1]["role"] == "grid_worker" and signs[1]["user_id"] is not None

    with field_server.client("analyst") as analyst:
        exported = analyst.get("/collections/gardens/export", params={"f": "csv",
                                                                      "kind": "pocket_park"})
        assert exported.status_code == 200
    export = entries(field_server, "action = 'export'")[-1]
    assert (export["username"], export["target"]) == ("analyst", "gardens")
    assert export["detail"]["features"] == int(exported.headers["X-Feature-Count"])
    assert export["detail"]["where"] == {"kind": "pocket_park"}

    good = write(garden_frame(), tmp_path / "gardens.geojson")
    bad = write(garden_frame().assign(kind=["pocket_park", "forest", "lake"]),
                tmp_path / "bad.geojson")
    with field_server.client("planner") as planner:
        for path, status in ((good, 200), (bad, 422)):
            answer = planner.post("/collections/gardens/import", params={"dry_run": "true"},
                                  files={"file": (path.name, path.read_bytes())})
            assert answer.status_code == status, answer.text
    imports = entries(field_server, "action = 'import'")
    assert [(e["outcome"], e["detail"]["file"], e["detail"]["rows_rejected"]) for e in imports] \
        == [("ok", "gardens.geojson", 0), ("refused", "bad.geojson", 2)]
    assert all(e["detail"]["dry_run"] and e["username"] == "planner" for e in imports)
    assert entries(field_server, "action = 'token_used' AND username IN ('analyst', 'planner')")

    everything = json.dumps([dict(r) for r in entries(field_server, "true")], default=str)
    secrets = [*field_server.passwords.values(), *field_server.tokens.values(), "hunter2-wrong"]
    assert not [s for s in secrets if s in everything]


def test_admins_read_the_trail_through_the_api(field_server: FieldServer) -> None:
    with httpx.Client(base_url=field_server.url) as web:  # two failed sign-ins to find
        web.get("/field/login")
        for _ in range(2):
            web.post("/session", json={"username": "grid09", "password": "x"},
                     headers={"X-CSRF-Token": web.cookies["gis_csrf"]})
    with field_server.client("admin") as admin:
        page = admin.get("/audit", params={"action": "sign_in", "username": "grid09",
                                           "limit": 1})
        assert page.status_code == 200, page.text
        first = page.json()
        assert [e["outcome"] for e in first["events"]] == ["refused"]
        older = admin.get(first["next"]).json()
        assert older["events"][0]["id"] < first["events"][0]["id"]
        assert admin.get("/audit", params={"since": "not a date"}).status_code == 422
    assert entries(field_server, "action = 'audit_read' AND username = 'admin'")
    with field_server.client("planner") as planner:
        assert planner.get("/audit").status_code == 403
    with field_server.client() as anonymous:
        refused = anonymous.get("/audit")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"


def test_role_grid_and_token_changes_from_the_cli(
    field_server: FieldServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_cli(field_server, monkeypatch, "user", "role", "grid08", "planner")
    run_cli(field_server, monkeypatch, "user", "grids", "grid08", "8", "9")
    run_cli(field_server, monkeypatch, "user", "add", "inspector", "--role", "analyst",
            stdin="s3cret-pass\ns3cret-pass\n")
    changes = entries(field_server, "action IN ('role_changed', 'grid_assigned', 'user_created') "
                      "AND username LIKE 'cli:%'")  # (the demo load's users are there too)
    grid08 = rows(field_server.engine, "SELECT id FROM app_user WHERE username = 'grid08'")[0]["id"]
    assert [(e["action"], e["target"], e["detail"]) for e in changes] == [
        ("role_changed", "user:grid08", {"from": "grid_worker", "to": "planner"}),
        ("grid_assigned", "user:grid08", {"grid_id": 9, "user_id": grid08}),
        ("user_created", "user:inspector", {"role": "analyst"}),
    ]
    assert all(e["client_addr"] == "local" for e in changes)

    token = run_cli(field_server, monkeypatch, "token", "create", "inspector",
                    "--expires-days", "30").strip()
    with field_server.live.client(token) as inspector:
        assert inspector.get("/session").json()["role"] == "analyst"
        listed = [json.loads(line) for line in run_cli(
            field_server, monkeypatch, "token", "list", "--user", "inspector").splitlines()]
        assert listed[0]["expires_at"] and listed[0]["last_used_at"] and token not in str(listed)
        run_cli(field_server, monkeypatch, "token", "revoke", str(listed[0]["id"]))
        assert inspector.get("/session").status_code == 401
    printed = run_cli(field_server, monkeypatch, "audit", "list", "--action", "token_revoked")
    assert json.loads(printed.splitlines()[0])["target"] == f"token:{listed[0]['id']}"
    assert "s3cret-pass" not in json.dumps([dict(r) for r in entries(field_server, "true")],
                                           default=str)


def test_the_trail_is_append_only_and_kept_for_the_retention(
    field_server: FieldServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = field_server.engine
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO audit_log (at, action, target) VALUES "
                             "(now() - interval '400 days', 'export', 'old'), "
                             "(now() - interval '100 days', 'export', 'recent')"))
    for statement in ("UPDATE audit_log SET username = 'someone else'",
                      "DELETE FROM audit_log WHERE target = 'recent'", "TRUNCATE audit_log"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(statement))
    with pytest.raises(sa.exc.DBAPIError, match="permission denied"), engine.begin() as conn:
        apply_scope(conn, Principal(role="admin", user_id=1, username="admin"))
        conn.execute(sa.text("INSERT INTO audit_log (action) VALUES ('export')"))
    monkeypatch.setattr(get_settings(), "audit_retention_days", 183)
    printed = run_cli(field_server, monkeypatch, "audit", "purge")
    assert printed.startswith("removed 1 audit entries older than 183 days")
    assert [e["target"] for e in entries(field_server, "action = 'export'")] == ["recent"]
    assert entries(field_server, "action = 'audit_purged'")[0]["detail"]["removed"] == 1
    with pytest.raises(ValidationError):
        Settings(audit_retention_days=90)
