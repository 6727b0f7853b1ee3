"""An independent walking-distance reference: networkx on a network's own topology.

Nothing here uses the project's graph, snapping or routing code. The reference answers "how far
does one walk from each point to the nearest area (a park)?" as follows, and the project's
answer is compared with it point by point:

- The network is the one the data itself defines: for OSM, pyrosm's node-to-node edges (ways
  meet only at shared OSM nodes, so a tunnel never meets the street above it); for a line file,
  lines meeting at shared vertices. Parallel edges keep the shortest.
- A point walks a straight leg (at most `max_leg_m`) to the nearest edge at ground level (its
  way is no tunnel, no bridge, on layer 0) of a component that can take it somewhere: one with
  at least `min_component_m` metres of ways (the largest component always qualifies).
- An area is reached where such edges touch it: every stretch of one inside the area or within
  `touch_m` of its outline is at distance 0; an area no edge touches is reached by a straight
  leg from the nearest point of those edges (at most `max_leg_m`).
- Distance = the point's leg + the shortest path along edges (Dijkstra) to the nearest such
  stretch.
"""

from __future__ import annotations

import itertools
import json
import warnings
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

TOUCH_M = 10.0
MAX_LEG_M = 150.0
MIN_COMPONENT_M = 300.0


@dataclass
class RefNetwork:
    """Edges (u, v, length, ground, geometry) in a metric CRS, over the data's node labels."""

    edges: gpd.GeoDataFrame

    def graph(self) -> nx.Graph:
        """The undirected graph, parallel edges reduced to the shortest."""
        g = nx.Graph()
        for a, b, w in zip(self.edges["u"], self.edges["v"], self.edges["length"], strict=True):
            if a == b:
                continue
            if not g.has_edge(a, b) or g[a][b]["weight"] > w:
                g.add_edge(a, b, weight=float(w))
        return g


def osm_network(pbf: str, crs: object) -> RefNetwork:
    """pyrosm's own walking edges of an extract (OSM node ids as nodes), in `crs`."""
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, edges = pyrosm.OSM(pbf).get_network(network_type="walking", nodes=True)
    edges = edges.to_crs(crs)
    frame = gpd.GeoDataFrame(
        {"u": edges["u"].to_numpy(), "v": edges["v"].to_numpy(),
         "length": edges.geometry.length.to_numpy(), "ground": osm_ground(edges)},
        geometry=edges.geometry.to_numpy(), crs=crs,
    )  # fmt: skip
    return RefNetwork(frame[frame["length"] > 0].reset_index(drop=True))


def osm_ground(edges: pd.DataFrame) -> np.ndarray:
    """Whether each OSM way lies at ground level: no tunnel, no bridge, no layer but 0."""
    out = []
    for tunnel, bridge, tags in zip(edges["tunnel"], edges["bridge"], edges["tags"], strict=True):
        extra = json.loads(tags) if isinstance(tags, str) else {}
        layer = str(extra.get("layer", "0")).strip()
        out.append(
            tunnel in (None, "no", "building_passage") or (isinstance(tunnel, float))
        )
        out[-1] = out[-1] and (bridge in (None, "no", "boardwalk") or isinstance(bridge, float))
        out[-1] = out[-1] and layer in ("0", "")
    return np.array(out, dtype=bool)


def line_network(lines: gpd.GeoSeries) -> RefNetwork:
    """Lines meeting at shared vertices (coordinates equal to the millimetre) as a network."""
    rows = []
    for geom in lines.geometry:
        coords = np.round(np.asarray(geom.coords)[:, :2], 3)
        for a, b in itertools.pairwise(coords):
            if not np.array_equal(a, b):
                rows.append((tuple(a), tuple(b), shapely.LineString([a, b])))
    frame = gpd.GeoDataFrame(
        {"u": [r[0] for r in rows], "v": [r[1] for r in rows]},
        geometry=[r[2] for r in rows], crs=lines.crs,
    )  # fmt: skip
    frame["length"] = frame.geometry.length
    frame["ground"] = True
    return RefNetwork(frame)


def usable_edges(net: RefNetwork, g: nx.Graph, min_component_m: float) -> np.ndarray:
    """Positions of edges in components with at least min_component_m of ways, or the largest."""
    comps = list(nx.connected_components(g))
    label = {node: i for i, comp in enumerate(comps) for node in comp}
    lab = np.array([label.get(a, -1) for a in net.edges["u"]])
    total = pd.Series(net.edges["length"].to_numpy()).groupby(lab).sum()
    keep = set(total[total >= min_component_m].index) | {int(total.idxmax())}
    return np.flatnonzero(np.isin(lab, list(keep)) & net.edges["ground"].to_numpy())


def _access_stretches(
    net: RefNetwork, usable: np.ndarray, areas: np.ndarray, touch_m: float, max_leg_m: float
) -> pd.DataFrame:
    """Per area: stretches (edge, start, end, leg) of the network where it is reached."""
    geoms = net.edges.geometry.to_numpy()[usable]
    tree = shapely.STRtree(geoms)
    rows = []
    for area_i, area in enumerate(areas):
        zone = area.buffer(touch_m)
        hits = tree.query(zone, predicate="intersects")
        for k in hits:
            line = geoms[k]
            inside = line.intersection(zone)
            for part in getattr(inside, "geoms", [inside]):
                if part.is_empty or part.geom_type != "LineString":
                    ends = [shapely.Point(c) for c in getattr(part, "coords", [])]
                else:
                    ends = [shapely.Point(part.coords[0]), shapely.Point(part.coords[-1])]
                locs = [line.project(p) for p in ends]
                if locs:
                    rows.append((area_i, int(usable[k]), min(locs), max(locs), 0.0))
        if hits.size == 0:
            k, leg = _nearest_edge(tree, area, max_leg_m)
            if k is not None:
                near = shapely.shortest_line(geoms[k], area).coords[0]
                at = geoms[k].project(shapely.Point(near))
                rows.append((area_i, int(usable[k]), at, at, leg))
    return pd.DataFrame(rows, columns=["area", "edge", "start", "end", "leg"])


def _nearest_edge(
    tree: shapely.STRtree, geom: object, max_leg_m: float
) -> tuple[int | None, float]:
    found, dist = tree.query_nearest(geom, max_distance=max_leg_m, return_distance=True)
    if found.size == 0:
        return None, float("inf")
    return int(found[0]), float(dist[0])


def nearest_area_distances(
    net: RefNetwork,
    points: np.ndarray,
    areas: np.ndarray,
    touch_m: float = TOUCH_M,
    max_leg_m: float = MAX_LEG_M,
    min_component_m: float = MIN_COMPONENT_M,
) -> pd.DataFrame:
    """Per point: distance to the nearest area along the network, and which area (or -1)."""
    g = net.graph()
    usable = usable_edges(net, g, min_component_m)
    stretches = _access_stretches(net, usable, areas, touch_m, max_leg_m)
    u = net.edges["u"].to_numpy()
    v = net.edges["v"].to_numpy()
    length = net.edges["length"].to_numpy()
    for row in stretches.itertuples():
        a, b, e = u[row.edge], v[row.edge], row.edge
        node = ("area", row.area)
        for end, w in ((a, row.leg + row.start), (b, row.leg + length[e] - row.end)):
            if not g.has_edge(node, end) or g[node][end]["weight"] > w:
                g.add_edge(node, end, weight=float(w))
    sources = {("area", i) for i in stretches["area"].unique()}
    dist, paths = nx.multi_source_dijkstra(g, sources) if sources else ({}, {})
    geoms = net.edges.geometry.to_numpy()[usable]
    tree = shapely.STRtree(geoms)
    by_edge = stretches.groupby("edge")
    out_d, out_a = [], []
    for pt in points:
        k, leg = _nearest_edge(tree, pt, max_leg_m)
        if k is None:
            out_d.append(np.inf)
            out_a.append(-1)
            continue
        e = int(usable[k])
        at = geoms[k].project(pt)
        best, area = np.inf, -1
        for end, along in ((u[e], at), (v[e], length[e] - at)):
            if end in dist and dist[end] + along < best:
                best, area = dist[end] + along, paths[end][0][1]
        if e in by_edge.groups:
            for row in by_edge.get_group(e).itertuples():
                direct = row.leg + max(0.0, row.start - at, at - row.end)
                if direct < best:
                    best, area = direct, row.area
        out_d.append(leg + best)
        out_a.append(area)
    return pd.DataFrame({"distance": out_d, "area": out_a})


def agreement(ours: np.ndarray, ref: np.ndarray, radius: float = 300.0) -> dict[str, float]:
    """Median |difference|, share within 25 m (unreached both ways counts as agreeing), served."""
    both = np.isfinite(ours) & np.isfinite(ref)
    diff = np.abs(ours - ref)
    agree = np.where(both, diff <= 25.0, ~np.isfinite(ours) & ~np.isfinite(ref))
    return {
        "n": int(ours.size),
        "median_abs_diff_m": round(float(np.median(diff[both])), 1) if both.any() else None,
        "share_within_25m": round(float(agree.mean()), 3),
        "share_within_1m": round(float(np.where(both, diff <= 1.0, agree).mean()), 3),
        "max_abs_diff_m": round(float(diff[both].max()), 1) if both.any() else None,
        "unreached_ours": int((~np.isfinite(ours)).sum()),
        "unreached_reference": int((~np.isfinite(ref)).sum()),
        f"served_{radius:g}m_ours": round(float((ours <= radius).mean()), 3),
        f"served_{radius:g}m_reference": round(float((ref <= radius).mean()), 3),
    }


def per_building(frame: pd.DataFrame, column: str) -> pd.Series:
    """The nearest of each building's stairwells (frame has building_id and the column)."""
    return frame.groupby("building_id")[column].min()
