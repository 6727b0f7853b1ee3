"""Where am I: the fix's accuracy is drawn (circle) and written (metres); a fix coarser than
maps/field.yaml's issue_max_accuracy_m cannot place an issue, and the page says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gis_service.maps_catalog import load_maps
from tests.field.conftest import FieldServer
from tests.field.pages import SMALL_PHONE, phone, rows, sign_in


def test_accuracy_shown_and_coarse_fix_refused_for_issues(
    field_server: FieldServer, contexts: Any, tmp_path: Path
) -> None:
    options = load_maps()["field"].field
    assert options is not None
    limit = options.issue_max_accuracy_m
    spot = rows(field_server.engine, "SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM "
                "stairwell WHERE grid_id = 2 ORDER BY id LIMIT 1")[0]
    context = phone(contexts, spot["lon"], spot["lat"], size=SMALL_PHONE, locale="zh-CN")
    context.set_geolocation({"longitude": spot["lon"], "latitude": spot["lat"], "accuracy": 8})
    page = context.new_page()
    sign_in(page, field_server, "grid02")

    # a fine fix: a circle of 8 m, "±8 米" beside the dot, and it places an issue
    page.click("#locate")
    page.wait_for_selector("html[data-field-accuracy='8']", state="attached")
    assert page.evaluate("FieldMap.accuracyCircle.getRadius()") == 8
    assert page.inner_text(".accuracy-label") == "±8 米"
    assert "coarse" not in (page.get_attribute(".accuracy-label", "class") or "")
    page.click("#report-btn")
    page.click("#issue-here")
    page.wait_for_selector("#issue-form[data-location]")
    pins = ("document.querySelectorAll('.leaflet-marker-icon"
            ":not(.issue-marker):not(.cluster-marker)')")
    assert page.evaluate(f"{pins}.length") == 1  # the issue's place
    page.click(".sheet-close")
    assert page.evaluate(f"{pins}.length") == 0  # closed without saving: the pin goes too

    # a coarse fix (300 m, indoors): drawn in orange, and refused as an issue's place
    coarse = limit * 6
    context.set_geolocation({"longitude": spot["lon"] + 0.001, "latitude": spot["lat"],
                             "accuracy": coarse})
    page.click("#report-btn")
    page.click("#issue-here")
    page.wait_for_selector(f"html[data-field-accuracy='{round(coarse)}']", state="attached")
    assert page.evaluate("FieldMap.accuracyCircle.getRadius()") == coarse
    assert page.inner_text(".accuracy-label") == f"±{round(coarse)} 米"
    assert "coarse" in (page.get_attribute(".accuracy-label", "class") or "")
    said = page.inner_text("#issue-form .field-error[data-field=form]")
    assert f"±{round(coarse)} 米" in said and f"{limit:g} 米" in said and "不能" in said, said
    assert page.get_attribute("#issue-form", "data-location") is None
    page.screenshot(path=str(tmp_path / "coarse-fix-zh-360.png"))
    page.click("#issue-save")
    assert page.inner_text("#issue-form .field-error[data-field=form]") == "请先选择位置"
    page.click(".sheet-close")
    page.screenshot(path=str(tmp_path / "coarse-circle-zh-360.png"))
    page.click("#report-btn")
    # the threshold is data: exactly at the limit is fine
    context.set_geolocation({"longitude": spot["lon"], "latitude": spot["lat"],
                             "accuracy": limit})
    page.click("#issue-here")
    page.wait_for_selector("#issue-form[data-location]")
    assert "coarse" not in (page.get_attribute(".accuracy-label", "class") or "")
