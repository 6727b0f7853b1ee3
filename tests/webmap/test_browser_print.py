"""The planner page in Chromium: the compound card's report button, and the page as printed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from tests.conftest import LiveServer
from tests.webmap.browser import shot, watch

SHUIYIN_34 = 5
pytestmark = pytest.mark.slow
CONTROLS = (".leaflet-control-zoom", ".leaflet-control-layers", ".gis-search", ".gis-report",
            ".gis-close")  # fmt: skip


def displayed(page: object, selector: str) -> list[str]:
    """The computed display of each element a selector finds."""
    return page.evaluate(  # type: ignore[attr-defined,no-any-return]
        "s => Array.from(document.querySelectorAll(s)).map(e => getComputedStyle(e).display)",
        selector,
    )


@pytest.fixture
def writable(demo_db: Engine, serve: Callable[[FastAPI], LiveServer]) -> LiveServer:
    """The app on a writable copy of the demo (a report is recorded in the audit trail)."""
    return serve(create_app(demo_db))


def test_report_button_and_a_clean_printed_page(
    browser: Browser, writable: LiveServer, planner_token: str
) -> None:
    live = writable
    watched = watch(browser)
    page = watched.page
    page.goto(f"{live.url}/maps/planner?lang=zh#token={planner_token}")
    page.wait_for_selector("html[data-gis-tiles-stairwells]", timeout=30_000)
    page.evaluate(f"GisMap.compoundCard({SHUIYIN_34}, '水荫路34号大院')")
    button = page.wait_for_selector(".gis-card .gis-report")
    assert button.inner_text() == "报告(PDF)"
    with page.context.expect_page() as opened, page.expect_response(
        lambda r: r.url.endswith(f"/reports/compounds/{SHUIYIN_34}.pdf"), timeout=120_000
    ) as answer:
        button.click()
    assert answer.value.status == 200
    assert answer.value.headers["content-type"] == "application/pdf"
    assert int(answer.value.headers["content-length"]) > 50_000
    tab = opened.value
    # the PDF shown in its own tab
    tab.wait_for_url(lambda url: url.startswith("blob:"), wait_until="commit", timeout=30_000)
    tab.close()

    page.wait_for_selector(".gis-card [data-status]")
    page.emulate_media(media="print")
    for selector in CONTROLS:
        shown = displayed(page, selector)
        assert shown and set(shown) == {"none"}, (selector, shown)
    assert set(displayed(page, ".gis-card")) == {"block"}  # the card's figures are printed
    assert "none" not in displayed(page, ".gis-status-legend")
    shot(page, "planner-print.png")
    assert watched.real_errors() == []
    page.context.close()
