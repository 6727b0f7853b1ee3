"""`gis-service map export`: one compound as a self-contained HTML file (offline) and a PNG."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy.engine import Engine

from gis_service.maps_catalog import default_maps
from tests.conftest import scalar
from tests.webmap.browser import shot, watch
from tests.webmap.pagecheck import outside_urls, page_config

CLI = str(Path(sys.executable).parent / "gis-service")
SHUIYIN_34 = 5
pytestmark = pytest.mark.slow


def export(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the console script against a database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    env["GIS_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    return subprocess.run(
        [CLI, "map", "export", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_export_is_self_contained_and_works_offline(
    demo_db: Engine, tmp_path: Path, browser: Browser
) -> None:
    html_file, png_file = tmp_path / "shuiyin34.html", tmp_path / "shuiyin34.png"
    done = export(
        demo_db,  # writable: the export is recorded in the audit trail
        "planner",
        "--compound",
        str(SHUIYIN_34),
        "-o",
        str(html_file),
        "--png",
        str(png_file),
        "--lang",
        "en",
    )
    assert done.returncode == 0, done.stderr
    assert scalar(demo_db, "SELECT target FROM audit_log WHERE action = 'export'") == "map:planner"
    html = html_file.read_text(encoding="utf-8")
    assert 'src="/static' not in html and 'href="/static' not in html
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)  # nothing fetched
    config_text = html[html.index('id="gis-page-data"') :]
    basemaps = {u for b in default_maps()["planner"].basemaps for u in (b.url, b.annotation_url)
                if u}  # fmt: skip
    # not even links back to the service (a template in a script is cut at its escaped '&')
    assert all(any(b.startswith(u) for b in basemaps) for u in outside_urls(config_text))
    assert "L.vectorGrid" not in html  # GeoJSON instead of tiles
    config = page_config(html)
    stairwells = [
        f
        for url, answer in config["data"].items()
        if url.startswith("/collections/stairwells/items?")
        for f in answer["features"]
    ]
    assert sum(1 for f in stairwells if f["properties"]["compound_id"] == SHUIYIN_34) == 57
    assert config["choropleth"]["levels"] == [{"id": "compound", "title": "By compound"}]
    assert png_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png_file.read_bytes()) > 20_000

    # the session's shared browser (Playwright's sync API allows one per thread)
    watched = watch(browser)
    page = watched.page
    page.goto(html_file.as_uri())
    page.wait_for_selector("html[data-gis-loaded-stairwells]", timeout=30_000)
    stairwell = next(f for f in stairwells if f["properties"]["compound_id"] == SHUIYIN_34)
    page.evaluate(f"GisMap.stairwellPopup({stairwell['id']}, GisMap.map.getCenter())")
    popup = page.wait_for_selector(".gis-stairwell[data-loaded]")
    assert "Households" in popup.inner_text()
    page.evaluate(f"GisMap.compoundCard({SHUIYIN_34}, 'x')")
    card = page.wait_for_selector(".gis-card table")
    assert "Elevator coverage" in card.inner_text()
    shot(page, "export-offline.png")
    requested = {u for u, _ in watched.requests} | watched.blocked
    assert {u for u in requested if not u.startswith("file:")} <= {
        u for u in requested if "tile.openstreetmap.org" in u
    }
    assert watched.real_errors() == []
    watched.page.context.close()


def test_export_refuses_unknown_things(shared_demo_db: Engine, tmp_path: Path) -> None:
    out = str(tmp_path / "x.html")
    missing = export(shared_demo_db, "planner", "--compound", "999999", "-o", out)
    assert missing.returncode == 1
    assert missing.stderr.startswith("gis-service: error:") and "999999" in missing.stderr
    no_view = export(shared_demo_db, "nowhere", "--compound", "5", "-o", out)
    assert no_view.returncode == 1 and "planner" in no_view.stderr
    nothing = export(shared_demo_db, "planner", "--compound", "5")
    assert nothing.returncode == 1 and "-o" in nothing.stderr
