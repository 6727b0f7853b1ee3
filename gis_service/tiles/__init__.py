"""Vector tiles from PostGIS: XYZ and OGC API Tiles, TileJSON, cache, generalisation, scope."""

from gis_service.tiles.ogc import CONFORMANCE_CLASSES

__all__ = ["CONFORMANCE_CLASSES"]
