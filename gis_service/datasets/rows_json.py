"""A table's rows as a JSON array of objects, rendered column by column, and once per row.

Number columns are written by orjson straight from their numpy arrays and split at the commas;
other columns value by value; each row's object is then one bytes formatting of its columns'
texts. The rendered rows of a table are kept with it (by identity, while it lives), and a table
spliced from another (datasets/live.py: an edit re-counts a few units) takes the rows it kept
from the other's texts, so only its new rows are rendered.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any

import numpy as np
import orjson
import pandas as pd

from gis_service.datasets.formats import column_values, dumps


def _column_texts(column: pd.Series) -> list[bytes]:
    """Each value of a column as JSON text (NaN, inf, NA and NaT as null)."""
    kind = column.dtype  # float32 goes value by value: numpy would write it shorter
    if isinstance(kind, np.dtype) and (kind.kind in "iub" or kind == np.float64):
        return _numbers(column.to_numpy())
    if isinstance(kind, pd.api.extensions.ExtensionDtype) and kind.kind in "iu":
        missing = column.isna().to_numpy(bool)  # a nullable integer: its numbers, NA as null
        texts = _numbers(column.to_numpy(kind.numpy_dtype, na_value=0))
        for at in np.flatnonzero(missing).tolist():
            texts[at] = b"null"
        return texts
    return [dumps(value) for value in column_values(column)]


def _numbers(values: np.ndarray) -> list[bytes]:
    """Each number of a numpy array as JSON text (orjson writes the array, split at commas)."""
    text = orjson.dumps(np.ascontiguousarray(values), option=orjson.OPT_SERIALIZE_NUMPY)
    return text[1:-1].split(b",") if len(values) else []


def row_texts(frame: pd.DataFrame) -> list[bytes]:
    """Each row of the frame (no geometry column) as a JSON object."""
    columns = [c for c in frame.columns if c != "geometry"]
    if not len(frame):
        return []
    keys = [dumps(str(c)).replace(b"%", b"%%") + b":%b" for c in columns]
    template = b"{" + b",".join(keys) + b"}"
    texts = [_column_texts(frame[c]) for c in columns]
    return [template % row for row in zip(*texts, strict=True)]


Ref = weakref.ref[pd.DataFrame]


class RowsJson:
    """Rendered rows of the tables lately rendered, and where spliced tables took rows from."""

    def __init__(self, max_rows: int = 400_000) -> None:
        """An empty memo keeping at most max_rows rendered rows (the latest tables' rows)."""
        self.max_rows = max_rows
        self._rows: OrderedDict[int, tuple[Ref, list[bytes]]] = OrderedDict()
        self._sources: dict[int, tuple[Ref, list[bytes], np.ndarray]] = {}
        self._lock = threading.Lock()

    def spliced(self, table: pd.DataFrame, source: pd.DataFrame, taken: np.ndarray) -> None:
        """Say that row i of table is row taken[i] of source (-1: a new row), same columns:
        the source's rendered rows (if any) are held until the table is rendered or gone."""
        if list(table.dtypes.items()) != list(source.dtypes.items()):
            return  # a column changed type: its values may be written differently
        with self._lock:
            before = self._kept(source)
            if before is None:
                return
            self._sources[id(table)] = (weakref.ref(table), before, taken)
        weakref.finalize(table, self._forget, id(table))

    def _forget(self, key: int) -> None:
        with self._lock:
            self._sources.pop(key, None)
            self._rows.pop(key, None)

    def _kept(self, table: pd.DataFrame) -> list[bytes] | None:
        found = self._rows.get(id(table))
        if found is None or found[0]() is not table:
            return None
        self._rows.move_to_end(id(table))
        return found[1]

    def _source_rows(self, table: pd.DataFrame) -> tuple[list[bytes] | None, np.ndarray]:
        found = self._sources.pop(id(table), None)
        if found is None or found[0]() is not table:
            return None, np.empty(0, np.int64)
        return found[1], found[2]

    def texts(self, table: pd.DataFrame) -> list[bytes]:
        """The table's rows as JSON objects: kept, taken from its source's, or rendered."""
        with self._lock:
            kept = self._kept(table)
            before, taken = self._source_rows(table)
        if kept is not None:
            return kept
        if before is None:
            rows = row_texts(table)
        else:
            new = np.flatnonzero(taken < 0)
            old = np.flatnonzero(taken >= 0)
            if len(taken) == len(before) and np.array_equal(taken[old], old):
                rows = list(before)  # rows replaced where they were: the others as they are
            else:
                rows = [before[i] if i >= 0 else b"" for i in taken.tolist()]
            for at, text in zip(new.tolist(), row_texts(table.iloc[new]), strict=True):
                rows[at] = text
        with self._lock:
            self._rows[id(table)] = (weakref.ref(table), rows)
            total = sum(len(r) for _, r in self._rows.values())
            while total > self.max_rows and len(self._rows) > 1:
                total -= len(self._rows.popitem(last=False)[1][1])
        weakref.finalize(table, self._forget, id(table))
        return rows

    def array(self, table: pd.DataFrame) -> bytes:
        """The table's rows as a JSON array."""
        return b"[" + b",".join(self.texts(table)) + b"]"


ROWS_JSON = RowsJson()
"""The process's memo of rendered rows (answers of per-unit tables)."""


def dumps_with_rows(head: dict[str, Any], name: str, frame: pd.DataFrame,
                    tail: dict[str, Any] | None = None) -> bytes:  # fmt: skip
    """JSON of {**head, name: the frame's rows, **tail} (the rows through ROWS_JSON), joined
    in one copy of their megabytes: the head leads the first row, the tail ends the last."""
    opening = dumps(head)[:-1] + (b"," if head else b"") + dumps(name) + b":["
    closing = (b"]," + dumps(tail)[1:]) if tail else b"]}"
    rows = ROWS_JSON.texts(frame)
    if len(rows) < 2:
        return opening + b"".join(rows) + closing
    return b",".join([opening + rows[0], *rows[1:-1], rows[-1] + closing])
