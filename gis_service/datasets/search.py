"""Find a place by name: compounds, communities, grids and buildings (with their compound), by
their Chinese or English name, code, full pinyin or pinyin initials."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from pypinyin import Style, lazy_pinyin

from gis_service.catalog import Catalog
from gis_service.rows.columns import quoted

PLACE_LAYERS = ("compounds", "communities", "grids", "buildings")
"""Searched in this order (a compound before the buildings of the same name)."""


@lru_cache(maxsize=50_000)
def spellings(text: str) -> tuple[str, ...]:
    """A name as it may be typed: itself, its full pinyin, its initials (lower case, no spaces)."""
    plain = "".join(text.lower().split())
    full = "".join(lazy_pinyin(plain))
    initials = "".join(lazy_pinyin(plain, style=Style.FIRST_LETTER))
    return tuple(dict.fromkeys((plain, full, initials)))


@dataclass
class Place:
    """One searchable feature: its names, its compound's names (buildings) and its bounds."""

    layer: str
    id: int
    names: dict[str, str | None]
    bbox: list[float]
    compound_id: int | None = None
    compound: dict[str, Any] | None = field(default=None)

    def matches(self, term: str, own: bool) -> bool:
        """Whether a typed term is part of one of its names (own) or of its compound's names."""
        texts = self.names.values() if own else (self.compound or {}).values()
        return any(term in s for t in texts if isinstance(t, str) and t for s in spellings(t))


def places(conn: sa.Connection, catalog: Catalog, layers: list[str]) -> list[Place]:
    """Every feature of the layers with its search fields (the catalog's) and bounds."""
    found: list[Place] = []
    for layer_id in layers:
        layer = catalog.layer(layer_id)
        names = list(layer.search)
        has_compound = any(f.name == "compound_id" for f in layer.fields)
        extra = ", compound_id" if has_compound else ", NULL AS compound_id"
        columns = ", ".join(quoted(n) for n in names)
        rows = conn.execute(sa.text(
            f"SELECT id, {columns}{extra}, ST_XMin(geom) AS w, ST_YMin(geom) AS s, "
            f"ST_XMax(geom) AS e, ST_YMax(geom) AS n FROM {quoted(layer.table)} ORDER BY id"
        )).mappings()
        found.extend(
            Place(layer_id, r["id"], {n: r[n] for n in names}, [r["w"], r["s"], r["e"], r["n"]],
                  r["compound_id"])
            for r in rows if r["w"] is not None
        )
    return found


def search_places(
    conn: sa.Connection, catalog: Catalog, query: str, layers: list[str], limit: int
) -> list[dict[str, Any]]:
    """Places whose names hold every term of the query; a building also by its compound's name
    (a term of its own is needed). Own matches first, in PLACE_LAYERS order."""
    terms = query.lower().split()
    if not terms:
        return []
    every = places(conn, catalog, layers)
    named = every if "compounds" in layers else places(conn, catalog, ["compounds"])
    compounds = {p.id: p.names for p in named if p.layer == "compounds"}
    ranked: list[tuple[int, int, Place]] = []
    for place in every:
        if place.compound_id is not None and place.layer != "compounds":
            place.compound = compounds.get(place.compound_id)
        own = [place.matches(t, True) for t in terms]
        if all(own):
            ranked.append((0, layers.index(place.layer), place))
        elif any(own) and all(
            o or place.matches(t, False) for o, t in zip(own, terms, strict=True)
        ):
            ranked.append((1, layers.index(place.layer), place))
    ranked.sort(key=lambda r: (r[0], r[1], r[2].id))
    return [
        {"layer": p.layer, "id": p.id, **p.names, "bbox": p.bbox,
         "compound": None if p.compound is None else {"id": p.compound_id, **p.compound}}
        for _, _, p in ranked[:limit]
    ]
