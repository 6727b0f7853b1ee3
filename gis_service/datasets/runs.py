"""Analysis runs over data read from PostGIS: coverage, nearest service, gaps, service areas."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from pyproj import CRS, Transformer

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
from gis_service.analysis.walkable import ClosedRule, walkable
from gis_service.datasets.area import Area, Box, area_box, margin_box
from gis_service.datasets.cache import STAIRWELL_TABLES, ResultCache, versions_key
from gis_service.datasets.coverage import coverage_in_sql
from gis_service.datasets.load import (
    LayerSource,
    level_names,
    load_layer,
    load_stairwells,
    no_stairwells,
    statuses,
)
from gis_service.datasets.params import ServiceParams, WalkRules, bad
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


def with_names(conn: sa.Connection, frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """The table with each unit's name next to its id (level: grid, compound, ...)."""
    col = f"{level}_id"
    names = level_names(conn, level, [int(i) for i in frame[col].dropna().tolist()])
    out = frame.copy()
    out.insert(1, "name", [names.get(int(i)) if pd.notna(i) else None for i in out[col]])
    return out


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
) -> StreetGraph:
    """The walkable street graph of a box in a metric CRS (cached by the network's data version)."""
    closed = closed or WalkRules().closed
    key = graph_key(conn, network, box, crs, closed)

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
) -> ServiceInputs:
    """Read stairwells of the area, and facilities and streets of the area plus a margin.

    With a graph cache and the caller's scope, the stairwells as read and projected are kept by
    the data versions they come from, and their places on the street graph by their ids and
    points: a new radius or layer on unchanged stairwells reads and snaps none again, and an
    edit that moves no stairwell re-reads them but snaps none again.
    """
    box = margin_box(conn, area, params.radius_m + SNAP_SLACK_M)
    progress("reading stairwells")
    kept = stairwells and graphs is not None and scope is not None
    homes_key = ("stairwells", scope, versions_key(conn, STAIRWELL_TABLES), area.key())
    if kept:
        assert graphs is not None
        homes = graphs.get_or_compute(homes_key, lambda: load_stairwells(conn, area))[0]
    else:
        homes = load_stairwells(conn, area) if stairwells else no_stairwells()
    progress(f"reading {params.layer}")
    facilities = load_layer(conn, params.sources.facilities, box, params.kind)
    crs = pick_crs(homes, facilities) if len(homes) or len(facilities) else CRS.from_epsg(3857)
    projected = (
        graphs.get_or_compute((*homes_key, crs.to_string()), lambda: homes.to_crs(crs))[0]
        if kept and graphs is not None
        else homes.to_crs(crs)
    )
    graph, snapped = None, None
    network = params.sources.streets
    if params.mode == "network" and network is not None and (len(homes) or len(facilities)):
        progress("building the street graph")
        closed = params.rules.closed
        graph = street_graph(conn, network, box, crs, graphs, closed)
        if kept and graphs is not None and len(homes):
            snap_key = ("snapped", positions_key(projected),
                        graph_key(conn, network, box, crs, closed), params.rules.snap)  # fmt: skip
            snap = lambda: snap_homes(graph, projected, params.rules.snap)  # noqa: E731
            snapped = graphs.get_or_compute(snap_key, snap)[0]
    lonlat = homes.geometry.to_numpy()
    return ServiceInputs(projected, facilities.to_crs(crs), graph, crs, box, lonlat, snapped)


def positions_key(homes: gpd.GeoDataFrame) -> tuple[int, str]:
    """What places on a graph depend on: the stairwells' ids and points (a digest), so an edit
    that moves no stairwell (households, status...) keeps their snapped places."""
    digest = hashlib.blake2b(homes["id"].to_numpy(np.int64).tobytes(), digest_size=16)
    digest.update(shapely.get_coordinates(homes.geometry.to_numpy()).tobytes())
    return len(homes), digest.hexdigest()


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
            snap=rules.snap, snapped=inputs.snapped,
        )  # fmt: skip
    else:
        shapes = fac if len(fac) else np.zeros((0, 2))
        near = crow_flies_nearest(homes, shapes, ids, radius=params.radius_m)
    keep = ["id", "building_id", "label", "grid_id", "compound_id", "community_id",
            "subdistrict_id", "district_id", "households", "elderly_households"]  # fmt: skip
    out = pd.DataFrame(homes[keep]).reset_index(drop=True)
    out["facility_id"] = near["facility_id"].to_numpy()
    out["facility_name"] = facility_names(fac, out["facility_id"].to_numpy())
    dist = near["distance"].to_numpy(np.float64)
    out["distance_m"] = np.where(np.isfinite(dist), np.round(dist, 1), np.nan)
    out["minutes"] = np.round(out["distance_m"] / params.m_per_min, 1)
    out["served"] = near["served"].to_numpy(bool)
    out["access_lon"], out["access_lat"] = access_lonlat(near, inputs.crs)
    out["unsnapped"] = near["unsnapped"].to_numpy() if "unsnapped" in near else None
    lonlat = inputs.lonlat
    out["geometry"] = lonlat if lonlat is not None else homes.to_crs(4326).geometry.to_numpy()
    return out


def facility_names(fac: gpd.GeoDataFrame, facility_ids: np.ndarray) -> np.ndarray:
    """The name of each facility id (None where there is no facility or name), vectorised."""
    names = np.full(len(facility_ids), None, dtype=object)
    if not len(fac) or "name" not in fac.columns:
        return names
    known = pd.Series(fac["name"].to_numpy(object), index=fac["id"].to_numpy(np.int64))
    known = known[~known.index.duplicated()]
    found = pd.notna(facility_ids)
    looked = known.reindex(np.asarray(facility_ids[found], dtype=np.int64)).to_numpy(object)
    names[found] = np.where(pd.isna(looked), None, looked)
    return names


def access_lonlat(near: pd.DataFrame, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """The access points of a network answer in lon/lat (NaN where there is none)."""
    n = len(near)
    if "access_x" not in near or not n:
        return np.full(n, np.nan), np.full(n, np.nan)
    x, y = near["access_x"].to_numpy(np.float64), near["access_y"].to_numpy(np.float64)
    found = np.isfinite(x)
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    if found.any():
        to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
        lon_found, lat_found = to_lonlat.transform(x[found], y[found])
        lon[found], lat[found] = np.round(lon_found, 7), np.round(lat_found, 7)
    return lon, lat


def shares_table(near: pd.DataFrame, level_col: str) -> pd.DataFrame:
    """Per level: stairwells, households and elderly households served, and their shares."""
    return served_shares(near, near["served"].to_numpy(bool), level_col)


def gaps_table(near: pd.DataFrame, level_col: str) -> pd.DataFrame:
    """Per level: stairwells, households and elderly households not served, and shares."""
    shares = shares_table(near, level_col)
    out = pd.DataFrame({level_col: shares[level_col]})
    for name in ("stairwells", "households", "elderly_households"):
        out[name] = shares[name]
        out[f"unserved_{name}"] = shares[name] - shares[f"served_{name}"]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"share_unserved_{name}"] = out[f"unserved_{name}"] / shares[name]
    return out


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
            access=rules.access, snap=rules.snap,
        )  # fmt: skip
    else:
        circles = shapely.buffer(fac.geometry.to_numpy(), params.radius_m, quad_segs=16)
        geoms: Any = circles if per_facility else [shapely.union_all(circles)]
        out = gpd.GeoDataFrame(
            {"facility_id": list(ids) if per_facility else [None], "street_length_m": np.nan},
            geometry=geoms,
            crs=inputs.crs,
        )
    out = out.to_crs(4326)
    # 6 decimals (about 0.1 m, RFC 7946) make the GeoJSON answer 40 % smaller; the few
    # polygons that reprojection or rounding leaves self-touching are repaired
    shapes = shapely.transform(out.geometry.to_numpy(), lambda xy: np.round(xy, 6))
    broken = ~shapely.is_valid(shapes)
    shapes[broken] = shapely.make_valid(shapes[broken], method="structure", keep_collapsed=False)
    out = out.set_geometry(shapes, crs=4326)
    if per_facility and len(out):
        meta = fac.set_index("id")
        for col in ("name", "kind"):
            if col in meta.columns:
                out[col] = meta[col].reindex(out["facility_id"].to_numpy()).to_numpy()
    out["layer"] = params.layer
    out["radius_m"] = params.radius_m
    out["mode"] = params.mode
    return out
