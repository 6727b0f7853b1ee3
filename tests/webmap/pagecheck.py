"""Helpers reading a rendered map page: its configuration, URLs and the expected legend."""

from __future__ import annotations

import json
import re
import statistics
from typing import Any

import httpx

INIT = re.compile(r"GisMap\.init\(\w+, (\{.*?\})\);\n", re.S)
URL = re.compile(r"https?://[^\s\"'<>)\\]+")


def page_config(html: str) -> dict[str, Any]:
    """The JSON configuration the page hands to GisMap.init."""
    found = INIT.search(html)
    assert found, "the page does not call GisMap.init"
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def outside_urls(html: str) -> set[str]:
    """Every http(s) URL written in the page."""
    return set(URL.findall(html))


def joined_values(
    client: httpx.Client, url: str, level: str, indicator: dict[str, Any]
) -> list[float]:
    """An indicator's value per area, the way the page computes it from the analysis API."""
    areas = client.get(url.replace("{level}", level))
    assert areas.status_code == 200, areas.text
    features = areas.json()["features"]
    if indicator.get("join"):
        join = indicator["join"]
        rows = client.get(join["url"].replace("{level}", level)).json()["rows"]
        by_id = {str(r[f"{level}_id"]): r[join["property"]] for r in rows}
        values = [by_id.get(str(f["id"])) for f in features]
        if join["complement"]:
            values = [None if v is None else 1 - v for v in values]
    else:
        values = [f["properties"].get(indicator["property"]) for f in features]
    return [float(v) for v in values if isinstance(v, (int, float))]


def expected_legend(values: list[float], indicator: dict[str, Any]) -> dict[str, Any]:
    """Areas per class and min / median / max, as the legend must show them."""
    counts = [0] * len(indicator["colors"])
    for v in values:
        k = 0
        while k < len(indicator["breaks"]) and v >= indicator["breaks"][k]:
            k += 1
        counts[k] += 1
    return {
        "counts": counts,
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
        "n": len(values),
    }
