"""Service shares per unit after an edit: the written stairwells' part in each unit's sums taken
out as it was and put back as it is, so an edit costs its own rows, not a pass over the city.

Sums of whole numbers in float64 are exact, so the sums (integers, as analysis.per_unit gives
them) and shares equal a count from scratch to the digit; a unit that is new or left with no
stairwell is counted again from the table instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis_service.analysis.per_unit import as_whole
from gis_service.datasets.cells import cells
from gis_service.datasets.rows_json import ROWS_JSON
from gis_service.datasets.splice import with_values_at

SUMMED = ("stairwells", "served_stairwells", "households", "served_households",
          "elderly_households", "served_elderly_households")  # fmt: skip
"""The per-unit sums of a shares table (analysis.service.served_shares), in this order."""
SHARES = {
    "share_stairwells": ("served_stairwells", "stairwells"),
    "share_households": ("served_households", "households"),
    "share_elderly_households": ("served_elderly_households", "elderly_households"),
}
"""Each share of a shares table: its numerator and denominator."""


def row_parts(table: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """What each of these rows of a nearest table adds to its unit's SUMMED (one row each)."""
    served, households, elderly = (numbers(column) for column in cells(
        table, rows, ("served", "households", "elderly_households")).T)  # fmt: skip
    served = served != 0
    return np.column_stack([np.ones(len(rows)), served, households, households * served,
                            elderly, elderly * served])  # fmt: skip


def numbers(values: np.ndarray, missing: float = 0.0) -> np.ndarray:
    """Values of a column (an object array: numbers, booleans, or missing ones as None, NaN
    or NA) as float64, the missing ones as `missing`."""
    found = pd.notna(values)
    out = np.full(len(values), missing)
    out[found] = values[found].astype(np.float64)
    return out


def unit_changes(
    before: pd.DataFrame, was: np.ndarray, now: pd.DataFrame, is_: np.ndarray, unit_col: str
) -> tuple[np.ndarray, np.ndarray]:
    """The units the written rows were in or are in now (sorted ids as floats, no unit: NaN,
    last) and the change of each one's SUMMED: the rows' parts before taken out, their parts
    now put back."""
    units = np.concatenate([numbers(cells(before, was, [unit_col])[:, 0], np.nan),
                            numbers(cells(now, is_, [unit_col])[:, 0], np.nan)])  # fmt: skip
    parts = np.concatenate([-row_parts(before, was), row_parts(now, is_)])
    touched, codes = np.unique(units, return_inverse=True)  # NaNs: one, last
    change = np.zeros((len(touched), len(SUMMED)))
    np.add.at(change, codes.reshape(-1), parts)
    return touched, change


def shares_changed_by(
    shares: pd.DataFrame, unit_col: str, units: np.ndarray, change: np.ndarray
) -> pd.DataFrame | None:
    """The shares table with each unit's SUMMED changed by these amounts and its shares worked
    out again; None when a unit is not in the table or would be left with no stairwell (its
    row comes or goes: count it again). The rows that did not change keep their JSON."""
    known = shares[unit_col].array.to_numpy(dtype=np.float64, na_value=np.nan)  # sorted, NaN last
    at = np.searchsorted(known, units)  # NaN sorts last in both
    if (at >= len(known)).any():
        return None
    found = known[at]
    same = (found == units) | (np.isnan(found) & np.isnan(units))
    if not same.all():
        return None
    moved = np.flatnonzero(np.any(change != 0, axis=1))
    at, change = at[moved], change[moved]
    sums = as_whole(cells(shares, at, SUMMED).astype(np.float64) + change)  # counts: integers
    if (sums[:, 0] <= 0).any():
        return None
    values: dict[str, np.ndarray] = dict(zip(SUMMED, sums.T, strict=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, (part, whole) in SHARES.items():
            values[name] = values[part] / values[whole]
    out = with_values_at(shares, at, values)
    taken = np.arange(len(shares))
    taken[at] = -1  # these rows' JSON is written again, the others' kept
    ROWS_JSON.spliced(out, shares, taken)
    return out
