"""A layer's rules document: per field its type and limits, the rules between fields, labels.

The document is plain JSON (the field page reads it): the model gives types, lengths, NOT
NULL, defaults and CHECK bounds; the catalog gives the fields, enums, lookup tables, extra
limits (`limits`), labels and the messages of the rules between fields (`checks`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gis_service.catalog import Layer, LayerField
from gis_service.rows import columns
from gis_service.rows.messages import MESSAGES

MANAGED = ("id", "version", "updated_at")
"""Columns the database assigns: never written by edits or imports."""


def kept_by_database(layer: Layer) -> set[str]:
    """The layer's fields its database derives (has_register): read, never written."""
    return {f.name for f in layer.fields if f.kept_by_database}


OPS = {">=": "min", ">": "above", "<=": "max"}


def tighter(spec: dict[str, Any], key: str, value: float | None) -> None:
    """Set a bound in a field spec, keeping the tighter of two."""
    if value is None:
        return
    keep = min if key == "max" else max
    spec[key] = keep(spec[key], value) if key in spec else value
    if isinstance(spec[key], float) and spec[key].is_integer():
        spec[key] = int(spec[key])


def number_limits(layer: Layer, field: LayerField, spec: dict[str, Any]) -> None:
    """Bounds of a number: the column type's, its CHECKs', the catalog's."""
    if field.type == "integer":
        low, high = columns.integer_range(layer.table, field.name)
        tighter(spec, "min", low)
        tighter(spec, "max", high)
    for op, value in columns.checks(layer.table).bounds.get(field.name, ()):
        tighter(spec, OPS[op], value)
    if field.limits is not None:
        tighter(spec, "min", field.limits.min)
        tighter(spec, "max", field.limits.max)


def text_and_date_limits(layer: Layer, field: LayerField, spec: dict[str, Any]) -> None:
    """The longest text (the column's, the catalog's), the earliest date and days ahead."""
    limits = field.limits
    if field.type == "string":
        lengths = [columns.max_length(layer.table, field.name), limits and limits.max_length]
        if any(lengths):
            spec["max_length"] = min(n for n in lengths if n)
    if field.type == "date" and limits is not None:
        if limits.earliest is not None:
            spec["min"] = limits.earliest.isoformat()
        if limits.days_ahead is not None:
            spec["days_ahead"] = limits.days_ahead


def field_spec(layer: Layer, field: LayerField) -> dict[str, Any]:
    """The rules of one field."""
    spec: dict[str, Any] = {
        "type": field.type,
        "required": columns.required(layer.table, field.name),
        "nullable": bool(columns.column(layer.table, field.name).nullable),
    }
    default = columns.default(layer.table, field.name)
    if default is not None:
        spec["default"] = default
    if field.type in ("integer", "number"):
        number_limits(layer, field, spec)
    if field.enum:
        spec["values"] = list(field.enum)
    if field.enum_from:
        spec["lookup"] = field.enum_from
    text_and_date_limits(layer, field, spec)
    return spec


def cross_rules(layer: Layer, names: Iterable[str]) -> list[dict[str, Any]]:
    """The layer's rules between fields (all of whose fields are among names)."""
    known = set(names)
    found = []
    for rule in columns.checks(layer.table).cross:
        if not {*rule.fields, rule.other} <= known:
            continue
        item: dict[str, Any] = {"kind": rule.kind, "fields": list(rule.fields),
                                "other": rule.other, "message": rule.constraint}  # fmt: skip
        if rule.kind == "set_when":
            item["value"] = rule.value
        found.append(item)
    return found


def layer_rules(layer: Layer, lang: str = "en") -> dict[str, Any]:
    """The rules document of a layer's writable fields, with labels and messages in a language."""
    unwritten = {*MANAGED, *kept_by_database(layer)}
    fields = {f.name: f for f in layer.fields if f.name not in unwritten}
    return {
        "lang": lang,
        "fields": {name: field_spec(layer, f) for name, f in fields.items()},
        "checks": cross_rules(layer, fields),
        "labels": {name: f.label.pick(lang) for name, f in fields.items()},
        "messages": {**MESSAGES[lang], **{k: v.pick(lang) for k, v in layer.checks.items()}},
    }


def form_rules(
    doc: dict[str, Any],
    fields: Mapping[str, str],
    optional: Iterable[str] = (),
    choices: Mapping[str, list[str]] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The rules of a form over some of a layer's fields: form name -> layer field.

    Every form field is required unless optional; choices narrow a field's values; labels
    rename. Rules between fields are kept when all their fields are on the form.
    """
    inside = {layer_name: name for name, layer_name in fields.items()}
    specs = {name: dict(doc["fields"][layer_name]) for name, layer_name in fields.items()}
    for name, spec in specs.items():
        spec["required"] = name not in set(optional)
        if choices and name in choices:
            spec["values"] = list(choices[name])
    checks = []
    for rule in doc["checks"]:
        names = [*rule["fields"], rule["other"]]
        if all(n in inside for n in names):
            checks.append({**rule, "fields": [inside[n] for n in rule["fields"]],
                           "other": inside[rule["other"]]})  # fmt: skip
    shown = {name: doc["labels"][layer_name] for name, layer_name in fields.items()}
    return {**doc, "fields": specs, "checks": checks, "labels": {**shown, **(labels or {})}}
