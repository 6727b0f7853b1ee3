"""Reach relations (facility x demand within a radius) and the two-step floating catchment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from gis_service.analysis.access import AccessRule, access_points, facility_geometries
from gis_service.analysis.crs import xy_of
from gis_service.analysis.network import StreetGraph
from gis_service.analysis.routing import along_to_stretch, augmented_matrix
from gis_service.analysis.snapping import PointsLike, SnapRule, snap_points
from gis_service.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Weight = Callable[[FloatArray], FloatArray] | ArrayLike | None
"""No weight, a weight of the distance (a decay), or one weight per pair."""


@dataclass(frozen=True)
class Reach:
    """Pairs (row, col, distance) with distance <= radius: rows are supply, cols are demand."""

    rows: IntArray
    cols: IntArray
    dist: FloatArray
    shape: tuple[int, int]

    def matrix(self, weight: Weight = None) -> sp.csr_matrix:
        """Sparse rows x cols matrix of ones, of weight(distance) (a decay), or of given weights."""
        if weight is None:
            data = np.ones(self.dist.size)
        elif callable(weight):
            data = np.asarray(weight(self.dist), float)
        else:
            data = np.asarray(weight, float)
        if data.shape != self.dist.shape:
            raise InvalidInput("one weight per pair is needed")
        return sp.csr_matrix((data, (self.rows, self.cols)), shape=self.shape)


def crow_flies_reach(supply: PointsLike, demand: PointsLike, radius: float) -> Reach:
    """Every (supply, demand) pair within `radius` metres in a straight line (areas: from
    their outline)."""
    geoms, dxy = facility_geometries(supply), xy_of(demand)
    if not radius >= 0:
        raise InvalidInput("radius must be >= 0")
    shape = (geoms.size, dxy.shape[0])
    if geoms.size == 0 or dxy.shape[0] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Reach(empty, empty, np.zeros(0), shape)
    if (shapely.get_type_id(geoms) == 0).all():
        sxy = shapely.get_coordinates(geoms)
        pairs = cKDTree(sxy).sparse_distance_matrix(cKDTree(dxy), radius, output_type="ndarray")
        return Reach(pairs["i"].astype(np.int64), pairs["j"].astype(np.int64),
                     pairs["v"].astype(np.float64), shape)  # fmt: skip
    pts = shapely.points(dxy)
    di, si = shapely.STRtree(geoms).query(pts, predicate="dwithin", distance=radius)
    return Reach(si.astype(np.int64), di.astype(np.int64),
                 shapely.distance(geoms[si], pts[di]).astype(np.float64), shape)  # fmt: skip


def network_reach(
    graph: StreetGraph,
    supply: PointsLike,
    demand: PointsLike,
    radius: float,
    max_snap: float | None = None,
    chunk_cells: int = 20_000_000,
    access: AccessRule = AccessRule(),
    snap: SnapRule = SnapRule(),
) -> Reach:
    """Every (supply, demand) pair within `radius` metres along streets (snapped, exact).

    Supply is reached at its access stretches (`access`: areas at their edges), demand points
    snap by `snap` (max_snap, when given, is the longest leg). Runs Dijkstra from the supply
    in chunks so at most `chunk_cells` distances are held in memory at once.
    """
    if not radius >= 0:
        raise InvalidInput("radius must be >= 0")
    snap = snap.limited(max_snap)
    entry = access_points(graph, supply, access, snap)
    sources, owner = entry.stretches, entry.owner
    targets = snap_points(graph, demand, rule=snap)
    n, n_s = graph.n_nodes, entry.n_facilities
    t_ok = np.flatnonzero(targets.ok)
    tt = targets.take(t_ok)
    same = pd.DataFrame({"k": np.arange(len(sources)), "edge": sources.edge}).merge(
        pd.DataFrame({"t": np.arange(t_ok.size), "edge": tt.edge}), on="edge"
    )
    same_k, same_t = same["k"].to_numpy(np.int64), same["t"].to_numpy(np.int64)
    direct = sources.access[same_k] + along_to_stretch(sources, same_k, tt.offset[same_t])
    same_s = owner[same_k]
    matrix = augmented_matrix(graph, sources, owner)
    s_ok = np.flatnonzero(entry.reached())
    step = max(1, chunk_cells // (matrix.shape[0] + t_ok.size))
    rows, cols, dist = [], [], []
    for lo in range(0, s_ok.size, step):
        chunk = s_ok[lo : lo + step]
        table = dijkstra(matrix, directed=True, indices=n + chunk, limit=radius)[:, :n]
        best = np.minimum(table[:, tt.u] + tt.offset, table[:, tt.v] + tt.rest)
        local = np.full(n_s, -1, dtype=np.int64)
        local[chunk] = np.arange(chunk.size)
        pick = local[same_s] >= 0
        i, j = local[same_s[pick]], same_t[pick]
        np.minimum.at(best, (i, j), direct[pick])
        total = best + tt.access
        hit_i, hit_j = np.nonzero(total <= radius)
        rows.append(chunk[hit_i])
        cols.append(t_ok[hit_j])
        dist.append(total[hit_i, hit_j])
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return Reach(empty, empty, np.zeros(0), (n_s, len(targets)))
    return Reach(
        np.concatenate(rows).astype(np.int64),
        np.concatenate(cols).astype(np.int64),
        np.concatenate(dist),
        (n_s, len(targets)),
    )


def two_step_fca(
    reach: Reach,
    supply: ArrayLike,
    demand: ArrayLike,
    weight: Weight = None,
) -> tuple[FloatArray, FloatArray]:
    """2SFCA: supply-to-demand ratio per facility and accessibility (supply per demand) per point.

    Step 1: R_j = S_j / sum of demand within reach of j. Step 2: A_i = sum of R_j reaching i.
    An optional weight (of the distance, or per pair) applies a distance decay in both steps.
    """
    s = np.asarray(supply, dtype=np.float64)
    d = np.asarray(demand, dtype=np.float64)
    if s.shape != (reach.shape[0],) or d.shape != (reach.shape[1],):
        raise InvalidInput("supply and demand must match the reach relation's shape")
    if (s < 0).any() or (d < 0).any():
        raise InvalidInput("supply and demand must be >= 0")
    m = reach.matrix(weight)
    catchment = m @ d
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(catchment > 0, s / catchment, 0.0)
    access = m.T @ ratio
    return ratio, np.asarray(access, dtype=np.float64)
