"""Sign-in with a password: session cookie flags, CSRF double-submit, logout revokes, throttling."""

from __future__ import annotations

import httpx

from tests.field.conftest import FieldServer
from tests.field.pages import rows


def cookie_header(answer: httpx.Response, name: str) -> str:
    """The Set-Cookie header of one cookie."""
    return next(h for h in answer.headers.get_list("set-cookie") if h.startswith(name + "="))


def test_form_sign_in_sets_strict_cookies_and_opens_the_field(field_server: FieldServer) -> None:
    with httpx.Client(base_url=field_server.url) as web:
        page = web.get("/field")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Ffield"
        login = web.get(page.headers["location"])
        assert login.status_code == 200 and 'name="csrf"' in login.text
        token = web.cookies["gis_csrf"]
        form = {"username": "grid02", "password": field_server.passwords["grid02"],
                "csrf": token, "next": "/field"}
        answer = web.post("/session", data=form)
        assert answer.status_code == 303 and answer.headers["location"] == "/field"
        session = cookie_header(answer, "gis_session").lower()
        assert "httponly" in session and "samesite=strict" in session
        csrf = cookie_header(answer, "gis_csrf").lower()
        assert "httponly" not in csrf and "samesite=strict" in csrf
        assert web.cookies["gis_csrf"] != token  # a new token, bound to the session
        assert web.get("/session").json()["username"] == "grid02"
        field = web.get("/field")
        assert field.status_code == 200 and "FieldMap.init" in field.text
        assert '"id": 2' in field.text or '"id":2' in field.text


def test_sign_in_refusals(field_server: FieldServer) -> None:
    with httpx.Client(base_url=field_server.url) as web:
        web.get("/field/login")
        good = {"username": "grid05", "password": field_server.passwords["grid05"]}
        no_token = web.post("/session", json=good)
        assert no_token.status_code == 403  # no double-submit token: could be a forged form
        wrong = web.post("/session", json={**good, "password": "nope"},
                         headers={"X-CSRF-Token": web.cookies["gis_csrf"]})
        assert wrong.status_code == 401
        unknown = web.post("/session", json={"username": "nobody", "password": "x"},
                           headers={"X-CSRF-Token": web.cookies["gis_csrf"]})
        assert unknown.status_code == 401
        form = web.post("/session", data={"username": "grid05", "password": "nope",
                                          "csrf": web.cookies["gis_csrf"]})
        assert form.status_code == 401 and "用户名或密码不正确" in form.text
    with httpx.Client(base_url=field_server.url) as web:
        web.get("/field/login")
        for _ in range(6):  # five free tries, then a delay (tests/security: the whole throttle)
            web.post("/session", json={"username": "grid11", "password": "guess"},
                     headers={"X-CSRF-Token": web.cookies["gis_csrf"]})
        again = web.post("/session", json={"username": "grid11",
                                           "password": field_server.passwords["grid11"]},
                         headers={"X-CSRF-Token": web.cookies["gis_csrf"]})
        assert again.status_code == 429 and int(again.headers["retry-after"]) >= 1


def test_cookie_writes_need_the_csrf_header_bearer_writes_do_not(field_server: FieldServer) -> None:
    sid = rows(field_server.engine, "SELECT id FROM stairwell WHERE grid_id = 2 LIMIT 1")[0]["id"]
    url = f"/collections/stairwells/items/{sid}"
    body = {"type": "Feature", "properties": {"notes": "csrf test"}}
    web = field_server.signed_in("grid02")
    etag = web.get(url).headers["ETag"]
    match = {"If-Match": etag}
    assert web.patch(url, json=body, headers=match).status_code == 403
    assert web.patch(url, json=body, headers={**match, "X-CSRF-Token": "forged"}).status_code == 403
    good = web.patch(url, json=body, headers={**match, "X-CSRF-Token": web.cookies["gis_csrf"]})
    assert good.status_code == 200, good.text
    with field_server.client("grid02") as bearer:  # bearer requests: no cookie, no CSRF check
        answer = bearer.patch(url, json={"type": "Feature", "properties": {"notes": "bearer"}},
                              headers={"If-Match": good.headers["ETag"]})
        assert answer.status_code == 200
    web.close()


def test_logout_revokes_the_session(field_server: FieldServer) -> None:
    web = field_server.signed_in("grid03")
    stolen = web.cookies["gis_session"]
    assert web.post("/session/logout").status_code == 403  # no CSRF header
    out = web.post("/session/logout", headers={"X-CSRF-Token": web.cookies["gis_csrf"]})
    assert out.status_code == 204 and "gis_session" not in web.cookies
    assert web.get("/session").status_code == 401
    with httpx.Client(base_url=field_server.url, cookies={"gis_session": stolen}) as replayed:
        assert replayed.get("/session").status_code == 401  # revoked on the server
        assert replayed.get("/field").status_code == 303
    secret = stolen.split(".")[0]
    with field_server.live.client(secret) as as_bearer:  # a session is not a bearer token
        assert as_bearer.get("/session").status_code == 401
    forged = stolen[:-2] + ("AA" if not stolen.endswith("AA") else "BB")
    with httpx.Client(base_url=field_server.url, cookies={"gis_session": forged}) as tampered:
        assert tampered.get("/session").status_code == 401
    web.close()


def test_field_page_roles_and_grids(field_server: FieldServer) -> None:
    worker = field_server.signed_in("grid02")
    assert worker.get("/field?grid=3").status_code == 403
    assert worker.get("/field?grid=2").status_code == 200
    assert worker.get("/maps/field").headers["location"] == "/field"
    analyst = field_server.signed_in("analyst")
    assert analyst.get("/field").status_code == 403
    planner = field_server.signed_in("planner")
    page = planner.get("/field?grid=3")
    assert page.status_code == 200 and "grid_id=3" in page.text
    sw = planner.get("/field/sw.js")
    assert sw.headers["service-worker-allowed"] == "/field"
    for client in (worker, analyst, planner):
        client.close()
