"""Walkable ways from OpenStreetMap: the tags that decide where ways meet and who may walk them.

Each way of pyrosm's walking network becomes a street with its name, highway, layer, bridge,
tunnel, level, access and foot tags and its source key (osm:way/ID; a multi-part way is merged,
or split into its parts keyed osm:way/ID#2, #3 …). The analysis joins ways only where they
share a vertex or lie on one layer, and leaves out ways closed to walkers
(gis_service/analysis/walkable.py).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from gis_service.ingest.osm_tags import Tally, layer_of, source_key, tag, text

STREET_TAGS = {"bridge": 40, "tunnel": 40, "level": 40, "access": 80, "foot": 40}
"""Tags kept on walkable ways (with the column's length), besides name, highway and layer."""


def read_streets(frame: gpd.GeoDataFrame | None) -> tuple[Any, Tally]:
    """Walkable ways as streets: name, highway, layer, bridge, tunnel, level, access, foot and
    the source key (a multi-part way merged, or split into its parts, keyed #2, #3 …)."""
    tally = Tally(read=0 if frame is None else len(frame))
    columns = ["source_key", "name", "highway", "layer", *STREET_TAGS]
    if frame is None or frame.empty:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=4326), tally
    records: list[dict[str, Any]] = []
    lines = []
    for (_, row), geom in zip(frame.iterrows(), frame.geometry.to_numpy(), strict=True):
        merged = shapely.line_merge(geom) if geom is not None and geom.geom_type.startswith(
            "Multi") else geom
        parts = list(getattr(merged, "geoms", [merged])) if merged is not None else []
        parts = [p for p in parts if p.geom_type == "LineString" and p.is_valid and p.length > 0]
        if not parts:
            tally.drop("no valid line")
            continue
        tally.add("parts of a split multi-part way", len(parts) - 1)
        name = text(row.get("name"))
        values = {
            "name": name[:200] if name else None,
            "highway": (text(row.get("highway")) or "footway")[:40],
            "layer": layer_of(row),
            **{key: (tag(row, key) or "")[:length] or None for key, length in STREET_TAGS.items()},
        }
        key = source_key(row)
        for number, part in enumerate(parts, start=1):
            records.append({"source_key": key if number == 1 else f"{key}#{number}", **values})
            lines.append(part)
    out = gpd.GeoDataFrame(records, columns=columns, geometry=lines, crs=4326)
    out["layer"] = pd.array(out["layer"], dtype="Int64")
    tally.kept = len(out)
    return out, tally
