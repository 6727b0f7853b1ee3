"""SQL of a vector tile: one statement, one ST_AsMVT per layer, all values bound parameters.

Identifiers come only from the validated catalog (tables and columns checked against the data
model at start-up); everything else is a bound parameter. The bounding-box test runs on the
stored EPSG:4326 geometry against the tile envelope transformed once, so the GiST index is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from gis_service.catalog import Layer
from gis_service.tiles.grid import BUFFER, EXTENT, HALF_WORLD, TMS_ID, TileAddress

CLUSTER_CELLS = 8  # aggregation cells per tile side: 64 px of a 512 px tile
SIMPLIFY_PIXELS = 512  # simplify lines and polygons to one pixel of a 512 px tile
STATUS_IN_SERVICE = "in_service"
# Spherical Mercator of a stored lon/lat point, in plain arithmetic (cheaper than ST_Transform)
MERCATOR_X = f"ST_X(t.geom) * {HALF_WORLD / 180!r}"
MERCATOR_Y = f"ln(tan(pi() / 4 + radians(ST_Y(t.geom)) / 2)) * {HALF_WORLD / math.pi!r}"


@dataclass(frozen=True)
class LayerPlan:
    """One layer of a tile: plain features or aggregated cells, and its extra filter."""

    layer: Layer
    aggregate: bool = False
    where: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier (names come from the validated catalog only)."""
    return '"' + identifier.replace('"', '""') + '"'


def _where(plan: LayerPlan) -> str:
    return f" AND ({plan.where})" if plan.where else ""


def plain_layer_sql(plan: LayerPlan, index: int, mercator: bool = True) -> str:
    """ST_AsMVT of a layer's features: catalog properties, simplified geometry, capped count.

    Tiles of WebMercatorQuad draw EPSG:3857; those of WorldCRS84Quad the stored lon/lat.
    Points of WebMercatorQuad tiles are placed by arithmetic (point_layer_sql).
    """
    layer = plan.layer
    if mercator and layer.geometry == "point":
        return point_layer_sql(plan, index)
    geom = "ST_Transform(t.geom, 3857)" if mercator else "t.geom"
    if layer.geometry != "point":
        geom = f"ST_Simplify({geom}, :tolerance, true)"
    columns = ", ".join(f"t.{quote(name)}" for name in layer.tiles.properties)
    return f"""(SELECT ST_AsMVT(q.*, :l{index}_name, {EXTENT}, 'geom', '__fid') FROM (
        SELECT * FROM (
            SELECT ST_AsMVTGeom({geom}, e.env, {EXTENT}, {BUFFER}, true) AS geom,
                   t.id AS __fid{', ' + columns if columns else ''}
            FROM {quote(layer.table)} t, e
            WHERE t.geom && e.env4326{_where(plan)}
        ) r WHERE r.geom IS NOT NULL LIMIT :l{index}_limit
    ) q)"""


def point_layer_sql(plan: LayerPlan, index: int) -> str:
    """ST_AsMVT of points in tile units computed by arithmetic: spherical Mercator, then the
    tile's offset and scale, rounded, kept within the buffer. The same pixels as
    ST_AsMVTGeom(ST_Transform(geom, 3857), ...) at a fraction of the cost per point. OFFSET 0
    keeps the subquery apart, so each point's pixel is computed once (not again in the test)."""
    layer = plan.layer
    columns = "".join(f", t.{quote(name)}" for name in layer.tiles.properties)
    names = "".join(f", r.{quote(name)}" for name in layer.tiles.properties)
    low, high = -BUFFER, EXTENT + BUFFER
    return f"""(SELECT ST_AsMVT(q.*, :l{index}_name, {EXTENT}, 'geom', '__fid') FROM (
        SELECT ST_MakePoint(r.px, r.py) AS geom, r.__fid{names} FROM (
            SELECT round(({MERCATOR_X} - :px0) * :scale) AS px,
                   round((:py0 - {MERCATOR_Y}) * :scale) AS py, t.id AS __fid{columns}
            FROM {quote(layer.table)} t, e
            WHERE t.geom && e.env4326{_where(plan)}
            OFFSET 0
        ) r WHERE r.px BETWEEN {low} AND {high} AND r.py BETWEEN {low} AND {high}
        LIMIT :l{index}_limit
    ) q)"""


def category_field(layer: Layer) -> str | None:
    """The categorical field counted per cell when a layer is aggregated (its style colour)."""
    return layer.style.color_by


def aggregate_layer_sql(plan: LayerPlan, index: int) -> str:
    """ST_AsMVT of cells: count, per-category counts, in service and households per cell."""
    layer = plan.layer
    names = {f.name for f in layer.fields}
    category = category_field(layer)
    cat = f"t.{quote(category)}::text" if category else "NULL::text"
    households = "t.households" if "households" in names else "0"
    in_service = (
        f"coalesce(sum(g.n) FILTER (WHERE g.c = '{STATUS_IN_SERVICE}'), 0)::int AS in_service, "
        if category == "elevator_status"
        else ""
    )
    per_category = (
        "jsonb_object_agg('n_' || g.c, g.n) FILTER (WHERE g.c IS NOT NULL) AS by_category"
        if category
        else "NULL::jsonb AS by_category"
    )
    p = f"l{index}_"
    return f"""(SELECT ST_AsMVT(q.*, :{p}name, {EXTENT}, 'geom') FROM (
        SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(c.sx / c.count, c.sy / c.count), 3857),
                            e.env, {EXTENT}, {BUFFER}, true) AS geom,
               c.count, {'c.in_service, ' if in_service else ''}c.households, c.by_category
        FROM e, (
            SELECT sum(g.n)::int AS count, {in_service}sum(g.hh)::bigint AS households,
                   {per_category}, sum(g.sx) AS sx, sum(g.sy) AS sy
            FROM (
                SELECT floor((p.mx + {HALF_WORLD!r}) / :{p}cell) AS cx,
                       floor((p.my + {HALF_WORLD!r}) / :{p}cell) AS cy,
                       p.c, count(*)::int AS n, sum(p.hh) AS hh, sum(p.mx) AS sx, sum(p.my) AS sy
                FROM (
                    SELECT {MERCATOR_X} AS mx, {MERCATOR_Y} AS my, {cat} AS c, {households} AS hh
                    FROM {quote(layer.table)} t, e
                    WHERE t.geom && e.env4326{_where(plan)}
                    OFFSET 0
                ) p
                GROUP BY 1, 2, 3
            ) g
            WHERE g.cx >= :{p}cx0 AND g.cx < :{p}cx0 + {CLUSTER_CELLS}
              AND g.cy >= :{p}cy0 AND g.cy < :{p}cy0 + {CLUSTER_CELLS}
            GROUP BY g.cx, g.cy
        ) c
    ) q)"""


def tile_query(plans: list[LayerPlan], tile: TileAddress) -> tuple[str, dict[str, Any]]:
    """One statement returning one MVT blob per layer (concatenated, they make the tile)."""
    params: dict[str, Any] = {
        "z": tile.z,
        "x": tile.x,
        "y": tile.y,
        "margin": BUFFER / EXTENT,
        "tolerance": tile.width / SIMPLIFY_PIXELS,
        "px0": tile.bounds()[0],
        "py0": tile.bounds()[3],
        "scale": EXTENT / tile.width,
    }
    parts = []
    for index, plan in enumerate(plans):
        p = f"l{index}_"
        params[f"{p}name"] = plan.layer.id
        params.update(plan.params)
        if plan.aggregate:
            params[f"{p}cell"] = tile.width / CLUSTER_CELLS
            params[f"{p}cx0"] = tile.x * CLUSTER_CELLS
            params[f"{p}cy0"] = ((1 << tile.z) - 1 - tile.y) * CLUSTER_CELLS
            parts.append(aggregate_layer_sql(plan, index))
        else:
            params[f"{p}limit"] = plan.layer.tiles.max_features
            parts.append(plain_layer_sql(plan, index, tile.tms == TMS_ID))
    sql = envelope_sql(tile, params) + "SELECT " + ", ".join(
        f"{part} AS l{i}" for i, part in enumerate(parts)
    )
    return sql, params


def envelope_sql(tile: TileAddress, params: dict[str, Any]) -> str:
    """The CTE `e`: the tile's envelope in its CRS (env) and, with the buffer, in lon/lat."""
    if tile.tms == TMS_ID:
        return (
            "WITH e AS MATERIALIZED (SELECT ST_TileEnvelope(:z, :x, :y) AS env, "
            "ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS env4326) "
        )
    xmin, ymin, xmax, ymax = tile.bounds()
    params.update(xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax, pad=tile.width * BUFFER / EXTENT)
    return (
        "WITH e AS MATERIALIZED (SELECT ST_MakeEnvelope(:xmin, :ymin, :xmax, :ymax, 4326) AS env, "
        "ST_Expand(ST_MakeEnvelope(:xmin, :ymin, :xmax, :ymax, 4326), :pad) AS env4326) "
    )
