"""Read an OpenStreetMap extract (.osm.pbf, with pyrosm) into the service's layers.

Rules (also in README, "Importing OpenStreetMap"):
- Buildings: every feature of pyrosm's `get_buildings()`. Floors from `building:levels` (the
  largest number given, rounded, 1–200); else `height` / 3 m; else 1 for small structures
  (roof, shed, kiosk, garage, …); else a default (5, `--default-floors`). Year built: the first
  four-digit year 1800–2100 in `start_date`. Name: `name`, else street + house number, else
  "OSM way 123". Invalid footprints are repaired (make_valid, polygonal parts kept).
- Stairwells: see osm_stairwells.py (entrance nodes, else placed along the building).
- Gardens: `leisure=park|garden` areas; kind by geodesic area: under 2,000 m² a neighbourhood
  garden, under 10,000 m² a pocket park, larger a street garden (the model has no larger kind).
  Nodes (no area) are counted and skipped.
- Parking: `amenity=parking` → surface_lot, or stacked_garage when `parking=multi-storey|
  underground|rooftop`; `amenity=bicycle_parking` → bicycle_shed; `amenity=charging_station` →
  ev_charging. Areas and lines become their representative point; an area is also kept as the
  lot's outline (the analysis reaches a lot at its edges). Capacity from `capacity`, else 0.
- Streets: every way of pyrosm's `get_network("walking")` (osm_streets.py).
Every row keeps its source key (osm:TYPE/ID, see osm_tags.py), so a re-import updates what
changed (osm_load.py). Every row pyrosm returns is accounted for: kept, repaired, or dropped
with a reason.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_service.errors import InvalidInput
from gis_service.ingest.geometry import geodesic_area_m2
from gis_service.ingest.osm_stairwells import derive_stairwells
from gis_service.ingest.osm_streets import read_streets
from gis_service.ingest.osm_tags import Tally, first_number, source_key, tag_dict, text

GREEN_FILTER = {"leisure": ["park", "garden"]}
PARKING_FILTER = {"amenity": ["parking", "bicycle_parking", "charging_station"]}
ENTRANCE_FILTER: dict[str, Any] = {"entrance": True}
SMALL_STRUCTURES = {"roof", "shed", "kiosk", "garage", "garages", "carport", "hut", "cabin",
                    "pavilion", "utility", "service", "entrance", "underpass_entrance",
                    "toilets", "transformer_tower", "bunker", "greenhouse", "glasshouse"}
STRUCTURED_PARKING = {"multi-storey", "underground", "rooftop"}
PARKING_KINDS = {"bicycle_parking": "bicycle_shed", "charging_station": "ev_charging"}
DEFAULT_FLOORS = 5
METRES_PER_FLOOR = 3.0
GARDEN_SIZES = ((2_000.0, "neighbourhood_garden"), (10_000.0, "pocket_park"))
LARGEST_GARDEN = "street_garden"


@dataclass
class OsmData:
    """The layers read from an extract, ready to write, and the tally of each."""

    buildings: gpd.GeoDataFrame
    stairwells: gpd.GeoDataFrame
    gardens: gpd.GeoDataFrame
    parking: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    tallies: dict[str, Tally]

    def describe(self) -> list[str]:
        """One line per layer: read, kept, repaired, dropped."""
        lines = []
        for name, tally in self.tallies.items():
            dropped = "".join(f", {n} dropped ({why})" for why, n in tally.dropped.items())
            repaired = f", {tally.repaired} repaired" if tally.repaired else ""
            added = "".join(f", {n} added ({why})" for why, n in tally.added.items())
            lines.append(
                f"{name}: {tally.read} read, {tally.kept} kept{repaired}{added}{dropped}"
            )
        return lines


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """W,S,E,N as four floats in lon/lat range."""
    try:
        west, south, east, north = (float(part) for part in text.split(","))
    except ValueError as exc:
        raise InvalidInput(f"--bbox takes W,S,E,N in degrees, not {text!r}") from exc
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise InvalidInput(f"--bbox {text!r} is not a lon/lat box W,S,E,N")
    return west, south, east, north


def floors_of(row: pd.Series, default_floors: int) -> int:
    """Floors of a building from building:levels, height, its kind, or the default."""
    levels = first_number(row.get("building:levels"), largest=True)
    if levels is None:
        height = first_number(row.get("height"))
        if height is not None:
            levels = height / METRES_PER_FLOOR
    if levels is None:
        return 1 if text(row.get("building")) in SMALL_STRUCTURES else default_floors
    return int(min(200, max(1, math.floor(levels + 0.5))))


def year_of(value: Any) -> int | None:
    """The first four-digit year 1800–2100 in start_date."""
    for found in re.findall(r"\d{4}", text(value) or ""):
        if 1800 <= int(found) <= 2100:
            return int(found)
    return None


def osm_name(row: pd.Series, fallback: str) -> str:
    """A feature's name, else its address, else a fallback naming the OSM element."""
    name = text(row.get("name"))
    if name is None:
        street, number = text(row.get("addr:street")), text(row.get("addr:housenumber"))
        name = f"{street} {number}" if street and number else None
    return (name or f"{fallback} (OSM {row.get('osm_type', 'element')} {row.get('id')})")[:200]


def polygon_parts(geom: Any) -> list[Any]:
    """The polygons inside a geometry (collections searched)."""
    if geom.geom_type == "Polygon":
        return [geom]
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [part for g in geom.geoms for part in polygon_parts(g)]
    return []


def polygonal(geoms: np.ndarray, tally: Tally) -> np.ndarray:
    """Areas as valid MultiPolygons (repaired when invalid; None when no area is left)."""
    out = np.full(len(geoms), None, dtype=object)
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            continue
        repaired = not geom.is_valid
        if repaired:
            geom = shapely.make_valid(geom)
        parts = [p for p in polygon_parts(geom) if not p.is_empty]
        multi = shapely.MultiPolygon(parts) if parts else None
        if multi is not None and multi.is_valid:
            out[i] = multi
            tally.repaired += int(repaired)
    return out


def read_buildings(frame: gpd.GeoDataFrame | None, default_floors: int) -> tuple[Any, Tally]:
    """Buildings: name, floors, year built, kind and footprint."""
    tally = Tally(read=0 if frame is None else len(frame))
    if frame is None or frame.empty:
        return gpd.GeoDataFrame(geometry=[], crs=4326), tally
    geoms = polygonal(frame.geometry.to_numpy(), tally)
    keep = np.array([g is not None for g in geoms])
    tally.drop("degenerate footprint: no area, even repaired", int((~keep).sum()))
    rows = frame[keep]
    out = gpd.GeoDataFrame(
        {
            "source_key": [source_key(r) for _, r in rows.iterrows()],
            "name": [osm_name(r, "building") for _, r in rows.iterrows()],
            "floors": [floors_of(r, default_floors) for _, r in rows.iterrows()],
            "year_built": pd.array([year_of(v) for v in rows.get("start_date", [None] * len(rows))],
                                   dtype="Int64"),
            "kind": [text(v) or "yes" for v in rows.get("building", ["yes"] * len(rows))],
        },
        geometry=list(geoms[keep]),
        crs=4326,
    )
    tally.kept = len(out)
    return out.reset_index(drop=True), tally


def read_gardens(frame: gpd.GeoDataFrame | None) -> tuple[Any, Tally]:
    """Parks and gardens as gardens, their kind by area."""
    tally = Tally(read=0 if frame is None else len(frame))
    if frame is None or frame.empty:
        return gpd.GeoDataFrame(geometry=[], crs=4326), tally
    areas = shapely.get_dimensions(frame.geometry.to_numpy()) == 2
    tally.drop("a node or line, not an area", int((~areas).sum()))
    frame = frame[areas]
    geoms = polygonal(frame.geometry.to_numpy(), tally)
    keep = np.array([g is not None for g in geoms], dtype=bool)
    tally.drop("degenerate: no area, even repaired", int((~keep).sum()))
    rows, geoms = frame[keep], geoms[keep]
    area = [round(geodesic_area_m2(g), 2) for g in geoms]
    kinds = [next((k for limit, k in GARDEN_SIZES if a < limit), LARGEST_GARDEN) for a in area]
    names = [osm_name(r, text(r.get("leisure")) or "park") for _, r in rows.iterrows()]
    keys = [source_key(r) for _, r in rows.iterrows()]
    out = gpd.GeoDataFrame({"source_key": keys, "name": names, "kind": kinds, "area_m2": area},
                           geometry=list(geoms), crs=4326)
    tally.kept = len(out)
    return out, tally


def parking_kind(row: pd.Series) -> str:
    """The parking kind of an amenity=parking|bicycle_parking|charging_station feature."""
    amenity = text(row.get("amenity")) or "parking"
    if amenity in PARKING_KINDS:
        return PARKING_KINDS[amenity]
    layout = text(row.get("parking")) or text(tag_dict(row.get("tags")).get("parking"))
    return "stacked_garage" if layout in STRUCTURED_PARKING else "surface_lot"


def read_parking(frame: gpd.GeoDataFrame | None) -> tuple[Any, Tally]:
    """Parking as points (areas and lines by their representative point), areas' outlines."""
    tally = Tally(read=0 if frame is None else len(frame))
    if frame is None or frame.empty:
        return gpd.GeoDataFrame(geometry=[], crs=4326), tally
    geoms = frame.geometry.to_numpy()
    points = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    keep = ~shapely.is_empty(points) & shapely.is_valid(points)
    tally.drop("no representative point", int((~keep).sum()))
    rows = frame[keep]
    kinds = [parking_kind(r) for _, r in rows.iterrows()]
    capacity = [int(first_number(r.get("capacity", tag_dict(r.get("tags")).get("capacity")))
                    or 0) for _, r in rows.iterrows()]
    names = [osm_name(r, k) for (_, r), k in zip(rows.iterrows(), kinds, strict=True)]
    areas = geoms[keep]
    is_area = shapely.get_dimensions(areas) == 2
    outline = polygonal(np.array([g if a else None for g, a in zip(areas, is_area, strict=True)],
                                 dtype=object), Tally())  # fmt: skip
    out = gpd.GeoDataFrame({"source_key": [source_key(r, "node") for _, r in rows.iterrows()],
                            "name": names, "kind": kinds, "capacity": capacity,
                            "outline": outline},
                           geometry=list(points[keep]), crs=4326)  # fmt: skip
    tally.kept = len(out)
    return out, tally


def read_osm(
    path: Path,
    bbox: tuple[float, float, float, float] | None = None,
    default_floors: int = DEFAULT_FLOORS,
    progress: Callable[[str], None] | None = None,
) -> OsmData:
    """Read buildings, entrances, parks, parking and walkable ways from a .pbf with pyrosm."""
    import pyrosm

    say = progress or (lambda _message: None)
    if not 1 <= default_floors <= 200:
        raise InvalidInput("--default-floors must be between 1 and 200")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            osm = pyrosm.OSM(str(path), bounding_box=list(bbox) if bbox else None)
            say("buildings")
            raw_buildings = osm.get_buildings()
            say("walkable ways")
            raw_streets = osm.get_network(network_type="walking")
            say("parks and gardens")
            raw_green = osm.get_data_by_custom_criteria(GREEN_FILTER, filter_type="keep")
            say("parking")
            raw_parking = osm.get_data_by_custom_criteria(PARKING_FILTER, filter_type="keep")
            say("entrances")
            entrances = osm.get_data_by_custom_criteria(
                ENTRANCE_FILTER, filter_type="keep", keep_ways=False, keep_relations=False
            )
        except (OSError, ValueError, RuntimeError) as exc:
            raise InvalidInput(f"cannot read {path.name} as OSM PBF: {exc}") from exc
    buildings, building_tally = read_buildings(raw_buildings, default_floors)
    streets, street_tally = read_streets(raw_streets)
    say("stairwells")
    stairwells, stairwell_tally = derive_stairwells(buildings, entrances, streets)
    gardens, garden_tally = read_gardens(raw_green)
    parking, parking_tally = read_parking(raw_parking)
    tallies = {"building": building_tally, "stairwell": stairwell_tally, "garden": garden_tally,
               "parking": parking_tally, "street": street_tally}
    return OsmData(buildings, stairwells, gardens, parking, streets, tallies)
