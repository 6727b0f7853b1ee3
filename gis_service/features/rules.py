"""Rules on values, checked before the database so that answers name fields in plain words.

Bounds come from the model's CHECK constraints (`x >= 0`, `x > 0`, `x BETWEEN a AND b`); the
household rules compare fields of the merged row. The database still checks everything itself.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from gis_service.catalog import Layer
from gis_service.db.models import Base
from gis_service.errors import InvalidInput

NUMBER = r"(-?[0-9]+(?:\.[0-9]+)?)"
BOUND = re.compile(rf"(?<![\w)])(\w+) (>=|>) {NUMBER}")
BETWEEN = re.compile(rf"(?<![\w)])(\w+) BETWEEN {NUMBER} AND {NUMBER}")
NULL_OR = re.compile(r"^(\w+) IS NULL OR ")


@lru_cache(maxsize=64)
def bounds(table_name: str) -> dict[str, tuple[tuple[str, float], ...]]:
    """Single-column bounds of a table from its CHECK constraints: name -> ((op, value), ...)."""
    found: dict[str, list[tuple[str, float]]] = {}
    for constraint in Base.metadata.tables[table_name].constraints:
        if not isinstance(constraint, sa.CheckConstraint):
            continue
        text = NULL_OR.sub("", str(constraint.sqltext))
        if " OR " in text:
            continue
        for name, low, high in BETWEEN.findall(text):
            found.setdefault(name, []).extend([(">=", float(low)), ("<=", float(high))])
        for name, op, value in BOUND.findall(BETWEEN.sub("", text)):
            found.setdefault(name, []).append((op, float(value)))
    return {name: tuple(items) for name, items in found.items()}


def bound_errors(layer: Layer, values: dict[str, Any]) -> list[dict[str, str]]:
    """Fields whose numbers fall outside their column's bounds."""
    errors = []
    limits = bounds(layer.table)
    for name, value in values.items():
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        for op, limit in limits.get(name, ()):
            shown = int(limit) if limit.is_integer() else limit
            if op == ">=" and value < limit:
                message = "must not be negative" if limit == 0 else f"must be at least {shown}"
            elif op == ">" and value <= limit:
                message = f"must be greater than {shown}"
            elif op == "<=" and value > limit:
                message = f"must be at most {shown}"
            else:
                continue
            errors.append({"field": name, "message": message})
            break
    return errors


def household_errors(row: dict[str, Any]) -> list[dict[str, str]]:
    """Elderly or consenting households above the households of the stairwell."""
    households = row.get("households")
    if not isinstance(households, int):
        return []
    errors = []
    elderly = row.get("elderly_households")
    if isinstance(elderly, int) and elderly > households:
        errors.append(
            {
                "field": "elderly_households",
                "message": f"{elderly} elderly households is above households ({households})",
            }
        )
    agree, against = row.get("consent_agree"), row.get("consent_object")
    if isinstance(agree, int) and isinstance(against, int) and agree + against > households:
        message = (
            f"consenting ({agree}) and objecting ({against}) households are above "
            f"households ({households})"
        )
        errors += [
            {"field": "consent_agree", "message": message},
            {"field": "consent_object", "message": message},
        ]
    return errors


def check(layer: Layer, changed: dict[str, Any], row: dict[str, Any]) -> None:
    """422 naming every field that breaks a bound or a household rule."""
    errors = bound_errors(layer, changed) + household_errors(row)
    if errors:
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        raise InvalidInput(f"invalid values: {names}", errors)
