"""The URLs the pages fetch answer on the demo district (tiles, features, analysis, scenarios)."""

from __future__ import annotations

import math

import mapbox_vector_tile

from tests.conftest import LiveServer
from tests.webmap.pagecheck import joined_values, page_config

CENTER = (23.1491, 113.2982)


def tile_of(lat: float, lon: float, z: int) -> tuple[int, int]:
    """XYZ tile column and row holding a point."""
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    rad = math.radians(lat)
    y = int((1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * n)
    return x, y


def test_every_layer_url_answers(live: LiveServer, planner_token: str) -> None:
    with live.client() as anonymous:
        config = page_config(anonymous.get("/maps/planner").text)
    with live.client(planner_token) as client:
        for layer_id, layer in config["layers"].items():
            if layer["kind"] == "tiles":
                x, y = tile_of(*CENTER, 16)
                url = layer["url"].format(z=16, x=x, y=y)
                answer = client.get(url)
                assert answer.status_code == 200, (layer_id, answer.text)
                decoded = mapbox_vector_tile.decode(answer.content)
                assert set(decoded) <= set(layer["catalog"])
                if "stairwells" in layer["catalog"]:
                    props = decoded["stairwells"]["features"][0]["properties"]
                    assert {"id", "elevator_status"} <= set(props)
            else:
                url = layer["url"]
                if layer.get("bbox"):
                    url += "&bbox=113.28,23.14,113.31,23.16"
                answer = client.get(url)
                assert answer.status_code == 200, (layer_id, answer.text)
                body = answer.json()
                assert body["type"] == "FeatureCollection", layer_id
                assert body["features"] or layer_id.startswith("unserved_"), layer_id


def test_choropleth_figures_exist_at_every_level(live: LiveServer, planner_token: str) -> None:
    with live.client() as anonymous:
        choropleth = page_config(anonymous.get("/maps/coverage").text)["choropleth"]
    with live.client(planner_token) as client:
        for level in [lv["id"] for lv in choropleth["levels"]]:
            for indicator in choropleth["indicators"]:
                values = joined_values(client, choropleth["url"], level, indicator)
                assert values, (level, indicator["property"])
                if indicator["format"] == "percent":
                    assert all(0 <= v <= 1 for v in values)
                elif indicator["format"] == "ratio":  # supply per household: at least 0
                    assert all(v >= 0 for v in values)


def test_stairwell_popup_sources(live: LiveServer, planner_token: str) -> None:
    with live.client(planner_token) as client:
        item = client.get("/collections/stairwells/items/1")
        assert item.status_code == 200
        assert {"households", "consent_agree", "batch_id", "elevator_status"} <= set(
            item.json()["properties"]
        )
        history = client.get("/collections/stairwells/items/1/history")
        assert history.status_code == 200
        assert "entries" in history.json()
        assert client.get("/compounds/1").json()["stairwells"] > 0
        assert client.get("/scenarios").status_code == 200
