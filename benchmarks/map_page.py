"""Benchmark: the planner page for the 1M-stairwell city — HTML size and time to first tile drawn.

Builds a throwaway PostGIS, loads the demo city of at least N stairwells, serves the real app on
loopback and opens /maps/planner in headless Debian Chromium (offline but for localhost). Figures:
the page's size, and the time from navigation to the first stairwell vector tile drawn, at the
street view (z17, single stairwells) and the city view (z12, aggregated cells), cold (first
visit, server tile cache empty) and warm (median of the next runs). The peer, in the same run, is
the usual Folium map with the stairwells inlined as GeoJSON, for a sample: its size per stairwell
(extrapolated to the city) and its time to first draw. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import folium
import httpx
import sqlalchemy as sa
import uvicorn
from playwright.sync_api import Browser, sync_playwright

from gis_service.api.app import create_app
from gis_service.db import migrate
from gis_service.db.cluster import ensure_postgis, free_port, throwaway_cluster
from gis_service.db.engine import create_db_engine
from gis_service.ingest.demo_load import load_demo
from gis_service.webmap.elements import LocalMap
from gis_service.webmap.export import inline_assets

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
STREET = "17/23.1465/113.2935"
CITY = "12/23.1491/113.2982"


def serve(app: Any) -> tuple[str, uvicorn.Server, threading.Thread]:
    """The app on a free loopback port, in a thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def first_tile_ms(browser: Browser, url: str) -> float:
    """Milliseconds from navigation to the first stairwell tile drawn, in a fresh context."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1")
               else r.abort())
    page.goto(url)
    page.wait_for_selector("html[data-gis-first-tile-stairwells]", timeout=120_000)
    value = float(page.evaluate(
        "Number(document.documentElement.getAttribute('data-gis-first-tile-stairwells'))"))
    context.close()
    return value


def peer_page(engine: sa.Engine, sample: int, folder: Path) -> tuple[Path, int, int]:
    """A Folium map with `sample` stairwells inlined as GeoJSON (assets inlined, offline);
    also the bytes the stairwells add to the page (the page less an empty map's)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT id, label, elevator_status, households, ST_X(geom) AS x, ST_Y(geom) AS y "
            "FROM stairwell ORDER BY id LIMIT :n"), {"n": sample}).all()
    features = [{"type": "Feature", "id": r.id,
                 "geometry": {"type": "Point", "coordinates": [r.x, r.y]},
                 "properties": {"label": r.label, "elevator_status": r.elevator_status,
                                "households": r.households}} for r in rows]
    fmap = LocalMap(location=[23.1491, 113.2982], zoom_start=15, tiles=None)
    folium.GeoJson({"type": "FeatureCollection", "features": features},
                   marker=folium.CircleMarker(radius=4, fill=True)).add_to(fmap)
    empty = LocalMap(location=[23.1491, 113.2982], zoom_start=15, tiles=None)
    data_bytes = len(fmap.get_root().render().encode()) - len(empty.get_root().render().encode())
    html = inline_assets(fmap.get_root().render())
    html += ("<script>window.addEventListener('load', () => requestAnimationFrame(() => "
             "document.documentElement.setAttribute('data-drawn', performance.now())));</script>")
    path = folder / "peer.html"
    path.write_text(html, encoding="utf-8")
    return path, len(rows), data_bytes


def peer_draw_ms(browser: Browser, path: Path) -> float:
    """Milliseconds from navigation to the inlined stairwells drawn."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(path.as_uri(), timeout=300_000)
    page.wait_for_selector("html[data-drawn]", timeout=300_000)
    value = float(page.evaluate("Number(document.documentElement.getAttribute('data-drawn'))"))
    page.close()
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stairwells", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="stairwells the peer inlines")
    parser.add_argument("--runs", type=int, default=5, help="warm runs per view")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        ensure_postgis(cluster.conninfo())
        engine = create_db_engine(cluster.url())
        migrate.upgrade(engine)
        report = load_demo(engine, target_stairwells=args.stairwells)
        with engine.connect() as conn:
            stairwells = int(conn.execute(sa.text("SELECT count(*) FROM stairwell")).scalar_one())
        base, server, thread = serve(create_app(engine))
        token = report.tokens["planner"]
        page_bytes = {view: len(httpx.get(f"{base}/maps/{view}?lang=zh").content)
                      for view in ("planner", "coverage")}
        timings: dict[str, dict[str, Any]] = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for name, where in (("street_z17", STREET), ("city_z12", CITY)):
                url = f"{base}/maps/planner?lang=zh#token={token}&map={where}"
                cold = first_tile_ms(browser, url)
                warm = [first_tile_ms(browser, url) for _ in range(args.runs)]
                timings[name] = {"cold_ms": round(cold, 1),
                                 "warm_median_ms": round(statistics.median(warm), 1)}
            peer_path, sampled, data_bytes = peer_page(engine, args.sample, Path(tmp))
            peer_bytes = peer_path.stat().st_size
            peer_ms = peer_draw_ms(browser, peer_path)
            browser.close()
        server.should_exit = True
        thread.join(timeout=10)
    per_stairwell = data_bytes / max(sampled, 1)
    print(json.dumps({
        "benchmark": "map_page",
        "stairwells": stairwells,
        "page_bytes": page_bytes,
        "first_stairwell_tile_drawn": timings,
        "peer_folium_inlined_geojson": {
            "stairwells": sampled,
            "page_bytes_with_assets": peer_bytes,
            "bytes_per_stairwell": round(per_stairwell, 1),
            "extrapolated_city_bytes": round(per_stairwell * stairwells),
            "first_draw_ms": round(peer_ms, 1),
        },
        "size_ratio_peer_city_vs_ours": round(per_stairwell * stairwells / page_bytes["planner"]),
        "first_tile_vs_peer_first_draw": round(
            timings["street_z17"]["warm_median_ms"] / max(peer_ms, 1e-9), 2),
    }))


if __name__ == "__main__":
    main()
