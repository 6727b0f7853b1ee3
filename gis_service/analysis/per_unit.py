"""Sums per unit (grid, compound...) with numpy: units in id order, stairwells in no unit last.

Counts (stairwells, households, elderly households) are whole numbers and are given as
integers (781, never 781.0 in JSON and CSV): `as_whole` is the one rule that makes them so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class Units:
    """Which unit each row is in (codes into ids) and the units' ids (nullable integers, so
    an id stays 7, never 7.0; no unit, NA, last)."""

    codes: NDArray[np.intp]
    ids: Any

    def total(self, weights: Any = None) -> NDArray[np.float64]:
        """Per unit: its rows counted, or their weights summed."""
        sums = np.bincount(self.codes, weights=weights, minlength=len(self.ids))
        return np.asarray(sums, np.float64)

    def whole(self, weights: Any = None) -> NDArray[np.int64]:
        """Per unit: its rows counted, or their whole-number weights (households) summed, as
        integers."""
        return as_whole(self.total(weights))


def as_whole(sums: ArrayLike) -> NDArray[np.int64]:
    """Sums of whole numbers (counts of stairwells or households) as integers (a float sum of
    whole numbers is exact below 2**53: rounding only drops the ".0")."""
    return np.rint(np.asarray(sums, np.float64)).astype(np.int64)


def whole_total(values: ArrayLike) -> int:
    """The sum of whole numbers (households of some stairwells) as an integer."""
    return int(as_whole(np.sum(np.asarray(values, np.float64))))


def units_of(values: Any) -> Units:
    """The units of these rows (ids as integers, floats or objects; None or NaN: no unit)."""
    codes, ids = pd.factorize(pd.array(values, dtype="Int64"), sort=True, use_na_sentinel=False)
    return Units(np.asarray(codes, np.intp), ids)


def with_whole_ids(table: pd.DataFrame, level: str) -> pd.DataFrame:
    """A per-unit table whose unit ids are nullable integers (a grouping that met no unit
    gives them as floats: 7.0 in JSON and CSV)."""
    table[level] = pd.array(table[level], dtype="Int64")
    return table
