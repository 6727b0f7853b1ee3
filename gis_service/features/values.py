"""Values of catalog fields: parsed from query strings and JSON bodies, checked against columns."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import sqlalchemy as sa

from gis_service.catalog import Layer, LayerField, Text
from gis_service.db.models import Base

INTEGER = re.compile(r"^[+-]?[0-9]{1,30}$")
INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
TRUE_WORDS = {"true": True, "1": True, "false": False, "0": False}


def column(layer: Layer, name: str) -> sa.Column[Any]:
    """The model column behind a layer field."""
    return Base.metadata.tables[layer.table].c[name]


def quoted(name: str) -> str:
    """A double-quoted SQL identifier for a catalog name (which must look like one)."""
    if not IDENTIFIER.match(name):
        raise ValueError(f"not a safe identifier: {name!r}")
    return f'"{name}"'


def has_column(layer: Layer, name: str) -> bool:
    """True when the layer's table has a column of that name."""
    return name in Base.metadata.tables[layer.table].c


def integer_range(layer: Layer, name: str) -> tuple[int, int]:
    """The smallest and largest value an integer column stores."""
    kind = "bigint" if isinstance(column(layer, name).type, sa.BigInteger) else "integer"
    return INT_RANGES[kind]


def max_length(layer: Layer, name: str) -> int | None:
    """The longest string a column stores (None: unlimited)."""
    length = getattr(column(layer, name).type, "length", None)
    return int(length) if length else None


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


def from_json(layer: Layer, field: LayerField, value: Any) -> object:
    """A JSON value converted to the field's type and checked to fit its column."""
    if value is None:
        return None
    kind = field.type
    if kind == "integer":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be an integer")
        low, high = integer_range(layer, field.name)
        if not low <= value <= high:
            raise ValueError(f"must lie between {low} and {high}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a number")
        if not math.isfinite(float(value)):
            raise ValueError("must be a finite number")
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string" if kind == "string" else f"must be an ISO {kind}")
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if kind == "date":
        return parse_date(value)
    if kind == "datetime":
        return parse_datetime(value)
    limit = max_length(layer, field.name)
    if limit is not None and len(value) > limit:
        raise ValueError(f"must be at most {limit} characters")
    return value


def queryable_fields(layer: Layer) -> dict[str, LayerField]:
    """Fields a filter may name, with the feature id as an integer field called 'id'."""
    found = {f.name: f for f in layer.fields if f.queryable}
    found.setdefault("id", LayerField(name="id", type="integer", label=Text(zh="编号", en="Id")))
    return found
