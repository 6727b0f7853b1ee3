"""Run by Debian's python3 with QGIS (headless): read a collection over OAPIF and as vector
tiles, render one compound to a PNG, print what was seen as JSON.

Usage: python3 qgis_probe.py <service url> <collection> <name> <z> <x> <y> <png path>
(<name>: the `name` of the feature to draw; QGIS numbers OAPIF features itself)
"""

from __future__ import annotations

import json
import os
import sys

from qgis.core import (  # type: ignore[import-not-found]
    QgsApplication,
    QgsExpression,
    QgsFeatureRequest,
    QgsMapLayer,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize  # type: ignore[import-not-found]
from qgis.PyQt.QtGui import QColor  # type: ignore[import-not-found]


def main() -> None:
    """Load, count, render; print a JSON summary."""
    url, collection, name = sys.argv[1], sys.argv[2], sys.argv[3]
    z, x, y = (int(v) for v in sys.argv[4:7])
    png = sys.argv[7]
    app = QgsApplication([], False)
    app.initQgis()
    oapif = QgsVectorLayer(f"url='{url}' typename='{collection}'", collection, "OAPIF")
    names = sorted(str(f["name"]) for f in oapif.getFeatures()) if oapif.isValid() else []
    tiles = QgsVectorTileLayer(
        f"type=xyz&url={url}/tiles/{collection}/{{z}}/{{x}}/{{y}}.pbf&zmin=0&zmax=22",
        f"{collection} tiles",
    )
    tile = QgsVectorLayer(
        f"/vsicurl/{url}/tiles/{collection}/{z}/{x}/{y}.pbf|layername={collection}",
        "one tile",
        "ogr",
    )
    tile_ids = sorted({int(f["id"]) for f in tile.getFeatures()}) if tile.isValid() else []
    request = QgsFeatureRequest().setFilterExpression(
        f'"name" = {QgsExpression.quotedValue(name)}'
    )
    target = next(oapif.getFeatures(request), None)
    if target is not None:
        box = target.geometry().boundingBox().buffered(0.0005)
        render(oapif, box, png)
        render(tiles, box, png.replace(".png", "-tiles.png"))

    print(json.dumps({
        "oapif_valid": oapif.isValid(),
        "oapif_names": names,
        "oapif_geometry": oapif.geometryType(),
        "oapif_fields": [f.name() for f in oapif.fields()],
        "tiles_valid": tiles.isValid(),
        "tile_ids": tile_ids,
        "found": target is not None,
    }), flush=True)
    app.exitQgis()
    os._exit(0)  # QGIS 3.22 may crash while Python tears its objects down


def render(layer: QgsMapLayer, box: QgsRectangle, png: str) -> None:
    """Draw one layer over a box (CRS84) on white to a 400x400 PNG."""
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsVectorLayer("Point?crs=EPSG:4326", "", "memory").crs())
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setOutputSize(QSize(400, 400))
    settings.setExtent(box)
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(png, "PNG")


if __name__ == "__main__":
    main()
