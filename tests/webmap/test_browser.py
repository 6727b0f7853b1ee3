"""The planner's map in real headless Chromium on the demo district, offline but for the app."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from gis_service.catalog import default_catalog
from tests.conftest import LiveServer
from tests.webmap.browser import count_colours, shot, watch
from tests.webmap.pagecheck import expected_legend, joined_values, page_config

STATUS_COLOURS = default_catalog().layer("stairwells").style.colors
pytestmark = pytest.mark.slow


def open_planner(page: Page, live: LiveServer, token: str, zoom: int = 17) -> None:
    """The planner page signed in through the #token= fragment, at a zoom with single stairwells."""
    page.goto(f"{live.url}/maps/planner?lang=en#token={token}")
    page.wait_for_selector("html[data-gis-tiles-stairwells]", timeout=30_000)
    page.evaluate(f"GisMap.map.setView([23.1465, 113.2935], {zoom}, {{animate: false}})")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)


def legend_shown(page: Page) -> dict[str, object]:
    """The figures the legend shows (areas per class, min, median, max)."""
    page.wait_for_selector(".gis-legend-body[data-ready]", timeout=60_000)
    return page.evaluate(
        """() => {
            const body = document.querySelector('.gis-legend-body');
            const stats = body.querySelector('.gis-legend-stats').dataset;
            const counts = Array.from(body.querySelectorAll('.gis-legend-class'))
                .filter(row => row.dataset.class !== '-1').map(row => Number(row.dataset.count));
            return {counts, min: Number(stats.min), median: Number(stats.median),
                    max: Number(stats.max), n: Number(stats.n),
                    level: body.dataset.level, indicator: body.dataset.indicator};
        }"""
    )


def test_planner_draws_tiles_popups_and_legend(
    browser: Browser, live: LiveServer, planner_token: str
) -> None:
    watched = watch(browser)
    page = watched.page
    open_planner(page, live, planner_token)
    tiles = [(u, s) for u, s in watched.requests if "/tiles/stairwells/" in u]
    assert tiles and all(status in (200, 204) for _, status in tiles)
    assert not any("/tiles/" in u and s >= 400 for u, s in watched.requests)
    png = shot(page, "planner-stairwells.png")
    counts = count_colours(page, png, list(STATUS_COLOURS.values()))
    drawn = [code for code, colour in STATUS_COLOURS.items() if counts[colour] >= 20]
    assert len(drawn) >= 4, counts
    assert "in_service" in drawn and "none" in drawn

    # click a stairwell: its item and history come from the features API with the token
    point = page.evaluate(
        """() => { const p = GisMap.layers.stairwells.getContainer()
                     .querySelector('path.leaflet-interactive');
                   const r = p.getBoundingClientRect();
                   return [r.x + r.width / 2, r.y + r.height / 2]; }"""
    )
    page.mouse.click(*point)
    popup = page.wait_for_selector(".gis-stairwell[data-loaded]", timeout=15_000)
    text = popup.inner_text()
    for label in (
        "Households",
        "Agreeing households",
        "Retrofit batch",
        "Elevator status",
        "Status history",
    ):
        assert label in text
    shot(page, "planner-popup.png")

    # the coverage choropleth: switched on in the layer control, legend equal to the analysis
    page.hover(".leaflet-control-layers")
    page.click('.leaflet-control-layers-overlays label:has-text("Coverage") input')
    config = page_config(page.content())["choropleth"]
    with live.client(planner_token) as client:
        for level in ("community", "grid", "compound"):
            page.select_option('.gis-legend select[aria-label="Areas"]', level)
            for indicator in config["indicators"]:
                chosen = indicator["property"]
                page.select_option('.gis-legend select[aria-label="Indicator"]', chosen)
                shown = legend_shown(page)
                assert shown["level"] == level and shown["indicator"] == indicator["property"]
                want = expected_legend(
                    joined_values(client, config["url"], level, indicator), indicator
                )
                assert shown["counts"] == want["counts"], (level, indicator["property"])
                assert shown["n"] == want["n"]
                for key in ("min", "median", "max"):
                    assert shown[key] == pytest.approx(want[key], abs=1e-9), (level, key)
    shot(page, "planner-choropleth.png")
    assert page.locator(".gis-legend").is_visible()
    # outside basemap tiles were refused, so the page fell back to the blank basemap
    assert watched.blocked and all("tile.openstreetmap.org" in u for u in watched.blocked)
    assert "blank" in page.inner_text(".leaflet-control-attribution")
    assert watched.real_errors() == []
    assert watched.dialogs == []


def test_coverage_page_opens_with_its_legend(
    browser: Browser, live: LiveServer, planner_token: str
) -> None:
    watched = watch(browser)
    page = watched.page
    page.goto(f"{live.url}/maps/coverage?lang=zh#token={planner_token}")
    shown = legend_shown(page)
    assert shown["level"] == "community" and shown["n"] == 4
    assert "按社区" in page.inner_text(".gis-legend")
    shot(page, "coverage.png")
    assert watched.real_errors() == []
    assert watched.blocked == set()  # its default basemap is the blank one
