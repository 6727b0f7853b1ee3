"""One sign-in for every page, my tokens and user administration, in Chromium (1440×900)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.field.conftest import FieldServer
from tests.field.pages import rows
from tests.webmap.browser import shot

DESKTOP = {"viewport": {"width": 1440, "height": 900}}
pytestmark = pytest.mark.slow


def desktop(contexts: Callable[..., Any], lang: str) -> Any:
    """A desktop browser context speaking zh or en."""
    return contexts(**DESKTOP, locale="zh-CN" if lang == "zh" else "en-GB")


def sign_in_on(page: Any, server: FieldServer, user: str, password: str | None = None) -> None:
    """Fill the sign-in form the page was sent to, and submit it."""
    page.wait_for_selector("#login")
    page.fill("#username", user)
    page.fill("#password", password or server.passwords[user])
    page.click("#login button[type=submit]")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_one_sign_in_serves_every_page_in_every_tab(
    field_server: FieldServer, contexts: Callable[..., Any], lang: str
) -> None:
    context = desktop(contexts, lang)
    page = context.new_page()
    page.goto(f"{field_server.url}/maps/planner#map=17/23.1465/113.2935")
    page.wait_for_url("**/login?**")
    title = {"zh": "登录", "en": "Sign in"}[lang]
    assert page.locator("h1").inner_text() == title
    sign_in_on(page, field_server, "planner", "wrong-password-1")
    alert = page.locator("[role=alert]").inner_text()
    assert alert == {"zh": "用户名或密码不正确", "en": "Wrong username or password"}[lang]
    sign_in_on(page, field_server, "planner")
    # back where the user was (the map then writes its view into the address at full precision)
    page.wait_for_url(re.compile(r"/maps/planner#map=17/23\.1465(0*)/113\.2935(0*)(&|$)"))
    page.wait_for_selector("html[data-gis-user=planner]")
    page.wait_for_selector("html[data-gis-tiles-stairwells]", timeout=30_000)
    status = page.locator(".gis-signin-status").inner_text()
    assert status == {"zh": "已登录: planner", "en": "Signed in: planner"}[lang]
    shot(page, f"signin-planner-{lang}.png")

    tab = context.new_page()  # a new tab: no token, the same sign-in
    for path in ("/maps/planner", "/maps/coverage"):
        tab.goto(f"{field_server.url}{path}?lang={lang}")
        tab.wait_for_selector("html[data-gis-user=planner]")
        assert "/login" not in tab.url
    tab.goto(f"{field_server.url}/maps/field-progress?lang={lang}")
    assert tab.url.endswith(f"/maps/field-progress?lang={lang}")
    tab.goto(f"{field_server.url}/field?grid=1&lang={lang}")
    assert "/login" not in tab.url
    tab.goto(f"{field_server.url}/?lang={lang}")
    who = {"zh": "已登录:planner(规划人员)", "en": "Signed in as planner (Planner)"}[lang]
    assert tab.locator(".who").inner_text() == who
    shot(tab, f"start-signed-in-{lang}.png")

    page.click(".gis-signout")  # signing out ends the session in every tab
    page.wait_for_url("**/login?**")
    tab.goto(f"{field_server.url}/maps/coverage?lang={lang}")
    tab.wait_for_url("**/login?**")
    assert tab.locator("h1").inner_text() == title


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_my_tokens_page_creates_a_token_shown_once_that_works_until_revoked(
    field_server: FieldServer, contexts: Callable[..., Any], lang: str
) -> None:
    page = desktop(contexts, lang).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{field_server.url}/account?lang={lang}")
    sign_in_on(page, field_server, "analyst")
    page.wait_for_url(f"**/account?lang={lang}")
    page.wait_for_selector("html[data-tokens-ready]")
    page.fill("input[name=label]", "QGIS 台式机")
    page.fill("input[name=expires_days]", "30")
    page.click("form.inline button[type=submit]")
    secret = page.locator("#new-token code").inner_text()
    assert secret.startswith("gis_")
    once = {"zh": "请立即复制此令牌,它只显示这一次:",
            "en": "Copy this token now; it is shown only once:"}
    assert once[lang] in page.locator("#new-token").inner_text()
    row = page.locator("#token-list tr", has_text="QGIS 台式机")
    row.wait_for()
    assert row.count() == 1 and secret not in page.locator("#token-list").inner_text()
    shot(page, f"my-tokens-{lang}.png")
    with httpx.Client(base_url=field_server.url,
                      headers={"Authorization": f"Bearer {secret}"}) as qgis:
        assert qgis.get("/collections/stairwells/items?limit=1").status_code == 200
        row.locator("button.danger").click()
        page.wait_for_selector("#token-list tr:has-text('QGIS 台式机') >> text="
                               + {"zh": "已吊销", "en": "Revoked"}[lang])
        assert qgis.get("/collections/stairwells/items?limit=1").status_code == 401
    page.reload()  # the secret is gone for good
    page.wait_for_selector("html[data-tokens-ready]")
    assert secret not in page.content()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_admin_page_changes_roles_grids_passwords_state_and_tokens(
    field_server: FieldServer, contexts: Callable[..., Any], lang: str
) -> None:
    worker = field_server.signed_in("grid02")
    page = desktop(contexts, lang).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{field_server.url}/admin?lang={lang}")
    sign_in_on(page, field_server, "admin")
    page.wait_for_selector("html[data-users-ready]")
    row = page.locator("tr[data-user=grid02]")
    role = {"zh": "规划人员", "en": "Planner"}[lang]
    assert row.locator("select[name=role] option:checked").inner_text() == \
        {"zh": "网格员", "en": "Grid worker"}[lang]
    shot(page, f"admin-{lang}.png")

    def act(button: Any) -> None:
        page.evaluate("document.documentElement.removeAttribute('data-users-ready')")
        button.click()
        page.wait_for_selector("html[data-users-ready]")

    row.locator("select[name=role]").select_option(label=role)
    row.locator("input[name=grids]").fill("2, 3")
    act(row.locator("button", has_text={"zh": "保存", "en": "Save"}[lang]))
    held = rows(field_server.engine, "SELECT u.role, array_agg(g.grid_id ORDER BY g.grid_id) AS g "
                "FROM app_user u JOIN user_grid g ON g.user_id = u.id "
                "WHERE u.username = 'grid02' GROUP BY u.role")
    assert (held[0]["role"], held[0]["g"]) == ("planner", [2, 3])

    assert worker.get("/session").status_code == 200
    act(row.locator("button[data-action=disable]"))
    assert worker.get("/session").status_code == 401  # at once
    assert row.locator("[data-state]").inner_text() == {"zh": "已停用", "en": "Disabled"}[lang]
    act(row.locator("button[data-action=enable]"))
    row.locator("input[name=new-password]").fill("admin-chose-this-1")
    act(row.locator("button", has_text={"zh": "重置密码", "en": "Reset password"}[lang]))
    status = page.locator("#admin-status").inner_text()
    assert status.startswith({"zh": "密码已重置", "en": "Password reset"}[lang])
    with field_server.client("grid02") as script:
        assert script.get("/session").status_code == 200
        act(row.locator("button", has_text={"zh": "吊销全部令牌", "en": "Revoke all tokens"}[lang]))
        assert script.get("/session").status_code == 401
    assert row.locator("[data-tokens]").inner_text() == "0"
    again = httpx.Client(base_url=field_server.url)
    again.get("/login")
    signed = again.post("/session", json={"username": "grid02", "password": "admin-chose-this-1"},
                        headers={"X-CSRF-Token": again.cookies["gis_csrf"]})
    assert signed.status_code == 200
    trail = rows(field_server.engine, "SELECT action FROM audit_log WHERE username = 'admin' "
                 "AND action <> 'sign_in' ORDER BY id")
    assert [t["action"] for t in trail] == [
        "role_changed", "grid_assigned", "user_disabled", "user_enabled", "password_changed",
        "token_revoked"]
