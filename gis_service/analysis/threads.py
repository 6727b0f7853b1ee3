"""Work on consecutive slices of an array, each on its own thread, for work that lets go of
the GIL (GEOS, pyproj, Arrow): a city's million rows on every core."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

Result = TypeVar("Result")


def in_parts(work: Callable[[int, int], Result], size: int, parts: int) -> list[Result]:
    """work(start, stop) over `parts` consecutive slices of range(size), one thread each (in
    the calling thread when fewer than two), the results in slice order."""
    if parts < 2:
        return [work(0, size)]
    bounds = np.linspace(0, size, parts + 1).astype(np.int64).tolist()
    with ThreadPoolExecutor(parts, thread_name_prefix="part") as pool:
        return list(pool.map(work, bounds[:-1], bounds[1:]))
