"""Service areas, nearest distances and gaps through real HTTP against the demo district."""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from gis_service.catalog import default_catalog
from tests.analysis.walk_reference import line_network, nearest_area_distances
from tests.datasets.conftest import COMPOUND_34, rows

UTM_GUANGZHOU = 32649
SHARE_COUNTS = ("stairwells", "served_stairwells", "households", "served_households",
                "elderly_households", "served_elderly_households")  # fmt: skip
GAP_COUNTS = ("households", "unserved_households", "elderly_households",
              "unserved_elderly_households")  # fmt: skip


def served(live, token, **params) -> dict:
    with live.client(token) as http:
        answer = http.get("/analysis/service-areas", params={"f": "json", **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_network_serves_no_more_households_than_crow_flies(shared_live, tokens):
    walk = served(shared_live, tokens["planner"], layer="gardens", mode="network")
    crow = served(shared_live, tokens["planner"], layer="gardens", mode="crow")
    assert walk["parameters"]["radius_m"] == crow["parameters"]["radius_m"] == 300.0
    assert "stairwells" not in walk  # a unit's shares, not a row per stairwell
    # A garden is reached where the network comes within touch_m of its outline; crow-flies
    # measures to the outline itself, so a walk is never shorter by more than touch_m.
    touch = default_catalog().layer("gardens").service.access.touch_m
    each = {"layer": "gardens", "level": "stairwell"}
    walk_each = served(shared_live, tokens["planner"], mode="network", **each)
    by_crow = {s["id"]: s for s in served(shared_live, tokens["planner"], mode="crow",
                                          **each)["stairwells"]}  # fmt: skip
    reached = [s["facility_id"] for s in walk_each["stairwells"] if s["facility_id"] is not None]
    assert reached and all(type(f) is int for f in reached)  # an id: 12, never 12.0
    assert all(type(s["facility_id"]) is int for s in by_crow.values() if s["served"])
    for s in walk_each["stairwells"]:
        other = by_crow[s["id"]]
        assert other["served"] or not s["served"] or other["distance_m"] <= 300 + touch
        if s["distance_m"] is not None:
            assert s["distance_m"] >= other["distance_m"] - touch - 0.1
    crow_units = {u["compound_id"]: u for u in crow["summary"]}
    for unit in walk["summary"]:
        assert unit["served_households"] <= crow_units[unit["compound_id"]]["served_households"]
    total = {name: sum(u["served_households"] for u in r["summary"]) for name, r in
             (("walk", walk), ("crow", crow))}  # fmt: skip
    assert 0 < total["walk"] < total["crow"]


def test_network_distance_of_a_stairwell_matches_networkx(shared_live, shared_demo_db, tokens):
    """Against walk_reference: networkx on the demo streets' own shared vertices, gardens
    reached where the streets come within the catalog's touch_m of their outline."""
    answer = served(shared_live, tokens["analyst"], layer="gardens", compound_id=COMPOUND_34,
                    level="stairwell")
    served_ones = [s for s in answer["stairwells"] if s["served"]][:20]
    assert served_ones
    utm = f"ST_AsText(ST_Transform(geom, {UTM_GUANGZHOU})) AS w"
    homes = {r["id"]: shapely.from_wkt(r["w"]) for r in rows(
        shared_demo_db, f"SELECT id, {utm} FROM stairwell WHERE id = ANY(:ids)",
        ids=[s["id"] for s in served_ones])}  # fmt: skip
    gardens = rows(shared_demo_db, f"SELECT id, {utm} FROM garden ORDER BY id")
    streets = gpd.GeoSeries(
        [shapely.from_wkt(r["w"]) for r in rows(shared_demo_db, f"SELECT {utm} FROM street")],
        crs=UTM_GUANGZHOU,
    )
    touch = default_catalog().layer("gardens").service.access.touch_m
    ref = nearest_area_distances(
        line_network(streets), np.array([homes[s["id"]] for s in served_ones], dtype=object),
        np.array([shapely.from_wkt(g["w"]) for g in gardens], dtype=object), touch_m=touch,
    )  # fmt: skip
    for stairwell, (distance, area) in zip(served_ones, ref.itertuples(index=False), strict=True):
        assert stairwell["distance_m"] == pytest.approx(distance, abs=0.5)
        assert stairwell["facility_id"] == gardens[area]["id"] or stairwell["distance_m"] == 0


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
    with shared_live.client(tokens["planner"]) as http:
        as_csv = http.get("/analysis/gaps", params={**params, "f": "csv"})
    shares = {u["community_id"]: u for u in walk["summary"]}
    for unit in walk["summary"]:  # 781 households, never 781.0
        assert all(isinstance(unit[count], int) for count in SHARE_COUNTS), unit
    for unit in table["rows"]:
        want = shares[unit["community_id"]]
        assert unit["unserved_households"] == want["households"] - want["served_households"]
        assert all(isinstance(unit[count], int) for count in GAP_COUNTS), unit
    parsed = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(parsed) == len(table["rows"])
    for unit in parsed:  # whole numbers in the CSV: "781", never "781.0"
        want = shares[int(unit["community_id"])]
        assert int(unit["unserved_households"]) == want["households"] - want["served_households"]
        assert all(int(unit[count]) >= 0 for count in GAP_COUNTS)
    unserved = sum(u["unserved_stairwells"] for u in table["rows"])
    assert 0 < unserved == len(points["features"])
    each = served(shared_live, tokens["planner"], layer="gardens", level="stairwell")
    assert unserved == sum(not s["served"] for s in each["stairwells"])
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


def test_per_stairwell_answers_within_a_life_circle_for_an_elderly_person(shared_live, tokens):
    body = served(shared_live, tokens["analyst"], layer="gardens", level="stairwell",
                  life_circle="10min", speed="elderly", compound_id=COMPOUND_34)  # fmt: skip
    parameters = body["parameters"]
    assert (parameters["radius_m"], parameters["minutes"], parameters["m_per_min"]) == (
        450.0, 10.0, 45.0)
    assert body["rules"]["access"]["rule"] == "edges" and "summary" not in body
    assert body["unsnapped"] == {}
    stairwells = body["stairwells"]
    assert len(stairwells) == 57
    reached = [s for s in stairwells if s["served"]]
    assert reached
    for s in reached:
        assert s["minutes"] == round(s["distance_m"] / 45, 1) <= 10
        assert s["facility_name"] and s["access_lon"] is not None and s["access_lat"] is not None
    with shared_live.client(tokens["analyst"]) as http:
        both = http.get("/analysis/service-areas", params={
            "f": "json", "life_circle": "10min", "minutes": 5})
        unknown = http.get("/analysis/service-areas", params={"f": "json", "life_circle": "7min"})
    assert both.status_code == unknown.status_code == 422
    assert "5min, 10min, 15min" in unknown.text


def test_an_edit_that_moves_no_stairwell_keeps_their_places_on_the_streets(demo_db):
    from gis_service.datasets.cache import ResultCache
    from gis_service.datasets.live import LiveAnswers
    from gis_service.datasets.params import service_params
    from gis_service.datasets.runs import nearest_table, service_inputs

    graphs, live = ResultCache(maxsize=8), LiveAnswers(maxsize=2)

    def inputs():
        with demo_db.connect() as conn:
            params = service_params(conn, "gardens", radius_m=300.0)
            kept = service_inputs(conn, params, graphs=graphs, scope=("owner",), live=live)
            return kept, params

    first, params = inputs()
    picked = int(first.stairwells["id"].iloc[0])
    with demo_db.begin() as conn:
        conn.execute(sa.text("UPDATE stairwell SET households = households + 3 WHERE id = :i"),
                     {"i": picked})  # fmt: skip
    after, _ = inputs()
    assert after.snapped is first.snapped is not None  # not snapped again
    row = after.stairwells["id"] == picked
    assert after.stairwells.loc[row, "households"].item() == (
        first.stairwells.loc[first.stairwells["id"] == picked, "households"].item() + 3
    )
    assert live.refreshes == 1  # the written row read again, not the area's stairwells
    with demo_db.begin() as conn:
        conn.execute(sa.text("UPDATE stairwell SET geom = ST_Translate(geom, 0.0005, 0) "
                             "WHERE id = :i"), {"i": picked})  # fmt: skip
    moved, _ = inputs()
    assert moved.snapped is not first.snapped  # a moved stairwell is placed again
    x = moved.stairwells.loc[moved.stairwells["id"] == picked].geometry.x.item()
    assert x - first.stairwells.loc[first.stairwells["id"] == picked].geometry.x.item() > 40
    near = nearest_table(moved, params)
    assert len(near) == len(first.stairwells)
