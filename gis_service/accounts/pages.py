"""The HTML of the sign-in, start, my-tokens and user-administration pages (zh/en).

Every text is escaped; data for our scripts goes in one inert JSON block (webmap/page_data.py),
and the scripts build the DOM with textContent."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

from gis_service.accounts.strings import ROLE_LABELS, STRINGS
from gis_service.auth import Principal
from gis_service.webmap import assets
from gis_service.webmap.page_data import data_block

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Vary": "Cookie, Accept, Accept-Language",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
}
LOGIN_HEADERS = {**PAGE_HEADERS, "Vary": "Cookie, Accept-Language"}


def e(text: object) -> str:
    """Text escaped for HTML (quotes too)."""
    return html.escape(str(text))


def html_lang(lang: str) -> str:
    """The lang attribute of a page in a language."""
    return "zh-CN" if lang == "zh" else "en"


def other_language(lang: str, path: str) -> str:
    """A link to the same page in the other language."""
    other = "en" if lang == "zh" else "zh"
    return f'<a class="lang" href="{e(path)}?lang={other}" hreflang="{other}">' \
        f'{e(STRINGS[lang]["other_language"])}</a>'


def login_page(lang: str, csrf: str, target: str, error: str = "") -> str:
    """The one sign-in form of every role (works without JavaScript; fits a 360 px phone)."""
    t = STRINGS[lang]
    message = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    switch = f"/login?next={quote(target, safe='')}&lang={'en' if lang == 'zh' else 'zh'}"
    return f"""<!DOCTYPE html>
<html lang="{html_lang(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(t['login_title'])} · {e(t['service'])}</title>
<link rel="stylesheet" href="{assets.own('accounts.css')}"></head>
<body class="login"><form method="post" action="/session" id="login">
<p class="service"><a href="/?lang={lang}">{e(t['service'])}</a>
<a class="lang" href="{e(switch)}">{e(t['other_language'])}</a></p>
<h1>{e(t['login_title'])}</h1>{message}
<label for="username">{e(t['username'])}</label>
<input id="username" name="username" autocomplete="username" autocapitalize="none" required>
<label for="password">{e(t['password'])}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="csrf" value="{e(csrf)}">
<input type="hidden" name="next" value="{e(target)}">
<input type="hidden" name="lang" value="{lang}">
<button type="submit">{e(t['sign_in'])}</button>
</form></body></html>"""


def who(lang: str, principal: Principal) -> dict[str, Any]:
    """The signed-in user as the pages' scripts show it (None fields when anonymous)."""
    if principal.is_anonymous:
        return {"username": None, "role": None}
    return {"username": principal.username, "role": principal.role,
            "role_label": ROLE_LABELS[lang].get(principal.role, principal.role)}


def shell(lang: str, path: str, title: str, principal: Principal, body: str,
          data: dict[str, Any] | None = None, script: str = "") -> str:
    """A page of the service: header (start page, who is signed in, sign-out, language), body."""
    t = STRINGS[lang]
    if principal.is_anonymous:
        login = f"/login?lang={lang}&next={quote(path, safe='')}"
        account = f'<a class="signin" href="{e(login)}">{e(t["sign_in"])}</a>'
    else:
        role = ROLE_LABELS[lang].get(principal.role, principal.role)
        shown = t["signed_in_as"].format(name=principal.username, role=role)
        account = f'<span class="who">{e(shown)}</span> ' \
            f'<button type="button" id="sign-out">{e(t["sign_out"])}</button>'
    page_data = {"lang": lang, "strings": t, "user": who(lang, principal),
                 "roles": ROLE_LABELS[lang], **(data or {})}
    scripts = f'<script src="{assets.own("accounts.js")}"></script>'
    if script:
        scripts += f'\n<script src="{assets.own(script)}"></script>'
    return f"""<!DOCTYPE html>
<html lang="{html_lang(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<link rel="stylesheet" href="{assets.own('accounts.css')}"></head>
<body><header><a class="home" href="/?lang={lang}">{e(t['service'])}</a>
<nav>{account} {other_language(lang, path)}</nav></header>
<main id="main"><h1>{e(title)}</h1>{body}</main>
{data_block(page_data)}
{scripts}</body></html>"""


def card(href: str, title: str, text: str) -> str:
    """One link of the start page."""
    return f'<li><a href="{e(href)}"><strong>{e(title)}</strong><span>{e(text)}</span></a></li>'


def start_page(lang: str, principal: Principal) -> str:
    """The start page for browsers: the maps, the field view, tools, sign-in or -out."""
    t = STRINGS[lang]
    q = f"?lang={lang}"
    maps = [card(f"/maps/planner{q}", t["planner"], t["planner_text"]),
            card(f"/maps/coverage{q}", t["coverage"], t["coverage_text"]),
            card(f"/field{q}", t["field"], t["field_text"]),
            card(f"/maps/field-progress{q}", t["supervisor"], t["supervisor_text"])]
    tools = [card("/docs", t["api_docs"], t["api_docs_text"]),
             card("/health", t["status"], t["status_text"])]
    if not principal.is_anonymous:
        tools.append(card(f"/account{q}", t["my_tokens"], t["my_tokens_text"]))
    if principal.role == "admin":
        tools.append(card(f"/admin{q}", t["admin"], t["admin_text"]))
    body = (f'<h2>{e(t["maps"])}</h2><ul class="cards" id="maps">{"".join(maps)}</ul>'
            f'<h2>{e(t["tools"])}</h2><ul class="cards" id="tools">{"".join(tools)}</ul>')
    return shell(lang, "/", t["start_title"], principal, body)


def tokens_page(lang: str, principal: Principal) -> str:
    """My tokens: create (secret shown once), list, revoke (accounts.js)."""
    t = STRINGS[lang]
    return shell(lang, "/account", t["my_tokens"], principal, '<div id="tokens"></div>')


def admin_page(lang: str, principal: Principal) -> str:
    """User administration: role, grids, reset password, disable/enable, revoke tokens."""
    t = STRINGS[lang]
    return shell(lang, "/admin", t["admin"], principal, '<div id="users"></div>',
                 script="admin.js")


def refused_page(lang: str, principal: Principal, path: str) -> str:
    """The page a signed-in user without the right role sees (403)."""
    t = STRINGS[lang]
    body = f'<p class="error" role="alert">{e(t["forbidden"])}</p>' \
        f'<p><a href="/?lang={lang}">{e(t["back_home"])}</a></p>'
    return shell(lang, path, t["admin"], principal, body)
