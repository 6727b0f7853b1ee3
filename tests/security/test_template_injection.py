"""Item 1: user text never becomes template source or markup, on any page.

Every free-text field of every layer, the lookup labels, survey notes, scenario names and user
display names hold payloads; then each page is rendered (planner, coverage, field, progress,
sign-in, `map export`) and read by the server's HTML and by Chromium.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser
from sqlalchemy.engine import Engine

from gis_service.api import asgi
from gis_service.auth import Principal
from gis_service.catalog import default_catalog
from gis_service.db.models import Base
from gis_service.maps_catalog import default_maps
from gis_service.webmap.config import Status
from gis_service.webmap.export import export_html
from tests.field.conftest import FieldServer
from tests.webmap.browser import watch
from tests.webmap.pagecheck import page_data

PAYLOAD = "{{ 7*191 }}<img src=x onerror=alert(1)></script><script>alert(1)</script>\u2028<!--"
SHORT = "{{7*191}}</script><b>x"  # for columns of 32 characters
RAW_MARKUP = ("<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "</script><b>")
GRID_NAME = "G3 {{ 7*191 }} {% raw %} <img src=x onerror=alert(1)>"
SCENARIO_NAME = "方案 {{ 7*191 }} </script><script>alert(1)</script>"
SHUIYIN_34 = 5
SKIPPED_FIELDS = {"photo_path"}  # a file reference written by the photo upload, not free text


def text_columns() -> list[tuple[str, str, int | None]]:
    """(table, column, length) of every free-text field of every catalog layer."""
    found = []
    for layer in default_catalog().layers.values():
        for field in layer.fields:
            if field.type != "string" or field.enum or field.enum_from:
                continue
            if field.name in SKIPPED_FIELDS:
                continue
            length = getattr(Base.metadata.tables[layer.table].c[field.name].type, "length", None)
            found.append((layer.table, field.name, length))
    return [*found, ("survey", "notes", None), ("app_user", "display_name", 200),
            ("scenario", "description", None)]


def plant(engine: Engine) -> None:
    """Payloads into every free-text column and every lookup label (as the database owner)."""
    with engine.begin() as conn:
        for table, column, length in text_columns():
            value = PAYLOAD if length is None or length >= len(PAYLOAD) + 8 else SHORT
            conn.execute(sa.text(
                f"UPDATE {table} SET {column} = :value || ' #' || id::text"
            ), {"value": value})
        for lookup in ("elevator_status", "issue_category", "facility_kind"):
            conn.execute(sa.text(f"UPDATE {lookup} SET label_zh = left(:v || code, 100), "
                                 "label_en = left(:v || code, 100)"), {"v": PAYLOAD})


def assert_inert(html: str, where: str) -> None:
    """No payload evaluated as a template, none present as markup."""
    assert not re.search(r"\b1337\b", html), f"{where}: a payload ran as a template"
    for markup in RAW_MARKUP:
        assert markup not in html, f"{where}: payload markup {markup!r} in the page"


def data_strings(html: str) -> str:
    """Every string of the page's data block, joined (to find payloads as data)."""
    strings: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(page_data(html))
    return "\n".join(strings)


def attack_through_the_api(server: FieldServer) -> None:
    """The reported attack: a planner renames grid 3; and a scenario name."""
    with server.client("planner") as planner:
        url = "/collections/grids/items/3"
        etag = planner.get(url).headers["ETag"]
        renamed = planner.patch(url, json={"type": "Feature", "properties": {"name": GRID_NAME}},
                                headers={"If-Match": etag})
        assert renamed.status_code == 200, renamed.text
        scenario = {"name": SCENARIO_NAME, "interventions": {"batches": [1]}}
        made = planner.post("/scenarios", json=scenario)
        assert made.status_code == 201, made.text


def test_payloads_stay_text_on_every_page(field_server: FieldServer) -> None:
    plant(field_server.engine)
    attack_through_the_api(field_server)
    tokens = field_server.tokens
    pages: dict[str, httpx.Response] = {}
    with httpx.Client(base_url=field_server.url, timeout=60) as web:
        for view in ("planner", "coverage"):
            for lang in ("zh", "en"):
                pages[f"{view}-{lang}"] = web.get(f"/maps/{view}?lang={lang}")
        bearer = {"Authorization": f"Bearer {tokens['planner']}"}
        pages["field-planner"] = web.get("/field?grid=3", headers=bearer)
        pages["field-worker"] = web.get(
            "/field", headers={"Authorization": f"Bearer {tokens['grid03']}"})
        pages["progress"] = web.get("/maps/field-progress?lang=en", headers=bearer)
        pages["login"] = web.get("/field/login", params={"next": "/field?" + PAYLOAD})
        failed = web.post("/session", data={"username": PAYLOAD, "password": PAYLOAD,
                                            "csrf": web.cookies["gis_csrf"], "next": PAYLOAD})
        assert failed.status_code == 401
        pages["login-failed"] = failed
    for name, page in pages.items():
        if name != "login-failed":
            assert page.status_code == 200, (name, page.text[:300])
        assert_inert(page.text, name)
    for name in ("planner-en", "coverage-zh", "field-planner", "field-worker", "progress"):
        assert PAYLOAD in data_strings(pages[name].text), f"{name}: the labels are data"
    for name in ("field-planner", "field-worker"):
        assert page_data(pages[name].text)["grid"]["name"] == GRID_NAME
        assert "· G3 {{ 7*191 }} {% raw %} &lt;img src=x" in pages[name].text  # <title>

    view = default_maps()["planner"]
    statuses = [Status("none", PAYLOAD, PAYLOAD)]
    planner = Principal(role="planner", user_id=2, username="planner")
    with ThreadPoolExecutor(1) as thread:  # what `gis-service map export` writes (it runs the
        # app in-process with asyncio.run: in a thread of its own, beside Playwright's loop)
        read = asgi.reader(field_server.engine, planner)
        html, _ = thread.submit(export_html, read, view, default_catalog(), "en", statuses,
                                SHUIYIN_34).result()
    assert_inert(html, "map export")
    assert PAYLOAD in data_strings(html)


@pytest.mark.slow
def test_chromium_shows_payloads_as_text_and_opens_no_dialog(
    browser: Browser, field_server: FieldServer
) -> None:
    plant(field_server.engine)
    attack_through_the_api(field_server)
    worker = field_server.signed_in("grid03")
    cookies = [{"name": k, "value": v, "url": field_server.url} for k, v in worker.cookies.items()]
    watched = watch(browser)
    page = watched.page
    page.context.add_cookies(cookies)

    page.goto(f"{field_server.url}/field?lang=en")
    page.wait_for_function("document.title.includes('G3')", timeout=30_000)
    assert page.title().endswith("· " + GRID_NAME)

    page.goto(f"{field_server.url}/maps/field-progress?lang=en")
    page.wait_for_function("document.body.innerText.includes('{{ 7*191 }}')", timeout=30_000)
    assert GRID_NAME in page.inner_text("body")

    page.goto(f"{field_server.url}/maps/planner?lang=en#token={field_server.tokens['planner']}")
    page.wait_for_selector("html[data-gis-ready]", timeout=30_000)
    page.click(".gis-scenario-toggle")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.gis-scenarios option'))"
        ".some(o => o.textContent.includes('方案'))", timeout=30_000)
    names = page.eval_on_selector_all(".gis-scenarios option", "os => os.map(o => o.textContent)")
    assert SCENARIO_NAME in names

    status = next(iter(page.evaluate("GisMap.config.statuses")))
    assert status["label"].startswith(PAYLOAD)
    assert watched.dialogs == []
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    worker.close()
