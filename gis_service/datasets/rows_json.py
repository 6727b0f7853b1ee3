"""A table's rows as a JSON array of objects, rendered column by column, and once per row.

Number columns are written by orjson straight from their numpy arrays and split at the commas;
text columns all at once when no value needs escaping; other columns value by value. Each
row's object is then one bytes formatting of its columns' texts. The rendered rows of a table
are kept with it (by identity, while it lives), joined in blocks that an answer sends as they
are (api/sent.py). A table spliced from another (datasets/splice.py: an edit re-counts a few
units) takes the rows it kept from the other's texts, so only its new rows are rendered, and,
when rows were replaced in place, the other's blocks without new rows.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from gis_service.datasets.cells import FEW, cells
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
    return _value_texts(column_values(column))


ESCAPED = re.compile(r'[\x00-\x1e"\\]')
"""What JSON writes escaped in a string (control characters, quote, backslash), but the unit
separator (\x1f): strings are joined by it, and counted apart."""


def _quoted(strings: list[str]) -> list[bytes] | None:
    """The strings as JSON texts written all at once (20 times faster than an orjson call
    each: a city's names), or None when one needs escaping or is no Unicode text."""
    joined = "\x1f".join(strings)
    if ESCAPED.search(joined) or joined.count("\x1f") != len(strings) - 1:
        return None
    try:
        return ('"' + '"\x1f"'.join(strings) + '"').encode().split(b"\x1f")
    except UnicodeEncodeError:  # a lone surrogate: orjson says what is wrong
        return None


def _value_texts(values: list[Any]) -> list[bytes]:
    """Each value as JSON text (None as null), strings all at once when none needs escaping."""
    texts = [b"null" if value is None else b"" for value in values]
    at = [i for i, value in enumerate(values) if type(value) is str]
    quoted = _quoted([values[i] for i in at]) if at else None
    for i, text in zip(at, quoted, strict=True) if quoted else ():
        texts[i] = text
    return [text or dumps(value) for text, value in zip(texts, values, strict=True)]


def _numbers(values: np.ndarray) -> list[bytes]:
    """Each number of a numpy array as JSON text (orjson writes the array, split at commas)."""
    text = orjson.dumps(np.ascontiguousarray(values), option=orjson.OPT_SERIALIZE_NUMPY)
    return text[1:-1].split(b",") if len(values) else []


def row_texts(frame: pd.DataFrame) -> list[bytes]:
    """Each row of the frame (no geometry column) as a JSON object."""
    columns = [c for c in frame.columns if c != "geometry"]
    if not len(frame):
        return []
    texts = [_column_texts(frame[c]) for c in columns]
    template = _row_template(columns)
    return [template % row for row in zip(*texts, strict=True)]


def row_texts_at(table: pd.DataFrame, rows: np.ndarray) -> list[bytes]:
    """row_texts of the table's rows at these positions: for an edit's few, written from
    their cells (a frame of them costs pandas 0.4 ms whatever their number), alike."""
    if len(rows) >= FEW:
        return row_texts(table.iloc[rows])
    kinds = {c: kind for c, kind in table.dtypes.items() if c != "geometry"}
    columns = list(kinds)
    values = cells(table, rows, columns)
    texts = [_cell_texts(values[:, j], kinds[c]) for j, c in enumerate(columns)]
    template = _row_template(columns)
    return [template % row for row in zip(*texts, strict=True)]


def _cell_texts(values: np.ndarray, kind: Any) -> list[bytes]:
    """_column_texts of a few values of a column of this type (an object array)."""
    if isinstance(kind, np.dtype) and (kind.kind in "iub" or kind == np.float64):
        return _numbers(values.astype(kind))
    if isinstance(kind, pd.api.extensions.ExtensionDtype) and kind.kind in "iu":
        missing = pd.isna(values)
        texts = _numbers(np.where(missing, 0, values).astype(kind.numpy_dtype))
        return [b"null" if gone else text for gone, text in zip(missing, texts, strict=True)]
    return _value_texts(column_values(pd.Series(values, dtype=kind)))


def _row_template(columns: list[Any]) -> bytes:
    """The %-template of a row's JSON object with these columns' names."""
    keys = [dumps(str(c)).replace(b"%", b"%%") + b":%b" for c in columns]
    return b"{" + b",".join(keys) + b"}"


Ref = weakref.ref[pd.DataFrame]
BLOCK_ROWS = 1000
"""Rows are joined in blocks of this many (each but the first led by its comma): an answer is
sent as its blocks, and a table spliced in place joins again only the blocks of its new rows
(a city's 37,000 compounds are 19 MB, one join of which took 5-18 ms on every edit)."""


@dataclass
class Rendered:
    """A table's rows as JSON objects, and their blocks of `size` rows (None: not joined)."""

    rows: list[bytes]
    blocks: list[bytes | None]
    size: int


class RowsJson:
    """Rendered rows of the tables lately rendered, and where spliced tables took rows from."""

    def __init__(self, max_rows: int = 400_000) -> None:
        """An empty memo keeping at most max_rows rendered rows (the latest tables' rows)."""
        self.max_rows = max_rows
        self._rows: OrderedDict[int, tuple[Ref, Rendered]] = OrderedDict()
        self._sources: dict[int, tuple[Ref, Rendered, np.ndarray]] = {}
        self._lock = threading.Lock()
        self._gone: deque[tuple[int, Ref]] = deque()
        """Tables gone (their finalizers' notes), dropped at the next locked step: a finalizer
        runs in whatever thread a collection happens, maybe one holding the lock."""

    def spliced(self, table: pd.DataFrame, source: pd.DataFrame, taken: np.ndarray) -> None:
        """Say that row i of table is row taken[i] of source (-1: a new row), same columns:
        the source's rendered rows (if any) are held until the table is rendered or gone."""
        if list(table.dtypes.items()) != list(source.dtypes.items()):
            return  # a column changed type: its values may be written differently
        ref = weakref.ref(table)
        with self._lock:
            self._drop_gone()
            before = self._kept(source)
            if before is None:
                return
            self._sources[id(table)] = (ref, before, taken)
        weakref.finalize(table, self._gone.append, (id(table), ref))

    def _drop_gone(self) -> None:
        """Forget the tables gone (called holding the lock)."""
        while self._gone:
            key, ref = self._gone.popleft()
            if self._sources.get(key, (None,))[0] is ref:
                del self._sources[key]
            if self._rows.get(key, (None,))[0] is ref:
                del self._rows[key]

    def _kept(self, table: pd.DataFrame) -> Rendered | None:
        found = self._rows.get(id(table))
        if found is None or found[0]() is not table:
            return None
        self._rows.move_to_end(id(table))
        return found[1]

    def _source(self, table: pd.DataFrame) -> tuple[Rendered | None, np.ndarray]:
        found = self._sources.pop(id(table), None)
        if found is None or found[0]() is not table:
            return None, np.empty(0, np.int64)
        return found[1], found[2]

    def texts(self, table: pd.DataFrame) -> list[bytes]:
        """The table's rows as JSON objects: kept, taken from its source's, or rendered."""
        return self._rendered(table).rows

    def blocks(self, table: pd.DataFrame) -> list[bytes]:
        """The table's rows joined in blocks of BLOCK_ROWS, each but the first led by a comma
        (joined once; a table spliced in place takes its source's blocks without new rows)."""
        rendered = self._rendered(table)
        blocks, rows, size = rendered.blocks, rendered.rows, rendered.size
        for i, block in enumerate(blocks):
            if block is None:  # two threads may join the same block: the same bytes
                joined = b",".join(rows[i * size : (i + 1) * size])
                blocks[i] = b"," + joined if i else joined
        joined_blocks = [block for block in blocks if block is not None]
        assert len(joined_blocks) == len(blocks), "every block is joined above"
        return joined_blocks

    def _rendered(self, table: pd.DataFrame) -> Rendered:
        with self._lock:
            self._drop_gone()
            kept = self._kept(table)
            before, taken = self._source(table)
        if kept is not None:
            return kept
        size = BLOCK_ROWS
        unjoined: list[bytes | None] = [None] * -(-len(table) // size)
        if before is None:
            rendered = Rendered(row_texts(table), unjoined, size)
        else:
            new = np.flatnonzero(taken < 0)
            old = np.flatnonzero(taken >= 0)
            if len(taken) == len(before.rows) and np.array_equal(taken[old], old):
                # rows replaced where they were: the others, and blocks without new rows, kept
                kept_blocks = before.blocks if before.size == size else unjoined
                rendered = Rendered(list(before.rows), list(kept_blocks), size)
                for block in np.unique(new // size).tolist():
                    rendered.blocks[block] = None
            else:
                rows = [before.rows[i] if i >= 0 else b"" for i in taken.tolist()]
                rendered = Rendered(rows, unjoined, size)
            for at, text in zip(new.tolist(), row_texts_at(table, new), strict=True):
                rendered.rows[at] = text
        ref = weakref.ref(table)
        with self._lock:
            self._drop_gone()
            self._rows[id(table)] = (ref, rendered)
            total = sum(len(r.rows) for _, r in self._rows.values())
            while total > self.max_rows and len(self._rows) > 1:
                total -= len(self._rows.popitem(last=False)[1][1].rows)
        weakref.finalize(table, self._gone.append, (id(table), ref))
        return rendered

    def array(self, table: pd.DataFrame) -> bytes:
        """The table's rows as a JSON array."""
        return b"".join([b"[", *self.blocks(table), b"]"])


ROWS_JSON = RowsJson()
"""The process's memo of rendered rows (answers of per-unit tables)."""


def json_with_rows(head: dict[str, Any], name: str, frame: pd.DataFrame,
                   tail: dict[str, Any] | None = None) -> list[bytes]:  # fmt: skip
    """JSON of {**head, name: the frame's rows, **tail} in pieces: the head, the rows' blocks
    (through ROWS_JSON, kept there: an answer need not join its megabytes) and the tail."""
    opening = dumps(head)[:-1] + (b"," if head else b"") + dumps(name) + b":["
    closing = (b"]," + dumps(tail)[1:]) if tail else b"]}"
    return [opening, *ROWS_JSON.blocks(frame), closing]


def dumps_with_rows(head: dict[str, Any], name: str, frame: pd.DataFrame,
                    tail: dict[str, Any] | None = None) -> bytes:  # fmt: skip
    """JSON of {**head, name: the frame's rows, **tail} (json_with_rows, joined)."""
    return b"".join(json_with_rows(head, name, frame, tail))
