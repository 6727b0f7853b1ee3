"""Helpers for the exact covering model: demand aggregation and CBC log parsing (internal)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def aggregate_demand(
    reach: sp.csr_matrix, weights: FloatArray
) -> tuple[list[IntArray], FloatArray]:
    """Group demand points with the same set of covering candidates; sum their weights."""
    csc = reach.tocsc()
    csc.sort_indices()
    groups: dict[bytes, int] = {}
    sets: list[IntArray] = []
    total: list[float] = []
    for j in np.flatnonzero((weights > 0) & (np.diff(csc.indptr) > 0)):
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        key = rows.tobytes()
        g = groups.get(key)
        if g is None:
            groups[key] = len(sets)
            sets.append(rows.astype(np.int64))
            total.append(float(weights[j]))
        else:
            total[g] += float(weights[j])
    return sets, np.asarray(total, dtype=np.float64)


def bound_from_log(path: str) -> float | None:
    """The best bound CBC printed at the end of its log (None when absent)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            lines = log.read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        for key in ("Upper bound:", "Lower bound:"):
            if line.strip().startswith(key):
                try:
                    return float(line.split(":", 1)[1].split()[0])
                except (ValueError, IndexError):
                    return None
    return None
