"""Markers under the thumb: a legend in the page's language, 44 px targets with a chooser where
stairwells crowd, and issues as their own symbol above the position dot, with photo and date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.field.conftest import FieldServer
from tests.field.pages import SMALL_PHONE, phone, rows, sign_in, stairwells_of
from tests.field.test_issues import sideways_photo

ROOT = Path(__file__).resolve().parents[2]


def screen_point(page: Any, sid: int) -> dict[str, float]:
    """Where a stairwell's marker centre is on the screen."""
    return dict(page.evaluate(f"""(() => {{
        const p = FieldMap.map.latLngToContainerPoint(FieldMap.markers[{sid}].getLatLng());
        const box = FieldMap.map.getContainer().getBoundingClientRect();
        return {{x: box.left + p.x, y: box.top + p.y}}; }})()"""))


def test_legend_says_what_fill_and_ring_mean_in_chinese(
    field_server: FieldServer, contexts: Any, tmp_path: Path
) -> None:
    start = stairwells_of(field_server.engine, 2)[0]
    page = phone(contexts, start["lon"], start["lat"], SMALL_PHONE, "zh-CN").new_page()
    sign_in(page, field_server, "grid02")
    page.tap("#legend-btn")
    headings = page.eval_on_selector_all("#legend h3", "hs => hs.map(h => h.textContent)")
    assert headings == ["填充:走访状态", "外圈:加装电梯进度"]
    layer = yaml.safe_load((ROOT / "layers/stairwells.yaml").read_text(encoding="utf-8"))
    survey = next(f for f in layer["fields"] if f["name"] == "survey_status")
    shown = page.eval_on_selector_all("#legend li[data-code]",
                                      "ls => ls.map(l => [l.dataset.code, l.textContent])")
    expected_survey = [[c, survey["enum_labels"][c]["zh"]] for c in survey["enum"]]
    assert shown[:3] == expected_survey
    elevator = {r["code"]: r["label_zh"] for r in rows(
        field_server.engine, "SELECT code, label_zh FROM elevator_status")}
    assert dict(shown[3:]) == elevator
    assert all(label != code for code, label in shown)  # no raw codes
    box = page.eval_on_selector("#legend-btn", "b => b.getBoundingClientRect().height")
    assert box >= 44
    page.screenshot(path=str(tmp_path / "legend-zh.png"))


def test_taps_reach_22_px_and_crowded_stairwells_ask_which(
    field_server: FieldServer, contexts: Any, tmp_path: Path
) -> None:
    grid = stairwells_of(field_server.engine, 2)
    page = phone(contexts, grid[0]["lon"], grid[0]["lat"], SMALL_PHONE).new_page()
    sign_in(page, field_server, "grid02")
    # the stairwell whose neighbours are farthest at zoom 19, tapped 18 px off its centre
    page.evaluate(f"FieldMap.map.setView([{grid[0]['lat']}, {grid[0]['lon']}], 19, "
                  "{animate: false})")
    alone = page.evaluate("""(() => {
        const map = FieldMap.map, size = map.getSize();
        const pts = Object.keys(FieldMap.markers).map(id =>
            [+id, map.latLngToContainerPoint(FieldMap.markers[id].getLatLng())]);
        const inside = pts.filter(([, p]) => p.x > 40 && p.y > 60 && p.x < size.x - 40 &&
                                  p.y < size.y - 60);
        return inside.map(([id, p]) => [id, Math.min(...pts.filter(([o]) => o !== id)
            .map(([, q]) => p.distanceTo(q)))]).sort((a, b) => b[1] - a[1])[0]; })()""")
    assert alone[1] > 44
    centre = screen_point(page, alone[0])
    page.mouse.move(0, 0)
    page.touchscreen.tap(centre["x"] + 18, centre["y"])
    page.wait_for_selector(f"#survey-form[data-id='{alone[0]}']")
    page.tap(".sheet-close")

    # zoomed out to the last zoom without groups, stairwells of one building share the spot:
    # the tap asks which one (further out they are drawn as one count: test_small_fixes)
    crowded = page.evaluate("""(() => Object.keys(FieldMap.markers).find(id => {
        const at = FieldMap.markers[id].getLatLng();
        FieldMap.map.setView(at, 18, {animate: false});
        return FieldMarkers.near(FieldMap.map.latLngToContainerPoint(at)).length > 1;
    }))()""")
    assert crowded is not None
    first = screen_point(page, int(crowded))
    crowd = page.evaluate(f"FieldMarkers.near(L.point({first['x']}, {first['y']} - "
                          "FieldMap.map.getContainer().getBoundingClientRect().top))"
                          ".map(x => x.f.id)")
    assert len(crowd) > 1
    page.touchscreen.tap(first["x"], first["y"])
    page.wait_for_selector("#sheet[data-view=choose]")
    offered = page.eval_on_selector_all(".choose-row", "rs => rs.map(r => +r.dataset.id)")
    assert sorted(offered) == sorted(crowd)
    heights = page.eval_on_selector_all(".choose-row", "rs => rs.map(r => r.offsetHeight)")
    assert min(heights) >= 44
    assert page.inner_text("#sheet .sheet-title") == "Which stairwell?"
    page.screenshot(path=str(tmp_path / "chooser-360.png"))
    page.tap(f".choose-row[data-id='{offered[1]}']")
    page.wait_for_selector(f"#survey-form[data-id='{offered[1]}']")


def test_an_issue_at_my_position_shows_above_the_dot_with_photo_and_date(
    field_server: FieldServer, contexts: Any, tmp_path: Path
) -> None:
    spot = stairwells_of(field_server.engine, 2)[3]
    lon, lat = spot["lon"] + 0.0001, spot["lat"]  # beside the stairwell, where the worker stands
    with field_server.client("grid02") as api:
        made = api.post("/collections/issues/items", json={
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"category": "ground_locks", "status": "open", "note": "地锁"}})
        assert made.status_code == 201, made.text
        issue = made.json()["id"]
        sent = api.put(f"/issues/{issue}/photo", content=sideways_photo(),
                       headers={"Content-Type": "image/jpeg"})
        assert sent.status_code == 200, sent.text
    page = phone(contexts, lon, lat, SMALL_PHONE, "zh-CN").new_page()
    sign_in(page, field_server, "grid02")
    page.wait_for_selector("html[data-field-loaded-issues]", state="attached")
    page.tap("#locate")
    page.wait_for_selector("html[data-field-located]", state="attached")
    symbol = page.wait_for_selector(f".issue-symbol[data-id='{issue}']")
    box = symbol.bounding_box()
    assert box is not None
    hit = page.evaluate(f"document.elementFromPoint({box['x'] + box['width'] / 2}, "
                        f"{box['y'] + box['height'] - 4}).closest('.issue-marker') !== null")
    assert hit  # the issue is drawn above the blue position dot
    target = page.eval_on_selector(f".issue-symbol[data-id='{issue}']",
                                   "s => s.parentElement.getBoundingClientRect().height")
    assert target >= 44
    symbol.tap()
    popup = page.wait_for_selector(f".issue-popup[data-id='{issue}']")
    text = popup.inner_text()
    reported = rows(field_server.engine, "SELECT to_char(reported_at AT TIME ZONE 'UTC', "
                    "'YYYY') AS y FROM issue WHERE id = :i", i=issue)[0]["y"]
    assert "未办结" in text and "上报时间" in text and reported in text and "地锁" in text
    page.wait_for_function(f"document.querySelector(\".issue-popup[data-id='{issue}'] img\")"
                           "?.naturalHeight > 0")
    size = page.eval_on_selector(".issue-popup img", "i => [i.naturalWidth, i.naturalHeight]")
    assert size == [200, 600]  # upright, as the worker took it
    page.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity "
                           "=== '1'")
    page.screenshot(path=str(tmp_path / "issue-popup-zh.png"))
