"""Read what the engine needs from PostGIS into (Geo)DataFrames, in the caller's scope.

Every read runs on the caller's connection (its database role and grids apply), with WKB
geometry decoded by shapely in one call; no ORM objects row by row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
import sqlalchemy as sa
from pyproj import CRS

from gis_service.catalog import Layer
from gis_service.datasets.area import Area, Box
from gis_service.datasets.arrays import read_arrays
from gis_service.rows.columns import quoted

CRS_LONLAT = CRS.from_epsg(4326)
HIERARCHY = ("grid_id", "compound_id", "community_id", "subdistrict_id", "district_id")
UNIT_JOIN_LINES = (
    "\nLEFT JOIN grid g ON g.id = s.grid_id",
    "\nLEFT JOIN compound c ON c.id = s.compound_id",
    "\nLEFT JOIN community cm ON cm.id = coalesce(g.community_id, c.community_id)",
    "\nLEFT JOIN subdistrict sd ON sd.id = cm.subdistrict_id",
)
JOINS_NEEDED = {"grid_id": 0, "compound_id": 0, "community_id": 2, "subdistrict_id": 3,
                "district_id": 4}  # fmt: skip
"""How many of UNIT_JOIN_LINES a level's STAIRWELL_FILTERS expression needs."""
UNIT_JOINS = "".join(UNIT_JOIN_LINES) + "\n"
"""A stairwell's (s: grid_id, compound_id) units up to its district (STAIRWELL_FILTERS)."""
BUILDING_JOIN = "\nFROM stairwell s\nJOIN building b ON b.id = s.building_id"
STAIRWELL_FROM = BUILDING_JOIN + UNIT_JOINS


def unit_joins(*levels: str) -> str:
    """The joins of UNIT_JOINS that these levels' STAIRWELL_FILTERS expressions need, only."""
    return "".join(UNIT_JOIN_LINES[: max((JOINS_NEEDED[lvl] for lvl in levels), default=0)])
STAIRWELL_SQL = """
SELECT s.id, s.building_id, s.compound_id, s.grid_id,
       coalesce(g.community_id, c.community_id) AS community_id,
       cm.subdistrict_id, sd.district_id,
       s.label, s.floors, b.floors AS building_floors, b.year_built, b.has_original_elevator,
       s.households, s.elderly_households, s.elevator_status, s.batch_id,
       ST_AsBinary(s.geom) AS geom"""
STAIRWELL_FILTERS = {
    "district_id": "sd.district_id",
    "subdistrict_id": "cm.subdistrict_id",
    "community_id": "coalesce(g.community_id, c.community_id)",
    "grid_id": "s.grid_id",
    "compound_id": "s.compound_id",
}

UNIT_LOOKUPS = {"community_id": "coalesce((SELECT g.community_id FROM grid g WHERE g.id = "
                                "s.grid_id), (SELECT c.community_id FROM compound c "
                                "WHERE c.id = s.compound_id))"}  # fmt: skip
UNIT_LOOKUPS["subdistrict_id"] = ("(SELECT cm.subdistrict_id FROM community cm WHERE cm.id = "
                                  f"{UNIT_LOOKUPS['community_id']})")  # fmt: skip
UNIT_LOOKUPS["district_id"] = ("(SELECT sd.district_id FROM subdistrict sd WHERE sd.id = "
                               f"{UNIT_LOOKUPS['subdistrict_id']})")  # fmt: skip
"""STAIRWELL_FILTERS above the compound looked up by primary keys from a row's grid_id and
compound_id, with no join: for the few grid-and-compound groups of a few units (a refresh),
far cheaper than hashing the hierarchy's tables whole; for a city's groups, dearer."""
COMMUNITIES_OF = {
    "community_id": "{ids}",
    "subdistrict_id": "ARRAY(SELECT id FROM community WHERE subdistrict_id = ANY({ids}))",
    "district_id": "ARRAY(SELECT cm.id FROM community cm JOIN subdistrict sd "
                   "ON sd.id = cm.subdistrict_id WHERE sd.district_id = ANY({ids}))",
}  # fmt: skip
"""The communities of units above the compound (ids: an SQL int array), for units_superset."""


def units_superset(level_col: str, ids: str) -> str | None:
    """A superset of the stairwells (s) in these units above the compound (ids: an SQL int
    array of bound values) that the stairwell's own grid and compound indexes find: its grid
    or its compound is one of the units' (None: at or below the compound).

    Above the compound the unit is a join's (coalesce(g.community_id, c.community_id)), which
    no index holds: a test of it alone reads the whole city.
    """
    communities = COMMUNITIES_OF.get(level_col)
    if communities is None:
        return None
    inside = f"community_id = ANY({communities.replace('{ids}', ids)})"
    return (f"(s.grid_id = ANY(ARRAY(SELECT id FROM grid WHERE {inside})) OR s.compound_id = "
            f"ANY(ARRAY(SELECT id FROM compound WHERE {inside})))")  # fmt: skip


def unit_test(level_col: str, ids: str) -> str:
    """That a stairwell (s, with the level's unit_joins) is in one of these units of the level
    (ids: an SQL int array of bound values), led by units_superset: a community is read, not
    the city."""
    test = f"{STAIRWELL_FILTERS[level_col]} = ANY({ids})"
    superset = units_superset(level_col, ids)
    return test if superset is None else f"{superset} AND {test}"


@dataclass(frozen=True)
class LayerSource:
    """Where the rows of a catalog layer are read from (identifiers from the validated catalog)."""

    layer: str
    table: str
    columns: tuple[str, ...]
    kind_column: str | None = None
    outline: str | None = None

    def select(self) -> str:
        """SELECT of id, the columns, the kind column as `kind` and the WKB geometry.

        With an outline column, a row's geometry is its outline where it has one (a parking
        lot's area rather than its entrance point).
        """
        names = [quoted(name) for name in ("id", *self.columns)]
        if self.kind_column and self.kind_column != "kind":
            names.append(f"{quoted(self.kind_column)} AS kind")
        shape = f"coalesce({quoted(self.outline)}, geom)" if self.outline else "geom"
        return f"SELECT {', '.join(names)}, ST_AsBinary({shape}) AS geom FROM {quoted(self.table)}"


def source_of(layer: Layer) -> LayerSource:
    """The source of a catalog layer: its fields but the version and household data."""
    names = tuple(f.name for f in layer.fields if f.name != "version" and not f.household_data)
    kind = layer.service.kind_field if layer.service else None
    outline = layer.service.access.outline if layer.service else None
    return LayerSource(layer.id, layer.table, names, kind, outline)


INT_COLUMNS = ("id", "building_id", "compound_id", "garden_id", "batch_id", *HIERARCHY)


def _envelope(box: Box | None, column: str, params: dict[str, Any]) -> list[str]:
    if box is None:
        return []
    params.update(w=box[0], s=box[1], e=box[2], n=box[3])
    return [f"{column} && ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326)"]


@dataclass(frozen=True)
class Rows:
    """A query's rows as the driver gives them (tuples), and its column names."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def column(self, name: str) -> np.ndarray:
        """One column's values as read (an object array: no type guessed)."""
        at = self.columns.index(name)
        return np.fromiter((row[at] for row in self.rows), object, len(self.rows))

    def frame(self, picked: np.ndarray | None = None) -> pd.DataFrame:
        """The rows (all, or those where `picked` is true) as a frame."""
        if picked is None:
            return pd.DataFrame.from_records(self.rows, columns=self.columns)
        rows = [row for row, take in zip(self.rows, picked, strict=True) if take]
        return pd.DataFrame.from_records(rows, columns=self.columns)


def read_rows(conn: sa.Connection, sql: str, params: dict[str, Any]) -> Rows:
    """Run a query (psycopg %(name)s parameters) on the caller's connection; its rows as tuples
    straight from the driver (no row objects).

    Database errors are raised as SQLAlchemy raises them, so the API maps them (a role without
    rights: 401/403).
    """
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor() as cur:
            cur.execute(sql, params)
            assert cur.description is not None
            return Rows([d.name for d in cur.description], cur.fetchall())
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, params, exc, psycopg.Error) from exc


def read_frame(conn: sa.Connection, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    """Run a query (psycopg %(name)s parameters) on the caller's connection; its rows as a frame
    (read_rows)."""
    return read_rows(conn, sql, params).frame()


def read_geoframe(
    conn: sa.Connection, sql: str, params: dict[str, Any], types: dict[str, type] | None = None
) -> gpd.GeoDataFrame:
    """Run a query (psycopg %(name)s parameters) whose column geom is WKB; a GeoDataFrame.

    Ids (INT_COLUMNS) are nullable integers, columns named in `types` are of that numpy
    type; the frame is built once from its columns (a few ms less for the few rows an edit
    re-reads than converting them in place one by one).
    """
    return geoframe_of(read_frame(conn, sql, params), types)


def geoframe_of(frame: pd.DataFrame, types: dict[str, type] | None = None) -> gpd.GeoDataFrame:
    """A frame as read (geom as WKB) as read_geoframe gives it."""
    columns: dict[str, Any] = {}
    for col in frame.columns:
        values = frame[col]
        if col in INT_COLUMNS:
            columns[col] = pd.array(values, dtype="Int64")
        elif types and types.get(col) is bool:
            columns[col] = values.astype(bool)
        elif types and col in types and len(values):  # none: left as read (object)
            columns[col] = pd.to_numeric(values).to_numpy(types[col])
        elif col != "geom":
            columns[col] = values
    wkb = frame["geom"].to_numpy(dtype=object)
    geoms = shapely.from_wkb(wkb) if len(wkb) else np.empty(0, dtype=object)
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=CRS_LONLAT)


def statuses(conn: sa.Connection) -> list[str]:
    """The ordered elevator pipeline, read from the elevator_status lookup table."""
    rows = conn.execute(sa.text("SELECT code FROM elevator_status ORDER BY rank"))
    return [str(code) for (code,) in rows]


STAIRWELL_COLUMNS = (
    "id", "building_id", "compound_id", "grid_id", "community_id", "subdistrict_id",
    "district_id", "label", "floors", "building_floors", "year_built", "has_original_elevator",
    "households", "elderly_households", "elevator_status", "batch_id",
)  # fmt: skip


def no_stairwells() -> gpd.GeoDataFrame:
    """An empty stairwell frame with the usual columns (for questions about facilities only)."""
    frame = pd.DataFrame({col: pd.array([], dtype="Int64") for col in STAIRWELL_COLUMNS})
    return gpd.GeoDataFrame(frame, geometry=np.empty(0, dtype=object), crs=CRS_LONLAT)


def stairwells_in(
    area: Area, ids: Collection[int] | None = None
) -> tuple[str, dict[str, Any]]:
    """The WHERE clause (psycopg parameters) of the stairwells of an area, over STAIRWELL_FROM
    (and, with ids, only those stairwells)."""
    params: dict[str, Any] = {}
    where = [unit_test(col, f"ARRAY[%({col})s]") for col in area.ids()]
    params.update(area.ids())
    where += _envelope(area.bbox, "s.geom", params)
    if ids is not None:
        where.append("s.id = ANY(%(stairwell_ids)s)")
        params["stairwell_ids"] = sorted(ids)
    return (" WHERE " + " AND ".join(where) if where else ""), params


STAIRWELL_TYPES: dict[str, type] = {
    "floors": np.int64, "building_floors": np.int64, "households": np.int64,
    "elderly_households": np.int64, "has_original_elevator": bool,
}  # fmt: skip


def load_stairwells(
    conn: sa.Connection, area: Area = Area(), ids: Collection[int] | None = None
) -> gpd.GeoDataFrame:
    """Stairwells with building floors/year/lift and hierarchy ids up to district (lon/lat),
    of an area (and, with ids, only those)."""
    return geoframe_of(stairwell_rows(conn, area, ids).frame(), STAIRWELL_TYPES)


def stairwell_rows(
    conn: sa.Connection, area: Area = Area(), ids: Collection[int] | None = None
) -> Rows:
    """The rows load_stairwells reads, as the driver gives them (geom as WKB): for an edit's
    few rows, a few ms less than a GeoDataFrame."""
    where, params = stairwells_in(area, ids)
    return read_rows(conn, STAIRWELL_SQL + STAIRWELL_FROM + where + " ORDER BY s.id", params)


def load_layer(
    conn: sa.Connection,
    source: LayerSource,
    box: Box | None = None,
    kind: str | None = None,
    suitable_for: tuple[str, ...] | None = None,
) -> gpd.GeoDataFrame:
    """One catalog layer (facilities, candidate sites, streets, ...) in a box, of one kind."""
    params: dict[str, Any] = {}
    shape = f"coalesce({quoted(source.outline)}, geom)" if source.outline else "geom"
    where = _envelope(box, shape, params)
    if kind is not None and source.kind_column:
        where.append(f"{quoted(source.kind_column)} = %(kind)s")
        params["kind"] = kind
    if suitable_for is not None:
        where.append("suitable_for = ANY(%(uses)s)")
        params["uses"] = list(suitable_for)
    sql = source.select() + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    return read_geoframe(conn, sql, params)


NAMES_BY_ID = 2_000
"""Above this many units, level_names reads the level's whole table of names."""


def level_names(conn: sa.Connection, level: str, ids: list[int]) -> dict[int, str]:
    """Names of the units of a level (grid, compound, ...) by id."""
    table = {col[: -len("_id")]: col[: -len("_id")] for col in HIERARCHY}[level]
    sql, params = f"SELECT id, name FROM {table}", {}
    if len(ids) <= NAMES_BY_ID:  # much of the level: reading it all beats sending the ids
        sql, params = sql + " WHERE id = ANY(%(ids)s)", {"ids": ids}
    found = read_arrays(conn, sql, params, ["id", "name"])
    return {i: str(name) for i, name in zip(np.asarray(found["id"]).tolist(), found["name"],
                                             strict=True) if name is not None}  # fmt: skip


def level_geometries(conn: sa.Connection, level: str, ids: list[int]) -> dict[int, str]:
    """GeoJSON geometry text of the units of a level by id."""
    table = {col[: -len("_id")]: col[: -len("_id")] for col in HIERARCHY}[level]
    rows = conn.execute(
        sa.text(f"SELECT id, ST_AsGeoJSON(geom, 7) FROM {table} WHERE id = ANY(:ids)"),
        {"ids": ids},
    )
    return {int(i): str(geom) for i, geom in rows}
