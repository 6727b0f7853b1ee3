"""Where the walk reaches a facility: its access stretches on the network (the layer's rule).

- point: the facility's point (an area's point on its surface), snapped like any point.
- edges: an area is reached anywhere its outline meets the network: every stretch of a usable
  way (ground level, connected, see SnapRule) inside the area or within touch_m of its outline
  is at distance 0 from it. An area no such way touches is reached from the network point
  nearest its outline, by a straight leg of at most the rule's max leg.
- entrances: an area is reached where walkable ways enter it (stretches of ways inside it:
  mapped paths and gates crossing the outline); an area no way enters falls back to edges.
Points are reached at the point under every rule.

Each facility may have several stretches; `owner` says whose each is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from gis_service.analysis.crs import as_points
from gis_service.analysis.network import StreetGraph
from gis_service.analysis.snapping import (
    PointsLike,
    Snapped,
    SnapRule,
    nearest_usable,
    on_edges,
    placed,
    snap_points,
)
from gis_service.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
RULES = ("edges", "entrances", "point")


@dataclass(frozen=True)
class AccessRule:
    """How a layer's facilities are entered (the catalog's service.access)."""

    rule: str = "edges"
    touch_m: float = 10.0

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise InvalidInput(f"unknown access rule {self.rule!r}; one of: {', '.join(RULES)}")
        if not self.touch_m >= 0:
            raise InvalidInput("touch_m must be >= 0")


@dataclass(frozen=True)
class Access:
    """Access stretches of facilities: where on the network, and the facility of each."""

    stretches: Snapped
    owner: IntArray
    n_facilities: int

    def reached(self) -> NDArray[np.bool_]:
        """Per facility: whether it has at least one access stretch."""
        out = np.zeros(self.n_facilities, dtype=bool)
        out[self.owner[self.stretches.ok]] = True
        return out


def facility_geometries(facilities: PointsLike) -> NDArray[np.object_]:
    """Facility geometries in a metric CRS (coordinates become points)."""
    if isinstance(facilities, np.ndarray) and facilities.dtype != object:
        return as_points(facilities)
    if hasattr(facilities, "crs") and facilities.crs is not None and facilities.crs.is_geographic:
        raise InvalidInput("the layer is in degrees; convert it with to_metric first")
    geoms = np.asarray(getattr(facilities, "geometry", facilities))
    if shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any():
        raise InvalidInput("a geometry is missing or empty")
    return geoms


def _stretches(
    graph: StreetGraph, zones: NDArray[np.object_], rule: SnapRule, inside_only: bool
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """(zone, edge, start, end) of the usable ways' pieces within each zone."""
    tree, edges = graph.usable_tree(rule.min_component_m)
    zi, ki = tree.query(zones, predicate="intersects")
    e = edges[ki]
    lines = graph.geometries[e]
    parts, where = shapely.get_parts(shapely.intersection(lines, zones[zi]), return_index=True)
    kind = shapely.get_type_id(parts)
    keep = ~shapely.is_empty(parts) & np.isin(kind, (0, 1) if not inside_only else (1,))
    if inside_only:
        keep &= shapely.length(parts) > 0
    parts, where = parts[keep], where[keep]
    first = shapely.get_point(parts, 0)
    last = shapely.get_point(parts, -1)
    first = np.where(shapely.get_type_id(parts) == 0, parts, first)
    last = np.where(shapely.get_type_id(parts) == 0, parts, last)
    a = shapely.line_locate_point(lines[where], first)
    b = shapely.line_locate_point(lines[where], last)
    return zi[where], e[where], np.minimum(a, b), np.maximum(a, b)


def _legs(
    graph: StreetGraph, areas: NDArray[np.object_], rule: SnapRule
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """(area, edge, offset, leg) from the network point nearest each area's outline."""
    gi, e = nearest_usable(graph, areas, rule)
    if not gi.size:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), np.zeros(0)
    lines = graph.geometries[e]
    near = shapely.get_point(shapely.shortest_line(lines, areas[gi]), 0)
    at = np.clip(shapely.line_locate_point(lines, near), 0.0, graph.length[e])
    leg = shapely.distance(lines, areas[gi])
    return gi, e, at, leg


def access_points(
    graph: StreetGraph,
    facilities: PointsLike,
    access: AccessRule = AccessRule(),
    rule: SnapRule = SnapRule(),
) -> Access:
    """The access stretches of every facility under an access rule (see the module)."""
    geoms = facility_geometries(facilities)
    n = geoms.size
    area = shapely.get_dimensions(geoms) == 2 if n else np.zeros(0, dtype=bool)
    as_point = ~area | (access.rule == "point")
    pts = np.flatnonzero(as_point)
    snapped = snap_points(graph, as_points(geoms[pts]) if pts.size else np.zeros((0, 2)),
                          rule=rule)  # fmt: skip
    ok = snapped.ok
    # parts: (owner, edge, start, end, leg) of the stretches found by each step
    parts = [(pts[ok], snapped.edge[ok], snapped.offset[ok], snapped.offset[ok],
              snapped.access[ok])]  # fmt: skip
    todo = np.flatnonzero(~as_point)
    for inside_only in [True, False] if access.rule == "entrances" else [False]:
        if not todo.size:
            break
        zones = geoms[todo]
        if not inside_only and access.touch_m:
            zones = shapely.buffer(zones, access.touch_m)
        zi, e, a, b = _stretches(graph, zones, rule, inside_only)
        parts.append((todo[zi], e, a, b, np.zeros(e.size)))
        todo = np.setdiff1d(todo, todo[zi])
    if todo.size:
        gi, e, at, dist = _legs(graph, geoms[todo], rule)
        parts.append((todo[gi], e, at, at, dist))
    owner, edge, start, end, leg = (np.concatenate(column) for column in zip(*parts, strict=True))
    e_all = edge.astype(np.int64)
    s_all = np.clip(start.astype(np.float64), 0.0, graph.length[e_all])
    span = np.clip(end.astype(np.float64), s_all, graph.length[e_all]) - s_all
    stretches = placed(graph, e_all, s_all, leg.astype(np.float64),
                       on_edges(graph, e_all, s_all), span)  # fmt: skip
    return Access(stretches, owner.astype(np.int64), n)
