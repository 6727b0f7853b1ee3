"""A query's columns read as whole arrays: aggregated in PostgreSQL, fetched in binary.

Tens of thousands of rows cost a tenth of a second as Python tuples (parsed value by value,
then built into a frame); the same column as one PostgreSQL array in binary is one buffer, and
an array of numbers without NULLs is read by numpy in place (each element is its length, then
its big-endian value).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import psycopg
import sqlalchemy as sa
from psycopg.adapt import Buffer, Loader
from psycopg.pq import Format

ARRAY_HEAD = struct.Struct(">iiI")
"""Binary array: dimensions (0 when empty), has-NULLs flag, element type."""
DIMENSION = struct.Struct(">ii")
"""Then per dimension: size, lower bound."""
ELEMENT_LENGTH = struct.Struct(">i")
NUMBER_ARRAYS = {1005: ">i2", 1007: ">i4", 1016: ">i8", 1021: ">f4", 1022: ">f8"}
"""Array type oids (smallint[], integer[], bigint[], real[], double precision[]) and their
elements' binary layout."""


def numbers(data: Buffer, element: np.dtype[Any]) -> np.ndarray:
    """A one-dimensional binary array of numbers as a numpy array (float64 with NaN for NULLs
    when it has any; the values between them still read in place)."""
    view = memoryview(data)
    dims, has_nulls, _oid = ARRAY_HEAD.unpack_from(view)
    if dims == 0:
        return np.empty(0, element.newbyteorder("="))
    if dims != 1:
        raise ValueError("only one-dimensional arrays are read as numbers")
    size, _lower = DIMENSION.unpack_from(view, ARRAY_HEAD.size)
    body = view[ARRAY_HEAD.size + DIMENSION.size :]
    cell = np.dtype([("length", ">i4"), ("value", element)])
    if not has_nulls:
        return np.frombuffer(body, cell, count=size)["value"].astype(element.newbyteorder("="))
    # Runs of values between NULLs (a NULL is its length, -1, alone) are read in place.
    out, i, at = np.full(size, np.nan), 0, 0
    while i < size:
        fits = min(size - i, (len(body) - at) // cell.itemsize)
        cells = np.frombuffer(body, cell, count=fits, offset=at)
        nulls = np.flatnonzero(cells["length"] < 0)
        run = int(nulls[0]) if len(nulls) else fits
        out[i : i + run] = cells["value"][:run]
        i, at = i + run, at + run * cell.itemsize
        if i < size:  # a NULL, or a last value too near the end to view as a cell
            (length,) = ELEMENT_LENGTH.unpack_from(body, at)
            at += ELEMENT_LENGTH.size
            if length >= 0:
                out[i] = np.frombuffer(body, element, 1, at)[0]
                at += length
            i += 1
    return out


def number_loader(element: str) -> type[Loader]:
    """A psycopg binary loader of arrays of these elements into numpy arrays."""
    kind = np.dtype(element)

    class NumbersLoader(Loader):
        format = Format.BINARY

        def load(self, data: Buffer) -> np.ndarray:
            return numbers(data, kind)

    return NumbersLoader


LOADERS = {oid: number_loader(element) for oid, element in NUMBER_ARRAYS.items()}


Query = tuple[str, list[str]]
"""A query (psycopg %(name)s parameters) and the names it gives the columns wanted whole
(identifiers of our own SQL, never user text)."""


def read_arrays(
    conn: sa.Connection, sql: str, params: dict[str, Any], columns: list[str]
) -> dict[str, Any]:
    """Run a query and return these of its columns whole (read_arrays_together of one)."""
    return read_arrays_together(conn, [(sql, columns)], params)[0]


def read_arrays_together(
    conn: sa.Connection, queries: list[Query], params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Run queries as one statement (one snapshot: a commit between them cannot split their
    answers) and return each one's columns whole, in one row order per query: numbers as
    numpy arrays (NaN for NULL), other types as lists (empty: no rows).

    Each query's arrays are one row (an aggregate without GROUP BY), so all its columns
    follow one row order; the queries' rows are joined into one.
    """
    parts = []
    for i, (sql, columns) in enumerate(queries):
        arrays = ", ".join(f'array_agg(q."{c}")' for c in columns)
        parts.append(f"(SELECT {arrays} FROM ({sql}) q) AS part_{i}")
    statement = "SELECT * FROM " + "\nCROSS JOIN ".join(parts)
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor(binary=True) as cur:
            for oid, loader in LOADERS.items():
                cur.adapters.register_loader(oid, loader)
            cur.execute(statement, params)
            row = cur.fetchone()
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, params, exc, psycopg.Error) from exc
    assert row is not None
    out, at = [], 0
    for _, columns in queries:
        values = row[at : at + len(columns)]
        out.append({c: ([] if v is None else v) for c, v in zip(columns, values, strict=True)})
        at += len(columns)
    return out
