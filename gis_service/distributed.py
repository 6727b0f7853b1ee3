"""Coverage and service radii for many districts at once on Dask, one partition per district.

Each partition is one district's stairwells with the streets (and, along streets, the
facilities) within the radius plus BORDER_SLACK_M around them, so a stairwell near a district
edge is served by a facility on the other side. A partition is read once, on a worker, and
stays there: the coverage and nearest-facility tasks of the same district run where it lives
and take it as their input (no task re-reads it). Workers connect to PostGIS from their own
settings (GIS_DATABASE_URL or their managed cluster, one engine per worker process): no
database URL or password travels with a task. They run the same pure engine functions as a
single process, in the city's one metric CRS, and the parent gathers the parts into one frame
equal to the single-process one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
from pyproj import CRS

from gis_service.analysis.coverage import Eligibility, coverage
from gis_service.analysis.crs import utm_crs
from gis_service.analysis.network import StreetGraph
from gis_service.datasets.area import Area, Box, expand
from gis_service.datasets.load import (
    STAIRWELL_FROM,
    STAIRWELL_SQL,
    load_layer,
    load_stairwells,
    read_geoframe,
)
from gis_service.datasets.params import ServiceParams
from gis_service.datasets.runs import ServiceInputs, nearest_table, walkable_graph
from gis_service.db.engine import create_db_engine, resolve_database_url
from gis_service.errors import InvalidInput

BORDER_SLACK_M = 200.0
"""Metres read beyond the radius around a district (snapping legs, streets bending back)."""
DISTRICTS_SQL = """
SELECT DISTINCT sd.district_id
FROM stairwell s
LEFT JOIN grid g ON g.id = s.grid_id
LEFT JOIN compound c ON c.id = s.compound_id
LEFT JOIN community cm ON cm.id = coalesce(g.community_id, c.community_id)
LEFT JOIN subdistrict sd ON sd.id = cm.subdistrict_id
ORDER BY 1
"""
EXTENT_SQL = (
    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
    "FROM (SELECT ST_Extent(geom) AS e FROM {table}) x"
)


@contextmanager
def dask_client(scheduler: str | None = None, n_workers: int = 2) -> Iterator[Any]:
    """A client of the scheduler at `scheduler` (tcp://host:8786), else of a LocalCluster."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def district_partitions(conn: sa.Connection) -> list[int | None]:
    """The districts holding stairwells (None for stairwells outside the hierarchy)."""
    return [None if d is None else int(d) for (d,) in conn.execute(sa.text(DISTRICTS_SQL))]


def city_crs(conn: sa.Connection, params: ServiceParams) -> CRS:
    """The metric CRS the single-process run picks for the whole city (stairwells first)."""
    for table in ("stairwell", params.sources.facilities.table):
        row = conn.execute(sa.text(EXTENT_SQL.format(table=table))).one()
        if row[0] is not None:
            return utm_crs((float(row[0]) + float(row[2])) / 2, (float(row[1]) + float(row[3])) / 2)
    raise InvalidInput("there is no data in this area to analyse")


def partition_stairwells(conn: sa.Connection, district: int | None) -> gpd.GeoDataFrame:
    """One district's stairwells (the same frame as load_stairwells)."""
    if district is not None:
        return load_stairwells(conn, Area(district_id=district))
    outside = " WHERE sd.district_id IS NULL ORDER BY s.id"
    frame = read_geoframe(conn, STAIRWELL_SQL + STAIRWELL_FROM + outside, {})
    for col in ("floors", "building_floors", "households", "elderly_households"):
        frame[col] = pd.to_numeric(frame[col]).astype(np.int64) if len(frame) else frame[col]
    frame["has_original_elevator"] = frame["has_original_elevator"].astype(bool)
    return frame


_ENGINE: list[sa.Engine] = []
"""This process's engine, made from its own settings on first use."""


def own_engine() -> sa.Engine:
    """The engine of this (worker) process, from its settings: GIS_DATABASE_URL or the managed
    cluster (never a URL sent by the scheduler)."""
    if not _ENGINE:
        from gis_service.settings import get_settings

        settings = get_settings()
        _ENGINE.append(create_db_engine(resolve_database_url(settings, start=False), settings))
    return _ENGINE[0]


def _with_connection(work: Callable[[sa.Connection], Any]) -> Any:
    with own_engine().begin() as conn:
        return work(conn)


@dataclass
class Partition:
    """One district's inputs as read once on a worker: stairwells, and what the radius needs."""

    district: int | None
    stairwells: gpd.GeoDataFrame
    inputs: ServiceInputs | None = None


def read_partition(
    district: int | None, params: ServiceParams | None, crs_text: str | None
) -> Partition:
    """A district's stairwells (and, with params, its facilities and street graph), read once."""

    def read(conn: sa.Connection) -> Partition:
        homes = partition_stairwells(conn, district)
        if params is None or crs_text is None:
            return Partition(district, homes)
        crs = CRS.from_user_input(crs_text)
        return Partition(district, homes, partition_inputs(conn, homes, params, crs))

    result: Partition = _with_connection(read)
    return result


def coverage_part(
    part: Partition, level: str, statuses: Sequence[str], rule: Eligibility
) -> pd.DataFrame:
    """Coverage of one district's stairwells (the counts combine across districts)."""
    return coverage(part.stairwells, level, statuses, rule)


def combine_coverage(parts: list[pd.DataFrame], level: str) -> pd.DataFrame:
    """Per-district coverage parts summed per unit, shares recomputed as coverage() does."""
    frame = pd.concat(parts, ignore_index=True)
    counts = [c for c in frame.columns if c != level and "share_" not in c]
    out = frame.groupby(level, sort=True, dropna=False)[counts].sum()
    for col in counts:
        if col.startswith("in_service_"):
            name = col[len("in_service_") :]
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"share_{name}"] = out[col] / out[f"eligible_{name}"]
    return out.reset_index()[list(parts[0].columns)]


def partition_inputs(
    conn: sa.Connection, homes: gpd.GeoDataFrame, params: ServiceParams, crs: CRS
) -> ServiceInputs:
    """A district's stairwells, the facilities and streets within radius + slack around them."""
    w, s, e, n = (float(v) for v in homes.total_bounds)
    box: Box = expand((w, s, e, n), params.radius_m + BORDER_SLACK_M)
    source = params.sources.facilities
    if params.mode == "crow":  # the single process reports the nearest one however far
        facilities = load_layer(conn, source, None, params.kind)
    else:
        facilities = load_layer(conn, source, box, params.kind)
    graph: StreetGraph | None = None
    if params.mode == "network" and params.sources.streets is not None:
        streets = load_layer(conn, params.sources.streets, box)
        if not len(streets):
            raise InvalidInput("there are no streets in this area: use mode=crow")
        graph = walkable_graph(streets, crs, params.rules.closed)
    lonlat = homes.geometry.to_numpy()
    return ServiceInputs(homes.to_crs(crs), facilities.to_crs(crs), graph, crs, box, lonlat)


def nearest_part(part: Partition, params: ServiceParams) -> pd.DataFrame:
    """Per stairwell of one district: nearest facility, distance (m) and served flag."""
    assert part.inputs is not None, "the partition was read without service parameters"
    return nearest_table(part.inputs, params)


def partitions(
    client: Any, conn: sa.Connection, params: ServiceParams | None = None
) -> list[Any]:
    """Futures of every district's partition, each read once on a worker (and kept there);
    the plan (districts, the city's CRS) read on the caller's connection."""
    districts = district_partitions(conn)
    crs = None if params is None else city_crs(conn, params)
    if not districts:
        raise InvalidInput("there are no stairwells to analyse")
    crs_text = None if crs is None else crs.to_string()
    return [client.submit(read_partition, d, params, crs_text, pure=False) for d in districts]


def coverage_all(
    client: Any,
    conn: sa.Connection,
    level: str,
    rule: Eligibility = Eligibility(),
    parts: list[Any] | None = None,
) -> pd.DataFrame:
    """Coverage per level over every district, one Dask task per district partition."""
    from gis_service.datasets.load import statuses as read_statuses

    pipeline = read_statuses(conn)
    parts = parts if parts is not None else partitions(client, conn)
    futures = [client.submit(coverage_part, p, level, pipeline, rule, pure=False) for p in parts]
    return combine_coverage(list(client.gather(futures)), level)


def nearest_all(
    client: Any, conn: sa.Connection, params: ServiceParams, parts: list[Any] | None = None
) -> pd.DataFrame:
    """Per stairwell of every district: nearest facility and distance, one task per partition
    (partitions read with these parameters' radius and mode)."""
    parts = parts if parts is not None else partitions(client, conn, params)
    futures = [client.submit(nearest_part, p, params, pure=False) for p in parts]
    out = pd.concat(list(client.gather(futures)), ignore_index=True)
    return out.sort_values("id", kind="stable").reset_index(drop=True)
