"""Walking distances on momepy's Bubenec against the independent networkx reference.

Stairwells are placed on the buildings by the OSM import's rule; the open plots (no building,
at least 1,000 m², not street-shaped) are the gardens, a third of them courtyards no street
touches, reached by a straight leg. The street lines meet at shared vertices, so the project's
graph and the reference's are the same network: every building agrees within 1 m.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis_service.analysis.network import build_graph
from gis_service.analysis.service import network_nearest
from gis_service.ingest.osm_stairwells import derive_stairwells
from tests.analysis.walk_reference import line_network, nearest_area_distances, per_building
from tests.realdata import bubenec, bubenec_gardens


def test_every_building_agrees_with_the_reference_within_a_metre() -> None:
    layers = bubenec()
    streets, buildings = layers["streets"], layers["buildings"]
    gardens = bubenec_gardens()
    assert len(gardens) == 23
    frame = buildings.assign(name=buildings["uID"].astype(str), floors=5, kind="yes",
                             source_key=None).to_crs(4326)  # fmt: skip
    stairs, _ = derive_stairwells(frame, None, streets.to_crs(4326))
    stairs = stairs.to_crs(streets.crs)
    near = network_nearest(build_graph(streets), stairs, gardens, radius=5000)
    ref = nearest_area_distances(line_network(streets.geometry), stairs.geometry.to_numpy(),
                                 gardens.geometry.to_numpy())  # fmt: skip
    table = pd.DataFrame({"building_id": stairs["building"].to_numpy(),
                          "ours": near["distance"].to_numpy(np.float64),
                          "ref": ref["distance"].to_numpy()})  # fmt: skip
    ours, theirs = per_building(table, "ours"), per_building(table, "ref")
    assert len(ours) == 144 and np.isfinite(ours).all()
    assert np.abs(ours - theirs).max() <= 1.0
    reached_by_leg = (~gardens.geometry.buffer(10).intersects(streets.union_all())).sum()
    assert reached_by_leg == 7
