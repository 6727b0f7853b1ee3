"""Per-unit tables written as JSON rows: column by column, and spliced tables by their new rows."""

from __future__ import annotations

import gc
import threading

import numpy as np
import orjson
import pandas as pd

from gis_service.datasets import rows_json
from gis_service.datasets.cells import FEW
from gis_service.datasets.formats import dumps, records
from gis_service.datasets.rows_json import (
    ROWS_JSON,
    RowsJson,
    dumps_with_rows,
    row_texts,
    row_texts_at,
)
from gis_service.datasets.splice import splice_units


def mixed_table() -> pd.DataFrame:
    """A table with every kind of column an answer holds, nulls and awkward text included."""
    return pd.DataFrame({
        "compound_id": pd.array([3, 1, None, 2], dtype="Int64"),
        "name": ['水荫路3号"大院"', "100%, {a}", None, "line\nbreak"],
        "stairwells": np.array([5, 0, 7, 2], np.int64),
        "share": [0.1 + 0.2, np.nan, np.inf, -0.0],
        "small": np.array([0.1, 1.5, np.nan, 2.0], np.float32),
        "served": [True, False, True, False],
        "status": pd.Categorical(["none", "in_service", None, "none"]),
        "geometry": [None, None, None, None],
    })  # fmt: skip


def test_rows_read_as_the_records_they_write() -> None:
    table = mixed_table()
    texts = row_texts(table)
    assert [orjson.loads(t) for t in texts] == [orjson.loads(dumps(r)) for r in records(table)]
    assert texts[2].startswith(b'{"compound_id":null,"name":null,"stairwells":7,"share":null')
    assert orjson.loads(texts[0])["share"] == 0.1 + 0.2  # every digit of a float64 kept
    assert orjson.loads(texts[0])["small"] == float(np.float32(0.1))  # float32 as Python reads it
    assert row_texts(table.iloc[:0]) == []
    strided = pd.DataFrame(np.arange(6.0).reshape(3, 2), columns=["a", "b"])  # one 2-D block
    assert [orjson.loads(t) for t in row_texts(strided)] == records(strided)


def test_an_edits_few_rows_are_written_as_the_whole_table_writes_them() -> None:
    """The rows an edit renders again, read cell by cell, are the very bytes the column-wise
    writer gives them: every kind of column an answer holds, nulls and awkward text."""
    table = mixed_table()
    table["checked"] = pd.array([True, None, False, True], dtype="boolean")
    table["names"] = ['say "hi"', "\x00", "unit\x1fseparator", None]
    whole = row_texts(table)
    for rows in ([0], [1], [2], [3], [3, 0], [2, 1, 0], list(range(4)) * 2):
        assert len(rows) < FEW or rows == list(range(4)) * 2
        picked = np.array(rows)
        assert row_texts_at(table, picked) == [whole[i] for i in rows]
    assert row_texts_at(table, np.array(list(range(4)) * 3)) == whole * 3  # many: via pandas
    assert row_texts_at(table, np.empty(0, np.int64)) == []


def test_names_are_written_as_json_writes_each_one() -> None:
    """A city's names are written all at once unless one needs escaping; either way each row
    holds the text orjson writes for its name (null for none)."""
    plain = ["水荫路3号大院", "", None, "😀 Källa", "a,b}{", "x"]
    awkward = ['say "hi"', "tab\there", "unit\x1fseparator", "back\\slash", "\x00", "\u2028"]
    for names in (plain, *([*plain, text] for text in awkward)):
        table = pd.DataFrame({"name": names, "n": np.arange(len(names))})
        texts = row_texts(table)
        assert texts == [b'{"name":' + dumps(name) + b',"n":%d}' % i
                         for i, name in enumerate(names)]  # fmt: skip
        assert [orjson.loads(t)["name"] for t in texts] == names


def test_a_spliced_table_renders_only_its_new_rows() -> None:
    table = pd.DataFrame({"grid_id": pd.array([1, 2, 3, None], dtype="Int64"),
                          "households": [10.0, 20.0, 30.0, 5.0]})  # fmt: skip
    ROWS_JSON.texts(table)[0] = b'{"kept":true}'  # a row taken from the kept texts shows it
    fresh = pd.DataFrame({"grid_id": pd.array([2, 4], dtype="Int64"), "households": [21.0, 4.0]})
    spliced = splice_units(table, fresh, "grid_id", {2, 4, None})  # the unit-less row is gone
    del table  # a live answer lets its old table go before rendering the new one
    gc.collect()
    assert list(spliced["grid_id"]) == [1, 2, 3, 4]
    got = orjson.loads(ROWS_JSON.array(spliced))
    assert got[0] == {"kept": True}
    assert got[1:] == [{"grid_id": 2, "households": 21.0}, {"grid_id": 3, "households": 30.0},
                       {"grid_id": 4, "households": 4.0}]  # fmt: skip


def test_a_splice_that_changes_a_column_type_renders_every_row() -> None:
    memo = RowsJson()
    table = pd.DataFrame({"grid_id": [1, 2], "households": np.array([10, 20], np.int64)})
    memo.texts(table)[0] = b'{"kept":true}'
    changed = pd.DataFrame({"grid_id": [1, 2], "households": [10.0, 21.0]})
    memo.spliced(changed, table, np.array([0, -1]))
    assert orjson.loads(memo.array(changed))[0] == {"grid_id": 1, "households": 10.0}


def test_units_recounted_in_place_keep_their_order_and_other_rows() -> None:
    table = pd.DataFrame({"grid_id": pd.array([1, 2, 3, None], dtype="Int64"),
                          "households": [10.0, 20.0, 30.0, 5.0]})  # fmt: skip
    ROWS_JSON.texts(table)[0] = b'{"kept":true}'
    fresh = pd.DataFrame({"grid_id": pd.array([2, None], dtype="Int64"), "households": [2.0, 6.0]})
    spliced = splice_units(table, fresh, "grid_id", {2, None})
    assert list(table["households"]) == [10.0, 20.0, 30.0, 5.0]  # the kept table is unchanged
    assert list(spliced["households"]) == [10.0, 2.0, 30.0, 6.0]
    got = orjson.loads(ROWS_JSON.array(spliced))
    assert got[0] == {"kept": True} and got[2] == {"grid_id": 3, "households": 30.0}
    assert got[1] == {"grid_id": 2, "households": 2.0} and got[3] == {
        "grid_id": None,
        "households": 6.0,
    }


def test_a_table_recounted_in_place_joins_again_only_the_blocks_of_its_new_rows(
    monkeypatch,
) -> None:
    monkeypatch.setattr(rows_json, "BLOCK_ROWS", 2)
    table = pd.DataFrame({"grid_id": pd.array([1, 2, 3, 4, 5], dtype="Int64"),
                          "households": [10.0, 20.0, 30.0, 40.0, 50.0]})  # fmt: skip
    before = ROWS_JSON.blocks(table)
    assert [b[:1] for b in before] == [b"{", b",", b","]  # each but the first led by its comma
    fresh = pd.DataFrame({"grid_id": pd.array([4], dtype="Int64"), "households": [41.0]})
    spliced = splice_units(table, fresh, "grid_id", {4})
    after = ROWS_JSON.blocks(spliced)
    assert after[0] is before[0] and after[2] is before[2] and after[1] is not before[1]
    # recounted in place: the unchanged column is the kept one, not a copy of a city's rows
    assert np.shares_memory(spliced["grid_id"].array._data, table["grid_id"].array._data)
    assert orjson.loads(b"[" + b"".join(after) + b"]") == records(spliced)
    assert [r["households"] for r in orjson.loads(dumps_with_rows({}, "rows", spliced))["rows"]
            ] == [10.0, 20.0, 30.0, 41.0, 50.0]  # fmt: skip


def test_a_table_gone_while_the_memo_is_busy_is_forgotten_without_a_hang() -> None:
    """A collection can finalize a table in a thread that holds the memo's lock: the memo
    notes it and forgets the table at its next step, instead of waiting on itself."""
    memo = RowsJson()
    table = pd.DataFrame({"grid_id": [1, 2], "households": np.array([10, 20], np.int64)})
    memo.texts(table)

    def drop_while_busy() -> None:
        nonlocal table
        with memo._lock:
            del table  # its finalizer runs here, in this thread

    worker = threading.Thread(target=drop_while_busy, daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive()
    memo.texts(pd.DataFrame({"grid_id": [3], "households": np.array([5], np.int64)}))
    assert len(memo._rows) == 1
