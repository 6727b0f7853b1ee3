"""Run by Debian's python3 with QGIS (headless): read a collection over OAPIF with an API token
stored in QGIS's own authentication database (Basic method: any user name, the token as the
password), print each feature's stairwell and category as JSON.

Usage: python3 qgis_token_probe.py <service url> <collection> <token or -> <auth db dir>
(`-`: no authentication configuration at all)
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    """Configure the auth database, load the layer, list its ids."""
    url, collection, token, auth_dir = sys.argv[1:5]
    os.environ["QGIS_AUTH_DB_DIR_PATH"] = auth_dir  # read when QGIS starts
    from qgis.core import (  # type: ignore[import-not-found]
        QgsApplication,
        QgsAuthMethodConfig,
        QgsVectorLayer,
    )

    app = QgsApplication([], False)
    app.initQgis()
    source = f"url='{url}' typename='{collection}'"
    if token != "-":
        manager = QgsApplication.authManager()
        manager.setMasterPassword("probe-master-password", True)
        config = QgsAuthMethodConfig()
        config.setName("gis-service token")
        config.setMethod("Basic")
        config.setConfig("username", "token")
        config.setConfig("password", token)
        manager.storeAuthenticationConfig(config)
        source += f" authcfg={config.id()}"
    layer = QgsVectorLayer(source, collection, "OAPIF")
    # QGIS numbers OAPIF features itself: each is told apart by its stairwell and category
    keys = sorted([int(f["stairwell_id"]), str(f["category"])] for f in layer.getFeatures())
    print(json.dumps({"valid": layer.isValid(), "keys": keys}), flush=True)
    app.exitQgis()
    os._exit(0)  # QGIS 3.22 may crash while Python tears its objects down


if __name__ == "__main__":
    main()
