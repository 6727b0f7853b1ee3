"""Which ways people may walk, and at which height they run (OSM layer, bridge, tunnel).

- A way is closed to walkers when the most specific of the rule's keys it carries (foot, then
  access) holds one of the closed values (no, private), also as one of several ("private;yes").
- Its vertical layer is its `layer` tag; without one, a bridge is +1 and a tunnel -1 (OSM's
  convention), else 0. Ways meet only at shared vertices, or (within the graph's tolerance)
  when they lie on the same layer: a tunnel never meets the street above it.
- A way is at ground level when it is no bridge, no tunnel and on layer 0: stairwells and the
  outlines of areas join the network only there (a building passage and a boardwalk count as
  ground level).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
GROUND_TUNNELS = frozenset({"no", "building_passage"})
GROUND_BRIDGES = frozenset({"no", "boardwalk"})


@dataclass(frozen=True)
class ClosedRule:
    """Tags closing a way to walkers: the first of `keys` a way carries decides."""

    keys: tuple[str, ...] = ("foot", "access")
    values: frozenset[str] = frozenset({"no", "private"})


def _texts(frame: pd.DataFrame, column: str) -> NDArray[np.object_]:
    """A tag column as stripped lower-case text, None where missing (column may be absent)."""
    if column not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    out = np.full(len(frame), None, dtype=object)
    for i, value in enumerate(frame[column].tolist()):
        if value is not None and not (isinstance(value, float) and np.isnan(value)):
            text = str(value).strip().lower()
            out[i] = text or None
    return out


def _carries(values: Iterable[object], tagged: NDArray[np.object_]) -> BoolArray:
    """Whether each tag value (possibly 'a;b') holds one of the values."""
    wanted = set(values)
    return np.array(
        [v is not None and any(part.strip() in wanted for part in str(v).split(";"))
         for v in tagged],
        dtype=bool,
    )  # fmt: skip


def walkable(frame: pd.DataFrame, rule: ClosedRule = ClosedRule()) -> BoolArray:
    """True for the ways people may walk (see the module's rule)."""
    open_ = np.ones(len(frame), dtype=bool)
    decided = np.zeros(len(frame), dtype=bool)
    for key in rule.keys:
        tag = _texts(frame, key)
        has = np.array([v is not None for v in tag], dtype=bool) & ~decided
        closed = has & _carries(rule.values, tag)
        open_ &= ~closed
        decided |= has
    return open_


def _flagged(tag: NDArray[np.object_], ground: frozenset[str]) -> BoolArray:
    return np.array([v is not None and v not in ground for v in tag], dtype=bool)


def vertical_layers(frame: pd.DataFrame) -> IntArray:
    """Each way's layer: its `layer` tag, else +1 for a bridge, -1 for a tunnel, else 0."""
    bridge = _flagged(_texts(frame, "bridge"), GROUND_BRIDGES)
    tunnel = _flagged(_texts(frame, "tunnel"), GROUND_TUNNELS)
    implied = np.where(bridge, 1, np.where(tunnel, -1, 0)).astype(np.int64)
    if "layer" not in frame.columns:
        return implied
    given = pd.to_numeric(frame["layer"], errors="coerce").to_numpy(dtype=np.float64)
    return np.where(np.isfinite(given), np.nan_to_num(given), implied).astype(np.int64)


def at_ground(frame: pd.DataFrame) -> BoolArray:
    """True for ways at ground level: no bridge, no tunnel, layer 0 (see the module's rule)."""
    bridge = _flagged(_texts(frame, "bridge"), GROUND_BRIDGES)
    tunnel = _flagged(_texts(frame, "tunnel"), GROUND_TUNNELS)
    return (vertical_layers(frame) == 0) & ~bridge & ~tunnel
