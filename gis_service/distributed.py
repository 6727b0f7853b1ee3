"""Coverage and service radii for many districts at once on Dask, partitioned by district.

A partition is a compact group of neighbouring districts (one per worker, up to
PARTS_PER_WORKER in a big city; of about equal stairwells, so the margins read twice stay
small against what is read once):
its stairwells with the streets (and, along streets, the facilities) within the radius plus
BORDER_SLACK_M around them, so a stairwell near a group's edge is served by a facility on the
other side. A partition is read once, on a worker, and stays there: the coverage and
nearest-facility tasks of the same partition run where it lives and take it as their input
(no task re-reads it), and send back counts (coverage) or columns with points as WKB. Workers
connect to PostGIS from their own settings (GIS_DATABASE_URL or their managed cluster, one
engine per worker process): no database URL or password travels with a task. They run the
same pure engine functions as a single process, in the city's one metric CRS, and the parent
gathers the parts into one frame equal to the single-process one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from pandas.api.types import union_categoricals
from pyproj import CRS

from gis_service.analysis.coverage import Eligibility, eligible
from gis_service.analysis.crs import utm_crs
from gis_service.analysis.network import StreetGraph
from gis_service.datasets.area import Box, expand
from gis_service.datasets.coverage import coverage_of_counts
from gis_service.datasets.load import (
    STAIRWELL_FROM,
    STAIRWELL_SQL,
    STAIRWELL_TYPES,
    load_layer,
    read_geoframe,
)
from gis_service.datasets.params import ServiceParams
from gis_service.datasets.runs import ServiceInputs, nearest_table, walkable_graph
from gis_service.db.engine import create_db_engine, resolve_database_url
from gis_service.errors import InvalidInput
from gis_service.gc_policy import hold_big_data

BORDER_SLACK_M = 200.0
"""Metres read beyond the radius around a partition (snapping legs, streets bending back)."""
PARTS_PER_WORKER = 2
"""Partitions per worker thread in a big city: enough to balance, few enough that margins
stay small."""
PART_STAIRWELLS = 250_000
"""Stairwells a partition holds at least, unless it is a worker thread's only one: below
that, the margins read twice cost more than a finer balance saves."""
DISTRICTS_SQL = """
WITH per_unit AS (
  SELECT grid_id, compound_id, count(*) AS n, ST_Extent(geom) AS box
  FROM stairwell GROUP BY 1, 2)
SELECT sd.district_id, sum(u.n)::int8, min(ST_XMin(u.box)), min(ST_YMin(u.box)),
       max(ST_XMax(u.box)), max(ST_YMax(u.box))
FROM per_unit u
LEFT JOIN grid g ON g.id = u.grid_id
LEFT JOIN compound c ON c.id = u.compound_id
LEFT JOIN community cm ON cm.id = coalesce(g.community_id, c.community_id)
LEFT JOIN subdistrict sd ON sd.id = cm.subdistrict_id
GROUP BY 1 ORDER BY 1
"""
"""Stairwells and their bounds per district, counted per grid and compound first (the
hierarchy joined to some ten thousand units, not to every stairwell: 0.64 -> 0.34 s at 1M)."""


LEAN_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.scheduler.work-stealing": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}
"""Dask settings of the local cluster: no statistical profiler sampling every task thread each
10 ms, no work stealing (a partition's tasks run where it lives), event-loop and
system monitors polled every second or five rather than every 20 to 500 ms."""


@contextmanager
def local_cluster(n_workers: int = 2) -> Iterator[Any]:
    """A LocalCluster of n_workers single-threaded worker processes with LEAN_CONFIG."""
    import dask
    from dask.distributed import LocalCluster

    with (
        dask.config.set(LEAN_CONFIG),  # read by the nannies and the workers they start
        LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
    ):
        yield cluster


def collector_policy() -> Any:
    """A worker plugin giving each worker, as it starts, the collector policy of a process
    holding a city (gc_policy.hold_big_data): workers read and keep partitions of it."""
    from dask.distributed import WorkerPlugin

    class CollectorPolicy(WorkerPlugin):
        name = "gis-collector-policy"

        def setup(self, worker: Any) -> None:
            hold_big_data()

    return CollectorPolicy()


@contextmanager
def dask_client(scheduler: str | None = None, n_workers: int = 2) -> Iterator[Any]:
    """A client of the scheduler at `scheduler` (tcp://host:8786), else of a local cluster;
    its workers hold big data as one process does (collector_policy)."""
    from dask.distributed import Client

    with (Client(scheduler) if scheduler else _local_client(n_workers)) as client:
        client.register_plugin(collector_policy())
        yield client


@contextmanager
def _local_client(n_workers: int) -> Iterator[Any]:
    from dask.distributed import Client

    with local_cluster(n_workers) as cluster, Client(cluster) as client:
        yield client


@dataclass(frozen=True)
class District:
    """A district holding stairwells (id None: stairwells outside the hierarchy), its
    stairwell count and their bounds in lon/lat."""

    id: int | None
    stairwells: int
    bounds: Box

    @property
    def x(self) -> float:
        """Longitude of the centre of its stairwells' bounds."""
        return (self.bounds[0] + self.bounds[2]) / 2

    @property
    def y(self) -> float:
        """Latitude of the centre of its stairwells' bounds."""
        return (self.bounds[1] + self.bounds[3]) / 2


def city_districts(conn: sa.Connection) -> list[District]:
    """The districts holding stairwells, with their sizes and bounds (one scan)."""
    rows = conn.execute(sa.text(DISTRICTS_SQL))
    return [
        District(
            None if d is None else int(d), int(count), (float(w), float(s), float(e), float(n))
        )
        for d, count, w, s, e, n in rows
    ]


def district_partitions(conn: sa.Connection) -> list[int | None]:
    """The districts holding stairwells (None for stairwells outside the hierarchy)."""
    return [d.id for d in city_districts(conn)]


def district_groups(districts: list[District], count: int) -> list[tuple[int | None, ...]]:
    """The districts in about `count` compact groups of about equal stairwells: halved again
    and again across the longer side of their centres at the weighted median; stairwells
    outside the hierarchy (anywhere) are a group of their own."""
    inside = [d for d in districts if d.id is not None]
    groups = (
        [tuple(d.id for d in part) for part in _halves(inside, max(1, count))] if inside else []
    )
    return groups + [(None,) for d in districts if d.id is None]


def _halves(districts: list[District], count: int) -> list[list[District]]:
    if count <= 1 or len(districts) <= 1:
        return [districts]
    xs, ys = [d.x for d in districts], [d.y for d in districts]
    wide = (max(xs) - min(xs)) * np.cos(np.radians(np.mean(ys))) >= max(ys) - min(ys)
    ordered = sorted(districts, key=lambda d: (d.x, d.y) if wide else (d.y, d.x))
    left = count // 2
    weights = np.cumsum([d.stairwells for d in ordered])
    cut = int(np.searchsorted(weights, weights[-1] * left / count))
    cut = min(max(cut, 1), len(ordered) - 1)
    return _halves(ordered[:cut], left) + _halves(ordered[cut:], count - left)


def city_crs(districts: list[District]) -> CRS:
    """The metric CRS the single-process run picks for the whole city: the UTM zone of the
    centre of its stairwells' bounds."""
    w, s = min(d.bounds[0] for d in districts), min(d.bounds[1] for d in districts)
    e, n = max(d.bounds[2] for d in districts), max(d.bounds[3] for d in districts)
    return utm_crs((w + e) / 2, (s + n) / 2)


GROUP_SQL = """ WHERE sd.district_id = ANY(%(districts)s) AND (
 s.grid_id = ANY(ARRAY(SELECT u.id FROM grid u JOIN community uc ON uc.id = u.community_id
   JOIN subdistrict us ON us.id = uc.subdistrict_id WHERE us.district_id = ANY(%(districts)s)))
 OR s.compound_id = ANY(ARRAY(SELECT u.id FROM compound u
   JOIN community uc ON uc.id = u.community_id
   JOIN subdistrict us ON us.id = uc.subdistrict_id WHERE us.district_id = ANY(%(districts)s))))"""
"""The stairwells of some districts. Each is in a grid or compound of its districts (its
community comes from its grid, else its compound): their indexes find a group's stairwells
without joining the whole stairwell table once per group."""


def partition_stairwells(conn: sa.Connection, group: tuple[int | None, ...]) -> gpd.GeoDataFrame:
    """A group of districts' stairwells (the frame load_stairwells gives for a district)."""
    if group == (None,):
        where, params = " WHERE sd.district_id IS NULL", {}
    else:
        where, params = GROUP_SQL, {"districts": [int(d) for d in group if d is not None]}
    sql = STAIRWELL_SQL + STAIRWELL_FROM + where + " ORDER BY s.id"
    return read_geoframe(conn, sql, params, STAIRWELL_TYPES)


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
    """A group of districts' inputs as read once on a worker: stairwells, what the radius
    needs."""

    group: tuple[int | None, ...]
    stairwells: gpd.GeoDataFrame
    inputs: ServiceInputs | None = None


def read_partition(
    group: tuple[int | None, ...], params: ServiceParams | None, crs_text: str | None
) -> Partition:
    """Districts' stairwells (and, with params, their facilities and street graph), read once."""

    def read(conn: sa.Connection) -> Partition:
        homes = partition_stairwells(conn, group)
        if params is None or crs_text is None:
            return Partition(group, homes)
        crs = CRS.from_user_input(crs_text)
        return Partition(group, homes, partition_inputs(conn, homes, params, crs))

    result: Partition = _with_connection(read)
    return result


COUNT_COLUMNS = ["unit", "status", "ok", "n", "households", "elderly"]
"""Coverage counts of a part, as datasets.coverage.coverage_of_counts takes them."""


def coverage_part(part: Partition, level: str, rule: Eligibility) -> pd.DataFrame:
    """A partition's stairwells counted per unit, status and eligibility (a few rows per
    unit: the parts add up, the parent derives shares and funnel once)."""
    homes = part.stairwells
    counts = pd.DataFrame({
        "unit": homes[level].array, "status": homes["elevator_status"].to_numpy(object),
        "ok": eligible(homes, rule).to_numpy(bool), "n": np.ones(len(homes), np.int64),
        "households": homes["households"].to_numpy(np.int64),
        "elderly": homes["elderly_households"].to_numpy(np.int64),
    })  # fmt: skip
    keys = ["unit", "status", "ok"]
    return counts.groupby(keys, sort=False, dropna=False).sum().reset_index()[COUNT_COLUMNS]


def combine_coverage(
    parts: list[pd.DataFrame], level: str, statuses: list[str], rule: Eligibility
) -> pd.DataFrame:
    """Coverage per level from every partition's counts (the single process's table)."""
    counts = pd.concat(parts, ignore_index=True)
    counts["unit"] = counts["unit"].astype("Int64")
    return coverage_of_counts(counts, level, statuses, rule)


def partition_inputs(
    conn: sa.Connection, homes: gpd.GeoDataFrame, params: ServiceParams, crs: CRS
) -> ServiceInputs:
    """A partition's stairwells, the facilities and streets within radius + slack around them."""
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
    """Per stairwell of a partition: nearest facility, distance (m) and served flag, its
    points as WKB (one vectorised call each way, where pickling shapely objects one by one
    cost more than the routing)."""
    assert part.inputs is not None, "the partition was read without service parameters"
    out = nearest_table(part.inputs, params)
    out["geometry"] = shapely.to_wkb(out["geometry"].to_numpy())
    return out


def partition_count(districts: list[District], threads: int) -> int:
    """How many partitions: one per worker thread, up to PARTS_PER_WORKER each as the city
    has PART_STAIRWELLS for each."""
    threads = max(1, threads)
    big_enough = sum(d.stairwells for d in districts) // PART_STAIRWELLS
    return max(threads, min(PARTS_PER_WORKER * threads, big_enough))


def partitions(
    client: Any, conn: sa.Connection, params: ServiceParams | None = None, count: int | None = None
) -> list[Any]:
    """Futures of the partitions (about `count`, by default partition_count's), each read
    once on a worker and kept there; the plan (districts, the city's CRS) read on the
    caller's connection."""
    districts = city_districts(conn)
    if not districts:
        raise InvalidInput("there are no stairwells to analyse")
    count = count or partition_count(districts, sum(client.nthreads().values()))
    crs = None if params is None else city_crs(districts).to_string()
    groups = district_groups(districts, count)
    return [client.submit(read_partition, g, params, crs, pure=False) for g in groups]


def coverage_all(
    client: Any,
    conn: sa.Connection,
    level: str,
    rule: Eligibility = Eligibility(),
    parts: list[Any] | None = None,
) -> pd.DataFrame:
    """Coverage per level over every district, one Dask task per partition."""
    from gis_service.datasets.load import statuses as read_statuses

    pipeline = read_statuses(conn)
    parts = parts if parts is not None else partitions(client, conn)
    futures = [client.submit(coverage_part, p, level, rule, pure=False) for p in parts]
    return combine_coverage(list(client.gather(futures)), level, pipeline, rule)


def nearest_all(
    client: Any, conn: sa.Connection, params: ServiceParams, parts: list[Any] | None = None
) -> pd.DataFrame:
    """Per stairwell of every district: nearest facility and distance, one task per partition
    (partitions read with these parameters' radius and mode)."""
    parts = parts if parts is not None else partitions(client, conn, params)
    futures = [client.submit(nearest_part, p, params, pure=False) for p in parts]
    answers = list(client.gather(futures))
    out = pd.concat(answers, ignore_index=True)
    out["facility_name"] = union_categoricals([a["facility_name"] for a in answers])
    out["geometry"] = shapely.from_wkb(out["geometry"].to_numpy())
    return out.sort_values("id", kind="stable").reset_index(drop=True)
