"""The WebMercatorQuad tile matrix set: tile addresses, bounds and the OGC TMS document."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from gis_service.features.errors import BadRequest

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
CRS_URI = "http://www.opengis.net/def/crs/EPSG/0/3857"
HALF_WORLD = 20037508.342789244  # metres: half the equator in EPSG:3857
MAX_ZOOM = 24
TILE_PIXELS = 256
EXTENT = 4096  # MVT coordinate units per tile side
BUFFER = 64  # MVT units drawn around the tile (symbols and strokes crossing the edge)
DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class TileAddress:
    """One tile of WebMercatorQuad: zoom, column x, row y (y grows southwards)."""

    z: int
    x: int
    y: int

    @property
    def width(self) -> float:
        """Side of the tile in EPSG:3857 metres."""
        return 2 * HALF_WORLD / (1 << self.z)

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the tile in EPSG:3857."""
        w = self.width
        xmin = -HALF_WORLD + self.x * w
        ymax = HALF_WORLD - self.y * w
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


def parse_tile(z: str | int, x: str | int, y: str | int) -> TileAddress:
    """Validate z/x/y against the tile matrix (400 for anything outside it)."""
    zoom = _integer("z", z)
    if zoom > MAX_ZOOM:
        raise BadRequest(
            f"zoom {zoom} is outside 0–{MAX_ZOOM}",
            [{"field": "z", "message": f"must lie between 0 and {MAX_ZOOM}"}],
        )
    col, row = _integer("x", x), _integer("y", y)
    size = 1 << zoom
    for name, value in (("x", col), ("y", row)):
        if value >= size:
            raise BadRequest(
                f"{name}={value} is outside the {size}×{size} matrix of zoom {zoom}",
                [{"field": name, "message": f"must be below {size} at zoom {zoom}"}],
            )
    return TileAddress(zoom, col, row)


def lonlat_to_mercator(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:4326 lon/lat to EPSG:3857 metres."""
    lat = max(min(lat, 85.05112878), -85.05112878)
    x = math.radians(lon) * HALF_WORLD / math.pi
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * HALF_WORLD / math.pi
    return x, y


def tile_range(
    bounds: tuple[float, float, float, float], zoom: int
) -> tuple[int, int, int, int]:
    """(min col, min row, max col, max row) of the tiles covering a lon/lat box at a zoom."""
    west, south, east, north = bounds
    x0, y0 = lonlat_to_mercator(west, north)
    x1, y1 = lonlat_to_mercator(east, south)
    size = 1 << zoom
    width = 2 * HALF_WORLD / size

    def clamp(value: float) -> int:
        return max(0, min(size - 1, math.floor(value)))

    return (
        clamp((x0 + HALF_WORLD) / width),
        clamp((HALF_WORLD - y0) / width),
        clamp((x1 + HALF_WORLD) / width),
        clamp((HALF_WORLD - y1) / width),
    )


def tile_matrix_set(base_url: str) -> dict[str, Any]:
    """The WebMercatorQuad definition in the OGC 2D TileMatrixSet 2.0 JSON encoding.

    The TMS 1.0 names (type, identifier, supportedCRS, topLeftCorner) are given too: GDAL 3.6
    (Debian 12) only reads a tile matrix set that carries them.
    """
    matrices = []
    for zoom in range(MAX_ZOOM + 1):
        cell = 2 * HALF_WORLD / TILE_PIXELS / (1 << zoom)
        matrices.append(
            {
                "id": str(zoom),
                "identifier": str(zoom),  # TMS 1.0 name, read by GDAL before 3.7
                "topLeftCorner": [-HALF_WORLD, HALF_WORLD],  # TMS 1.0 name
                "scaleDenominator": cell / 0.00028,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-HALF_WORLD, HALF_WORLD],
                "tileWidth": TILE_PIXELS,
                "tileHeight": TILE_PIXELS,
                "matrixWidth": 1 << zoom,
                "matrixHeight": 1 << zoom,
            }
        )
    return {
        "id": TMS_ID,
        "type": "TileMatrixSetType",
        "identifier": TMS_ID,
        "supportedCRS": CRS_URI,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": CRS_URI,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "boundingBox": {
            "lowerLeft": [-HALF_WORLD, -HALF_WORLD],
            "upperRight": [HALF_WORLD, HALF_WORLD],
            "crs": CRS_URI,
        },
        "tileMatrices": matrices,
        "links": [
            {
                "rel": "self",
                "type": "application/json",
                "href": f"{base_url}/tileMatrixSets/{TMS_ID}",
            }
        ],
    }
