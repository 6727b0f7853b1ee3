"""Map pages rendered by the app: layers, our tile URLs, no CDN, no data inlined, languages."""

from __future__ import annotations

import re

import pytest

from gis_service.catalog import default_catalog
from gis_service.maps_catalog import default_maps
from tests.conftest import LiveServer
from tests.webmap.pagecheck import outside_urls, page_config

MAX_PAGE_BYTES = 300_000


@pytest.mark.parametrize("view_id", ["planner", "coverage"])
def test_page_lists_its_layers_and_our_tile_urls(live: LiveServer, view_id: str) -> None:
    view = default_maps()[view_id]
    with live.client() as client:
        page = client.get(f"/maps/{view_id}?lang=en")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    config = page_config(html)
    assert set(config["layers"]) == {layer.id for layer in view.layers}
    for layer in view.layers:
        entry = config["layers"][layer.id]
        if layer.source.kind == "tiles":
            url = "/tiles/" + ",".join(layer.source.layers) + "/{z}/{x}/{y}.pbf"
            assert entry["url"] == url
            assert f'L.vectorGrid.protobuf(\n                "{url}"' in html
        else:
            assert entry["url"] == layer.source.url
            assert entry["url"].startswith(("/collections/", "/analysis/"))
        assert entry["title"] in html  # in the layer control
    assert len(page.content) < MAX_PAGE_BYTES
    assert "FeatureCollection" not in html and "coordinates" not in html  # nothing inlined


def test_planner_layers_and_controls(live: LiveServer) -> None:
    with live.client() as client:
        config = page_config(client.get("/maps/planner?lang=en").text)
    layers = config["layers"]
    assert layers["stairwells"]["url"] == "/tiles/stairwells/{z}/{x}/{y}.pbf"
    assert layers["context"]["url"] == "/tiles/buildings,streets/{z}/{x}/{y}.pbf"
    for kind in ("gardens", "parking", "facilities"):
        for mode in ("network", "crow"):
            key = {"gardens": "garden", "parking": "parking", "facilities": "facility"}[kind]
            url = layers[f"{key}_reach_{mode}"]["url"]
            assert url == f"/analysis/service-areas?layer={kind}&mode={mode}&f=geojson"
        assert layers[f"unserved_{kind}"]["url"] == f"/analysis/gaps?layer={kind}&f=geojson"
    for grid_layer in ("communities", "grids", "compounds"):
        assert layers[grid_layer]["url"].startswith(f"/collections/{grid_layer}/items")
    indicators = [i["title"] for i in config["choropleth"]["indicators"]]
    assert indicators == [
        "Elevator coverage (stairwells)",
        "Garden coverage (households within reach)",
        "Parking adequacy (households within reach)",
        "Car spaces within reach per household",
        "Car space shortage (spaces)",
    ]
    assert [lv["id"] for lv in config["choropleth"]["levels"]] == ["community", "grid", "compound"]
    assert {
        "sign_in",
        "layers",
        "search",
        "fullscreen",
        "measure",
        "scale",
        "legend",
        "scenarios",
    } <= set(config["controls"])
    statuses = {s["code"]: s for s in config["statuses"]}
    colours = default_catalog().layer("stairwells").style.colors
    assert statuses["in_service"]["color"] == colours["in_service"]
    assert statuses["in_service"]["label"] == "In service"


def test_no_cdn_only_basemap_templates(live: LiveServer) -> None:
    for view_id in ("planner", "coverage"):
        view = default_maps()[view_id]
        with live.client() as client:
            html = client.get(f"/maps/{view.id}").text
            allowed = {u for b in view.basemaps for u in (b.url, b.annotation_url) if u}
            # a template inside a script's JSON is cut at its first escaped '&' (\u0026)
            others = {u for u in outside_urls(html) if not any(a.startswith(u) for a in allowed)}
            assert others == set()
            assets = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
            assert any(a.split("?")[0].endswith("leaflet.js") for a in assets)
            assert any("leaflet.vectorgrid" in a for a in assets)
            for asset in assets:
                answer = client.get(asset)
                assert answer.status_code == 200, asset
                assert len(answer.content) > 100, asset


def test_language_from_parameter_or_accept_language(live: LiveServer) -> None:
    with live.client() as client:
        zh = client.get("/maps/planner?lang=zh")
        assert page_config(zh.text)["lang"] == "zh"
        assert "<title>老旧小区改造规划图</title>" in zh.text
        assert zh.headers["content-language"] == "zh-CN"
        en = client.get("/maps/planner", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
        assert page_config(en.text)["lang"] == "en"
        assert "Old-neighbourhood renewal planner" in en.text
        zh2 = client.get("/maps/coverage", headers={"Accept-Language": "zh-CN,en;q=0.5"})
        assert page_config(zh2.text)["strings"]["legend"] == "图例"
        assert page_config(client.get("/maps/coverage").text)["lang"] == "zh"


def test_unknown_map_and_static_escapes(live: LiveServer) -> None:
    with live.client() as client:
        missing = client.get("/maps/nowhere")
        assert missing.status_code == 404
        assert "planner" in missing.json()["detail"]
        for url in (
            "/static/vendor/leaflet/../package.json",
            "/static/vendor/leaflet/%2e%2e/%2e%2e/leaflet-measure/package.json",
            "/static/vendor/acorn/package.json",
            "/static/web/../../maps_catalog.py",
            "/static/elsewhere/x.js",
        ):
            assert client.get(url).status_code == 404, url
        maps = client.get("/maps").json()
        assert {m["id"] for m in maps} >= {"planner", "coverage"}


def test_page_headers_forbid_other_origins(live: LiveServer) -> None:
    with live.client() as client:
        page = client.get("/maps/planner")
    policy = page.headers["content-security-policy"]
    assert "connect-src 'self'" in policy
    assert "https://tile.openstreetmap.org" in policy
    assert "script-src 'self'" in policy
