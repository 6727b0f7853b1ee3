"""What the model says about a table's columns: types, lengths, NOT NULL, defaults, CHECKs.

CHECK constraints are read as text: single-column bounds (`x >= 0`, `x > 0`, `x <= 9`,
`x BETWEEN a AND b`, optionally behind `x IS NULL OR`), sums at most another column
(`a + b <= c`) and "set exactly when" rules (`(s = 'v') = (f IS NOT NULL)`). Other
constraints (geometry, IN lists the catalog lists as enums) are left to the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from gis_service.db.models import Base

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}
NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
BETWEEN = re.compile(rf"(\w+) BETWEEN ({NUMBER}) AND ({NUMBER})")
BOUND = re.compile(rf"^(\w+) (>=|>|<=) ({NUMBER})$")
SUM_AT_MOST = re.compile(r"^(\w+(?: \+ \w+)*) <= ([a-z_]\w*)$")
SET_WHEN = re.compile(r"^\((\w+) = '([^']*)'\) = \((\w+) IS NOT NULL\)$")
NULL_OR = re.compile(r"^\(?(\w+) IS NULL OR ")


def quoted(name: str) -> str:
    """A double-quoted SQL identifier for a model or catalog name (which must look like one)."""
    if not IDENTIFIER.match(name):
        raise ValueError(f"not a safe identifier: {name!r}")
    return f'"{name}"'


def column(table: str, name: str) -> sa.Column[Any]:
    """The model column of a table."""
    return Base.metadata.tables[table].c[name]


def integer_range(table: str, name: str) -> tuple[int, int]:
    """The smallest and largest value an integer column stores."""
    kind = "bigint" if isinstance(column(table, name).type, sa.BigInteger) else "integer"
    return INT_RANGES[kind]


def max_length(table: str, name: str) -> int | None:
    """The longest text a column stores (None: unlimited or not text)."""
    length = getattr(column(table, name).type, "length", None)
    return int(length) if isinstance(length, int) else None


def required(table: str, name: str) -> bool:
    """Whether a value must be given: NOT NULL without a default (and not the key)."""
    col = column(table, name)
    return not col.nullable and col.server_default is None and not col.primary_key


def default(table: str, name: str) -> Any:
    """The literal server default of a column (int for integer columns), else None."""
    found = column(table, name).server_default
    text = getattr(found, "arg", None)
    if not isinstance(text, str):
        return None
    return int(text) if isinstance(column(table, name).type, sa.Integer) else text


@dataclass(frozen=True)
class Cross:
    """A rule between columns: a sum at most a column, or a column set exactly when."""

    constraint: str
    kind: str  # "sum_at_most" or "set_when"
    fields: tuple[str, ...]  # sum_at_most: the summands; set_when: the column set
    other: str  # sum_at_most: the limit; set_when: the deciding column
    value: str = ""  # set_when: the deciding value


@dataclass(frozen=True)
class Checks:
    """The CHECK constraints of a table, as bounds per column and rules between columns."""

    bounds: dict[str, tuple[tuple[str, float], ...]]
    cross: tuple[Cross, ...]


def _parts(text: str) -> list[str]:
    """The AND-ed parts of a constraint (BETWEEN written as two bounds), '' when it has OR."""
    text = NULL_OR.sub("", text.strip())
    text = BETWEEN.sub(r"\1 >= \2 AND \1 <= \3", text).strip("()")
    return [] if " OR " in text else [part.strip() for part in text.split(" AND ")]


@lru_cache(maxsize=64)
def checks(table: str) -> Checks:
    """Bounds and cross-column rules read from a table's CHECK constraints."""
    bounds: dict[str, list[tuple[str, float]]] = {}
    cross: list[Cross] = []
    for item in Base.metadata.tables[table].constraints:
        if not isinstance(item, sa.CheckConstraint):
            continue
        text, name = str(item.sqltext), str(item.name)
        if found := SET_WHEN.match(text):
            cross.append(Cross(name, "set_when", (found[3],), found[1], found[2]))
            continue
        for part in _parts(text):
            if bound := BOUND.match(part):
                bounds.setdefault(bound[1], []).append((bound[2], float(bound[3])))
            elif total := SUM_AT_MOST.match(part):
                cross.append(Cross(name, "sum_at_most", tuple(total[1].split(" + ")), total[2]))
    return Checks({k: tuple(v) for k, v in bounds.items()}, tuple(cross))
