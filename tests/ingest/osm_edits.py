"""A modified copy of an OSM extract, written with pyosmium: what a city's next download looks like.

The edits: one residential building gets another `building:levels`, one node used by a single
walkable way moves 2 m east, one park is deleted, and a new footway (two new nodes) appears.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import osmium

from gis_service.ingest.osm import OsmData


@dataclass(frozen=True)
class Edits:
    """What was changed, by OSM id."""

    building: int
    street: int
    moved_node: int
    park: int
    new_way: int


def pick_edits(source: Path, data: OsmData) -> Edits:
    """A residential building, a node of one walkable way only, a park, a fresh way id."""
    refs: Counter[int] = Counter()
    way_nodes: dict[int, list[int]] = {}
    for obj in osmium.FileProcessor(str(source), osmium.osm.WAY):
        nodes = [n.ref for n in obj.nodes]
        way_nodes[obj.id] = nodes
        refs.update(nodes)
    streets = [int(k.split("/")[1]) for k in data.streets["source_key"] if "#" not in k]
    street, node = next(
        (way, n) for way in streets for n in way_nodes.get(way, [])[1:-1] if refs[n] == 1
    )
    homes = data.buildings[data.buildings["kind"] == "apartments"]
    building = int(homes["source_key"].iloc[0].split("/")[1])
    park = next(int(k.split("/")[1]) for k in data.gardens["source_key"] if "way/" in k)
    return Edits(building, street, node, park, max(way_nodes) + 1)


def write_edited(source: Path, target: Path, edits: Edits) -> None:
    """Copy source to target (.osm.pbf) with the edits applied."""
    new_nodes: list[int] = []
    with osmium.SimpleWriter(str(target)) as writer:
        last_node = 0
        for obj in osmium.FileProcessor(str(source)):
            if obj.is_node():
                last_node = max(last_node, obj.id)
                if obj.id == edits.moved_node:
                    loc = obj.location
                    obj = obj.replace(location=osmium.osm.Location(loc.lon + 0.000036, loc.lat))
                writer.add_node(obj)
                continue
            if obj.is_way() and not new_nodes:
                new_nodes = [last_node + 1, last_node + 2]
                for number, node_id in enumerate(new_nodes):
                    writer.add_node(osmium.osm.mutable.Node(
                        id=node_id, location=(24.9400 + 0.0005 * number, 60.1650),
                        version=1, changeset=1, timestamp="2024-01-01T00:00:00Z", uid=1,
                        user="test", tags={}))  # fmt: skip
                writer.add_way(osmium.osm.mutable.Way(
                    id=edits.new_way, nodes=new_nodes, tags={"highway": "footway"}, version=1,
                    changeset=1, timestamp="2024-01-01T00:00:00Z", uid=1, user="test"))  # fmt: skip
            if obj.is_relation():
                writer.add_relation(obj)
            elif obj.id == edits.building:
                tags = {t.k: t.v for t in obj.tags}
                tags["building:levels"] = "17"
                writer.add_way(obj.replace(tags=tags))
            elif obj.id != edits.park:
                writer.add_way(obj)
