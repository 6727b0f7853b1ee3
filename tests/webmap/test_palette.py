"""The map's symbols: the elevator pipeline's colours stay apart for every common colour-vision
deficiency, no other point symbol reuses them, and every visible layer has a legend entry."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from playwright.sync_api import Browser

from gis_service.catalog import default_catalog
from tests.conftest import LiveServer
from tests.webmap.browser import shot, watch

# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB
SIMULATIONS = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                        [0.0193, 0.1192, 0.9505]])
WHITE = np.array([0.95047, 1.0, 1.08883])
MIN_DELTA_E = 12.0  # CIE76; the former pipeline's yellows were 9.4 apart for deuteranopes


def lab(color: str, simulation: str) -> np.ndarray:
    """CIELAB of a #rrggbb colour as seen with a colour-vision deficiency (or normal vision)."""
    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = SRGB_TO_XYZ @ np.clip(SIMULATIONS[simulation] @ linear, 0, 1) / WHITE
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str, simulation: str) -> float:
    """The CIE76 colour difference of two colours under a simulation."""
    return float(np.linalg.norm(lab(a, simulation) - lab(b, simulation)))


def test_pipeline_colours_are_told_apart_by_everyone() -> None:
    pipeline = default_catalog().layer("stairwells").style.colors
    assert len(set(pipeline.values())) == len(pipeline) == 8
    for simulation in SIMULATIONS:
        for (code_a, a), (code_b, b) in itertools.combinations(pipeline.items(), 2):
            assert delta_e(a, b, simulation) >= MIN_DELTA_E, (simulation, code_a, code_b)


def test_no_other_symbol_reuses_a_pipeline_colour() -> None:
    catalog = default_catalog()
    pipeline = set(catalog.layer("stairwells").style.colors.values())
    for layer_id in ("parking", "facilities"):
        style = catalog.layer(layer_id).style
        for colour in [style.color, *style.colors.values()]:
            assert colour not in pipeline, (layer_id, colour)
            assert min(delta_e(colour, p, "normal") for p in pipeline) >= 20, (layer_id, colour)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_visible_layer_has_a_legend_entry(
    browser: Browser, live: LiveServer, planner_token: str, lang: str
) -> None:
    watched = watch(browser)
    page = watched.page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live.url}/maps/planner?lang={lang}#token={planner_token}")
    page.wait_for_selector("html[data-gis-tiles-stairwells]", timeout=30_000)
    page.evaluate("GisMap.map.setView([23.1465, 113.2935], 17, {animate: false})")
    page.evaluate("['grids', 'parking_reach_crow', 'unserved_gardens']"
                  ".forEach(id => GisMap.map.addLayer(GisMap.layers[id]))")
    page.wait_for_timeout(300)
    shown = page.evaluate(
        """() => Object.keys(GisMap.layers).filter(id => id !== 'choropleth'
                 && GisMap.map.hasLayer(GisMap.layers[id]))"""
    )
    assert {"stairwells", "parking", "facilities", "gardens", "grids", "parking_reach_crow",
            "unserved_gardens"} <= set(shown)
    legend = page.get_attribute(".gis-layer-legend", "data-layers") or ""
    assert set(legend.split()) == set(shown) - {"stairwells"}
    assert page.locator(".gis-status-legend [data-status]").count() == 8
    parking = default_catalog().layer("parking").style.colors
    rows = page.locator(".gis-legend-entry[data-layer='parking'] .gis-legend-row")
    assert rows.count() == len(parking)
    for code, colour in parking.items():
        row = page.locator(f".gis-legend-entry[data-layer='parking'] [data-code='{code}']")
        assert row.locator(".gis-swatch").get_attribute("data-color") == colour
        assert code not in row.inner_text()
    label = {"zh": "立体车库", "en": "Stacked garage"}[lang]
    assert label in page.inner_text(".gis-legend-entry[data-layer='parking']")
    page.evaluate("GisMap.map.removeLayer(GisMap.layers.grids)")
    page.wait_for_function(
        "() => !document.querySelector('.gis-layer-legend').dataset.layers.includes('grids')"
    )
    shot(page, f"legend-{lang}.png")
    assert watched.real_errors() == []
