"""Per-unit and per-stairwell tables with a few rows replaced, copying only what changed.

A refreshed answer (datasets/live.py) is the answer it was with the rows of the units or
stairwells an edit touched replaced: these build the new table without changing the old one (a
request may still be rendering it), and carry its JSON rows over (datasets/rows_json.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gis_service.datasets.cells import cells
from gis_service.datasets.rows_json import ROWS_JSON


def splice_units(
    table: pd.DataFrame, fresh: pd.DataFrame, unit_col: str, units: set[int | None]
) -> pd.DataFrame:
    """A per-unit table with the rows of these units replaced by fresh ones (a unit without
    fresh rows is gone), sorted by unit as a GROUP BY gives them (no unit last); its JSON
    rows are those of the table but for the fresh ones (datasets/rows_json.py)."""
    ids = [u for u in units if u is not None]
    touched = table[unit_col].isin(ids).to_numpy(bool)
    if None in units:
        touched |= table[unit_col].isna().to_numpy(bool)
    at = np.flatnonzero(touched)
    out = replaced_at(table, at, fresh, unit_col)  # the same units, re-counted
    if out is not None:
        taken = np.arange(len(table))
        taken[at] = -1
        ROWS_JSON.spliced(out, table, taken)
        return out
    fresh = fresh[list(table.columns)]
    taken = np.flatnonzero(~touched)
    out = table[~touched].reset_index(drop=True)
    if len(fresh):
        out = pd.concat([out, fresh], ignore_index=True)
        taken = np.concatenate([taken, np.full(len(fresh), -1)])
        order = out[unit_col].sort_values(na_position="last", kind="stable").index.to_numpy()
        out, taken = out.take(order).reset_index(drop=True), taken[order]
    ROWS_JSON.spliced(out, table, taken)
    return out


def replaced_at(
    table: pd.DataFrame, at: np.ndarray, rows: pd.DataFrame, key: str
) -> pd.DataFrame | None:
    """The table with its rows at these positions replaced by `rows` (the same columns and
    types, and the same keys in the same order; else None): with_values_at."""
    order = rows.columns.get_indexer(table.columns)
    if len(at) != len(rows) or len(rows.columns) != len(order) or (order < 0).any():
        return None
    kinds = rows.dtypes.to_numpy()[order]
    if any(kind != dtype for kind, dtype in zip(kinds, table.dtypes.to_numpy(), strict=True)):
        return None
    new = rows.to_numpy(object)[:, order]  # one pass over the few rows, not a Series a column
    names = list(table.columns)
    keyed = names.index(key)
    if changed_columns(table, at, [key], new[:, keyed : keyed + 1]):
        return None
    return _with_rows_at(table, at, names, new)


def with_values_at(table: pd.DataFrame, at: np.ndarray, values: dict[str, Any]) -> pd.DataFrame:
    """A new table whose named columns hold these values (any sequence, converted to the
    column's type) at these positions, copying only the columns whose values there differ: the
    table itself is left as it is."""
    new = np.empty((len(at), len(values)), object)
    for j, column in enumerate(values.values()):
        new[:, j] = np.asarray(column, dtype=object)
    return _with_rows_at(table, at, list(values), new)


def _with_rows_at(table: pd.DataFrame, at: np.ndarray, names: list[str], new: np.ndarray) -> (
    pd.DataFrame
):
    """with_values_at of the named columns' new values as one object array (a row per
    position, a column per name)."""
    out = table.copy(deep=False)
    for j in changed_columns(table, at, names, new):
        current = table[names[j]]
        changed: Any  # this column only, not its whole block
        if isinstance(current.dtype, np.dtype) and current.dtype.kind in "iufb":
            changed = current.to_numpy(copy=True)  # numbers: numpy's own assignment
            changed[at] = pd.array(new[:, j], dtype=current.dtype).to_numpy()
        else:
            changed = current.array.copy()
            changed[at] = pd.array(new[:, j], dtype=current.dtype)
        out.isetitem(table.columns.get_loc(names[j]), changed)
    return out


def changed_columns(table: pd.DataFrame, at: np.ndarray, names: list[str], new: np.ndarray) -> (
    list[int]
):
    """Which of the named columns (by their place in `names`) hold other values at these
    positions than `new` (missing ones, None, NaN or NA, alike): all the rows compared at once
    for an edit's few, column by column through pandas for many."""
    if len(at) > SHORT:
        return [j for j, name in enumerate(names)
                if not same_values(table[name].array[at], new[:, j])]  # fmt: skip
    if not len(at):
        return []
    old = cells(table, at, names)
    old_missing, new_missing = pd.isna(old), pd.isna(new)
    old, new = old.copy(), new.copy()
    old[old_missing] = new[new_missing] = None  # so that == compares values, never NA
    differ = (old != new) | (old_missing != new_missing)
    return np.flatnonzero(differ.any(axis=0)).tolist()


SHORT = 64
"""Up to this many rows, changed_columns compares values itself (cheaper than pandas)."""


def same_values(old: Any, new: Any) -> bool:
    """Whether a pandas array and a sequence of as many values hold the same values, missing
    ones (None, NaN, NA) alike, compared through pandas (changed_columns' way for many rows)."""
    try:
        new = pd.array(new, dtype=old.dtype)
    except (TypeError, ValueError):
        return False  # not even of the column's type
    return bool(pd.Series(old).equals(pd.Series(new)))
