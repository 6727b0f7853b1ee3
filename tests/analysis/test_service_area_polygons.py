"""Service-area polygons built from chains of street pieces: the same polygons as a direct
buffer of the reached streets, within the stated tolerance of an exact round buffer."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gis_service.analysis.line_buffers import buffered_lines
from gis_service.analysis.network import StreetGraph, build_graph
from gis_service.analysis.service_area import QUAD_SEGS, buffered_groups, service_areas
from gis_service.analysis.street_chains import street_chains
from gis_service.ingest.demo import generate_city
from gis_service.ingest.demo_load import build_geometries

BOUNDARY_TOLERANCE_M = 1.0
"""Outlines within 1 m of the exact round buffer (service_area.QUAD_SEGS: chords 0.48 m inside
an arc, a little more where two arcs cross); areas at most 2.5 % smaller (a lone disc), 0.5 %
on city streets."""


@pytest.fixture(scope="module")
def district() -> tuple[StreetGraph, np.ndarray, np.ndarray]:
    """The demo district's streets (metres), its facilities' points and ids."""
    rows = generate_city(34).rows
    streets = build_geometries(rows["street"]["geom"], "LINESTRING")
    points = np.array([spec[1] for spec in rows["facility"]["geom"]], dtype=float)
    return build_graph(streets), points, np.array(rows["facility"]["id"])


def assert_same_as_direct_buffer(
    polygons: np.ndarray, lines: np.ndarray, area_tolerance: float = 0.025, apart_at_most=1e-4
) -> None:
    """Each polygon is the direct buffer of its lines with as many chords per arc (up to where
    the chords fall on an arc: `apart_at_most` of the area), and within the tolerance of the
    exact buffer."""
    direct = shapely.buffer(lines, 25.0, quad_segs=QUAD_SEGS)
    exact = shapely.buffer(lines, 25.0, quad_segs=64)
    assert shapely.is_valid(polygons).all()
    apart = shapely.area(shapely.symmetric_difference(polygons, direct))
    assert (apart <= apart_at_most * shapely.area(direct)).all()
    ratio = shapely.area(polygons) / shapely.area(exact)
    assert ((ratio > 1 - area_tolerance) & (ratio <= 1.0 + 1e-9)).all()
    assert (shapely.hausdorff_distance(polygons, exact) < BOUNDARY_TOLERANCE_M).all()


def test_demo_district_polygons_are_the_buffer_of_the_reached_streets(district):
    graph, points, ids = district
    areas = service_areas(graph, points, 300.0, ids, buffer=25.0)
    lines = service_areas(graph, points, 300.0, ids, buffer=0.0)
    assert areas["facility_id"].tolist() == lines["facility_id"].tolist()
    assert len(areas) == len(ids) > 30
    assert_same_as_direct_buffer(areas.geometry.to_numpy(), lines.geometry.to_numpy(), 0.005)
    whole = service_areas(graph, points, 300.0, per_facility=False)
    whole_lines = service_areas(graph, points, 300.0, per_facility=False, buffer=0.0)
    assert_same_as_direct_buffer(whole.geometry.to_numpy(), whole_lines.geometry.to_numpy(), 0.005)


def test_curved_streets_loops_bridges_and_dead_ends_keep_their_buffer():
    streets = [
        shapely.LineString([(0, 0), (40, 30), (80, 0), (120, 30)]),  # bends both ways
        shapely.LineString([(120, 30), (200, 30)]),
        shapely.LineString([(200, 30), (230, 80), (170, 80), (200, 30)]),  # a loop
        shapely.LineString([(60, -60), (60, 60)]),  # crosses without a node (a bridge)
        shapely.LineString([(120, 30), (125, 32)]),  # a short dead end at a sharp angle
        shapely.LineString([(80, 0), (80, -40)]),
    ]
    graph = build_graph(np.array(streets, dtype=object))
    facilities = np.array([[10.0, 5.0], [190.0, 30.0], [60.0, 50.0]])
    areas = service_areas(graph, facilities, 150.0, buffer=25.0)
    lines = service_areas(graph, facilities, 150.0, buffer=0.0)
    # Clipper steps a bend's chords 22.5 degrees apart from one side, GEOS spreads them evenly:
    # on these sharp bends the chords fall apart by up to 0.2 % of the area (both stay within
    # 1 m of the exact outline)
    assert_same_as_direct_buffer(areas.geometry.to_numpy(), lines.geometry.to_numpy(), 0.025, 2e-3)


def test_chains_pass_along_every_piece_once_and_keep_groups_apart(lattice):
    pieces = lattice.geometries
    group = np.zeros(pieces.size, np.int64)
    group[pieces.size // 2 :] = 1
    chains, chain_group = street_chains(pieces, group)
    for g in (0, 1):
        mine, theirs = chains[chain_group == g], pieces[group == g]
        assert shapely.length(mine).sum() == pytest.approx(shapely.length(theirs).sum())
        assert shapely.equals(shapely.union_all(mine), shapely.union_all(theirs))
    # the whole lattice: 8 odd-degree nodes on its sides, so 4 open chains (and maybe a loop)
    whole, _ = street_chains(pieces, np.zeros(pieces.size, np.int64))
    assert (~shapely.is_closed(whole)).sum() == 4 and whole.size <= 6
    assert shapely.length(whole).sum() == pytest.approx(shapely.length(pieces).sum())


def test_a_group_of_one_piece_and_an_empty_answer():
    one = np.array([shapely.LineString([(0, 0), (100, 0)])], dtype=object)
    (polygon,) = buffered_groups(one, np.array([0, 1]), 25.0)
    direct = shapely.buffer(one[0], 25.0, quad_segs=QUAD_SEGS)
    assert polygon.area == pytest.approx(direct.area, rel=1e-6)  # vertices on 0.1 mm
    lines, groups = street_chains(np.empty(0, dtype=object), np.zeros(0, np.int64))
    assert lines.size == groups.size == 0


def test_groups_buffered_in_one_clipper_call_stay_apart_with_their_holes_and_parts():
    square = shapely.LineString([(0, 0), (200, 0), (200, 200), (0, 200), (0, 0)])  # a hole
    apart = shapely.LineString([(1000, 0), (1100, 0)])  # a second part of group 1
    island = shapely.LineString([(80, 100), (120, 100)])  # inside group 2's hole
    lines = np.array([square, square, apart, square, island, square], dtype=object)
    group = np.array([0, 1, 1, 2, 2, 4])  # group 3 has no line; 0, 1, 2 and 4 overlap in space
    polygons = buffered_lines(lines, group, 5, 25.0, QUAD_SEGS)
    direct = [shapely.buffer(shapely.union_all(lines[group == g]), 25.0, quad_segs=QUAD_SEGS)
              for g in range(5)]  # fmt: skip
    assert shapely.is_valid(polygons).all() and polygons[3].is_empty
    for g in (0, 1, 2, 4):
        apart_area = shapely.symmetric_difference(polygons[g], direct[g]).area
        assert apart_area <= 1e-4 * direct[g].area
    assert len(polygons[0].interiors) == 1 and polygons[1].geom_type == "MultiPolygon"
    assert polygons[2].covers(shapely.Point(100, 100)) and not polygons[0].covers(
        shapely.Point(100, 100)
    )
    # a city-wide group (100 km) keeps Clipper's fast integer range with coarser units
    far = np.array([shapely.LineString([(0, 0), (100_000, 0)])], dtype=object)
    (wide,) = buffered_lines(far, np.zeros(1, np.int64), 1, 25.0, QUAD_SEGS)
    exact = shapely.buffer(far[0], 25.0, quad_segs=QUAD_SEGS).area
    assert wide.area == pytest.approx(exact, rel=1e-5)  # vertices on 0.2 mm


def test_many_groups_stacked_in_one_call_each_keep_their_own_rings():
    """Hundreds of groups share each Clipper call, stacked on rows, and each gets its own
    outline back."""
    rng = np.random.default_rng(7)
    n = 600
    corner = rng.uniform(0, 5_000, (n, 2))
    size = rng.uniform(20, 150, (n, 2))
    east, north = corner + size * [1, 0], corner + size
    lines = shapely.linestrings(np.stack([corner, east, north], axis=1))  # east, then north
    polygons = buffered_lines(lines, np.arange(n), n, 25.0, QUAD_SEGS)
    direct = shapely.buffer(lines, 25.0, quad_segs=QUAD_SEGS)
    assert shapely.is_valid(polygons).all()
    apart = shapely.area(shapely.symmetric_difference(polygons, direct))
    assert (apart <= 0.005 * shapely.area(direct)).all()  # where chords fall; a ring astray: 100 %


def test_a_ring_starting_on_its_rows_first_unit_stays_in_its_group():
    """Rows are a float apart (a group's height carries projection noise: 575.00000001 m), so
    a ring that begins on the integer unit where its row starts is a hair below the row's
    float start: it is placed by the middle of its height, not by its first vertex (on the 1M
    city, 1,251 of 11,204 outlines took a neighbour's rings before)."""
    from gis_service.analysis.line_buffers import _polygons

    units, row = 1.0, 5_750_000.0001
    bottom = 140 * 5_750_000  # the ring's first vertex: its lowest, on row 140's first unit
    square = np.array([[0, bottom], [100, bottom], [100, bottom + 100], [0, bottom + 100]])
    out = np.array([shapely.Polygon()] * 141, dtype=object)
    shift = np.zeros((141, 2))
    shift[:, 1] = np.arange(141) * row
    placed = _polygons(out, np.array([4]), square.astype(float), np.zeros(1, np.int64), 141, row,
                       shift, units)  # fmt: skip
    assert placed[139].is_empty and placed[140].area == pytest.approx(100 * 100)
