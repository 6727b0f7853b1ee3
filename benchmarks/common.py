"""Helpers shared by the benchmark scripts (run as `python benchmarks/NAME.py`)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely


def lattice(size: int, spacing: float) -> np.ndarray:
    """size rows and size columns of streets as long lines sharing their crossing vertices."""
    axis = np.arange(size) * spacing
    x, y = np.meshgrid(axis, axis)
    rows = shapely.linestrings(np.stack([x, y], axis=-1))
    cols = shapely.linestrings(np.stack([x.T, y.T], axis=-1))
    return np.concatenate([rows, cols])


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall time of `runs` calls and the last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result
