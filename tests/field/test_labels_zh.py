"""The field pages and the OGC f=html pages in Chinese, read in Chromium for raw codes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.field.conftest import FieldServer
from tests.field.pages import open_progress, open_stairwell, sign_in, stairwells_of
from tests.webmap.rawcodes import all_codes, raw_codes

pytestmark = pytest.mark.slow


def test_field_pages_in_chinese_show_no_code(field_server: FieldServer, contexts: Any) -> None:
    codes = all_codes(field_server.engine)
    found: dict[str, list[str]] = {}
    phone = contexts(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.goto(field_server.url + "/field/login")
    found["sign-in"] = raw_codes(page.inner_text("body"), codes)
    sign_in(page, field_server, "grid02")
    found["field"] = raw_codes(page.inner_text("body"), codes)
    stairwell = stairwells_of(field_server.engine, 2)[0]["id"]
    open_stairwell(page, stairwell)
    found["form"] = raw_codes(page.inner_text("body"), codes)
    desk = contexts(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = desk.new_page()
    open_progress(page, field_server, "planner")
    found["supervisor"] = raw_codes(page.inner_text("body"), codes)
    assert {k: v for k, v in found.items() if v} == {}
