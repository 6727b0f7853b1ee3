"""Analysis runs over data read from PostGIS: coverage, nearest service, gaps, service areas."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from pyproj import CRS, Transformer

from gis_service.analysis.access import Access, access_points
from gis_service.analysis.coverage import Eligibility, project_batch
from gis_service.analysis.crs import metric_crs
from gis_service.analysis.network import StreetGraph, build_graph
from gis_service.analysis.service import (
    HomeSnaps,
    crow_flies_nearest,
    network_nearest,
    served_shares,
    snap_homes,
)
from gis_service.analysis.service_area import service_areas
from gis_service.analysis.threads import in_parts
from gis_service.analysis.walkable import ClosedRule, walkable
from gis_service.datasets.area import Area, Box, area_box, margin_box
from gis_service.datasets.cache import STAIRWELL_TABLES, ResultCache, versions_key
from gis_service.datasets.cells import cells
from gis_service.datasets.changes import Changes
from gis_service.datasets.coverage import coverage_in_sql, pipeline_of, touched_units
from gis_service.datasets.live import LiveAnswers
from gis_service.datasets.load import (
    STAIRWELL_TYPES,
    LayerSource,
    geoframe_of,
    level_names,
    load_layer,
    load_stairwells,
    no_stairwells,
    stairwell_rows,
    statuses,
)
from gis_service.datasets.params import ServiceParams, WalkRules, bad
from gis_service.datasets.shares_refresh import shares_changed_by, unit_changes
from gis_service.datasets.splice import replaced_at, splice_units, with_values_at
from gis_service.errors import InvalidInput

Progress = Callable[[str], None]
SNAP_SLACK_M = 100.0
"""Extra margin around an area for facility and street reads (access legs, snapping)."""


def quiet(_message: str) -> None:
    """A progress callback that says nothing."""


def coverage_table(
    conn: sa.Connection,
    level_col: str,
    area: Area = Area(),
    batch: int | None = None,
    rule: Eligibility = Eligibility(),
    touched_only: bool = True,
) -> pd.DataFrame:
    """Coverage per level, or the before/after projection of a retrofit batch."""
    area_box(conn, area)  # unknown hierarchy ids are named
    pipeline = statuses(conn)
    if batch is None:
        return coverage_in_sql(conn, level_col, area, pipeline, rule)
    stairwells = load_stairwells(conn, area)
    found = conn.execute(sa.text("SELECT 1 FROM retrofit_batch WHERE id = :id"), {"id": batch})
    if found.first() is None:
        raise bad("batch", f"there is no retrofit batch {batch}")
    ids = stairwells.loc[stairwells["batch_id"] == batch, "id"].astype(np.int64).tolist()
    return project_batch(stairwells, level_col, ids, pipeline, rule, only_touched=touched_only)


def refreshed_coverage(
    conn: sa.Connection,
    table: pd.DataFrame,
    changes: Changes,
    level: str,
    area: Area = Area(),
    rule: Eligibility = Eligibility(),
) -> pd.DataFrame:
    """A coverage table (with names) after written rows: only the units they touch re-counted."""
    col = f"{level}_id"
    units = touched_units(conn, changes, col)
    if not units:
        return table
    fresh = coverage_in_sql(conn, col, area, pipeline_of(table), rule, units)
    return splice_units(table, with_names(conn, fresh, level, named=table), col, units)


def with_names(
    conn: sa.Connection, frame: pd.DataFrame, level: str, named: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The table with each unit's name next to its id (level: grid, compound, ...): taken
    from `named` (a table of the same units with names, sorted by unit, as of the same
    hierarchy) where it has the unit, else read."""
    col = f"{level}_id"
    ids = pd.to_numeric(frame[col]).to_numpy(np.float64)
    known = np.isfinite(ids)
    wanted = ids[known].astype(np.int64).tolist()
    names = names_in(named, col, ids[known]) if named is not None else {}
    missing = [i for i in wanted if i not in names]
    if missing:
        names.update(level_names(conn, level, missing))
    named_ids = np.full(len(frame), None, dtype=object)
    named_ids[known] = np.fromiter((names.get(i) for i in wanted), dtype=object,
                                   count=len(wanted))  # fmt: skip
    out = frame.copy(deep=False)  # a new frame: the name goes in it alone
    out.insert(1, "name", pd.Series(named_ids, index=frame.index, dtype=object))
    return out


def names_in(named: pd.DataFrame, col: str, ids: np.ndarray) -> dict[int, str | None]:
    """The names a named per-unit table (sorted by unit, none last) gives these unit ids."""
    units = named[col].to_numpy(np.float64, na_value=np.nan)
    at = np.minimum(np.searchsorted(units, ids), max(len(units) - 1, 0))
    found = units[at] == ids if len(units) else np.zeros(len(ids), bool)
    names = named["name"].to_numpy(object)[at[found]]
    return dict(zip(ids[found].astype(np.int64).tolist(), names.tolist(), strict=True))


@dataclass
class ServiceInputs:
    """Stairwells and facilities in one metric CRS, and the street graph when along streets."""

    stairwells: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    graph: StreetGraph | None
    crs: CRS
    box: Box | None
    lonlat: np.ndarray | None = None
    """The stairwells' points in lon/lat, as read."""
    snapped: HomeSnaps | None = None
    """The stairwells' places on the graph, when kept from an earlier question."""
    access: Access | None = None
    """The facilities' access stretches on the graph, when kept from an earlier question."""


def pick_crs(*frames: gpd.GeoDataFrame) -> CRS:
    """The UTM zone of the first non-empty layer."""
    for frame in frames:
        if len(frame):
            return metric_crs(frame)
    raise InvalidInput("there is no data in this area to analyse")


def walkable_graph(streets: gpd.GeoDataFrame, crs: CRS, closed: ClosedRule) -> StreetGraph:
    """The graph of the ways people may walk (closed ones left out), in a metric CRS."""
    open_ways = streets[walkable(streets, closed)]
    if not len(open_ways):
        raise InvalidInput("there are no walkable streets in this area: use mode=crow")
    return build_graph(open_ways.to_crs(crs))


def graph_key(
    conn: sa.Connection, network: LayerSource, box: Box | None, crs: CRS, closed: ClosedRule
) -> tuple[Hashable, ...]:
    """What a street graph is built from: the network's table, box, CRS, closures and version."""
    return ("graph", network.table, box, crs.to_string(), closed,
            versions_key(conn, (network.table,)))  # fmt: skip


def street_graph(
    conn: sa.Connection,
    network: LayerSource,
    box: Box | None,
    crs: CRS,
    graphs: ResultCache | None,
    closed: ClosedRule | None = None,
    key: tuple[Hashable, ...] | None = None,
) -> StreetGraph:
    """The walkable street graph of a box in a metric CRS (cached by the network's data version;
    `key`: its graph_key, when the caller has it already)."""
    closed = closed or WalkRules().closed
    key = key or graph_key(conn, network, box, crs, closed)

    def build() -> StreetGraph:
        streets = load_layer(conn, network, box)
        if not len(streets):
            raise InvalidInput("there are no streets in this area: use mode=crow")
        return walkable_graph(streets, crs, closed)

    if graphs is None:
        return build()
    return graphs.get_or_compute(key, build)[0]


def service_inputs(
    conn: sa.Connection,
    params: ServiceParams,
    area: Area = Area(),
    stairwells: bool = True,
    graphs: ResultCache | None = None,
    progress: Progress = quiet,
    scope: Hashable | None = None,
    homes: gpd.GeoDataFrame | None = None,
    live: LiveAnswers | None = None,
) -> ServiceInputs:
    """Read stairwells of the area, and facilities and streets of the area plus a margin.

    With live answers and the caller's scope, the stairwells as read and projected are kept
    and follow edits (only the written rows are read again), and with a graph cache their
    places on the street graph are kept by their ids and points: a new radius or layer reads
    and snaps no stairwell again, and after an edit that moves none, only the written rows
    are read. `homes`: these stairwells (as read) instead of the area's, nothing kept.
    """
    box = margin_box(conn, area, params.radius_m + SNAP_SLACK_M)
    progress("reading stairwells")
    kept: Homes | None = None
    if stairwells and live is not None and scope is not None and homes is None:
        versions = versions_key(conn, STAIRWELL_TABLES)
        read = lambda: Homes(load_stairwells(conn, area))  # noqa: E731
        refresh = lambda at, was, changes: refreshed_homes(at, was, changes, area)  # noqa: E731
        kept = live.value(conn, ("stairwells", scope, area.key()), versions, read, refresh)[0]
        homes = kept.read
    elif homes is None:
        homes = load_stairwells(conn, area) if stairwells else no_stairwells()
    progress(f"reading {params.layer}")
    facilities = load_layer(conn, params.sources.facilities, box, params.kind)
    if kept is not None and (len(homes) or len(facilities)):
        crs = kept.crs(facilities)
    else:
        crs = pick_crs(homes, facilities) if len(homes) or len(facilities) else CRS.from_epsg(3857)
    projected = kept.projected_to(crs) if kept is not None else homes.to_crs(crs)
    places = facilities.to_crs(crs)
    graph, snapped, entry = None, None, None
    network, rules = params.sources.streets, params.rules
    if params.mode == "network" and network is not None and (len(homes) or len(facilities)):
        progress("building the street graph")
        on_graph = graph_key(conn, network, box, crs, rules.closed) if graphs is not None else ()
        graph = street_graph(conn, network, box, crs, graphs, rules.closed, on_graph)
        if kept is not None and graphs is not None and len(homes):
            snap = lambda: snap_homes(graph, projected, rules.snap)  # noqa: E731
            snap_key = ("snapped", kept.positions(), on_graph, rules.snap)
            snapped = graphs.get_or_compute(snap_key, snap)[0]
        if graphs is not None and len(facilities):
            find = lambda: access_points(graph, places, rules.access, rules.snap)  # noqa: E731
            access_key = ("access", shapes_key(facilities), on_graph, rules.access, rules.snap)
            entry = graphs.get_or_compute(access_key, find)[0]
    lonlat = homes.geometry.to_numpy()
    return ServiceInputs(projected, places, graph, crs, box, lonlat, snapped, entry)


@dataclass(frozen=True)
class Homes:
    """An area's stairwells as read (lon/lat, sorted by id) and projected, by CRS."""

    read: gpd.GeoDataFrame
    projected: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)

    def projected_to(self, crs: CRS) -> gpd.GeoDataFrame:
        """The stairwells in this CRS (projected once)."""
        key = crs.to_string()
        if key not in self.projected:
            self.projected[key] = self.read.to_crs(crs)
        return self.projected[key]

    def crs(self, *others: gpd.GeoDataFrame) -> CRS:
        """pick_crs of the stairwells, then the other layers (the stairwells' zone found once)."""
        if not len(self.read):
            return pick_crs(*others)
        if "crs" not in self.memo:
            self.memo["crs"] = pick_crs(self.read)
        found: CRS = self.memo["crs"]
        return found

    def positions(self) -> tuple[int, str]:
        """positions_key of the stairwells (digested once)."""
        if "positions" not in self.memo:
            self.memo["positions"] = positions_key(self.read)
        found: tuple[int, str] = self.memo["positions"]
        return found


def refreshed_homes(conn: sa.Connection, homes: Homes, changes: Changes, area: Area) -> Homes:
    """Kept stairwells after written rows: those rows read again and spliced in by id."""
    written = written_stairwells(conn, changes)
    if not written:
        return homes
    ids = np.sort(np.fromiter(written, np.int64, len(written)))
    rows = load_stairwells(conn, area, ids=written)
    projected = {key: splice_rows(frame, rows.to_crs(frame.crs), ids)
                 for key, frame in homes.projected.items()}  # fmt: skip
    at = rows_of_ids(homes.read, ids)
    same_places = len(at) == len(rows) == len(ids) and np.array_equal(
        shapely.get_coordinates(homes.read.geometry.to_numpy()[at]),
        shapely.get_coordinates(rows.geometry.to_numpy()),
    )  # then their zone and positions digest hold
    return Homes(splice_rows(homes.read, rows, ids), projected,
                 dict(homes.memo) if same_places else {})  # fmt: skip


def splice_rows(table: pd.DataFrame, rows: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    """A table sorted by id with the rows of these ids replaced by `rows` (sorted by id; an id
    without a row is gone, a new one comes in its place)."""
    at = rows_of_ids(table, ids)
    rows = rows[list(table.columns)]
    replaced = replaced_at(table, at, rows, "id")  # the same stairwells, written
    if replaced is not None:
        return replaced
    keep = np.ones(len(table), bool)
    keep[at] = False
    out = pd.concat([table[keep], rows], ignore_index=True)
    return out.sort_values("id", kind="stable", ignore_index=True)


def positions_key(homes: gpd.GeoDataFrame) -> tuple[int, str]:
    """What places on a graph depend on: the stairwells' ids and points (a digest), so an edit
    that moves no stairwell (households, status...) keeps their snapped places."""
    digest = hashlib.blake2b(homes["id"].to_numpy(np.int64).tobytes(), digest_size=16)
    digest.update(shapely.get_coordinates(homes.geometry.to_numpy()).tobytes())
    return len(homes), digest.hexdigest()


def shapes_key(frame: gpd.GeoDataFrame) -> tuple[int, str]:
    """What a layer's access stretches on a graph depend on: its ids and shapes (a digest)."""
    digest = hashlib.blake2b(frame["id"].to_numpy(np.int64).tobytes(), digest_size=16)
    digest.update(b"".join(shapely.to_wkb(frame.geometry.to_numpy())))
    return len(frame), digest.hexdigest()


def nearest_table(
    inputs: ServiceInputs, params: ServiceParams, progress: Progress = quiet
) -> pd.DataFrame:
    """Per stairwell: nearest facility, distance (m) and minutes at the speed, served, and
    where the walk reaches the facility (access point, lon/lat) or why a stairwell found no way.
    """
    homes, fac = inputs.stairwells, inputs.facilities
    ids = fac["id"].to_numpy(np.int64) if len(fac) else np.zeros(0, np.int64)
    progress("routing" if params.mode == "network" else "nearest neighbours")
    rules = params.rules
    if not len(homes):
        near = pd.DataFrame(
            {"facility_id": pd.array([], dtype="Int64"), "distance": [], "served": []}
        )
    elif params.mode == "network" and inputs.graph is not None and len(fac):
        near = network_nearest(
            inputs.graph, homes, fac, ids, radius=params.radius_m, access=rules.access,
            snap=rules.snap, snapped=inputs.snapped, entry=inputs.access,
        )  # fmt: skip
    else:
        shapes = fac if len(fac) else np.zeros((0, 2))
        near = crow_flies_nearest(homes, shapes, ids, radius=params.radius_m)
    keep = ["id", "building_id", "label", "grid_id", "compound_id", "community_id",
            "subdistrict_id", "district_id", "households", "elderly_households"]  # fmt: skip
    out = pd.DataFrame(homes[keep]).reset_index(drop=True)
    out["facility_id"] = pd.array(near["facility_id"], dtype="Int64")  # an id: 12, never 12.0
    names = facility_names(fac, out["facility_id"].to_numpy())
    out["facility_name"] = names
    dist = near["distance"].to_numpy(np.float64)
    out["distance_m"] = np.where(np.isfinite(dist), np.round(dist, 1), np.nan)
    out["minutes"] = np.round(out["distance_m"] / params.m_per_min, 1)
    out["served"] = near["served"].to_numpy(bool)
    out["access_lon"], out["access_lat"] = access_lonlat(near, inputs.crs)
    out["unsnapped"] = near["unsnapped"].to_numpy() if "unsnapped" in near else None
    lonlat = inputs.lonlat
    out["geometry"] = lonlat if lonlat is not None else homes.to_crs(4326).geometry.to_numpy()
    return out


def written_stairwells(conn: sa.Connection, changes: Changes) -> set[int]:
    """Ids of the stairwells written, and of the stairwells of the buildings written."""
    ids = set(changes.stairwells)
    if changes.buildings:
        found = conn.execute(
            sa.text("SELECT id FROM stairwell WHERE building_id = ANY(:b)"),
            {"b": sorted(changes.buildings)},
        )
        ids.update(int(i) for (i,) in found)
    return ids


@dataclass
class Nearest:
    """A per-stairwell nearest table and the named per-unit shares drawn from it (by level,
    made on demand and kept with it)."""

    table: pd.DataFrame
    shares: dict[str, pd.DataFrame] = field(default_factory=dict)
    unsnapped: dict[str, int] | None = None

    def unsnapped_counts(self) -> dict[str, int]:
        """How many stairwells found no walkable way, by reason (counted once)."""
        if self.unsnapped is None:
            self.unsnapped = by_reason(Counter(reasons_at(self.table)))
        return self.unsnapped

    def unsnapped_after(self, table: pd.DataFrame, was: np.ndarray, now: np.ndarray) -> dict[
        str, int
    ]:
        """The counts of `table`, which differs from this one at most in the rows at `was`
        (here) and `now` (there): those rows' reasons taken out and put back, nothing else
        recounted."""
        counts = Counter(self.unsnapped_counts())
        counts.subtract(reasons_at(self.table, was))
        counts.update(reasons_at(table, now))
        return by_reason(counts)

    def shares_at(self, conn: sa.Connection, level: str) -> pd.DataFrame:
        """Shares served per unit of a level, with the units' names."""
        found = self.shares.get(level)
        if found is None:
            found = with_names(conn, shares_table(self.table, f"{level}_id"), level)
            self.shares[level] = found
        return found


def reasons_at(table: pd.DataFrame, rows: np.ndarray | None = None) -> list[str]:
    """The reasons stairwells (all, or at these rows) found no walkable way (none: found)."""
    if "unsnapped" not in table:
        return []
    picked = (table["unsnapped"].to_numpy(object) if rows is None
              else cells(table, rows, ["unsnapped"])[:, 0])  # fmt: skip
    return [str(v) for v in picked[pd.notna(picked)]]


def by_reason(counts: Counter[str]) -> dict[str, int]:
    """Counts per reason, most first (ties by reason), none of zero."""
    return {k: v for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if v > 0}


def refreshed_shares(
    conn: sa.Connection, before: Nearest, table: pd.DataFrame, written: set[int]
) -> Nearest:
    """The nearest answer on a refreshed table (which differs from the one before only in the
    written stairwells' rows): each kept level's shares changed by those rows only
    (shares_refresh), or re-counted for the units they were in or are in now when a unit
    comes or goes; the unsnapped counts follow those rows too."""
    ids = np.fromiter(written, np.int64, len(written))
    was, is_ = rows_of_ids(before.table, ids), rows_of_ids(table, ids)
    now = Nearest(table, unsnapped=before.unsnapped_after(table, was, is_))
    for level, shares in list(before.shares.items()):  # a request may add a level
        col = f"{level}_id"
        units, change = unit_changes(before.table, was, table, is_, col)
        changed = shares_changed_by(shares, col, units, change)
        now.shares[level] = changed if changed is not None else recounted_shares(
            conn, table, shares, level, {None if pd.isna(u) else int(u) for u in units}
        )
    return now


def recounted_shares(
    conn: sa.Connection, table: pd.DataFrame, shares: pd.DataFrame, level: str,
    units: set[int | None],
) -> pd.DataFrame:  # fmt: skip
    """A level's shares with these units' rows counted again from the nearest table."""
    col = f"{level}_id"
    unit_ids = table[col].to_numpy(np.float64, na_value=np.nan)  # NaN: no unit
    inside = np.isin(unit_ids, [u for u in units if u is not None])
    if None in units:
        inside |= np.isnan(unit_ids)
    rows = np.flatnonzero(inside)  # the touched units' stairwells: only what shares count
    touched = pd.DataFrame({c: table[c].array[rows] for c in (col, *SHARE_INPUTS)})
    fresh = with_names(conn, shares_table(touched, col), level, named=shares)
    return splice_units(shares, fresh, col, units)


def rows_of_ids(table: pd.DataFrame, ids: np.ndarray) -> np.ndarray:
    """Positions of the rows with these ids in a table sorted by id (ids it lacks left out)."""
    known = table["id"].to_numpy(np.int64)
    at = np.minimum(np.searchsorted(known, ids), max(len(known) - 1, 0))
    return at[known[at] == ids] if len(known) else np.empty(0, np.int64)


ROUTED = ("facility_id", "facility_name", "distance_m", "minutes", "served", "access_lon",
          "access_lat", "unsnapped")  # fmt: skip
"""Columns of a nearest table that come from the walk (the rest are the stairwell's own)."""


def refreshed_nearest(
    conn: sa.Connection,
    near: pd.DataFrame,
    written: set[int],
    params: ServiceParams,
    area: Area = Area(),
    graphs: ResultCache | None = None,
) -> pd.DataFrame:
    """A nearest table (sorted by stairwell id) after these stairwells were written
    (written_stairwells): they are re-read; those that stayed put keep their walk, moved or new
    ones are routed, gone ones leave."""
    rows = stairwell_rows(conn, area, ids=written)
    known = near["id"].to_numpy(np.int64)
    read = rows.column("id").astype(np.int64)
    at = np.minimum(np.searchsorted(known, read), max(len(known) - 1, 0))
    present = known[at] == read if len(known) else np.zeros(len(read), bool)
    same_place = present.copy()
    if present.any():
        before = shapely.get_coordinates(np.asarray(near["geometry"].array[at[present]]))
        now = shapely.get_coordinates(shapely.from_wkb(rows.column("geom")[present]))
        same_place[present] = (before == now).all(axis=1)
    stay = at[same_place]
    own = [c for c in near.columns if c not in ROUTED and c != "geometry"]
    now_values = {c: rows.column(c)[same_place] for c in own}  # as read
    out = with_values_at(near, stay, now_values) if len(stay) else near.copy(deep=False)
    gone = np.setdiff1d(np.fromiter(written, np.int64, len(written)), read[same_place])
    if not len(gone) and same_place.all():
        return out
    out = out[~np.isin(known, gone)]
    moved = geoframe_of(rows.frame(~same_place), STAIRWELL_TYPES)
    if len(moved):
        inputs = service_inputs(conn, params, area, graphs=graphs, homes=moved)
        out = pd.concat([out, nearest_table(inputs, params)[list(out.columns)]])
    return out.sort_values("id", kind="stable", ignore_index=True)


def facility_names(fac: gpd.GeoDataFrame, facility_ids: np.ndarray) -> pd.Categorical:
    """The name of each facility id (missing where there is no facility or name), vectorised:
    a sorted lookup of the ids coding the distinct names (no million-row reindex or texts)."""
    if not len(fac) or "name" not in fac.columns:
        return pd.Categorical.from_codes(np.full(len(facility_ids), -1), categories=[])
    codes = np.full(len(facility_ids), -1, dtype=np.int64)
    ids = fac["id"].to_numpy(np.int64)
    order = np.argsort(ids, kind="stable")
    name_codes, categories = pd.factorize(fac["name"].to_numpy(object))  # None: code -1
    found = np.flatnonzero(pd.notna(facility_ids))
    wanted = np.asarray(facility_ids[found], dtype=np.int64)
    at = np.minimum(np.searchsorted(ids, wanted, sorter=order), len(ids) - 1)
    known = ids[order[at]] == wanted
    codes[found[known]] = name_codes[order[at[known]]]
    return pd.Categorical.from_codes(codes, categories=categories)


def access_lonlat(near: pd.DataFrame, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """The access points of a network answer in lon/lat (NaN where there is none)."""
    n = len(near)
    if "access_x" not in near or not n:
        return np.full(n, np.nan), np.full(n, np.nan)
    x, y = near["access_x"].to_numpy(np.float64), near["access_y"].to_numpy(np.float64)
    found = np.isfinite(x)
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    if found.any():
        # Many stairwells enter a facility at the same point: each point projected once.
        which, points = pd.factorize(x[found] + 1j * y[found])
        to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
        lon_found, lat_found = to_lonlat.transform(points.real, points.imag)
        lon[found] = np.round(np.asarray(lon_found), 7)[which]
        lat[found] = np.round(np.asarray(lat_found), 7)[which]
    return lon, lat


SHARE_INPUTS = ("served", "households", "elderly_households")
"""The columns of a nearest table that shares_table counts (besides the level's)."""


def shares_table(near: pd.DataFrame, level_col: str) -> pd.DataFrame:
    """Per level: stairwells, households and elderly households served, and their shares."""
    return served_shares(near, near["served"].to_numpy(bool), level_col)


def gaps_table(near: pd.DataFrame, level_col: str) -> pd.DataFrame:
    """Per level: stairwells, households and elderly households not served, and shares."""
    return gaps_of_shares(shares_table(near, level_col), level_col)


def gaps_of_shares(shares: pd.DataFrame, level_col: str) -> pd.DataFrame:
    """The gaps table of a shares table (its unit names kept, when it has them)."""
    out = pd.DataFrame({level_col: shares[level_col]})
    if "name" in shares.columns:
        out["name"] = shares["name"]
    for name in ("stairwells", "households", "elderly_households"):
        out[name] = shares[name]
        out[f"unserved_{name}"] = shares[name] - shares[f"served_{name}"]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"share_unserved_{name}"] = out[f"unserved_{name}"] / shares[name]
    return out


def lonlat_shapes(shapes: np.ndarray, crs: Any) -> np.ndarray:
    """Shapes projected to lon/lat and rounded to 6 decimals (about 0.1 m, RFC 7946: the GeoJSON
    answer 40 % smaller), the few that this leaves self-touching repaired; in halves on threads
    (pyproj and GEOS let go of the GIL)."""

    def part(start: int, stop: int) -> np.ndarray:
        chunk = shapes[start:stop]
        to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)  # one per thread

        def project(xy: np.ndarray) -> np.ndarray:
            lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
            return np.round(np.column_stack([lon, lat]), 6)

        out = shapely.transform(chunk, project)
        broken = ~shapely.is_valid(out)
        out[broken] = shapely.make_valid(out[broken], method="structure", keep_collapsed=False)
        return out

    return np.concatenate(in_parts(part, shapes.size, min(2, shapes.size)))


def area_frame(
    inputs: ServiceInputs, params: ServiceParams, per_facility: bool, buffer_m: float
) -> gpd.GeoDataFrame:
    """Service-area polygons in lon/lat: reached streets buffered, or circles crow-flies."""
    fac = inputs.facilities
    if not len(fac):
        return gpd.GeoDataFrame({"facility_id": [], "street_length_m": []}, geometry=[], crs=4326)
    ids = fac["id"].to_numpy(np.int64)
    if params.mode == "network" and inputs.graph is not None:
        rules = params.rules
        out = service_areas(
            inputs.graph, fac, params.radius_m, ids, buffer_m, per_facility,
            access=rules.access, snap=rules.snap, entry=inputs.access,
        )  # fmt: skip
    else:
        circles = shapely.buffer(fac.geometry.to_numpy(), params.radius_m, quad_segs=16)
        geoms: Any = circles if per_facility else [shapely.union_all(circles)]
        out = gpd.GeoDataFrame(
            {"facility_id": list(ids) if per_facility else [None], "street_length_m": np.nan},
            geometry=geoms,
            crs=inputs.crs,
        )
    out = out.set_geometry(lonlat_shapes(out.geometry.to_numpy(), out.crs), crs=4326)
    if per_facility and len(out):
        meta = fac.set_index("id")
        for col in ("name", "kind"):
            if col in meta.columns:
                out[col] = meta[col].reindex(out["facility_id"].to_numpy()).to_numpy()
    out["layer"] = params.layer
    out["radius_m"] = params.radius_m
    out["mode"] = params.mode
    return out
