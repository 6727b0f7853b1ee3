"""A map of one unit drawn from our own data (no basemap): shapes in pixels, legend and scale.

The unit's box (plus a margin) is read layer by layer in the caller's role, each layer capped
at MAX_FEATURES, projected to the UTM zone of the box and fitted to the picture. Styles and
legend labels come from the catalog (colours per kind or status, layer titles).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
import sqlalchemy as sa
from pyproj import Transformer

from gis_service.analysis.crs import utm_crs
from gis_service.catalog import Catalog
from gis_service.errors import NotFound
from gis_service.reports.facts import Unit
from gis_service.reports.strings import say
from gis_service.rows.lookups import labelled

MAX_FEATURES = 20_000
"""Most features of one layer a map draws (bounds the time and size of a picture)."""
MARGIN = 0.08
"""Share of the unit's box added on each side."""
NICE_LENGTHS = (10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000)

# (layer id, table, colour-by column or None); drawn in this order, later on top
LAYERS = (
    ("buildings", "building", None),
    ("gardens", "garden", "kind"),
    ("compounds", "compound", None),
    ("parking", "parking", "kind"),
    ("facilities", "facility", "kind"),
    ("stairwells", "stairwell", "elevator_status"),
)


@dataclass
class Shape:
    """One feature in pixels: polygons (exterior and holes) or a point."""

    rings: list[np.ndarray]
    point: tuple[float, float] | None
    color: str
    fill_opacity: float
    radius: float
    weight: float


@dataclass
class Scene:
    """A map ready to draw: shapes, legend entries (label, colour, kind), scale bar."""

    width: int
    height: int
    shapes: list[Shape] = field(default_factory=list)
    legend: list[tuple[str, str, str]] = field(default_factory=list)
    scale_m: int = 0
    scale_px: float = 0.0
    north: str = "N"
    legend_title: str = "Legend"
    outline: list[np.ndarray] = field(default_factory=list)


class Projector:
    """Lon/lat to picture pixels: UTM of the box's centre, fitted with equal scale on x and y."""

    def __init__(self, box: tuple[float, float, float, float], width: int, height: int) -> None:
        west, south, east, north = box
        crs = utm_crs((west + east) / 2, (south + north) / 2)
        self.to_metres = Transformer.from_crs(4326, crs, always_xy=True)
        xs, ys = self.to_metres.transform([west, east, west, east], [south, south, north, north])
        self.x0, self.y1 = min(xs), max(ys)
        span_x, span_y = max(max(xs) - self.x0, 1.0), max(self.y1 - min(ys), 1.0)
        self.scale = min(width / span_x, height / span_y)  # pixels per metre
        self.dx = (width - span_x * self.scale) / 2
        self.dy = (height - span_y * self.scale) / 2

    def pixels(self, coords: np.ndarray) -> np.ndarray:
        """An (n, 2) lon/lat array as pixels (y down)."""
        x, y = self.to_metres.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([
            self.dx + (np.asarray(x) - self.x0) * self.scale,
            self.dy + (self.y1 - np.asarray(y)) * self.scale,
        ])  # fmt: skip


def unit_box(conn: sa.Connection, unit: Unit) -> tuple[float, float, float, float]:
    """The unit's lon/lat box grown by MARGIN on each side."""
    row = conn.execute(
        sa.text(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                f"(SELECT ST_Extent(geom) AS e FROM {unit.level} WHERE id = :id) x"),
        {"id": unit.id},
    ).one()  # fmt: skip
    if row[0] is None:
        raise NotFound(f"{unit.level} {unit.id} has no geometry")
    w, s, e, n = (float(v) for v in row)
    mx, my = max((e - w) * MARGIN, 0.0005), max((n - s) * MARGIN, 0.0005)
    return (w - mx, s - my, e + mx, n + my)


def rings_of(geom: shapely.Geometry) -> list[np.ndarray]:
    """The exterior and interior rings of a (multi)polygon as coordinate arrays."""
    return [shapely.get_coordinates(ring)
            for part in shapely.get_parts(geom) for ring in shapely.get_rings(part)]


def read_layer(
    conn: sa.Connection, table: str, column: str | None, box: tuple[float, ...]
) -> list[tuple[shapely.Geometry, str | None]]:
    """A layer's geometries (and colour key) in the box, as the caller may read them."""
    key = f'"{column}"' if column else "NULL"  # a column name fixed in LAYERS
    rows = conn.execute(
        sa.text(f"SELECT ST_AsBinary(geom), {key} FROM {table} "
                "WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326) ORDER BY id LIMIT :cap"),
        {"w": box[0], "s": box[1], "e": box[2], "n": box[3], "cap": MAX_FEATURES},
    ).all()  # fmt: skip
    return [(shapely.from_wkb(bytes(r[0])), r[1]) for r in rows]


def kind_labels(conn: sa.Connection, catalog: Catalog, layer_id: str, column: str,
                lang: str) -> dict[str, str]:  # fmt: skip
    """Labels of a colour-by field's codes: enum_labels, else its lookup table, else the code."""
    spec = catalog.layer(layer_id).field(column)
    if spec.enum_labels:
        return {code: text.pick(lang) for code, text in spec.enum_labels.items()}
    if spec.enum_from:
        return {c.code: c.label(lang) for c in labelled(conn, spec.enum_from)}
    return {}


def nice_scale(pixels_per_metre: float, target_px: float) -> tuple[int, float]:
    """A round length (m) whose bar is at most about target_px long, and its length in pixels."""
    fitting = [m for m in NICE_LENGTHS if m * pixels_per_metre <= target_px]
    metres = fitting[-1] if fitting else NICE_LENGTHS[0]
    return metres, metres * pixels_per_metre


def build_scene(
    conn: sa.Connection, catalog: Catalog, unit: Unit, lang: str, size: tuple[int, int],
    only: set[str] | None = None,
) -> Scene:  # fmt: skip
    """The unit's map: its layers in the box (or those of `only`), outline, legend, scale."""
    width, height = size
    box = unit_box(conn, unit)
    project = Projector(box, width, height)
    scene = Scene(width, height, north=say(lang, "north"), legend_title=say(lang, "legend"))
    for layer_id, table, column in LAYERS:
        if only is not None and layer_id not in only:
            continue
        layer = catalog.layer(layer_id)
        style = layer.style
        labels = kind_labels(conn, catalog, layer_id, column, lang) if column else {}
        seen: dict[str, str] = {}
        for geom, key in read_layer(conn, table, column, box):
            color = style.colors.get(str(key), style.color) if column else style.color
            seen.setdefault(str(key) if column else layer_id, color)
            if geom.geom_type == "Point":
                x, y = project.pixels(np.array([[geom.x, geom.y]]))[0]
                scene.shapes.append(Shape([], (float(x), float(y)), color, 0.9, style.radius, 1))
            else:
                rings = [project.pixels(r) for r in rings_of(geom)]
                scene.shapes.append(Shape(rings, None, color, style.fill_opacity, 0,
                                          style.weight))  # fmt: skip
        title = layer.title.pick(lang)
        order = list(style.colors)  # the catalog's order (the pipeline's for stairwells)
        for key in sorted(seen, key=lambda k: order.index(k) if k in order else len(order)):
            color = seen[key]
            label = labels.get(key, key) if column else title
            kind = "point" if layer.geometry == "point" else "area"
            scene.legend.append((f"{title}: {label}" if column else label, color, kind))
    outline = conn.execute(sa.text(f"SELECT ST_AsBinary(geom) FROM {unit.level} WHERE id = :id"),
                           {"id": unit.id}).scalar_one()  # fmt: skip
    scene.outline = [project.pixels(r) for r in rings_of(shapely.from_wkb(bytes(outline)))]
    scene.legend.insert(0, (f"{say(lang, unit.level)}: {unit.title(lang)}", "#d81b60", "outline"))
    scene.scale_m, scene.scale_px = nice_scale(project.scale, width / 4)
    return scene
