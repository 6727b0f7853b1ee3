"""OSM tag values and keys: text, numbers, source keys, and the walkable ways' own tags.

Source keys name where a row came from so a re-import finds it again: `osm:way/123` (the
element's type and id, as on openstreetmap.org), `osm:way/123#2` for the second part of a way
split in parts, `osm:way/123/stairwell/1` for a stairwell placed by rule on building way 123.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

OSM_PREFIX = "osm:"


@dataclass
class Tally:
    """What happened to the features pyrosm returned for one layer."""

    read: int = 0
    kept: int = 0
    repaired: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str, count: int = 1) -> None:
        """Count features dropped for a reason."""
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(count)

    def add(self, reason: str, count: int = 1) -> None:
        """Count rows made that pyrosm did not return as such (split parts, placed entrances)."""
        if count:
            self.added[reason] = self.added.get(reason, 0) + int(count)


def tag_dict(value: Any) -> dict[str, Any]:
    """pyrosm's extra tags (a JSON text) as a dict."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def text(value: Any) -> str | None:
    """A tag value as stripped text (None when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    stripped = str(value).strip()
    return stripped or None


def first_number(value: Any, largest: bool = False) -> float | None:
    """The first (or largest) number in a tag value ("4;5", "12 m", "3,5")."""
    found = re.findall(r"-?\d+(?:[.,]\d+)?", text(value) or "")
    numbers = [float(n.replace(",", ".")) for n in found]
    if not numbers:
        return None
    return max(numbers) if largest else numbers[0]


def tag(row: pd.Series, name: str) -> str | None:
    """A tag of a pyrosm row: its own column, else the extra tags."""
    return text(row.get(name)) or text(tag_dict(row.get("tags")).get(name))


def source_key(row: pd.Series, default_type: str = "way") -> str:
    """The source key of a pyrosm row: osm:TYPE/ID."""
    kind = text(row.get("osm_type")) or default_type
    return f"{OSM_PREFIX}{kind}/{int(row['id'])}"


def layer_of(row: pd.Series) -> int | None:
    """A way's `layer` tag as a whole number within -10..10 (None when absent or odd)."""
    number = first_number(tag(row, "layer"))
    if number is None or not -10 <= number <= 10:
        return None
    return round(number)
