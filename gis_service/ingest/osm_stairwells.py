"""Stairwells from OpenStreetMap: entrance nodes, else entrances placed along the building.

Rules (also in README, "Importing OpenStreetMap"):
- Stairwells belong to buildings whose `building` tag is residential or unspecific (yes,
  apartments, residential, house, detached, semidetached_house, terrace, dormitory, block);
  churches, offices, shops, schools, roofs … get none.
- An `entrance=yes|main|staircase|home` node that is not a subway/railway entrance, within 3 m
  of such a building's footprint, is a stairwell of the nearest one. Label: the node's `ref`,
  else `addr:unit`, else the unit number within the building.
- A residential building without such an entrance gets one stairwell per 12 m of the long side
  of its minimum rotated rectangle (at least one), evenly spaced along the long side facing the
  nearest walkable way (the southern long side when there is none), each moved onto the
  footprint's outline; numbered 1, 2, … from west to east.
- Floors are the building's. Households are an estimate, floors × 2 (two flats per landing, the
  common walk-up layout), until grid workers survey them; elderly and consent counts are 0 and
  the elevator status is `none`. Each stairwell's notes say where it came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

RESIDENTIAL = {"yes", "apartments", "residential", "house", "detached", "semidetached_house",
               "terrace", "dormitory", "block"}
STAIRWELL_ENTRANCES = {"yes", "main", "staircase", "home"}
NEAR_M = 3.0
SPACING_M = 12.0
HOUSEHOLDS_PER_FLOOR = 2
COLUMNS = ["building", "label", "floors", "households", "notes"]


@dataclass
class Tally:
    """What happened to the features pyrosm returned for one layer."""

    read: int = 0
    kept: int = 0
    repaired: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str, count: int = 1) -> None:
        """Count features dropped for a reason."""
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(count)

    def add(self, reason: str, count: int = 1) -> None:
        """Count rows made that pyrosm did not return as such (split parts, placed entrances)."""
        if count:
            self.added[reason] = self.added.get(reason, 0) + int(count)


def tag_dict(value: Any) -> dict[str, Any]:
    """pyrosm's extra tags (a JSON text) as a dict."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def place_along(footprint: Any, street: Any | None) -> list[Any]:
    """Entrance points (metric CRS) along the long side of a footprint facing a street."""
    rect = shapely.oriented_envelope(footprint)
    boundary = footprint.boundary
    if rect.geom_type != "Polygon":
        return [shapely.shortest_line(boundary, footprint.centroid).coords[0]]
    corners = np.asarray(rect.exterior.coords)[:4]
    edges = [(corners[i], corners[(i + 1) % 4]) for i in range(4)]
    lengths = [float(np.hypot(*(b - a))) for a, b in edges]
    first = 0 if lengths[0] >= lengths[1] else 1
    sides = [edges[first], edges[first + 2]]

    def middle(side: tuple[Any, Any]) -> Any:
        return shapely.Point((side[0] + side[1]) / 2)

    if street is not None:
        start, end = min(sides, key=lambda s: street.distance(middle(s)))
    else:
        start, end = min(sides, key=lambda s: s[0][1] + s[1][1])
    if start[0] > end[0]:
        start, end = end, start
    count = max(1, round(lengths[first] / SPACING_M))
    points = [shapely.Point(start + (end - start) * (k + 0.5) / count) for k in range(count)]
    return [shapely.shortest_line(boundary, p).coords[0] for p in points]


def unique_labels(labels: list[str | None]) -> list[str]:
    """Labels of one building's stairwells: given ones kept (made unique), others numbered."""
    out: list[str] = []
    number = 0
    for label in labels:
        if label is None:
            number += 1
            while str(number) in out or str(number) in labels:
                number += 1
            label = str(number)
        candidate, suffix = label[:50], 2
        while candidate in out:
            candidate, suffix = f"{label[:46]}-{suffix}", suffix + 1
        out.append(candidate)
    return out


def derive_stairwells(
    buildings: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None, streets: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, Tally]:
    """Stairwells of residential buildings: `building` is the row of the building frame."""
    tally = Tally(read=0 if entrances is None else len(entrances))
    empty = gpd.GeoDataFrame({c: [] for c in COLUMNS}, geometry=[], crs=4326)
    if buildings.empty:
        tally.drop("no building in the extract", tally.read)
        return empty, tally
    metric = buildings.estimate_utm_crs()
    footprints = buildings.to_crs(metric).geometry.to_numpy()
    residential = np.flatnonzero(buildings["kind"].isin(RESIDENTIAL).to_numpy())
    found: dict[int, list[tuple[str | None, Any, str]]] = {}
    if entrances is not None and len(entrances):
        nodes = entrances.reset_index(drop=True)
        tags = [tag_dict(v) for v in nodes.get("tags", [None] * len(nodes))]
        ok = np.array([str(kind).strip() in STAIRWELL_ENTRANCES and not tag.get("railway")
                       for kind, tag in zip(nodes["entrance"], tags, strict=True)], dtype=bool)
        tally.drop("not a stairwell entrance (shop, service, garage, subway …)", (~ok).sum())
        nodes_m = nodes.to_crs(metric).geometry.to_numpy()
        tree = shapely.STRtree(footprints[residential])
        pairs = tree.query_nearest(nodes_m[ok], max_distance=NEAR_M, all_matches=False)
        tally.drop("not on or near (3 m) a residential building", ok.sum() - pairs.shape[1])
        kept = np.flatnonzero(ok)
        for node_pos, tree_pos in zip(pairs[0], pairs[1], strict=True):
            row = int(kept[node_pos])
            tag = tags[row]
            label = tag.get("ref") or tag.get("addr:unit")
            note = f"OSM node {nodes['id'].iloc[row]}; households estimated as floors × 2"
            found.setdefault(int(residential[tree_pos]), []).append(
                (str(label) if label else None, nodes.geometry.iloc[row], note)
            )
    street_lines = streets.to_crs(metric).geometry.to_numpy() if len(streets) else None
    street_tree = shapely.STRtree(street_lines) if street_lines is not None else None
    placed: list[tuple[int, list[Any]]] = []
    for index in residential.tolist():
        if index in found:
            continue
        street = None
        if street_tree is not None and street_lines is not None:
            nearest = street_tree.query_nearest(footprints[index], all_matches=False)
            street = street_lines[int(nearest[0])] if len(nearest) else None
        placed.append((index, place_along(footprints[index], street)))
    placed_points = gpd.GeoSeries(
        [shapely.Point(xy) for _, points in placed for xy in points], crs=metric
    ).to_crs(4326)
    records: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for pos, items in sorted(found.items()):
        labels = unique_labels([label for label, _, _ in items])
        for label, (_, point, note) in zip(labels, items, strict=True):
            records.append({"building": pos, "label": label, "notes": note})
            geoms.append(point)
    cursor = 0
    for pos, points in placed:
        for number in range(1, len(points) + 1):
            records.append({"building": pos, "label": str(number), "notes": (
                "placed by rule (no entrance in OSM); households estimated as floors × 2")})
            geoms.append(placed_points.iloc[cursor])
            cursor += 1
    tally.add("placed along buildings without an entrance", cursor)
    if not records:
        return empty, tally
    out = gpd.GeoDataFrame(records, geometry=geoms, crs=4326)
    floors = buildings["floors"].to_numpy()[out["building"].to_numpy()]
    out["floors"] = floors
    out["households"] = floors * HOUSEHOLDS_PER_FLOOR
    tally.kept = len(out)
    return out[[*COLUMNS, "geometry"]], tally
