"""Rows of a kept table replaced in place after an edit: only the columns whose values differ
are copied, missing values (None, NaN, NA) alike, whatever the number of rows written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from gis_service.datasets.cells import FEW
from gis_service.datasets.runs import with_names
from gis_service.datasets.splice import SHORT, replaced_at, with_values_at


def edited_table(rows: int) -> pd.DataFrame:
    """A table of the column kinds answers keep, a block per column as edits leave it."""
    table = pd.DataFrame({
        "id": np.arange(rows, dtype=np.int64),
        "compound_id": pd.array([None if i % 5 == 0 else i // 3 for i in range(rows)],
                                dtype="Int64"),
        "label": pd.array([None if i % 7 == 0 else f"{i}单元" for i in range(rows)], dtype="str"),
        "households": np.arange(rows, dtype=np.int64) % 12,
        "share": np.where(np.arange(rows) % 4 == 0, np.nan, np.arange(rows) / rows),
        "served": np.arange(rows) % 2 == 0,
    })  # fmt: skip
    apart = table.copy(deep=False)
    for place, column in enumerate(table.columns):
        apart.isetitem(place, table[column].array.copy())
    return apart


@pytest.mark.parametrize("written", [1, FEW, SHORT + 1])
def test_rows_written_copy_only_the_columns_whose_values_changed(written: int) -> None:
    table = edited_table(200)
    at = np.arange(0, 2 * written, 2)  # rows with NA, NaN and None among them
    values = {column: table[column].array[at].to_numpy(object) for column in table.columns}
    values["households"] = values["households"] + 1  # the one change
    values["share"] = [None if pd.isna(v) else v for v in values["share"]]  # NaN as None
    out = with_values_at(table, at, values)
    assert out["households"].to_numpy()[at].tolist() == (table["households"].to_numpy()[at]
                                                          + 1).tolist()  # fmt: skip
    assert table["households"].to_numpy()[at].tolist() == (at % 12).tolist()  # left as it was
    others = np.setdiff1d(np.arange(len(table)), at)
    assert np.array_equal(out["households"].to_numpy()[others],
                          table["households"].to_numpy()[others])  # fmt: skip
    for column in ("id", "share", "served"):  # the same values: the kept column, not a copy
        assert np.shares_memory(out[column].to_numpy(), table[column].to_numpy()), column
    assert np.shares_memory(out["compound_id"].array._data, table["compound_id"].array._data)
    assert out["label"].equals(table["label"])
    assert out.dtypes.to_dict() == table.dtypes.to_dict()


@pytest.mark.parametrize("written", [1, FEW + 1])
def test_a_missing_value_written_over_a_present_one_is_a_change(written: int) -> None:
    table = edited_table(50)
    at = np.array([i for i in range(50) if i % 5 and i % 7][:written])  # a unit and a label
    values = {"compound_id": [None] * written, "label": ["改名"] * written}
    out = with_values_at(table, at, values)
    assert out["compound_id"].isna().to_numpy()[at].all()
    assert (out["label"].to_numpy(object)[at] == "改名").all()
    assert not table["compound_id"].isna().to_numpy()[at].any()


def test_fresh_rows_replace_theirs_only_with_the_same_keys_and_types() -> None:
    table = edited_table(30)
    at = np.array([3, 4])
    fresh = table.take(at).reset_index(drop=True)[list(reversed(table.columns))]  # any order
    fresh["households"] = fresh["households"] + 5
    out = replaced_at(table, at, fresh, "id")
    assert out is not None
    assert out["households"].to_numpy()[at].tolist() == [8, 9]
    assert list(out.columns) == list(table.columns)
    other = fresh.assign(id=fresh["id"] + 100)
    assert replaced_at(table, at, other, "id") is None  # other rows: spliced, not replaced
    assert replaced_at(table, at, fresh.assign(households=fresh["households"] * 0.5),
                       "id") is None  # a column of another type  # fmt: skip
    assert replaced_at(table, at, fresh.drop(columns="label"), "id") is None


def test_units_named_by_a_kept_table_are_not_read_again(shared_demo_db: Engine) -> None:
    """A refresh takes the names of units already in its table (their names cannot have
    changed: a written hierarchy recomputes the answer); a unit new to it is read."""
    kept = pd.DataFrame({"compound_id": pd.array([1, 2, None], dtype="Int64"),
                         "name": ["kept name", "另一个", None]})  # fmt: skip
    fresh = pd.DataFrame({"compound_id": pd.array([2, 3, None], dtype="Int64"),
                          "stairwells": [4, 5, 6]})  # fmt: skip
    with shared_demo_db.connect() as conn:
        named = with_names(conn, fresh, "compound", named=kept)
        read = with_names(conn, fresh, "compound")
    assert named["name"].tolist()[0] == "另一个"  # from the kept table
    assert named["name"].tolist()[1] == read["name"].tolist()[1] == "水荫路7号大院"  # read
    assert named["name"].tolist()[2] is None
    assert list(named.columns) == ["compound_id", "name", "stairwells"]
