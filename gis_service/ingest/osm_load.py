"""Write what osm.py read into PostGIS: one transaction, an upsert by source key.

Every row carries its source key (osm:TYPE/ID, see osm_tags.py). Importing an extract again:
- rows whose key is already stored are compared with the stored ones on the columns OSM owns
  (OWNED) and the geometry; only rows that differ are updated (their version goes up), the
  others are not touched at all: re-importing the same extract changes nothing;
- rows with new keys are added;
- stored OSM rows whose key the extract no longer has (within the --bbox, when given) are
  reported as vanished and kept: a city decides what to do with them (they may carry surveys).
Columns people edit after an import (a stairwell's households, notes and survey data, the
compound and grid of a row) are set when a row is added, never overwritten. New or moved
buildings, gardens and parking take the compound (and buildings the grid) whose area holds their
representative point; stairwells take their building's. An extract reaching outside the service
area (rows/area.py, the rule edits and file imports follow) is refused as a whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from gis_service.errors import InvalidInput
from gis_service.ingest.osm import OsmData
from gis_service.ingest.osm_tags import OSM_PREFIX
from gis_service.ingest.upsert import TableReport, upsert
from gis_service.rows.area import inside, outside_message, service_area

OWNED = {
    "building": ["name", "floors", "year_built"],
    "stairwell": ["building_id", "label", "floors"],
    "garden": ["name", "kind", "area_m2"],
    "parking": ["name", "kind", "capacity", "outline"],
    "street": ["name", "highway", "layer", "bridge", "tunnel", "level", "access", "foot"],
}
ADDED_ONLY = {"stairwell": ["households", "notes"]}


def as_rows(frame: Any, columns: list[str]) -> pd.DataFrame:
    """The named columns of a GeoDataFrame plus its geometry as 'geom'."""
    rows = pd.DataFrame({name: frame[name].reset_index(drop=True) for name in columns})
    rows["geom"] = frame.geometry.to_numpy()
    return rows


def assign_areas(conn: sa.Connection, table: str, ids: list[int], column: str, area: str) -> None:
    """Set `column` of rows to the id of the `area` row holding their representative point."""
    if not ids:
        return
    conn.execute(
        sa.text(
            f'UPDATE "{table}" t SET "{column}" = a.id FROM "{area}" a '
            "WHERE t.id = ANY(:ids) AND ST_Contains(a.geom, ST_PointOnSurface(t.geom)) "
            f'AND t."{column}" IS DISTINCT FROM a.id'
        ),
        {"ids": ids},
    )


def building_ids(conn: sa.Connection, keys: list[str]) -> dict[str, int]:
    """Stored building ids by source key."""
    rows = conn.execute(
        sa.text("SELECT source_key, id FROM building WHERE source_key = ANY(:keys)"), {"keys": keys}
    )
    return {str(k): int(i) for k, i in rows}


def check_area(conn: sa.Connection, data: OsmData) -> None:
    """InvalidInput when the extract reaches outside the service area (rows/area.py)."""
    area = service_area(conn)
    frames = [f for f in (data.buildings, data.gardens, data.parking, data.streets) if len(f)]
    if area is None or not frames:
        return
    bounds = np.array([f.total_bounds for f in frames])
    extent = (*bounds[:, :2].min(axis=0), *bounds[:, 2:].max(axis=0))
    if not inside(tuple(float(v) for v in extent), area):
        raise InvalidInput(
            f"the extract reaches {outside_message(area)}; nothing written (use --bbox, or set "
            "GIS_SERVICE_AREA)"
        )


def load_osm(
    conn: sa.Connection,
    data: OsmData,
    progress: Callable[[str], None] | None = None,
    bbox: tuple[float, ...] | None = None,
) -> dict[str, TableReport]:
    """Upsert the layers inside the connection's transaction; what happened per table."""
    say = progress or (lambda _message: None)
    check_area(conn, data)
    reports: dict[str, TableReport] = {}
    touched: dict[str, list[int]] = {}
    say(f"building: {len(data.buildings)} rows")
    buildings = as_rows(data.buildings, ["source_key", *OWNED["building"]])
    reports["building"], added, moved = upsert(
        conn, "building", buildings, OWNED["building"], OSM_PREFIX, bbox
    )
    touched["building"] = added + moved
    say(f"stairwell: {len(data.stairwells)} rows")
    by_key = building_ids(conn, buildings["source_key"].tolist())
    stairs = data.stairwells.copy()
    stairs["building_id"] = [by_key[buildings["source_key"].iloc[i]] for i in stairs["building"]]
    stairwells = as_rows(stairs, ["source_key", *OWNED["stairwell"], *ADDED_ONLY["stairwell"]])
    reports["stairwell"], added, moved = upsert(
        conn, "stairwell", stairwells, OWNED["stairwell"], OSM_PREFIX, bbox
    )
    touched["stairwell"] = added + moved
    for table, frame in (("garden", data.gardens), ("parking", data.parking),
                         ("street", data.streets)):  # fmt: skip
        say(f"{table}: {len(frame)} rows")
        if not len(frame):
            reports[table] = TableReport()
            continue
        rows = as_rows(frame, ["source_key", *OWNED[table]])
        reports[table], added, moved = upsert(conn, table, rows, OWNED[table], OSM_PREFIX, bbox)
        touched[table] = added + moved
    say("compounds and grids")
    for table in ("building", "garden", "parking"):
        assign_areas(conn, table, touched.get(table, []), "compound_id", "compound")
    assign_areas(conn, "building", touched["building"], "grid_id", "grid")
    if touched["stairwell"]:
        conn.execute(
            sa.text(
                "UPDATE stairwell s SET compound_id = b.compound_id, grid_id = b.grid_id "
                "FROM building b WHERE s.building_id = b.id AND s.id = ANY(:ids) "
                "AND (b.compound_id IS NOT NULL OR b.grid_id IS NOT NULL)"
            ),
            {"ids": touched["stairwell"]},
        )
    return reports
