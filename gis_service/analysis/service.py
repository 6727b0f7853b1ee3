"""Service radii: nearest facility as the crow flies and along streets, shares served per level."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from gis_service.analysis.access import Access, AccessRule, access_points, facility_geometries
from gis_service.analysis.crs import metric_crs, to_metric, xy_of
from gis_service.analysis.network import StreetGraph
from gis_service.analysis.per_unit import units_of
from gis_service.analysis.routing import meeting_points, nearest_source_snapped, reach_targets
from gis_service.analysis.snapping import (
    PointsLike,
    Snapped,
    SnapRule,
    snap_points,
    unsnapped_reasons,
)
from gis_service.errors import InvalidInput

HomeSnaps = tuple[Snapped, list[str | None]]
"""Points placed on the network, and why each that found no way did not (None: it did)."""

__all__ = [
    "crow_flies_nearest",
    "metric_crs",
    "network_nearest",
    "served_shares",
    "to_metric",
    "walking_radius",
]


def walking_radius(minutes: float, speed_m_per_min: float) -> float:
    """The walking distance in metres covered in `minutes` at `speed_m_per_min` (the catalog's)."""
    if minutes < 0 or speed_m_per_min <= 0:
        raise InvalidInput("minutes must be >= 0 and the walking speed > 0")
    return float(minutes) * float(speed_m_per_min)


def _ids(ids: ArrayLike | None, n: int) -> NDArray[np.int64]:
    if ids is None:
        return np.arange(n, dtype=np.int64)
    out = np.asarray(ids, dtype=np.int64)
    if out.shape != (n,):
        raise InvalidInput(f"expected {n} facility ids, got {out.size}")
    return out


def _result(
    dist: NDArray[np.float64], idx: NDArray[np.int64], ids: NDArray[np.int64], radius: float
) -> pd.DataFrame:
    found = idx >= 0
    picked = ids[np.maximum(idx, 0)] if ids.size else np.zeros(idx.shape, np.int64)
    fid = pd.array(np.where(found, picked, 0), dtype="Int64")
    fid[~found] = pd.NA
    return pd.DataFrame({"facility_id": fid, "distance": dist, "served": dist <= radius})


def crow_flies_nearest(
    points: PointsLike,
    facilities: PointsLike,
    facility_ids: ArrayLike | None = None,
    radius: float = np.inf,
    max_distance: float = np.inf,
) -> pd.DataFrame:
    """Nearest facility and straight-line distance for every point (metric CRS), served flag.

    An area's distance is to its outline (0 inside it). Columns: facility_id (Int64, NA when
    none within max_distance), distance (inf), served.
    """
    pxy = xy_of(points)
    geoms = facility_geometries(facilities)
    ids = _ids(facility_ids, geoms.size)
    if geoms.size == 0:
        return _result(np.full(pxy.shape[0], np.inf), np.full(pxy.shape[0], -1), ids, radius)
    if (shapely.get_type_id(geoms) == 0).all():
        dist, idx = cKDTree(shapely.get_coordinates(geoms)).query(
            pxy, k=1, distance_upper_bound=max_distance
        )
        idx = np.where(np.isfinite(dist), idx, -1).astype(np.int64)
        return _result(dist.astype(np.float64), idx, ids, radius)
    limit = None if not np.isfinite(max_distance) else float(max_distance)
    pi, fi = shapely.STRtree(geoms).query_nearest(
        shapely.points(pxy), max_distance=limit, all_matches=False
    )
    dist = np.full(pxy.shape[0], np.inf)
    idx = np.full(pxy.shape[0], -1, dtype=np.int64)
    dist[pi] = shapely.distance(shapely.points(pxy[pi]), geoms[fi])
    idx[pi] = fi
    return _result(dist, idx, ids, radius)


def network_nearest(
    graph: StreetGraph,
    points: PointsLike,
    facilities: PointsLike,
    facility_ids: ArrayLike | None = None,
    radius: float = np.inf,
    max_snap: float | None = None,
    access: AccessRule = AccessRule(),
    snap: SnapRule = SnapRule(),
    snapped: HomeSnaps | None = None,
    entry: Access | None = None,
) -> pd.DataFrame:
    """Nearest facility and walking distance along streets for every point, in one pass.

    Points snap onto the network by `snap` (max_snap, when given, is the longest leg);
    facilities are reached at their access stretches (`access`: areas at their edges by
    default). The search stops at `radius` (distance inf and facility_id NA beyond it).
    Columns: facility_id, distance, served, access (the point's leg to the street), access_x,
    access_y (where the walk reaches the facility, graph CRS), unsnapped (why a point found
    no way, else None). `snapped`: the points already snapped by this rule (snap_homes);
    `entry`: the facilities' access stretches already found by these rules (access_points).
    """
    snap = snap.limited(max_snap)
    ids = _ids(facility_ids, facility_geometries(facilities).size)
    targets, unsnapped = snapped or snap_homes(graph, points, snap)
    n = len(targets)
    if entry is None:
        entry = access_points(graph, facilities, access, snap)
    sources = entry.stretches
    xy = np.full((n, 2), np.nan)
    if not sources.ok.any():
        out = _result(np.full(n, np.inf), np.full(n, -1, dtype=np.int64), ids, radius)
    else:
        reach = nearest_source_snapped(graph, sources, limit=radius)
        dist, src = reach_targets(reach, sources, targets)
        xy = meeting_points(graph, reach, sources, targets, src)
        out = _result(dist, np.where(src >= 0, entry.owner[np.maximum(src, 0)], -1), ids, radius)
    out["access"] = targets.access
    out["access_x"], out["access_y"] = xy[:, 0], xy[:, 1]
    out["unsnapped"] = unsnapped
    return out


def snap_homes(graph: StreetGraph, points: PointsLike, snap: SnapRule) -> HomeSnaps:
    """Points placed on the network by the rule, and why those that found no way did not."""
    targets = snap_points(graph, points, rule=snap)
    return targets, unsnapped_reasons(graph, points, targets, snap)


def served_shares(
    stairwells: pd.DataFrame,
    served: ArrayLike,
    level: str,
    households: str = "households",
    elderly: str = "elderly_households",
) -> pd.DataFrame:
    """Per level: stairwells, households and elderly households served and their shares."""
    for col in (level, households, elderly):
        if col not in stairwells.columns:
            raise InvalidInput(f"missing column {col!r}", [{"field": col, "msg": "missing"}])
    flag = np.asarray(served, dtype=bool)
    if flag.shape != (len(stairwells),):
        raise InvalidInput("one served flag per stairwell is needed")
    hh = stairwells[households].fillna(0).to_numpy(dtype=np.float64)
    old = stairwells[elderly].fillna(0).to_numpy(dtype=np.float64)
    units = units_of(stairwells[level])
    total = units.whole  # counts of stairwells and households: integers
    out = pd.DataFrame({level: units.ids})
    out["stairwells"], out["served_stairwells"] = total(), total(flag)
    out["households"], out["served_households"] = total(hh), total(hh * flag)
    out["elderly_households"], out["served_elderly_households"] = total(old), total(old * flag)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_stairwells"] = out["served_stairwells"] / out["stairwells"]
        out["share_households"] = out["served_households"] / out["households"]
        out["share_elderly_households"] = (
            out["served_elderly_households"] / out["elderly_households"]
        )
    return out
