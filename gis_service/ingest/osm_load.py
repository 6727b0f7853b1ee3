"""Write what osm.py read into PostGIS: one transaction, buildings before their stairwells.

Building ids are drawn from the sequence first so stairwells can name them. After the write,
new buildings, gardens and parking take the compound (and buildings the grid) whose area holds
their representative point, and stairwells take their building's; rows outside every compound
keep NULL. Imports add rows: importing the same extract twice adds it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import sqlalchemy as sa

from gis_service.ingest.osm import OsmData
from gis_service.ingest.writer import reserve_ids, write_frame


def as_rows(frame: Any, columns: list[str]) -> pd.DataFrame:
    """The named columns of a GeoDataFrame plus its geometry as 'geom'."""
    rows = pd.DataFrame({name: frame[name].reset_index(drop=True) for name in columns})
    rows["geom"] = frame.geometry.to_numpy()
    return rows


def assign_areas(conn: sa.Connection, table: str, ids: list[int], column: str, area: str) -> None:
    """Set `column` of new rows to the id of the `area` row holding their representative point."""
    if not ids:
        return
    conn.execute(
        sa.text(
            f'UPDATE "{table}" t SET "{column}" = a.id FROM "{area}" a '
            "WHERE t.id = ANY(:ids) AND ST_Contains(a.geom, ST_PointOnSurface(t.geom))"
        ),
        {"ids": ids},
    )


def load_osm(
    conn: sa.Connection, data: OsmData, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Insert the layers inside the connection's transaction; rows written per table."""
    say = progress or (lambda _message: None)
    written: dict[str, int] = {}
    say(f"building: {len(data.buildings)} rows")
    building_ids = reserve_ids(conn, "building", len(data.buildings))
    buildings = as_rows(data.buildings, ["name", "floors", "year_built"])
    buildings.insert(0, "id", building_ids)
    written["building"] = len(write_frame(conn, "building", buildings))
    say(f"stairwell: {len(data.stairwells)} rows")
    stairwells = as_rows(data.stairwells, ["label", "floors", "households", "notes"])
    stairwells.insert(0, "building_id", [building_ids[i] for i in data.stairwells["building"]])
    stairwell_ids = write_frame(conn, "stairwell", stairwells)
    written["stairwell"] = len(stairwell_ids)
    new_ids: dict[str, list[int]] = {"building": building_ids}
    for table, frame, columns in (
        ("garden", data.gardens, ["name", "kind", "area_m2"]),
        ("parking", data.parking, ["name", "kind", "capacity"]),
        ("street", data.streets, ["name", "highway"]),
    ):
        say(f"{table}: {len(frame)} rows")
        new_ids[table] = write_frame(conn, table, as_rows(frame, columns) if len(frame) else
                                     pd.DataFrame())
        written[table] = len(new_ids[table])
    say("compounds and grids")
    for table in ("building", "garden", "parking"):
        assign_areas(conn, table, new_ids[table], "compound_id", "compound")
    assign_areas(conn, "building", building_ids, "grid_id", "grid")
    if stairwell_ids:
        conn.execute(
            sa.text(
                "UPDATE stairwell s SET compound_id = b.compound_id, grid_id = b.grid_id "
                "FROM building b WHERE s.building_id = b.id AND s.id = ANY(:ids) "
                "AND (b.compound_id IS NOT NULL OR b.grid_id IS NOT NULL)"
            ),
            {"ids": stairwell_ids},
        )
    return written
