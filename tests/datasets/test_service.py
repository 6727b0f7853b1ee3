"""Service areas, nearest distances and gaps through real HTTP against the demo district."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from tests.datasets.conftest import COMPOUND_34, rows

UTM_GUANGZHOU = 32649


def served(live, token, **params) -> dict:
    with live.client(token) as http:
        answer = http.get("/analysis/service-areas", params={"f": "json", **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_network_serves_no_more_households_than_crow_flies(shared_live, tokens):
    walk = served(shared_live, tokens["planner"], layer="gardens", mode="network")
    crow = served(shared_live, tokens["planner"], layer="gardens", mode="crow")
    assert walk["parameters"]["radius_m"] == crow["parameters"]["radius_m"] == 300.0
    by_crow = {s["id"]: s for s in crow["stairwells"]}
    for s in walk["stairwells"]:
        other = by_crow[s["id"]]
        assert other["served"] or not s["served"]
        if s["distance_m"] is not None:
            assert s["distance_m"] >= other["distance_m"] - 0.1
    crow_units = {u["compound_id"]: u for u in crow["summary"]}
    for unit in walk["summary"]:
        assert unit["served_households"] <= crow_units[unit["compound_id"]]["served_households"]
    total = {name: sum(u["served_households"] for u in r["summary"]) for name, r in
             (("walk", walk), ("crow", crow))}  # fmt: skip
    assert 0 < total["walk"] < total["crow"]


def street_graph(engine) -> nx.Graph:
    """The demo streets in networkx: a node per vertex, an edge per straight piece (metres)."""
    g = nx.Graph()
    sql = f"SELECT ST_AsText(ST_Transform(geom, {UTM_GUANGZHOU})) AS w FROM street"
    for street in rows(engine, sql):
        xy = np.round(shapely.get_coordinates(shapely.from_wkt(street["w"])), 3)
        for a, b in zip(map(tuple, xy[:-1]), map(tuple, xy[1:]), strict=True):
            g.add_edge(a, b, weight=float(np.hypot(b[0] - a[0], b[1] - a[1])))
    return g


def attach(g: nx.Graph, point: shapely.Point, name: str) -> None:
    """Split the nearest straight piece at the point's projection and join the point there."""
    pieces = [(a, b) for a, b in g.edges if not isinstance(a, str) and not isinstance(b, str)]
    lines = shapely.linestrings([[a, b] for a, b in pieces])
    i = int(np.argmin(shapely.distance(lines, point)))
    a, b = pieces[i]
    foot = shapely.line_interpolate_point(lines[i], shapely.line_locate_point(lines[i], point))
    at = (float(foot.x), float(foot.y))
    if at not in (a, b):
        g.remove_edge(a, b)
        g.add_edge(a, at, weight=float(shapely.distance(shapely.Point(a), foot)))
        g.add_edge(at, b, weight=float(shapely.distance(foot, shapely.Point(b))))
    g.add_edge(name, at, weight=float(point.distance(foot)))


def test_network_distance_of_a_stairwell_matches_networkx(shared_live, shared_demo_db, tokens):
    answer = served(shared_live, tokens["analyst"], layer="gardens", compound_id=COMPOUND_34)
    stairwell = next(s for s in answer["stairwells"] if s["served"])
    (home,) = rows(
        shared_demo_db,
        f"SELECT ST_AsText(ST_Transform(geom, {UTM_GUANGZHOU})) AS w FROM stairwell WHERE id = :i",
        i=stairwell["id"],
    )
    gardens = rows(
        shared_demo_db,
        f"SELECT id, ST_AsText(ST_Transform(geom, {UTM_GUANGZHOU})) AS w FROM garden",
    )
    g = street_graph(shared_demo_db)
    attach(g, shapely.from_wkt(home["w"]), "home")
    for garden in gardens:  # the garden's entrance: a point on its surface, as the engine does
        attach(g, shapely.from_wkt(garden["w"]).point_on_surface(), f"garden{garden['id']}")
    lengths = nx.single_source_dijkstra_path_length(g, "home", weight="weight")
    nearest = min(gardens, key=lambda garden: lengths[f"garden{garden['id']}"])
    assert stairwell["facility_id"] == nearest["id"]
    assert stairwell["distance_m"] == pytest.approx(lengths[f"garden{nearest['id']}"], abs=0.5)


def test_service_area_polygons_are_public_the_distances_are_not(shared_live, tokens):
    with shared_live.client() as http:
        areas = http.get("/analysis/service-areas", params={"layer": "gardens"})
        dissolved = http.get(
            "/analysis/service-areas", params={"layer": "gardens", "per_facility": "false"}
        )
        hidden = http.get("/analysis/service-areas", params={"layer": "gardens", "f": "json"})
    assert areas.status_code == 200
    assert areas.headers["content-type"].startswith("application/geo+json")
    features = areas.json()["features"]
    assert len(features) == 6
    for feature in features:
        shape = shapely.geometry.shape(feature["geometry"])
        assert shape.is_valid and not shape.is_empty and shape.geom_type.endswith("Polygon")
        assert feature["properties"]["street_length_m"] > 0
        assert feature["properties"]["mode"] == "network"
    assert len(dissolved.json()["features"]) == 1
    assert hidden.status_code == 401


def test_minutes_and_elderly_speed_and_catalog_defaults(shared_live, tokens):
    slow = served(shared_live, tokens["planner"], layer="facilities", kind="health_centre",
                  minutes=10, speed="elderly")  # fmt: skip
    default = served(shared_live, tokens["planner"], layer="facilities", kind="health_centre")
    parking = served(shared_live, tokens["planner"], layer="parking", kind="bicycle_shed")
    assert slow["parameters"]["radius_m"] == 450.0
    assert default["parameters"]["radius_m"] == 1000.0
    assert parking["parameters"]["radius_m"] == 150.0


def test_gaps_per_level_and_as_points(shared_live, tokens):
    params = {"layer": "gardens", "level": "community"}
    walk = served(shared_live, tokens["planner"], **params)
    with shared_live.client(tokens["planner"]) as http:
        table = http.get("/analysis/gaps", params=params).json()
        points = http.get("/analysis/gaps", params={**params, "f": "geojson"}).json()
    shares = {u["community_id"]: u for u in walk["summary"]}
    for unit in table["rows"]:
        want = shares[unit["community_id"]]
        assert unit["unserved_households"] == want["households"] - want["served_households"]
    unserved = sum(u["unserved_stairwells"] for u in table["rows"])
    assert 0 < unserved == len(points["features"])
    assert unserved == sum(not s["served"] for s in walk["stairwells"])
    assert all(not f["properties"]["served"] for f in points["features"])
    assert all(f["geometry"]["type"] == "Point" for f in points["features"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"layer": "shops"}, "layer"),
        ({"layer": "gardens", "kind": "car_wash"}, "kind"),
        ({"layer": "gardens", "radius_m": 300, "minutes": 5}, "radius_m"),
        ({"layer": "gardens", "radius_m": -1}, "radius_m"),
        ({"layer": "gardens", "radius_m": 99999}, "radius_m"),
        ({"layer": "gardens", "mode": "flying"}, "mode"),
        ({"layer": "gardens", "speed": "fast"}, "speed"),
    ],
)
def test_bad_service_parameters_are_422(shared_live, tokens, params, field):
    with shared_live.client(tokens["planner"]) as http:
        for path in ("/analysis/service-areas", "/analysis/gaps"):
            answer = http.get(path, params=params)
            assert answer.status_code == 422, answer.text
            assert any(field in e["field"] for e in answer.json()["errors"])
