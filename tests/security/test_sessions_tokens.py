"""Item 2: sessions and API tokens kept apart; sessions expire on the server; tokens may expire
and record their last use without a write per request."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from gis_service.api import deps
from gis_service.settings import get_settings
from tests.field.conftest import FieldServer
from tests.field.pages import rows


def execute(server: FieldServer, sql: str, **params: object) -> None:
    """One statement as the database owner."""
    with server.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_a_session_secret_is_never_a_bearer_token(field_server: FieldServer) -> None:
    web = field_server.signed_in("grid02")
    secret = web.cookies["gis_session"].split(".")[0]
    for forged in (f"session:{secret}", secret, web.cookies["gis_session"]):
        with field_server.live.client(forged) as bearer:
            answer = bearer.get("/session")
            assert answer.status_code == 401, forged
            assert answer.headers["content-type"] == "application/problem+json"
            assert bearer.get("/collections/stairwells/items?limit=1").status_code == 401
    # a session row aged 400 days: refused however it is presented
    execute(field_server, "UPDATE app_session SET created_at = now() - interval '400 days', "
            "last_seen_at = now()")
    assert web.get("/session").status_code == 401
    with field_server.live.client(f"session:{secret}") as bearer:
        assert bearer.get("/session").status_code == 401
    web.close()


def test_a_token_is_never_a_session_cookie(field_server: FieldServer) -> None:
    token = field_server.tokens["planner"]
    with httpx.Client(base_url=field_server.url, cookies={"gis_session": token}) as web:
        assert web.get("/session").status_code == 401
        assert web.get("/field").status_code == 303  # to the sign-in page
        for header in ("Bearer", "Basic abc", f"session:{token}", f"Token {token}"):
            answer = web.get("/session", headers={"Authorization": header})
            assert answer.status_code == 401, header
            assert answer.headers["www-authenticate"].startswith("Bearer")


def test_sessions_expire_when_idle_and_absolutely(field_server: FieldServer) -> None:
    settings = get_settings()
    web = field_server.signed_in("grid04")
    assert web.get("/session").json()["username"] == "grid04"
    idle = settings.session_idle_minutes
    execute(field_server, "UPDATE app_session SET last_seen_at = now() - "
            "make_interval(mins => :m)", m=idle + 1)
    assert web.get("/session").status_code == 401  # idle too long
    again = field_server.signed_in("grid04")
    execute(field_server, "UPDATE app_session SET last_seen_at = now() - interval '5 minutes' "
            "WHERE revoked_at IS NULL")
    assert again.get("/session").status_code == 200  # in use: the idle clock starts again
    seen = rows(field_server.engine, "SELECT last_seen_at > now() - interval '1 minute' AS fresh "
                "FROM app_session ORDER BY id DESC LIMIT 1")
    assert seen[0]["fresh"]
    execute(field_server, "UPDATE app_session SET created_at = now() - make_interval(hours => :h)",
            h=settings.session_max_hours)
    assert again.get("/session").status_code == 401  # absolute lifetime over, used or not
    web.close()
    again.close()


def test_cookie_writes_still_need_the_csrf_token(field_server: FieldServer) -> None:
    web = field_server.signed_in("planner")
    url = "/collections/gardens/items/1"
    etag = web.get(url).headers["ETag"]
    body = {"type": "Feature", "properties": {"name": "CSRF 测试"}}
    assert web.patch(url, json=body, headers={"If-Match": etag}).status_code == 403
    names = rows(field_server.engine, "SELECT name FROM garden WHERE id = 1")
    assert names[0]["name"] != "CSRF 测试"
    web.close()


def test_tokens_expire_and_record_their_last_use_at_most_once_a_minute(
    field_server: FieldServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with field_server.client("analyst") as analyst:
        for _ in range(20):
            assert analyst.get("/tiles/stairwells/16/53334/28450.pbf").status_code in (200, 204)
        used = rows(field_server.engine, "SELECT t.id, t.last_used_at FROM api_token t "
                    "JOIN app_user u ON u.id = t.user_id WHERE u.username = 'analyst'")[0]
        assert used["last_used_at"] is not None
        logged = rows(field_server.engine, "SELECT client_addr, detail FROM audit_log "
                      "WHERE action = 'token_used' AND target = :t", t=f"token:{used['id']}")
        assert len(logged) == 1  # 20 tile requests, one write
        assert logged[0]["client_addr"] == "127.0.0.1"
        assert logged[0]["detail"]["request"].startswith("GET /tiles/stairwells/")
        execute(field_server, "UPDATE api_token SET last_used_at = now() - interval '2 minutes' "
                "WHERE id = :id", id=used["id"])
        monkeypatch.setattr(deps, "_attempts", {})  # as if this process's minute were over too
        analyst.get("/compounds/5")
        assert len(rows(field_server.engine, "SELECT 1 FROM audit_log WHERE action = "
                        "'token_used' AND target = :t", t=f"token:{used['id']}")) == 2

        execute(field_server, "UPDATE api_token SET expires_at = now() + interval '1 day' "
                "WHERE id = :id", id=used["id"])
        assert analyst.get("/compounds/5").status_code == 200
        execute(field_server, "UPDATE api_token SET expires_at = now() - interval '1 second' "
                "WHERE id = :id", id=used["id"])
        expired = analyst.get("/compounds/5")
        assert expired.status_code == 401 and "expired" in expired.json()["detail"]
