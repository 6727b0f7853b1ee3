"""A query's columns read whole (datasets/arrays.py) against the real demo database."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from gis_service.datasets.arrays import read_arrays, read_arrays_together
from gis_service.datasets.load import read_frame

PER_COMPOUND = (
    "SELECT s.compound_id AS unit, count(*) AS n, sum(s.households) AS households, "
    "avg(s.floors)::float8 AS floors, min(s.floors)::int2 AS lowest, max(s.label) AS label "
    "FROM stairwell s GROUP BY 1"
)


def test_columns_equal_the_rows_read_one_by_one(shared_demo_db) -> None:
    """Every number and text equals the row-by-row read, row for row, in one order."""
    columns = ["unit", "n", "households", "floors", "lowest", "label"]
    with shared_demo_db.connect() as conn:
        whole = read_arrays(conn, PER_COMPOUND, {}, columns)
        rows = read_frame(conn, PER_COMPOUND, {})
    assert len(rows) > 10
    by_unit = rows.set_index("unit")
    assert sorted(whole["unit"].tolist()) == sorted(by_unit.index.tolist())
    assert whole["n"].dtype == np.int64 and whole["lowest"].dtype == np.int16
    for i, unit in enumerate(whole["unit"].tolist()):
        row = by_unit.loc[unit]
        assert (whole["n"][i], whole["households"][i]) == (row["n"], row["households"])
        assert whole["floors"][i] == row["floors"] and whole["lowest"][i] == row["lowest"]
        assert whole["label"][i] == row["label"]


def test_nulls_are_nan_and_no_rows_is_empty(shared_demo_db) -> None:
    """A NULL number reads as NaN, a NULL text as None; a query without rows gives empty."""
    sql = "SELECT * FROM (VALUES (1::int8, 'a'), (NULL, NULL), (3, 'c')) v(x, t) ORDER BY x"
    with shared_demo_db.connect() as conn:
        got = read_arrays(conn, sql, {}, ["x", "t"])
        none = read_arrays(conn, "SELECT 1::int8 AS x WHERE false", {}, ["x"])
    assert sorted(np.nan_to_num(got["x"], nan=-1).tolist()) == [-1, 1, 3]
    assert sorted(got["t"], key=lambda t: (t is None, t or "")) == ["a", "c", None]
    assert len(none["x"]) == 0


def test_values_are_bound_and_errors_are_the_databases(shared_demo_db) -> None:
    """Parameters stay values (a quote is a character), and a bad query raises as SQLAlchemy
    raises (so the API maps it); the pool's next connection works."""
    hostile = "x'); DROP TABLE stairwell; --"
    with shared_demo_db.connect() as conn:
        got = read_arrays(conn, "SELECT %(t)s::text AS t", {"t": hostile}, ["t"])
        assert got["t"] == [hostile]
        with pytest.raises(sa.exc.ProgrammingError):
            read_arrays(conn, "SELECT no_such_column AS x FROM stairwell", {}, ["x"])
    with shared_demo_db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM stairwell")).scalar_one() > 0


def test_queries_read_together_answer_from_one_snapshot(shared_demo_db) -> None:
    """Several queries of different column types in one statement: each gets its own columns
    (one of them without rows), and all see the data as of one moment."""
    queries = [
        ("SELECT s.id, s.households FROM stairwell s", ["id", "households"]),
        ("SELECT 2.5::float8 AS x WHERE false", ["x"]),
        ("SELECT count(*) AS n, max(s.id) AS top FROM stairwell s", ["n", "top"]),
    ]
    with shared_demo_db.connect() as conn:
        rows, none, total = read_arrays_together(conn, queries, {})
    assert len(none["x"]) == 0
    assert len(rows["id"]) == len(rows["households"]) == int(total["n"][0]) > 100
    assert int(rows["id"].max()) == int(total["top"][0])


@pytest.mark.parametrize("every", [1, 2, 7, 1000])
def test_numbers_around_nulls_read_in_place(shared_demo_db, every: int) -> None:
    """NULLs anywhere (first, last, side by side, all) leave the other values exact."""
    sql = ("SELECT CASE WHEN mod(g, %(every)s) = 0 OR g = 1 THEN NULL ELSE g * 1000003 END::int8 "
           "AS x, CASE WHEN %(every)s > 1 AND mod(g, %(every)s) = 1 THEN NULL "
           "ELSE g::float8 / 3 END AS y, g FROM generate_series(1, 999) g")  # fmt: skip
    with shared_demo_db.connect() as conn:
        got = read_arrays(conn, sql, {"every": every}, ["x", "y", "g"])
    assert len(got["g"]) == 999
    for g, x, y in zip(got["g"].tolist(), got["x"].tolist(), got["y"].tolist(), strict=True):
        assert np.isnan(x) if g % every == 0 or g == 1 else x == g * 1000003
        assert np.isnan(y) if every > 1 and g % every == 1 else y == g / 3
