"""`f=html` pages of the OGC API: landing, collections, a collection and items.

Pages are built from escaped text only (html.escape on every value; no template engine sees
user data); the small map is an SVG drawn here from the features' coordinates (no script).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:70rem}"
    "table{border-collapse:collapse;font-size:.9rem}"
    "td,th{border:1px solid #ccc;padding:.2rem .4rem}"
    "svg{border:1px solid #ccc;background:#f8f8f8;max-width:100%}"
)
MAP_SIZE = 480


def text(value: object) -> str:
    """A value as escaped HTML text (None as empty)."""
    return "" if value is None else html.escape(str(value), quote=True)


def page(title: str, body: str, lang: str = "en") -> str:
    """A whole HTML document around an already-escaped body."""
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}">'
        '<head><meta charset="utf-8">'
        f"<title>{text(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{text(title)}</h1>{body}</body></html>"
    )


def link_list(links: Iterable[dict[str, str]]) -> str:
    """The links of a document as a list of anchors."""
    items = "".join(
        f'<li><a href="{text(item["href"])}">{text(item.get("title") or item["rel"])}</a> '
        f'({text(item["rel"])}, {text(item.get("type", ""))})</li>'
        for item in links
    )
    return f"<ul>{items}</ul>"


def document_page(title: str, document: dict[str, Any]) -> str:
    """Landing page, conformance or a collection: description, collections, links."""
    parts = [f"<p>{text(document.get('description', ''))}</p>"]
    for item in document.get("collections", []):
        href = next((lk["href"] for lk in item["links"] if lk["rel"] == "self"), "")
        parts.append(
            f'<h2><a href="{text(href)}?f=html">{text(item["title"])}</a></h2>'
            f"<p>{text(item.get('description', ''))}</p>"
        )
    if "links" in document:
        parts.append("<h2>Links</h2>" + link_list(document["links"]))
    return page(title, "".join(parts))


def _coordinates(geometry: dict[str, Any] | None) -> list[list[tuple[float, float]]]:
    """The coordinate rings/lines/points of a GeoJSON geometry, as lists of (x, y)."""
    if not geometry:
        return []
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "GeometryCollection":
        return [ring for g in geometry.get("geometries", []) for ring in _coordinates(g)]
    depth = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2,
             "Polygon": 2, "MultiPolygon": 3}.get(str(kind), -1)
    if depth == 0:
        return [[(float(coords[0]), float(coords[1]))]]
    found: list[list[tuple[float, float]]] = []

    def walk(node: Any, level: int) -> None:
        if level == 1:
            found.append([(float(p[0]), float(p[1])) for p in node])
        else:
            for child in node:
                walk(child, level - 1)

    if depth > 0:
        walk(coords, depth)
    return found


def svg_map(features: Sequence[dict[str, Any]]) -> str:
    """An SVG sketch of the features (x east, y north), scaled to MAP_SIZE."""
    shapes = [_coordinates(f.get("geometry")) for f in features]
    points = [p for rings in shapes for ring in rings for p in ring]
    if not points:
        return ""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1e-6
    scale = (MAP_SIZE - 20) / span

    def at(p: tuple[float, float]) -> str:
        return f"{10 + (p[0] - min(xs)) * scale:.1f},{10 + (max(ys) - p[1]) * scale:.1f}"

    drawn = []
    for rings in shapes:
        for ring in rings:
            if len(ring) == 1:
                x, y = at(ring[0]).split(",")
                drawn.append(f'<circle cx="{x}" cy="{y}" r="3" fill="#1976d2"/>')
            else:
                path = " ".join(at(p) for p in ring)
                drawn.append(
                    f'<polyline points="{path}" fill="none" stroke="#1976d2" stroke-width="1"/>'
                )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{MAP_SIZE}" height="{MAP_SIZE}" '
        f'role="img" aria-label="map of the features">{"".join(drawn)}</svg>'
    )


def items_page(
    title: str, collection: bytes, labels: dict[str, str],
    values: dict[str, dict[str, str]] | None = None, lang: str = "en",
) -> str:
    """A FeatureCollection as a map and a table (column heads from the catalog labels, coded
    values by their labels)."""
    data = orjson.loads(collection)
    features: list[dict[str, Any]] = data["features"]
    names = list(labels)
    coded = values or {}

    def shown(name: str, value: object) -> object:
        return coded.get(name, {}).get(value, value) if isinstance(value, str) else value

    head = "".join(f"<th>{text(labels[name])}</th>" for name in names)
    rows = "".join(
        f'<tr><td>{text(f.get("id"))}</td>'
        + "".join(f"<td>{text(shown(name, f['properties'].get(name)))}</td>" for name in names)
        + "</tr>"
        for f in features
    )
    summary = (
        f"<p>{text(data.get('numberReturned'))} of {text(data.get('numberMatched'))} features</p>"
    )
    table = f"<table><tr><th>id</th>{head}</tr>{rows}</table>"
    return page(title, summary + svg_map(features) + table + link_list(data["links"]), lang)
