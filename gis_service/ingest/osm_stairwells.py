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
- No two stairwells share a position: a placed one closer than 1 m to another stairwell moves
  along its building's outline, in 1 m steps, to the nearest free place.
- Placed stairwells face the nearest walkable way at ground level (no tunnel, no bridge).
- Floors are the building's. Households are an estimate, floors × 2 (two flats per landing, the
  common walk-up layout), until grid workers survey them; elderly and consent counts are 0 and
  the elevator status is `none`. Each stairwell's notes say where it came from.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from gis_service.analysis.walkable import at_ground
from gis_service.ingest.osm_tags import Tally, tag_dict

RESIDENTIAL = {"yes", "apartments", "residential", "house", "detached", "semidetached_house",
               "terrace", "dormitory", "block"}
STAIRWELL_ENTRANCES = {"yes", "main", "staircase", "home"}
NEAR_M = 3.0
SPACING_M = 12.0
HOUSEHOLDS_PER_FLOOR = 2
COLUMNS = ["building", "label", "floors", "households", "notes", "source_key"]
APART_M = 1.0
"""Two stairwells closer than this are one position: a placed one is moved along the outline."""


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
    found: dict[int, list[tuple[str | None, Any, str, str]]] = {}
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
            node_id = int(nodes["id"].iloc[row])
            note = f"OSM node {node_id}; households estimated as floors × 2"
            found.setdefault(int(residential[tree_pos]), []).append(
                (str(label) if label else None, nodes_m[row], note, f"osm:node/{node_id}")
            )
    ground = streets[at_ground(streets)] if len(streets) else streets
    street_lines = ground.to_crs(metric).geometry.to_numpy() if len(ground) else None
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
    keys = buildings["source_key"].tolist() if "source_key" in buildings else None
    records: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for pos, items in sorted(found.items()):
        labels = unique_labels([label for label, _, _, _ in items])
        for label, (_, point, note, key) in zip(labels, items, strict=True):
            records.append({"building": pos, "label": label, "notes": note, "source_key": key,
                            "movable": False})
            geoms.append(point)
    count = 0
    for pos, points in placed:
        for number, xy in enumerate(points, start=1):
            placed_key = f"{keys[pos]}/stairwell/{number}" if keys else None
            records.append({"building": pos, "label": str(number), "source_key": placed_key,
                            "movable": True, "notes": (
                "placed by rule (no entrance in OSM); households estimated as floors × 2")})
            geoms.append(shapely.Point(xy))
            count += 1
    tally.add("placed along buildings without an entrance", count)
    if not records:
        return empty, tally
    moved = spread_apart(geoms, [r["movable"] for r in records],
                         [footprints[r["building"]] for r in records])  # fmt: skip
    tally.repaired += moved  # placed on another stairwell's position: moved along the outline
    out = gpd.GeoDataFrame(records, geometry=geoms, crs=metric).to_crs(4326)
    floors = buildings["floors"].to_numpy()[out["building"].to_numpy()]
    out["floors"] = floors
    out["households"] = floors * HOUSEHOLDS_PER_FLOOR
    tally.kept = len(out)
    return out[[*COLUMNS, "geometry"]], tally


def spread_apart(geoms: list[Any], movable: list[bool], footprints: list[Any]) -> int:
    """Move placed stairwells along their building's outline until no two stairwells lie
    within APART_M of each other (entrance nodes stay); how many moved. Changes geoms."""
    taken: dict[tuple[int, int], list[Any]] = {}

    def cell(p: Any) -> tuple[int, int]:
        return int(p.x // APART_M), int(p.y // APART_M)

    def clashes(p: Any) -> bool:
        cx, cy = cell(p)
        return any(p.distance(q) < APART_M for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                   for q in taken.get((cx + dx, cy + dy), ()))  # fmt: skip

    order = sorted(range(len(geoms)), key=lambda i: movable[i])  # entrance nodes first
    moved = 0
    for i in order:
        point = geoms[i]
        if movable[i] and clashes(point):
            ring = footprints[i].boundary
            at = ring.project(point)
            steps = (k * APART_M * sign for k in range(1, 50) for sign in (1, -1))
            for step in steps:
                candidate = ring.interpolate((at + step) % ring.length)
                if not clashes(candidate):
                    geoms[i], point = candidate, candidate
                    moved += 1
                    break
        taken.setdefault(cell(point), []).append(point)
    return moved
