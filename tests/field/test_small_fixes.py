"""The small things of a day on a phone (360 x 740): 36 px top-bar chips with sign-out beside them,
the fullscreen icon showing one state, "Report issue" on one line in English, the view kept over
an offline reload, and stairwells that would overlap drawn as one count (in Chinese)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from tests.field.conftest import FieldServer
from tests.field.pages import SMALL_PHONE, phone, sign_in, stairwells_of, wait_ready

CHIPS = """() => ['pending', 'net', 'logout'].map(id => {
    const r = document.getElementById(id).getBoundingClientRect();
    return {id, top: r.top, left: r.left, right: r.right, height: r.height};
})"""
ONE_LINE = """b => {
    const range = document.createRange();
    range.selectNodeContents(b);
    const lines = range.getBoundingClientRect().height / parseFloat(getComputedStyle(b).lineHeight);
    return {lines, fits: b.scrollWidth <= b.clientWidth, text: b.textContent};
}"""


def test_top_bar_bottom_bar_and_fullscreen_icon_in_both_languages(
    field_server: FieldServer, contexts: Any, tmp_path: Path
) -> None:
    spot = stairwells_of(field_server.engine, 2)[0]
    for locale in ("en-US", "zh-CN"):
        page = phone(contexts, spot["lon"], spot["lat"], SMALL_PHONE, locale).new_page()
        sign_in(page, field_server, "grid02")
        chips = page.evaluate(CHIPS)
        assert [round(c["height"]) for c in chips] == [36, 36, 36], chips
        assert all(c["right"] <= SMALL_PHONE["width"] for c in chips), chips
        pending, net, logout = chips
        assert pending["right"] < net["left"] < net["right"] < logout["left"]  # sign-out beside
        assert len({round(c["top"]) for c in chips}) == 1
        for button in page.query_selector_all("#bottombar button"):
            shape = button.evaluate(ONE_LINE)
            assert shape["lines"] < 1.5 and shape["fits"], shape
        # the fullscreen sprite: the "enter" half only, nothing of the "leave" half below it
        icon = page.query_selector(".fullscreen-icon")
        assert icon is not None
        box = icon.bounding_box()
        assert box is not None and round(box["height"]) == 44
        shot = icon.screenshot(path=str(tmp_path / f"fullscreen-{locale}.png"))
        picture = Image.open(io.BytesIO(shot)).convert("L")
        scale = picture.height / box["height"]
        below = picture.crop((0, int(36 * scale), picture.width, int(42 * scale)))
        above = picture.crop((0, int(9 * scale), picture.width, int(35 * scale)))
        assert min(below.tobytes()) > 200, "the second half of the sprite shows"
        assert min(above.tobytes()) < 100, "no icon at all"
        page.screenshot(path=str(tmp_path / f"bars-{locale}-360.png"))


def test_view_survives_offline_reload(field_server: FieldServer, contexts: Any) -> None:
    grid = stairwells_of(field_server.engine, 2)
    target = grid[len(grid) // 2]
    context = phone(contexts, target["lon"], target["lat"], SMALL_PHONE, "zh-CN")
    page = context.new_page()
    sign_in(page, field_server, "grid02")
    page.wait_for_selector("html[data-field-offline-ready]", state="attached", timeout=20_000)
    page.evaluate(f"FieldMap.map.setView([{target['lat']}, {target['lon']}], 19, "
                  "{animate: false})")
    context.set_offline(True)
    page.reload()
    wait_ready(page)
    assert page.get_attribute("html", "data-field-view") == "restored"
    zoom, lat, lon = page.evaluate("[FieldMap.map.getZoom(), FieldMap.map.getCenter().lat, "
                                   "FieldMap.map.getCenter().lng]")
    assert zoom == 19
    assert abs(lat - target["lat"]) < 1e-6 and abs(lon - target["lon"]) < 1e-6


def test_crowded_stairwells_show_as_counts_at_the_opening_zoom(
    field_server: FieldServer, contexts: Any, tmp_path: Path
) -> None:
    grid = stairwells_of(field_server.engine, 2)
    page = phone(contexts, grid[0]["lon"], grid[0]["lat"], SMALL_PHONE, "zh-CN").new_page()
    sign_in(page, field_server, "grid02")
    assert page.evaluate("FieldMap.map.getZoom()") < 18
    groups = page.eval_on_selector_all(".cluster-marker", """ms => ms.map(m => {
        const r = m.getBoundingClientRect();
        return {n: +m.dataset.count, text: m.innerText, title: m.title,
                x: r.left + r.width / 2, y: r.top + r.height / 2};
    })""")
    assert groups, "no groups at the opening zoom"
    singles = page.evaluate("""Object.values(FieldMap.markers).filter(m => !m.clustered)
        .map(m => FieldMap.map.latLngToContainerPoint(m.getLatLng()))""")
    top = page.evaluate("FieldMap.map.getContainer().getBoundingClientRect().top")
    assert sum(g["n"] for g in groups) + len(singles) == len(grid)  # every stairwell, once
    for g in groups:
        assert g["text"].replace("\n", "") == f"{g['n']}梯口", g
        assert g["title"] == f"{g['n']} 个梯口,点按放大"
    page.screenshot(path=str(tmp_path / "clusters-zh-360.png"))

    # nothing drawn overlaps: counts are 48 px wide, markers 26 px (radius 11, ring 4)
    drawn: list[tuple[float, float, float]] = [(g["x"], g["y"], 48) for g in groups]
    drawn += [(p["x"], p["y"] + top, 26) for p in singles]
    for i, a in enumerate(drawn):
        for b in drawn[i + 1:]:
            gap = ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5
            assert gap >= (a[2] + b[2]) / 2, (a, b)

    # a tap on a count zooms in to its stairwells; from zoom 18 on each has its own marker
    biggest = max(groups, key=lambda g: g["n"])
    page.touchscreen.tap(biggest["x"], biggest["y"])
    page.wait_for_function("FieldMap.map.getZoom() >= 18")
    assert page.get_attribute("html", "data-field-clusters") == "0"
    assert page.eval_on_selector_all(".cluster-marker", "ms => ms.length") == 0
