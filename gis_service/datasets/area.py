"""Area filters: hierarchy ids or a lon/lat box, and the box around an area with a margin."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa

from gis_service.errors import InvalidInput

Box = tuple[float, float, float, float]
METRES_PER_DEGREE = 111_320.0
LEVEL_TABLES = {
    "district_id": "district",
    "subdistrict_id": "subdistrict",
    "community_id": "community",
    "grid_id": "grid",
    "compound_id": "compound",
}


NUMBER = r"\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*"
BBOX_PATTERN = rf"^(\s*|{NUMBER}(,{NUMBER}){{3}})$"
"""What a bbox parameter looks like: empty (none), or four numbers west,south,east,north."""


def parse_bbox(text: str | None) -> Box | None:
    """A 'west,south,east,north' lon/lat box, or InvalidInput naming the bbox parameter."""
    if text is None or not text.strip():
        return None
    try:
        w, s, e, n = (float(part) for part in text.split(","))
    except ValueError as exc:
        raise InvalidInput(
            "bbox must be four numbers: west,south,east,north",
            [{"field": "bbox", "message": "four comma-separated numbers in degrees"}],
        ) from exc
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InvalidInput(
            f"bbox {text!r} is not a lon/lat box with west < east and south < north",
            [{"field": "bbox", "message": "west < east within -180..180, south < north"}],
        )
    return (w, s, e, n)


@dataclass(frozen=True)
class Area:
    """Which part of the city to analyse: hierarchy ids and/or a lon/lat box (None: all)."""

    district_id: int | None = None
    subdistrict_id: int | None = None
    community_id: int | None = None
    grid_id: int | None = None
    compound_id: int | None = None
    bbox: Box | None = None

    def ids(self) -> dict[str, int]:
        """The hierarchy filters that are set."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "bbox" and getattr(self, f.name) is not None
        }

    @property
    def everything(self) -> bool:
        """True when no filter is set."""
        return not self.ids() and self.bbox is None

    def key(self) -> tuple[Any, ...]:
        """A hashable key for caches."""
        return tuple(getattr(self, f.name) for f in fields(self))

    def as_dict(self) -> dict[str, Any]:
        """The filters that are set, for reports."""
        out: dict[str, Any] = dict(self.ids())
        if self.bbox is not None:
            out["bbox"] = list(self.bbox)
        return out


def expand(box: Box, margin_m: float) -> Box:
    """A lon/lat box grown by a margin in metres on every side."""
    w, s, e, n = box
    dlat = margin_m / METRES_PER_DEGREE
    widest = max(abs(s - dlat), abs(n + dlat))
    dlon = margin_m / (METRES_PER_DEGREE * max(math.cos(math.radians(min(widest, 89.9))), 1e-6))
    return (max(w - dlon, -180.0), max(s - dlat, -90.0), min(e + dlon, 180.0), min(n + dlat, 90.0))


def _intersect(a: Box | None, b: Box) -> Box:
    if a is None:
        return b
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def area_box(conn: sa.Connection, area: Area) -> Box | None:
    """The lon/lat box of an area (None for the whole city); unknown ids are InvalidInput."""
    box: Box | None = area.bbox
    for column, value in area.ids().items():
        table = LEVEL_TABLES[column]
        row = conn.execute(
            sa.text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                f"FROM (SELECT ST_Extent(geom) AS e FROM {table} WHERE id = :id) x"
            ),
            {"id": value},
        ).one()
        if row[0] is None:
            raise InvalidInput(
                f"there is no {table} {value}",
                [{"field": column, "message": f"unknown {table} id"}],
            )
        box = _intersect(box, (float(row[0]), float(row[1]), float(row[2]), float(row[3])))
    return box


def margin_box(conn: sa.Connection, area: Area, margin_m: float) -> Box | None:
    """The area's box grown by a margin, so edge stairwells are served across the border."""
    box = area_box(conn, area)
    if box is None:
        return None
    if box[0] > box[2] or box[1] > box[3]:
        return box  # the filters do not overlap: an empty area
    return expand(box, margin_m)
