"""Shares per unit after an edit, changed by the written rows only: equal to a count from
scratch to the digit, or refused (None) when a unit comes or goes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis_service.analysis.service import served_shares
from gis_service.datasets.rows_json import ROWS_JSON
from gis_service.datasets.shares_refresh import SUMMED, shares_changed_by, unit_changes


def nearest(compounds: list[int | None], households: list[int], served: list[bool]) -> pd.DataFrame:
    """A nearest table with the columns shares count (elderly: a third of households)."""
    return pd.DataFrame({
        "id": np.arange(1, len(compounds) + 1),
        "compound_id": pd.array(compounds, dtype="Int64"),
        "households": np.asarray(households, np.int64),
        "elderly_households": np.asarray(households, np.int64) // 3,
        "served": np.asarray(served, bool),
    })  # fmt: skip


def shares(table: pd.DataFrame) -> pd.DataFrame:
    """Shares from scratch."""
    return served_shares(table, table["served"].to_numpy(bool), "compound_id")


def written(before: pd.DataFrame, after: pd.DataFrame) -> np.ndarray:
    """The rows that differ (a unit NA on one side only counts)."""
    return np.flatnonzero(before.fillna(-1).ne(after.fillna(-1)).any(axis=1).to_numpy())


BEFORE = nearest([1, 1, 2, 2, 3, None], [10, 7, 5, 9, 4, 6], [True, False, True, True, False, True])


@pytest.mark.parametrize(
    "compounds, households, served",
    [
        ([1, 1, 2, 2, 3, None], [10, 8, 5, 9, 4, 6], [True, False, True, True, False, True]),
        ([1, 1, 2, 2, 3, None], [10, 7, 5, 9, 4, 6], [True, True, True, False, False, True]),
        ([1, 2, 2, 2, 3, None], [10, 7, 5, 9, 4, 6], [True, False, True, True, False, True]),
        ([1, 1, 2, None, 3, None], [10, 7, 5, 11, 4, 6], [True, False, True, True, False, True]),
    ],
    ids=["households", "served", "moved", "to-no-unit"],
)
def test_changed_shares_equal_shares_from_scratch(compounds, households, served):
    after = nearest(compounds, households, served)
    rows = written(BEFORE, after)
    before_shares = shares(BEFORE)
    ROWS_JSON.array(before_shares)  # rendered, as a kept answer's rows are
    units, change = unit_changes(BEFORE, rows, after, rows, "compound_id")
    changed = shares_changed_by(before_shares, "compound_id", units, change)
    assert changed is not None
    pd.testing.assert_frame_equal(changed, shares(after))
    assert (changed[list(SUMMED)].dtypes == np.int64).all()  # counts stay integers
    assert ROWS_JSON.array(changed) == ROWS_JSON.array(shares(after))  # the JSON too
    assert before_shares.equals(shares(BEFORE))  # the kept table is left as it was


@pytest.mark.parametrize(
    "compounds",
    [[1, 1, 2, 4, 3, None], [1, 1, 2, 2, 3, 3], [1, 1, 2, 2, 1, None]],
    ids=["into-a-new-unit", "the-last-unit-less-one-leaves", "a-unit-emptied"],
)
def test_a_unit_that_comes_or_goes_is_counted_again(compounds):
    after = nearest(compounds, [10, 7, 5, 9, 4, 6], [True, False, True, True, False, True])
    rows = written(BEFORE, after)
    units, change = unit_changes(BEFORE, rows, after, rows, "compound_id")
    assert shares_changed_by(shares(BEFORE), "compound_id", units, change) is None
