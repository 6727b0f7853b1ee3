"""Search by compound, community, grid, building (with its compound) and pinyin; the address
follows the view and the share button copies it; opening it restores the view (Chromium)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from pypinyin import Style, lazy_pinyin

from tests.conftest import LiveServer
from tests.webmap.browser import shot, watch

COMPOUND_34 = 5


def first(live: LiveServer, token: str, layer: str, **params: object) -> dict[str, object]:
    """The first feature of a layer (its id and properties)."""
    with live.client(token) as client:
        found = client.get(f"/collections/{layer}/items", params={"limit": 1, **params}).json()
    return {"id": found["features"][0]["id"], **found["features"][0]["properties"]}


def hits(live: LiveServer, token: str | None, q: str, **params: object) -> list[dict[str, object]]:
    """What /search answers."""
    with live.client(token) as client:
        answer = client.get("/search", params={"q": q, **params})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, object]] = answer.json()["hits"]
    return found


def test_search_by_name_code_pinyin_and_compound(live: LiveServer, planner_token: str) -> None:
    compound = first(live, planner_token, "compounds", name="水荫路34号大院")
    assert compound["id"] == COMPOUND_34
    name = str(compound["name"])
    full = "".join(lazy_pinyin(name))
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER))
    for q in (name, full, initials, full.upper(), str(compound["name_en"]).lower()):
        top = hits(live, planner_token, q)[0]
        assert (top["layer"], top["id"]) == ("compounds", COMPOUND_34), q
    community = first(live, planner_token, "communities")
    top = hits(live, planner_token, "".join(lazy_pinyin(str(community["name"]))))[0]
    assert (top["layer"], top["id"]) == ("communities", community["id"])
    grid = first(live, planner_token, "grids")
    by_code = hits(live, planner_token, str(grid["code"]))
    assert ("grids", grid["id"]) in {(h["layer"], h["id"]) for h in by_code}
    # a building by its own name and its compound's pinyin: only that compound's buildings
    building = first(live, planner_token, "buildings", compound_id=COMPOUND_34)
    found = hits(live, planner_token, f"{building['name']} {initials}", layers="buildings")
    assert found and all(h["layer"] == "buildings" for h in found)
    assert {h["compound"]["id"] for h in found} == {COMPOUND_34}  # type: ignore[index]
    assert building["id"] in {h["id"] for h in found}
    assert all(h["compound"]["name"] == name for h in found)  # type: ignore[index]
    # anonymous callers find public layers only; bad questions are refused, not failed
    assert {h["layer"] for h in hits(live, None, "1")} <= {"compounds", "communities"}
    with live.client(planner_token) as client:
        assert client.get("/search", params={"q": "x", "layers": "stairwells"}).status_code == 422
        assert client.get("/search", params={"q": "x" * 61}).status_code == 422


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_found_view_is_shared_and_restored(
    browser: Browser, live: LiveServer, planner_token: str, lang: str
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    watched = watch(browser, context)
    page = watched.page
    page.goto(f"{live.url}/maps/planner?lang={lang}#token={planner_token}")
    page.wait_for_selector("html[data-gis-view-restored]")
    page.fill(".gis-search input", "shuiyinlu34")
    page.click(f".gis-search-results li[data-layer='compounds'][data-id='{COMPOUND_34}'] button")
    page.wait_for_selector(f".gis-card[data-compound='{COMPOUND_34}'] .gis-bar[data-status]")
    page.evaluate("GisMap.map.addLayer(GisMap.layers.grids)")
    page.evaluate("GisMap.map.removeLayer(GisMap.layers.facilities)")
    page.wait_for_timeout(300)
    view = page.evaluate("""() => ({zoom: GisMap.map.getZoom(), lat: GisMap.map.getCenter().lat,
                                     lon: GisMap.map.getCenter().lng})""")
    assert f"sel=compounds%3A{COMPOUND_34}" in page.url and "token=" not in page.url
    page.click(".gis-share")
    page.wait_for_selector(".gis-share-status:not(:empty)")
    assert page.inner_text(".gis-share-status") == {"zh": "链接已复制", "en": "Link copied"}[lang]
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.url and "layers=" in copied and "grids" in copied
    shot(page, f"share-{lang}.png")
    # the copied address opens the same view: place, zoom, overlays and the compound's card
    other = context.new_page()  # a new tab holds no token: sign in by the address
    other.goto(f"{copied}&token={planner_token}")
    other.wait_for_selector("html[data-gis-view-restored]")
    other.wait_for_selector(f".gis-card[data-compound='{COMPOUND_34}']")
    again = other.evaluate(
        """() => ({zoom: GisMap.map.getZoom(), lat: GisMap.map.getCenter().lat,
                   lon: GisMap.map.getCenter().lng, grids: GisMap.map.hasLayer(GisMap.layers.grids),
                   facilities: GisMap.map.hasLayer(GisMap.layers.facilities)})"""
    )
    assert again["zoom"] == view["zoom"] and again["grids"] and not again["facilities"]
    assert again["lat"] == pytest.approx(view["lat"], abs=1e-5)
    assert again["lon"] == pytest.approx(view["lon"], abs=1e-5)
    context.close()
