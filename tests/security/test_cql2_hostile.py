"""Hostile CQL2 filters: 400 naming the problem on items, export and tiles, never a 500.

Reproduces the attacks of issue 11 (a 5,000-digit integer, CASEI nested 2,000 deep, predicates
between literals only that reached PostgreSQL) and fuzzes the parser and the compiler with
hypothesis: any text either compiles or is a 400, and whatever compiles runs on PostGIS.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from gis_service.api.problems import status_of
from gis_service.catalog import default_catalog
from gis_service.features.errors import BadRequest
from gis_service.features.filters import cql2_to_sql
from gis_service.features.values import queryable_fields
from tests.conftest import DemoTemplate, LiveServer
from tests.features.live import POINT_34, running

STAIRWELLS = default_catalog().layers["stairwells"]
ZOOM = 14


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a lon/lat point."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


X, Y = tile_of(*POINT_34, ZOOM)
ENDPOINTS = {
    "items": "/collections/stairwells/items",
    "export": "/collections/stairwells/export?f=csv",
    "tiles": f"/tiles/stairwells/{ZOOM}/{X}/{Y}.pbf",
}
ATTACKS = [
    ("floors = 1" + "0" * 5000, "longer than 40 characters"),
    ("CASEI(" * 2000 + "label" + ")" * 2000 + " = 'x'", "nested deeper than"),
    ("'x' IS NULL", "compares values only"),
    ("DATE('2020-01-01') = 5", "compares values only"),
    ("5 = DATE('2020-01-01') AND floors = 1", "compares values only"),
    ("floors BETWEEN label AND 9", "cannot compare integer with string"),
    ("floors IN (label, 3)", "cannot compare integer with string"),
    ("floors = CASEI('x')", "cannot compare integer with string"),
    ("label = '" + "x" * 5000 + "'", "longer than 1000 characters"),
    # a value error only PostgreSQL sees: answered 400 from the database's own message
    ("label LIKE '%\\'", "LIKE pattern must not end with escape character"),
]


@pytest.fixture(scope="module")
def live(shared_demo_db: Engine) -> Iterator[LiveServer]:
    with running(shared_demo_db) as server:
        yield server


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize(("cql", "problem"), ATTACKS, ids=[a[1][:24] for a in ATTACKS])
def test_hostile_filters_are_400_naming_the_problem(
    live: LiveServer, demo_template: DemoTemplate, endpoint: str, cql: str, problem: str
) -> None:
    with live.client(demo_template.tokens["analyst"]) as client:
        answer = client.get(ENDPOINTS[endpoint], params={"filter": cql})
    assert answer.status_code == 400, answer.text[:300]
    assert answer.headers["content-type"] == "application/problem+json"
    assert problem in answer.json()["detail"]


def test_the_service_still_answers_filters_after_the_attacks(
    live: LiveServer, demo_template: DemoTemplate
) -> None:
    with live.client(demo_template.tokens["analyst"]) as client:
        answer = client.get(ENDPOINTS["items"], params={"filter": "compound_id = 5", "limit": 100})
    assert answer.status_code == 200
    assert answer.json()["numberMatched"] == 57


FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WORDS = ["AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE", "CASEI",
         "DATE", "TIMESTAMP", "S_INTERSECTS", "BBOX", "POINT", "geometry", "(", ")", ",", "=",
         "<>", "<", ">=", "'a%'", "'2020-01-01'", "1", "-2.5", "1e400", "'x''y'", '"label"',
         *queryable_fields(STAIRWELLS)]  # fmt: skip


@FUZZ
@given(st.text(max_size=200))
def test_any_text_compiles_or_is_400(text: str) -> None:
    try:
        cql2_to_sql(text, STAIRWELLS)
    except BadRequest as exc:
        assert status_of(exc)[0] == 400


@FUZZ
@given(st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join))
def test_any_token_soup_compiles_or_is_400(text: str) -> None:
    try:
        cql2_to_sql(text, STAIRWELLS)
    except BadRequest as exc:
        assert status_of(exc)[0] == 400


KINDS = {name: f.type for name, f in queryable_fields(STAIRWELLS).items()}
LITERALS: dict[str, st.SearchStrategy[str]] = {
    "integer": st.integers(-(10**20), 10**20).map(str),
    "number": st.floats(allow_nan=False, width=32).map(repr),
    "string": st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8).map(
        lambda s: "'" + s.replace("'", "''") + "'"
    ),
    "boolean": st.sampled_from(["TRUE", "FALSE"]),
    "date": st.dates().map(lambda d: f"DATE('{d.isoformat()}')"),
    "timestamp": st.datetimes().map(lambda d: f"TIMESTAMP('{d.isoformat()}Z')"),
}
scalars = st.one_of(
    st.sampled_from(sorted(KINDS)),
    st.sampled_from(sorted(KINDS)).map(lambda name: f"CASEI({name})"),
    *LITERALS.values(),
    st.sampled_from(list(LITERALS)).flatmap(lambda kind: LITERALS[kind]).map(
        lambda lit: f"CASEI({lit})"
    ),
)


def predicate(parts: list[Any]) -> str:
    """One predicate of a kind chosen by the first draw, over the scalars drawn."""
    kind, a, b, c = parts
    return {
        0: f"{a} = {b}",
        1: f"{a} < {b}",
        2: f"{a} LIKE {b}",
        3: f"{a} BETWEEN {b} AND {c}",
        4: f"{a} IN ({b}, {c})",
        5: f"{a} IS NOT NULL",
        6: f"NOT ({a} <> {b})",
    }[kind]


predicates = st.tuples(st.integers(0, 6), scalars, scalars, scalars).map(list).map(predicate)
filters = st.recursive(
    predicates,
    lambda inner: st.tuples(inner, st.sampled_from([" AND ", " OR "]), inner).map(
        lambda t: f"({t[0]}{t[1]}{t[2]})"
    ),
    max_leaves=4,
)


@FUZZ
@given(filters)
def test_whatever_compiles_runs_on_postgis(shared_demo_db: Engine, cql: str) -> None:
    """No type error reaches PostgreSQL: a filter that compiles is a query PostGIS answers."""
    try:
        found = cql2_to_sql(cql, STAIRWELLS)
    except BadRequest:
        return
    with shared_demo_db.connect() as conn:
        try:
            conn.execute(
                sa.text(f"SELECT count(*) FROM stairwell WHERE {found.sql}"), found.params
            ).scalar_one()
        except sa.exc.DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", "")
            # only a value error of a LIKE pattern is left to the database (answered 400)
            assert state == "22025", (cql, found.sql, found.params, str(exc.orig))


def test_a_filter_from_the_fuzz_grammar_can_match(shared_demo_db: Engine) -> None:
    """The grammar above produces real filters (not only refusals)."""
    found = cql2_to_sql("(floors = 7 AND CASEI(label) LIKE '%')", STAIRWELLS)
    with shared_demo_db.connect() as conn:
        count = conn.execute(
            sa.text(f"SELECT count(*) FROM stairwell WHERE {found.sql}"), found.params
        ).scalar_one()
    assert count > 0

