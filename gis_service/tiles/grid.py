"""Tile matrix sets served (WebMercatorQuad, WorldCRS84Quad): addresses, bounds, TMS documents."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from gis_service.features.errors import BadRequest

HALF_WORLD = 20037508.342789244  # metres: half the equator in EPSG:3857
METRES_PER_DEGREE = 2 * math.pi * 6378137 / 360  # on the equator, for scale denominators
MAX_ZOOM = 24
TILE_PIXELS = 256
EXTENT = 4096  # MVT coordinate units per tile side
BUFFER = 64  # MVT units drawn around the tile (symbols and strokes crossing the edge)
DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class MatrixSet:
    """One tile matrix set: its CRS, the upper-left corner and the tile side at zoom 0."""

    id: str
    title: str
    crs: str
    axes: tuple[str, str]
    origin: tuple[float, float]  # (x, y) of the upper-left corner, in the CRS's x/y order
    side0: float  # side of a zoom-0 tile in CRS units
    columns0: int  # tiles across at zoom 0 (rows are always 2^zoom)
    metres_per_unit: float
    scale_set: str | None = None

    @property
    def uri(self) -> str:
        """The OGC registry URI of the tile matrix set."""
        return f"http://www.opengis.net/def/tilematrixset/OGC/1.0/{self.id}"

    def size(self, zoom: int) -> tuple[int, int]:
        """(columns, rows) of the matrix at a zoom."""
        return self.columns0 << zoom, 1 << zoom

    def bbox(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) covered by the tile matrix set."""
        x0, y1 = self.origin
        return x0, y1 - self.side0, x0 + self.side0 * self.columns0, y1


WEB_MERCATOR = MatrixSet(
    id="WebMercatorQuad",
    title="Google Maps Compatible for the World",
    crs="http://www.opengis.net/def/crs/EPSG/0/3857",
    axes=("X", "Y"),
    origin=(-HALF_WORLD, HALF_WORLD),
    side0=2 * HALF_WORLD,
    columns0=1,
    metres_per_unit=1.0,
    scale_set="http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
)
WORLD_CRS84 = MatrixSet(
    id="WorldCRS84Quad",
    title="CRS84 for the World",
    crs="http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    axes=("Lon", "Lat"),
    origin=(-180.0, 90.0),
    side0=180.0,
    columns0=2,
    metres_per_unit=METRES_PER_DEGREE,
    scale_set="http://www.opengis.net/def/wkss/OGC/1.0/GoogleCRS84Quad",
)
MATRIX_SETS = {tms.id: tms for tms in (WEB_MERCATOR, WORLD_CRS84)}
TMS_ID = WEB_MERCATOR.id
TMS_URI = WEB_MERCATOR.uri
CRS_URI = WEB_MERCATOR.crs


@dataclass(frozen=True)
class TileAddress:
    """One tile: zoom, column x, row y (y grows southwards), in a tile matrix set."""

    z: int
    x: int
    y: int
    tms: str = TMS_ID

    @property
    def width(self) -> float:
        """Side of the tile in its CRS's units (metres or degrees)."""
        return MATRIX_SETS[self.tms].side0 / (1 << self.z)

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the tile in its tile matrix set's CRS."""
        w = self.width
        left, top = MATRIX_SETS[self.tms].origin
        xmin = left + self.x * w
        ymax = top - self.y * w
        return xmin, ymax - w, xmin + w, ymax


def _integer(name: str, text: str | int) -> int:
    if isinstance(text, int):
        return text
    if not DIGITS.fullmatch(text):
        raise BadRequest(
            f"{name} must be a non-negative integer, not {text!r}",
            [{"field": name, "message": "must be a non-negative integer"}],
        )
    return int(text)


def parse_tile(z: str | int, x: str | int, y: str | int, tms: str = TMS_ID) -> TileAddress:
    """Validate z/x/y against the tile matrix (400 for anything outside it)."""
    zoom = _integer("z", z)
    if zoom > MAX_ZOOM:
        raise BadRequest(
            f"zoom {zoom} is outside 0–{MAX_ZOOM}",
            [{"field": "z", "message": f"must lie between 0 and {MAX_ZOOM}"}],
        )
    col, row = _integer("x", x), _integer("y", y)
    columns, rows = MATRIX_SETS[tms].size(zoom)
    for name, value, size in (("x", col, columns), ("y", row, rows)):
        if value >= size:
            raise BadRequest(
                f"{name}={value} is outside the {columns}×{rows} matrix of zoom {zoom}",
                [{"field": name, "message": f"must be below {size} at zoom {zoom}"}],
            )
    return TileAddress(zoom, col, row, tms)


def lonlat_to_mercator(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:4326 lon/lat to EPSG:3857 metres."""
    lat = max(min(lat, 85.05112878), -85.05112878)
    x = math.radians(lon) * HALF_WORLD / math.pi
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * HALF_WORLD / math.pi
    return x, y


def tile_range(
    bounds: tuple[float, float, float, float], zoom: int, tms: str = TMS_ID
) -> tuple[int, int, int, int]:
    """(min col, min row, max col, max row) of the tiles covering a lon/lat box at a zoom."""
    west, south, east, north = bounds
    if tms == TMS_ID:
        (x0, y0), (x1, y1) = lonlat_to_mercator(west, north), lonlat_to_mercator(east, south)
    else:
        x0, y0, x1, y1 = west, north, east, south
    matrix = MATRIX_SETS[tms]
    columns, rows = matrix.size(zoom)
    width = matrix.side0 / (1 << zoom)
    left, top = matrix.origin

    def clamp(value: float, size: int) -> int:
        return max(0, min(size - 1, math.floor(value)))

    return (
        clamp((x0 - left) / width, columns),
        clamp((top - y0) / width, rows),
        clamp((x1 - left) / width, columns),
        clamp((top - y1) / width, rows),
    )


def tile_matrix_set(base_url: str, tms: str = TMS_ID) -> dict[str, Any]:
    """A tile matrix set in the OGC 2D TileMatrixSet 2.0 JSON encoding.

    The TMS 1.0 names (type, identifier, supportedCRS, topLeftCorner) are given too: GDAL 3.6
    (Debian 12) only reads a tile matrix set that carries them.
    """
    matrix = MATRIX_SETS[tms]
    matrices = []
    for zoom in range(MAX_ZOOM + 1):
        cell = matrix.side0 / TILE_PIXELS / (1 << zoom)
        columns, rows = matrix.size(zoom)
        matrices.append(
            {
                "id": str(zoom),
                "identifier": str(zoom),  # TMS 1.0 name, read by GDAL before 3.7
                "topLeftCorner": list(matrix.origin),  # TMS 1.0 name
                "scaleDenominator": cell * matrix.metres_per_unit / 0.00028,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": list(matrix.origin),
                "tileWidth": TILE_PIXELS,
                "tileHeight": TILE_PIXELS,
                "matrixWidth": columns,
                "matrixHeight": rows,
            }
        )
    xmin, ymin, xmax, ymax = matrix.bbox()
    return {
        "id": matrix.id,
        "type": "TileMatrixSetType",
        "identifier": matrix.id,
        "supportedCRS": matrix.crs,
        "title": matrix.title,
        "uri": matrix.uri,
        "crs": matrix.crs,
        "orderedAxes": list(matrix.axes),
        "wellKnownScaleSet": matrix.scale_set,
        "boundingBox": {"lowerLeft": [xmin, ymin], "upperRight": [xmax, ymax], "crs": matrix.crs},
        "tileMatrices": matrices,
        "links": [
            {
                "rel": "self",
                "type": "application/json",
                "href": f"{base_url}/tileMatrixSets/{matrix.id}",
            }
        ],
    }
