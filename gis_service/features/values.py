"""Values of catalog fields in query strings: parsed by type, checked to fit their column."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import sqlalchemy as sa

from gis_service.catalog import Layer, LayerField, Text
from gis_service.db.models import Base
from gis_service.rows import columns
from gis_service.rows.columns import quoted

__all__ = ["quoted"]  # the one identifier quoting, kept where the features package finds it

INTEGER = re.compile(r"^[+-]?[0-9]{1,30}$")
TRUE_WORDS = {"true": True, "1": True, "false": False, "0": False}


def column(layer: Layer, name: str) -> sa.Column[Any]:
    """The model column behind a layer field."""
    return columns.column(layer.table, name)


def has_column(layer: Layer, name: str) -> bool:
    """True when the layer's table has a column of that name."""
    return name in Base.metadata.tables[layer.table].c


def integer_range(layer: Layer, name: str) -> tuple[int, int]:
    """The smallest and largest value an integer column stores."""
    return columns.integer_range(layer.table, name)


def max_length(layer: Layer, name: str) -> int | None:
    """The longest string a column stores (None: unlimited)."""
    return columns.max_length(layer.table, name)


def parse_datetime(text: str) -> dt.datetime:
    """An ISO 8601 date-time; naive values are taken as UTC."""
    value = dt.datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def parse_date(text: str) -> dt.date:
    """An ISO 8601 calendar date."""
    return dt.date.fromisoformat(text.strip())


def from_query(field: LayerField, raw: str) -> object:
    """A query-string value converted to the field's type (ValueError when it is not one)."""
    if "\x00" in raw:
        raise ValueError("contains a NUL character")
    kind = field.type
    if kind == "integer":
        if not INTEGER.match(raw.strip()):
            raise ValueError(f"{raw!r} is not an integer")
        return int(raw)
    if kind == "number":
        number = float(raw)
        if not math.isfinite(number):
            raise ValueError(f"{raw!r} is not a finite number")
        return number
    if kind == "boolean":
        if raw.strip().lower() not in TRUE_WORDS:
            raise ValueError(f"{raw!r} is not true or false")
        return TRUE_WORDS[raw.strip().lower()]
    if kind == "date":
        return parse_date(raw)
    if kind == "datetime":
        return parse_datetime(raw)
    return raw


def check_fits(layer: Layer, field: LayerField, value: object) -> None:
    """ValueError when a converted value lies outside the field's enum, range or length."""
    if field.enum and value not in field.enum:
        raise ValueError(f"must be one of {', '.join(field.enum)}")
    if field.type == "integer" and isinstance(value, int):
        low, high = integer_range(layer, field.name)
        if not low <= value <= high:
            raise ValueError(f"must lie between {low} and {high}")
    limit = max_length(layer, field.name) if field.type == "string" else None
    if limit is not None and isinstance(value, str) and len(value) > limit:
        raise ValueError(f"must be at most {limit} characters")


def queryable_fields(layer: Layer) -> dict[str, LayerField]:
    """Fields a filter may name, with the feature id as an integer field called 'id'."""
    found = {f.name: f for f in layer.fields if f.queryable}
    found.setdefault("id", LayerField(name="id", type="integer", label=Text(zh="编号", en="Id")))
    return found
