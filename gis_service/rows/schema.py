"""A rules document as JSON Schema (the OpenAPI document's), and the rules no schema states.

The same document checks edits, imports and the field form (rows/check.py), so what the API
documents for a body is what the server applies: types, bounds, lengths, enums, nullability
and required fields here; rules between fields, dates against today and codes of lookup
tables in `unstated_rules` (the API lists them with the status that refuses them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

TYPES: dict[str, dict[str, str]] = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "string": {"type": "string"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}
BOUNDS = {"min": "minimum", "max": "maximum", "above": "exclusiveMinimum"}
NO_NUL = "^[^\\x00]*$"  # text never holds a NUL character ("nul" in rows/messages.py)


def value_schema(spec: dict[str, Any], nullable: bool) -> dict[str, Any]:
    """The JSON schema of one field's value (null too when nullable)."""
    kind = spec["type"]
    schema: dict[str, Any] = dict(TYPES[kind])
    if kind in ("integer", "number"):
        schema.update({BOUNDS[key]: spec[key] for key in BOUNDS if key in spec})
    if "values" in spec:
        schema["enum"] = list(spec["values"])
    elif kind == "string":
        schema["pattern"] = NO_NUL
        if "max_length" in spec:
            schema["maxLength"] = spec["max_length"]
    if nullable:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"].append(None)
    return schema


def row_schema(
    doc: dict[str, Any], required: Iterable[str] = (), nulls: bool = True
) -> dict[str, Any]:
    """An object of the document's fields (no others); nulls: where the field takes null."""
    properties = {
        name: {
            "title": doc["labels"].get(name, name),
            **value_schema(spec, nulls and spec.get("nullable", True)),
        }
        for name, spec in doc["fields"].items()
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if names := list(required):
        schema["required"] = names
    return schema


def unstated_rules(doc: dict[str, Any]) -> list[str]:
    """The document's rules a JSON schema cannot state, in words."""
    found = []
    for rule in doc["checks"]:
        if rule["kind"] == "sum_at_most":
            found.append(f"{' + '.join(rule['fields'])} at most {rule['other']}")
        else:
            found.append(f"{rule['fields'][0]} set exactly when {rule['other']} is {rule['value']}")
    for name, spec in doc["fields"].items():
        if spec["type"] == "date" and ("min" in spec or "days_ahead" in spec):
            earliest = f"from {spec['min']}" if "min" in spec else ""
            ahead = spec.get("days_ahead")
            latest = f"at most {ahead} day(s) after today" if ahead is not None else ""
            found.append(f"{name}: " + ", ".join(p for p in (earliest, latest) if p))
        if "lookup" in spec:
            found.append(f"{name}: a code of {spec['lookup']}")
    return found
