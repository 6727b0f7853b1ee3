"""The planner's maps on a phone-size screen in real Chromium: legends fold, the map stays seen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import LiveServer
from tests.webmap.browser import Watched, shot, watch

pytestmark = pytest.mark.slow
PHONE = {"width": 360, "height": 740}


def panels(page: Page) -> list[dict[str, object]]:
    """Each shown foldable panel: its class, box and whether its title says it is open."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.gis-foldable'))
            .filter(box => box.offsetParent !== null)
            .map(box => {
                const r = box.getBoundingClientRect(); const h = box.querySelector('h4');
                return {cls: box.className, top: r.top, height: r.height,
                        area: r.width * r.height, expanded: h.getAttribute('aria-expanded'),
                        role: h.getAttribute('role')}; })"""
    )


@contextmanager
def on_a_phone(browser: Browser, url: str) -> Iterator[Watched]:
    """A page opened at this address on a 360 px touch screen (closed afterwards)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, has_touch=True)
    try:
        watched = watch(browser, context)
        watched.page.goto(url)
        yield watched
    finally:
        context.close()


def map_area(page: Page) -> float:
    """The map's area on the screen in CSS pixels."""
    return float(page.evaluate(
        "() => { const r = GisMap.map.getContainer().getBoundingClientRect(); "
        "return r.width * r.height; }"
    ))  # fmt: skip


def test_coverage_legends_fold_to_their_titles_and_open_on_a_tap(
    browser: Browser, live: LiveServer, planner_token: str
) -> None:
    with on_a_phone(browser, f"{live.url}/maps/coverage?lang=zh#token={planner_token}") as watched:
        page = watched.page
        page.wait_for_selector(".gis-legend-body[data-ready]", state="attached", timeout=60_000)
        folded = panels(page)
        assert len(folded) >= 2, folded  # the coverage legend and the pipeline's status legend
        assert all(p["expanded"] == "false" and p["role"] == "button" for p in folded), folded
        assert all(float(p["height"]) <= 40 for p in folded), folded  # one title line each
        assert sum(float(p["area"]) for p in folded) <= 0.08 * map_area(page)
        centre = page.evaluate(
            """() => { const e = document.elementFromPoint(innerWidth / 2, innerHeight * 0.6);
                       if (e.closest('.gis-panel')) { return 'panel'; }
                       return e.closest('.leaflet-container') ? 'map' : 'other'; }"""
        )
        assert centre == "map"
        shot(page, "coverage-phone-folded.png")

        legend = page.locator(".gis-legend:not(.gis-checklist-legend)")
        legend.locator("> h4").tap()
        assert legend.locator(".gis-legend-stats").is_visible()
        assert legend.locator("select").first.is_visible()
        assert "按社区" in legend.inner_text()
        assert legend.locator("> h4").get_attribute("aria-expanded") == "true"
        box = legend.bounding_box()
        assert box is not None and box["height"] <= 0.45 * PHONE["height"] + 1
        seen = page.evaluate(  # the folded titles of the other corner do not cover its figures
            """() => { const r = document.querySelector('.gis-legend-stats')
                           .getBoundingClientRect();
                       const y = r.top + r.height / 2;
                       return [r.left + 2, r.left + r.width / 2, r.right - 2].every(
                           x => document.elementFromPoint(x, y).closest('.gis-legend-body')); }"""
        )
        assert seen
        shot(page, "coverage-phone-open.png")

        legend.locator("> h4").tap()  # folds again
        assert not legend.locator(".gis-legend-stats").is_visible()
        status = page.locator(".gis-status-legend > h4")
        status.focus()
        page.keyboard.press("Enter")  # the keyboard opens it too
        assert page.locator(".gis-status-legend [data-status='in_service']").is_visible()
        legend.locator("> h4").tap()  # opening one folds the other
        assert legend.locator(".gis-legend-stats").is_visible()
        assert not page.locator(".gis-status-legend [data-status='in_service']").is_visible()
        assert watched.real_errors() == [] and watched.dialogs == []


def test_a_wide_screen_shows_legends_open_with_no_fold_control(
    browser: Browser, live: LiveServer, planner_token: str
) -> None:
    watched = watch(browser)
    page = watched.page
    page.goto(f"{live.url}/maps/coverage?lang=en#token={planner_token}")
    page.wait_for_selector(".gis-legend-body[data-ready]", timeout=60_000)
    shown = panels(page)
    assert shown and all(p["expanded"] == "true" and p["role"] is None for p in shown), shown
    page.locator(".gis-legend > h4").first.click()  # a click on the title changes nothing here
    assert page.locator(".gis-legend .gis-legend-stats").is_visible()
    page.set_viewport_size(PHONE)  # the phone turned, or the window narrowed: folded now
    page.wait_for_function(
        "() => document.querySelector('.gis-status-legend > h4')"
        ".getAttribute('aria-expanded') === 'false'"
    )
    assert not page.locator(".gis-status-legend [data-status='in_service']").is_visible()
    assert watched.real_errors() == []


def test_the_planner_map_on_a_phone_keeps_its_legends_folded_until_asked(
    browser: Browser, live: LiveServer, planner_token: str
) -> None:
    with on_a_phone(browser, f"{live.url}/maps/planner?lang=zh#token={planner_token}") as watched:
        page = watched.page
        page.wait_for_selector("html[data-gis-tiles-stairwells]", timeout=30_000)
        page.wait_for_load_state("networkidle")
        folded = panels(page)
        classes = " ".join(str(p["cls"]) for p in folded)
        assert "gis-status-legend" in classes and "gis-layer-legend" in classes, folded
        assert all(p["expanded"] == "false" for p in folded), folded
        assert sum(float(p["area"]) for p in folded) <= 0.08 * map_area(page)
        shot(page, "planner-phone-folded.png")
        page.locator(".gis-layer-legend > h4").tap()
        assert page.locator(".gis-layer-legend .gis-legend-entry").first.is_visible()
        shot(page, "planner-phone-layers.png")
        assert watched.real_errors() == [] and watched.dialogs == []
