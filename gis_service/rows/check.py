"""Apply a rules document to a row, as web/static/field/rules.js does in the browser.

Values are first read into their field's type, from JSON (edits, the field form: strict) or
from a file's cells (imports: text as well), then checked against the field's limits; the
rules between fields are checked on the whole row (stored values or defaults filling in).
Errors are {field, message} with the document's messages.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from gis_service.rows.messages import say

Read = Callable[[dict[str, Any], Any], tuple[Any, str | None]]
ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
TRUE = {"true", "t", "yes", "y", "1", "是"}
FALSE = {"false", "f", "no", "n", "0", "否"}


def json_number(raw: Any, integer: bool) -> tuple[Any, str | None]:
    """A JSON number (an integer may be written 12.0)."""
    key = "integer" if integer else "number"
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        return None, key
    if integer:
        return (int(raw), None) if raw == int(raw) else (None, key)
    return float(raw), None


def json_date(raw: str) -> dt.date | None:
    """A YYYY-MM-DD calendar date, else None."""
    try:
        return dt.date.fromisoformat(raw) if ISO_DAY.match(raw) else None
    except ValueError:
        return None


def json_datetime(raw: str) -> dt.datetime | None:
    """An ISO 8601 date-time (naive taken as UTC), else None."""
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def read_json(spec: dict[str, Any], raw: Any) -> tuple[Any, str | None]:
    """A JSON value (not null) in the field's type, or the message key saying why it is not one."""
    kind = spec["type"]
    if kind in ("integer", "number"):
        return json_number(raw, kind == "integer")
    if kind == "boolean":
        return (raw, None) if isinstance(raw, bool) else (None, "boolean")
    if not isinstance(raw, str):
        return None, kind if kind in ("date", "datetime") else "string"
    if "\x00" in raw:
        return None, "nul"
    if kind == "date":
        day = json_date(raw)
        return (day, None) if day else (None, "date")
    if kind == "datetime":
        stamp = json_datetime(raw)
        return (stamp, None) if stamp else (None, "datetime")
    return raw, None


def as_read(_spec: dict[str, Any], value: Any) -> tuple[Any, str | None]:
    """A value already read into its type (edits check values read_feature read)."""
    return value, None


def cell_number(raw: Any, integer: bool) -> tuple[Any, str | None]:
    """A number from a file: a number, or text holding one."""
    try:
        if isinstance(raw, bool | np.bool_):
            raise ValueError
        number = float(str(raw).strip()) if isinstance(raw, str) else float(raw)
    except (ValueError, TypeError, OverflowError):
        number = math.nan
    return json_number(number, integer)


def cell_stamp(raw: Any, kind: str) -> tuple[Any, str | None]:
    """A date or date-time from a file (ISO 8601 text, or a date the reader decoded)."""
    try:
        stamp = pd.Timestamp(raw.strip() if isinstance(raw, str) else raw)
    except (ValueError, TypeError, OverflowError):
        return None, kind
    if pd.isna(stamp):
        return None, kind
    if kind == "date":
        return stamp.date(), None
    return (stamp if stamp.tzinfo else stamp.tz_localize("UTC")).to_pydatetime(), None


def read_cell(spec: dict[str, Any], raw: Any) -> tuple[Any, str | None]:
    """A file's cell (not blank) in the field's type (text or typed cells), or why it is not one."""
    kind = spec["type"]
    if kind in ("integer", "number"):
        return cell_number(raw, kind == "integer")
    if kind in ("date", "datetime"):
        return cell_stamp(raw, kind)
    if kind == "boolean":
        if isinstance(raw, bool | np.bool_):
            return bool(raw), None
        text = str(int(raw)) if isinstance(raw, int | float) else str(raw).strip().lower()
        return (text in TRUE, None) if text in TRUE | FALSE else (None, "boolean")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return read_json(spec, raw.isoformat() if isinstance(raw, dt.date) else str(raw).strip())


def limit_broken(spec: dict[str, Any], value: Any, today: dt.date) -> str | None:
    """The message key of the first limit a typed value breaks (None when it keeps them)."""
    kind = spec["type"]
    if kind in ("integer", "number"):
        if "min" in spec and value < spec["min"]:
            return "min"
        if "above" in spec and value <= spec["above"]:
            return "above"
        return "max" if "max" in spec and value > spec["max"] else None
    if kind == "string":
        if "values" in spec and value not in spec["values"]:
            return "enum"
        return "max_length" if len(value) > spec.get("max_length", len(value)) else None
    if kind == "date":
        if "min" in spec and value < dt.date.fromisoformat(spec["min"]):
            return "date_min"
        ahead = spec.get("days_ahead")
        return "date_future" if ahead is not None and (value - today).days > ahead else None
    return None


def field_broken(
    spec: dict[str, Any], raw: Any, read: Read, today: dt.date
) -> tuple[Any, str | None]:
    """A field's value and the message key of its first broken rule."""
    value, key = (None, None) if raw is None else read(spec, raw)
    if key is None and value is None:
        key = "required" if spec.get("required") or not spec.get("nullable", True) else None
    elif key is None:
        key = limit_broken(spec, value, today)
    return (None, key) if key else (value, None)


def rule_broken(rule: dict[str, Any], row: dict[str, Any]) -> bool:
    """Whether a row breaks a rule between fields (a missing value breaks no sum)."""
    if rule["kind"] == "set_when":
        return (row.get(rule["other"]) == rule["value"]) != (row.get(rule["fields"][0]) is not None)
    values: list[Any] = [row.get(name) for name in [*rule["fields"], rule["other"]]]
    if any(v is None for v in values):
        return False
    return bool(sum(values[:-1]) > values[-1])


def defaults(doc: dict[str, Any]) -> dict[str, Any]:
    """The values the database fills in for fields left out."""
    return {name: spec["default"] for name, spec in doc["fields"].items() if "default" in spec}


def check_row(
    doc: dict[str, Any],
    values: dict[str, Any],
    base: dict[str, Any] | None = None,
    complete: bool = False,
    read: Read = read_json,
    today: dt.date | None = None,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Clean values and errors of a row: its values, over base (stored values, else defaults).

    Fields not in the document are left out; complete: a required field left out is an error.
    """
    today = today or dt.date.today()
    clean: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for name, spec in doc["fields"].items():
        if name not in values:
            key = "required" if complete and spec.get("required") else None
        else:
            clean[name], key = field_broken(spec, values[name], read, today)
        if key:
            clean.pop(name, None)
            errors.append({"field": name, "message": say(doc, key, name)})
    row = {**(defaults(doc) if base is None else base), **clean}
    failed = {e["field"] for e in errors}
    for rule in doc["checks"]:
        names = [*rule["fields"], rule["other"]]
        if not failed & set(names) and rule_broken(rule, row):
            message = say(doc, rule["message"], rule["fields"][0])
            errors += [{"field": name, "message": message} for name in rule["fields"]]
    return clean, errors
