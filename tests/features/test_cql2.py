"""CQL2-text to SQL: the grammar, names checked against the catalog, values always bound."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.api.problems import status_of
from gis_service.catalog import default_catalog
from gis_service.features.errors import BadRequest
from gis_service.features.filters import SqlFilter, cql2_to_sql, equality_filters

STAIRWELLS = default_catalog().layers["stairwells"]
ISSUES = default_catalog().layers["issues"]


def count(engine: Engine, where: SqlFilter) -> int:
    """Stairwells matching a filter."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(f"SELECT count(*) FROM stairwell WHERE {where.sql}"), where.params
            ).scalar_one()
        )


def plain(engine: Engine, where: str) -> int:
    """Stairwells matching hand-written SQL."""
    return count(engine, SqlFilter(where, {}))


@pytest.mark.parametrize(
    ("cql", "sql"),
    [
        ("compound_id = 5", "compound_id = 5"),
        (
            "compound_id = 5 AND elevator_status = 'in_service'",
            "compound_id = 5 AND elevator_status = 'in_service'",
        ),
        (
            "compound_id=5 and (elevator_status='applied' or elevator_status='in_service')",
            "compound_id = 5",
        ),
        ("households >= 10 AND households < 20", "households >= 10 AND households < 20"),
        ("NOT (floors <> 7)", "floors = 7"),
        ("elevator_status IN ('applied', 'approved')", "elevator_status IN ('applied','approved')"),
        ("elevator_status NOT IN ('none')", "elevator_status <> 'none'"),
        ("label LIKE '1%'", "label LIKE '1%'"),
        ("label NOT LIKE '1%'", "label NOT LIKE '1%'"),
        ("floors BETWEEN 6 AND 8", "floors BETWEEN 6 AND 8"),
        ("floors NOT BETWEEN 6 AND 8", "floors NOT BETWEEN 6 AND 8"),
        ("batch_id IS NULL", "batch_id IS NULL"),
        ("batch_id IS NOT NULL", "batch_id IS NOT NULL"),
        (
            "last_surveyed_on IS NULL OR last_surveyed_on < DATE('2000-01-01')",
            "last_surveyed_on IS NULL",
        ),
        ("status_changed_on >= '2020-01-01'", "status_changed_on >= '2020-01-01'"),
        (
            "CASEI(maintenance_model) = casei('CUSTODY_BUTLER')",
            "maintenance_model = 'custody_butler'",
        ),
        ('"compound_id" = 5', "compound_id = 5"),
        ("id = 1 OR TRUE", "true"),
        (
            "S_INTERSECTS(geometry, BBOX(113.29, 23.14, 113.30, 23.15))",
            "geom && ST_MakeEnvelope(113.29, 23.14, 113.30, 23.15, 4326)",
        ),
        (
            "S_INTERSECTS(geometry, POLYGON((113.29 23.14, 113.30 23.14, 113.30 23.15, "
            "113.29 23.15, 113.29 23.14)))",
            "geom && ST_MakeEnvelope(113.29, 23.14, 113.30, 23.15, 4326)",
        ),
        (
            "S_DISJOINT(geometry, BBOX(113.29, 23.14, 113.30, 23.15))",
            "NOT (geom && ST_MakeEnvelope(113.29, 23.14, 113.30, 23.15, 4326))",
        ),
        ("S_INTERSECTS(POINT(113.2942 23.1450), BBOX(113, 23, 114, 24))", "true"),
        ("S_INTERSECTS(geometry, LINESTRING(113.2 23.146, 113.4 23.146))", "false"),
    ],
)
def test_cql2_matches_hand_written_sql(shared_demo_db: Engine, cql: str, sql: str) -> None:
    assert count(shared_demo_db, cql2_to_sql(cql, STAIRWELLS)) == plain(shared_demo_db, sql)


def test_compound_34_by_cql2(shared_demo_db: Engine) -> None:
    found = cql2_to_sql("compound_id = 5 AND elevator_status = 'applied'", STAIRWELLS)
    assert count(shared_demo_db, found) == 42


def test_values_are_bound_never_spliced() -> None:
    hostile = "x'); DROP TABLE stairwell; --"
    found = cql2_to_sql(f"label = '{hostile.replace(chr(39), chr(39) * 2)}'", STAIRWELLS)
    assert hostile not in found.sql and "DROP" not in found.sql
    assert list(found.params.values()) == [hostile]
    assert found.sql == '("label" = :cql_0)'


def test_prefix_names_parameters() -> None:
    found = cql2_to_sql("floors = 7 AND label = 'a'", STAIRWELLS, prefix="t1")
    assert set(found.params) == {"t1_0", "t1_1"}


@pytest.mark.parametrize(
    ("cql", "message"),
    [
        ("", "empty"),
        ("households >", "expected a property or a value"),
        ("nosuchfield = 1", "unknown property 'nosuchfield'"),
        ("notes = 'x'", "unknown property 'notes'"),  # not queryable
        ("households = 'many'", "does not fit"),
        ("label = 3", "does not fit"),
        ("label > DATE('2020-01-01')", "does not fit"),
        ("last_surveyed_on = DATE('2020-13-40')", "bad date"),
        ("households LIKE '1%'", "LIKE needs strings"),
        ("label BETWEEN 'a' AND 'b'", "BETWEEN needs numbers or dates"),
        ("households = label", "cannot compare"),
        ("S_INTERSECTS(geometry, POINT(1))", "bad WKT"),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", "Self-intersection"),
        ("S_INTERSECTS(label, POINT(1 2))", "not the geometry"),
        ("S_INTERSECTS(geometry, BBOX(1, 2, 3))", "BBOX takes 4 or 6 numbers"),
        ("T_AFTER(last_surveyed_on, DATE('2020-01-01'))", "not supported"),
        ("upper(label) = 'A'", "not supported"),
        ("households = 1 households", "unexpected"),
        ("households = 1e999", "out of range"),
        ("label = 'a' ; DROP TABLE x", "unexpected character ';'"),
        ("(" * 500 + "floors = 1" + ")" * 500, "nested deeper"),
        ("NOT " * 500 + "floors = 1", "nested deeper"),
    ],
)
def test_bad_filters_are_400(cql: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        cql2_to_sql(cql, STAIRWELLS)
    assert status_of(caught.value) == (400, "Bad request")
    assert message in str(caught.value)


def test_equality_filters_convert_by_type() -> None:
    found = equality_filters(
        STAIRWELLS,
        {"compound_id": "5", "label": "1单元", "limit": "3", "status_changed_on": "2024-01-02"},
    )
    assert found.params["eq_compound_id"] == 5
    assert found.params["eq_label"] == "1单元"
    assert str(found.params["eq_status_changed_on"]) == "2024-01-02"
    assert "limit" not in found.sql  # not a field: left to the caller
    assert equality_filters(STAIRWELLS, {}).sql == "TRUE"


@pytest.mark.parametrize(
    "params",
    [
        {"compound_id": "five"},
        {"compound_id": "5.5"},
        {"notes": "x"},
        {"last_surveyed_on": "yesterday"},
        {"label": "a\x00b"},
    ],
)
def test_equality_filters_refuse_wrong_values(params: dict[str, str]) -> None:
    with pytest.raises(BadRequest) as caught:
        equality_filters(STAIRWELLS, params)
    assert status_of(caught.value) == (400, "Bad request")


def test_equality_filters_leave_impossible_values_to_the_caller() -> None:
    found = equality_filters(STAIRWELLS, {"survey_status": "maybe", "compound_id": "99999999999"})
    assert found.params == {"eq_survey_status": "maybe", "eq_compound_id": 99999999999}


def test_issue_datetime_filter(shared_demo_db: Engine) -> None:
    found = cql2_to_sql(
        "reported_at > TIMESTAMP('2000-01-01T00:00:00Z') AND status = 'open'", ISSUES
    )
    with shared_demo_db.connect() as conn:
        n = conn.execute(sa.text(f"SELECT count(*) FROM issue WHERE {found.sql}"), found.params)
        assert n.scalar_one() == 5
