"""The account routes over HTTP: origin checks on cookie writes, my tokens, administration rights,
the start page for browsers and the landing JSON for clients."""

from __future__ import annotations

from contextlib import closing

import httpx

from tests.accounts.test_users_cli import sign_in
from tests.field.conftest import FieldServer
from tests.field.pages import rows

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_cookie_writes_from_another_site_are_refused(field_server: FieldServer) -> None:
    with closing(sign_in(field_server.url, "planner", field_server.passwords["planner"])) as web:
        csrf = {"X-CSRF-Token": web.cookies["gis_csrf"]}
        body = {"label": "from elsewhere"}
        for hostile in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                        {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
            answer = web.post("/account/tokens", json=body, headers={**csrf, **hostile})
            assert answer.status_code == 403, hostile
        assert web.post("/account/tokens", json=body).status_code == 403  # no CSRF header
        own = {"Origin": field_server.url, "Sec-Fetch-Site": "same-origin"}
        made = web.post("/account/tokens", json=body, headers={**csrf, **own})
        assert made.status_code == 201 and made.json()["token"].startswith("gis_")
    with httpx.Client(base_url=field_server.url) as stranger:  # a sign-in form posted elsewhere
        stranger.get("/login")
        form = {"username": "planner", "password": field_server.passwords["planner"],
                "csrf": stranger.cookies["gis_csrf"]}
        refused = stranger.post("/session", data=form, headers={"Origin": "https://evil.example"})
        assert refused.status_code == 403 and "gis_session" not in stranger.cookies


def test_my_tokens_create_list_revoke_and_the_token_works_until_revoked(
    field_server: FieldServer,
) -> None:
    with field_server.client("analyst") as analyst:
        made = analyst.post("/account/tokens", json={"label": "QGIS", "expires_days": 30})
        assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
        token = made.json()
        assert token["label"] == "QGIS" and token["expires_at"]
        with field_server.live.client(token["token"]) as qgis:
            assert qgis.get("/collections/stairwells/items?limit=1").status_code == 200
            listed = analyst.get("/account/tokens").json()
            assert token["id"] in [t["id"] for t in listed]
            assert token["token"] not in str(listed)
            assert analyst.delete(f"/account/tokens/{token['id']}").status_code == 204
            assert qgis.get("/collections/stairwells/items?limit=1").status_code == 401
            assert analyst.delete(f"/account/tokens/{token['id']}").status_code == 404
        refused = analyst.post("/account/tokens", json={"expires_days": 0})
        assert refused.status_code == 422
    with field_server.client("planner") as planner:  # someone else's token is not theirs
        other = planner.post("/account/tokens", json={"label": "mine"}).json()["id"]
    with field_server.client("analyst") as analyst:
        assert analyst.delete(f"/account/tokens/{other}").status_code == 404
    with field_server.client() as anonymous:
        assert anonymous.get("/account/tokens").status_code == 401
        assert anonymous.get("/account").status_code == 303
    actions = rows(field_server.engine, "SELECT action, username FROM audit_log "
                   "WHERE action IN ('token_created', 'token_revoked') ORDER BY id")
    assert [(a["action"], a["username"]) for a in actions] == [
        ("token_created", "analyst"), ("token_revoked", "analyst"), ("token_created", "planner")]


def test_only_administrators_administer_and_every_change_is_audited(
    field_server: FieldServer,
) -> None:
    with field_server.client("planner") as planner:
        assert planner.get("/admin/users").status_code == 403
        assert planner.patch("/admin/users/grid02", json={"role": "admin"}).status_code == 403
        page = planner.get("/admin?lang=zh")
        assert page.status_code == 403 and "只有管理员可以打开此页面" in page.text
    with field_server.client() as anonymous:
        assert anonymous.get("/admin/users").status_code == 401
        to_login = anonymous.get("/admin?lang=en").headers["location"]
        assert to_login == "/login?next=%2Fadmin%3Flang%3Den&lang=en"
    with field_server.client("admin") as admin:
        changed = admin.patch("/admin/users/grid02", json={"role": "planner", "grids": [2, 3]})
        assert changed.status_code == 200
        assert (changed.json()["role"], changed.json()["grids"]) == ("planner", [2, 3])
        assert admin.patch("/admin/users/grid02", json={"grids": [999]}).status_code == 422
        assert admin.patch("/admin/users/grid02", json={"role": "boss"}).status_code == 422
        assert admin.patch("/admin/users/nobody", json={"disabled": True}).status_code == 404
        assert admin.patch("/admin/users/admin", json={"disabled": True}).status_code == 403
        assert admin.put("/admin/users/grid02/password",
                         json={"password": "short"}).status_code == 422
        assert admin.put("/admin/users/grid02/password",
                         json={"password": "reset-by-admin-1"}).status_code == 204
        token_id = admin.get("/admin/users").json()["tokens"]
        token_id = next(t["id"] for t in token_id if t["username"] == "grid02")
        assert admin.delete("/admin/users/grid02/tokens").json() == {"revoked": 1}
        assert admin.patch("/admin/users/grid02", json={"disabled": True}).json()["disabled"]
    with field_server.client("grid02") as worker:
        assert worker.get("/session").status_code == 401
    trail = rows(field_server.engine, "SELECT action, username, target FROM audit_log WHERE "
                 "username = 'admin' AND action <> 'token_used' ORDER BY id")
    assert [t["action"] for t in trail] == [
        "role_changed", "grid_assigned", "password_changed", "token_revoked", "user_disabled"]
    assert {t["target"] for t in trail} == {"user:grid02", f"token:{token_id}"}


def test_browsers_get_the_start_page_and_clients_the_landing_json(
    field_server: FieldServer,
) -> None:
    with field_server.client() as web:
        zh = web.get("/", headers={"Accept": BROWSER_ACCEPT, "Accept-Language": "zh-CN"})
        assert zh.headers["content-type"].startswith("text/html")
        assert "改造规划图" in zh.text and 'href="/maps/planner?lang=zh"' in zh.text
        assert 'href="/login?lang=zh&amp;next=%2F"' in zh.text and "/admin" not in zh.text
        en = web.get("/?lang=en", headers={"Accept": BROWSER_ACCEPT})
        assert "Renewal planner" in en.text and 'href="/docs"' in en.text
        for accept in ("application/json", "*/*", None):
            landing = web.get("/", headers={"Accept": accept} if accept else {})
            assert landing.headers["content-type"] == "application/json", accept
            assert {link["rel"] for link in landing.json()["links"]} >= {"conformance", "data"}
        forced = web.get("/?f=json", headers={"Accept": BROWSER_ACCEPT})
        assert forced.json()["title"].startswith("Old-neighbourhood")
        assert web.get("/?f=html").headers["content-type"].startswith("text/html")
    with field_server.client("admin") as admin:
        page = admin.get("/", headers={"Accept": BROWSER_ACCEPT, "Accept-Language": "en"})
        assert "Signed in as admin (Administrator)" in page.text
        assert 'href="/admin?lang=en"' in page.text
