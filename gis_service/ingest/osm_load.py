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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from gis_service.errors import InvalidInput
from gis_service.ingest.osm import OsmData
from gis_service.ingest.osm_tags import OSM_PREFIX
from gis_service.ingest.writer import write_frame
from gis_service.rows.area import inside, outside_message, service_area

OWNED = {
    "building": ["name", "floors", "year_built"],
    "stairwell": ["building_id", "label", "floors"],
    "garden": ["name", "kind", "area_m2"],
    "parking": ["name", "kind", "capacity", "outline"],
    "street": ["name", "highway", "layer", "bridge", "tunnel", "level", "access", "foot"],
}
ADDED_ONLY = {"stairwell": ["households", "notes"]}
GEOMETRY_COLUMNS = {"geom", "outline"}
VANISHED_SHOWN = 20


@dataclass
class TableReport:
    """What an import did to one table."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    vanished: int = 0
    vanished_keys: list[str] = field(default_factory=list)

    def line(self, table: str) -> str:
        """One line of text."""
        more = " …" if self.vanished > VANISHED_SHOWN else ""
        shown = f" ({', '.join(self.vanished_keys)}{more})"
        gone = f", {self.vanished} vanished from OSM, kept{shown}" if self.vanished else ""
        return (f"{table}: {self.added} added, {self.updated} updated, "
                f"{self.unchanged} unchanged{gone}")  # fmt: skip


def same_value(a: Any, b: Any) -> bool:
    """Equal as stored: NULL = NULL, numbers by value, geometries to a nanodegree."""
    a_missing = a is None or (not isinstance(a, str | bytes | shapely.Geometry) and pd.isna(a))
    b_missing = b is None or (not isinstance(b, str | bytes | shapely.Geometry) and pd.isna(b))
    if a_missing or b_missing:
        return a_missing and b_missing
    if isinstance(a, shapely.Geometry) or isinstance(b, shapely.Geometry):
        return bool(shapely.equals_exact(a, b, tolerance=1e-9))
    if isinstance(a, int | float | np.number) and isinstance(b, int | float | np.number):
        return bool(np.isclose(float(a), float(b), rtol=0, atol=1e-9))
    return bool(a == b)


def stored_rows(conn: sa.Connection, table: str, keys: list[str]) -> pd.DataFrame:
    """The stored rows holding these keys: id, source_key, owned columns, geometries."""
    owned = OWNED[table]
    picks = [f'ST_AsBinary("{c}") AS "{c}"' if c in GEOMETRY_COLUMNS else f'"{c}"'
             for c in owned]  # fmt: skip
    sql = (f'SELECT id, source_key, {", ".join(picks)}, ST_AsBinary(geom) AS geom '
           f'FROM "{table}" WHERE source_key = ANY(:keys)')  # fmt: skip
    rows = conn.execute(sa.text(sql), {"keys": keys}).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows], columns=["id", "source_key", *owned, "geom"])
    for column in GEOMETRY_COLUMNS & set(frame.columns):
        frame[column] = [shapely.from_wkb(bytes(v)) if v is not None else None
                         for v in frame[column]]  # fmt: skip
    return frame


def vanished_keys(
    conn: sa.Connection, table: str, keys: list[str], bbox: tuple[float, ...] | None
) -> list[str]:
    """Stored OSM keys of a table the extract no longer has (inside bbox, when given)."""
    where = "source_key LIKE :prefix AND NOT (source_key = ANY(:keys))"
    params: dict[str, Any] = {"prefix": f"{OSM_PREFIX}%", "keys": keys}
    if bbox is not None:
        where += " AND geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"
        params.update(w=bbox[0], s=bbox[1], e=bbox[2], n=bbox[3])
    rows = conn.execute(sa.text(f'SELECT source_key FROM "{table}" WHERE {where} ORDER BY 1'),
                        params)  # fmt: skip
    return [str(r[0]) for r in rows]


def update_rows(conn: sa.Connection, table: str, changed: pd.DataFrame) -> None:
    """Write the owned columns and geometry of changed rows (one UPDATE, many parameter sets)."""
    owned = OWNED[table]
    sets = [f'"{c}" = ST_SetSRID(ST_GeomFromWKB(:{c}), 4326)' if c in GEOMETRY_COLUMNS
            else f'"{c}" = :{c}' for c in (*owned, "geom")]  # fmt: skip
    statement = sa.text(f'UPDATE "{table}" SET {", ".join(sets)} WHERE id = :id')
    params = []
    for record in changed.to_dict("records"):
        values = {}
        for c in (*owned, "geom"):
            value = record[c]
            if c in GEOMETRY_COLUMNS:
                value = None if value is None else shapely.to_wkb(value)
            elif value is not None and not isinstance(value, str) and pd.isna(value):
                value = None
            elif isinstance(value, np.generic):
                value = value.item()
            values[c] = value
        params.append({"id": int(record["id"]), **values})
    conn.execute(statement, params)


def upsert(
    conn: sa.Connection, table: str, rows: pd.DataFrame, bbox: tuple[float, ...] | None
) -> tuple[TableReport, list[int], list[int]]:
    """Add new keys, update changed rows; the report, new ids, ids whose geometry changed."""
    report = TableReport()
    keys = rows["source_key"].tolist()
    stored = stored_rows(conn, table, keys).set_index("source_key")
    known = rows["source_key"].isin(stored.index).to_numpy()
    fresh = rows[~known].reset_index(drop=True)
    changed, moved = [], []
    for record in rows[known].to_dict("records"):
        old = stored.loc[record["source_key"]]
        columns = [*OWNED[table], "geom"]
        if all(same_value(record[c], old[c]) for c in columns):
            report.unchanged += 1
            continue
        changed.append({**record, "id": int(old["id"])})
        if not same_value(record["geom"], old["geom"]):
            moved.append(int(old["id"]))
    if changed:
        update_rows(conn, table, pd.DataFrame(changed))
    report.updated = len(changed)
    new_ids = write_frame(conn, table, fresh) if len(fresh) else []
    report.added = len(new_ids)
    gone = vanished_keys(conn, table, keys, bbox)
    report.vanished, report.vanished_keys = len(gone), gone[:VANISHED_SHOWN]
    return report, new_ids, moved


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
    reports["building"], added, moved = upsert(conn, "building", buildings, bbox)
    touched["building"] = added + moved
    say(f"stairwell: {len(data.stairwells)} rows")
    by_key = building_ids(conn, buildings["source_key"].tolist())
    stairs = data.stairwells.copy()
    stairs["building_id"] = [by_key[buildings["source_key"].iloc[i]] for i in stairs["building"]]
    stairwells = as_rows(stairs, ["source_key", *OWNED["stairwell"], *ADDED_ONLY["stairwell"]])
    reports["stairwell"], added, moved = upsert(conn, "stairwell", stairwells, bbox)
    touched["stairwell"] = added + moved
    for table, frame in (("garden", data.gardens), ("parking", data.parking),
                         ("street", data.streets)):  # fmt: skip
        say(f"{table}: {len(frame)} rows")
        if not len(frame):
            reports[table] = TableReport()
            continue
        rows = as_rows(frame, ["source_key", *OWNED[table]])
        reports[table], added, moved = upsert(conn, table, rows, bbox)
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
