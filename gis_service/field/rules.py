"""The survey form's rules and messages: one definition, served to the page and applied here."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from gis_service.catalog import Catalog

MAX_COUNT = 1000
MAX_NOTES = 2000
EARLIEST = "2000-01-01"
DAYS_AHEAD = 1  # the phone's clock and time zone may run ahead of the server's

FIELDS: dict[str, dict[str, Any]] = {
    "surveyed_on": {"type": "date", "required": True, "min": EARLIEST, "days_ahead": DAYS_AHEAD},
    "survey_status": {"type": "enum", "required": True, "values": ["visited", "follow_up"]},
    "households": {"type": "integer", "required": True, "min": 0, "max": MAX_COUNT},
    "elderly_households": {"type": "integer", "required": True, "min": 0, "max": MAX_COUNT},
    "consent_agree": {"type": "integer", "required": True, "min": 0, "max": MAX_COUNT},
    "consent_object": {"type": "integer", "required": True, "min": 0, "max": MAX_COUNT},
    "notes": {"type": "string", "required": False, "max_length": MAX_NOTES},
}
CHECKS: list[dict[str, Any]] = [
    {"field": "elderly_households", "sum": ["elderly_households"], "at_most": "households",
     "message": "elderly_over"},
    {"field": "consent_object", "sum": ["consent_agree", "consent_object"], "at_most": "households",
     "message": "consent_over"},
]
MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "required": "请填写{label}",
        "integer": "{label}须为整数",
        "min": "{label}不能小于{min}",
        "max": "{label}不能大于{max}",
        "date": "{label}须为日期(年-月-日)",
        "date_min": "{label}不能早于{min}",
        "date_future": "{label}不能晚于今天",
        "enum": "{label}须为以下之一:{values}",
        "string": "{label}须为文字",
        "max_length": "{label}最多{max_length}个字",
        "elderly_over": "老年户数不能超过总户数",
        "consent_over": "同意户数与反对户数之和不能超过总户数",
    },
    "en": {
        "required": "{label} is required",
        "integer": "{label} must be a whole number",
        "min": "{label} must be at least {min}",
        "max": "{label} must be at most {max}",
        "date": "{label} must be a date (YYYY-MM-DD)",
        "date_min": "{label} must not be before {min}",
        "date_future": "{label} must not be after today",
        "enum": "{label} must be one of: {values}",
        "string": "{label} must be text",
        "max_length": "{label} must be at most {max_length} characters",
        "elderly_over": "Elderly households cannot exceed households",
        "consent_over": "Agreeing plus objecting households cannot exceed households",
    },
}
EXTRA_LABELS = {"surveyed_on": {"zh": "走访日期", "en": "Survey date"}}


def labels(catalog: Catalog, lang: str) -> dict[str, str]:
    """Field labels from the stairwell layer of the catalog (plus the survey date)."""
    layer = catalog.layer("stairwells")
    found = {name: EXTRA_LABELS.get(name, {}).get(lang, name) for name in FIELDS}
    for f in layer.fields:
        if f.name in FIELDS:
            found[f.name] = f.label.pick(lang)
    return found


def rules_document(catalog: Catalog, lang: str) -> dict[str, Any]:
    """What the page reads: fields, cross-field checks, labels and messages in one language."""
    return {
        "lang": lang,
        "fields": FIELDS,
        "checks": CHECKS,
        "labels": labels(catalog, lang),
        "messages": MESSAGES[lang],
    }


def field_json_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of one form field (what a single value may be)."""
    kind = spec["type"]
    if kind == "integer":
        return {"type": "integer", "minimum": spec["min"], "maximum": spec["max"]}
    if kind == "date":
        return {"type": "string", "format": "date", "description": f"from {spec['min']}, "
                f"at most {spec['days_ahead']} day after today"}
    if kind == "enum":
        return {"type": "string", "enum": spec["values"]}
    return {"type": ["string", "null"], "maxLength": spec["max_length"]}


SURVEY_RULES = (
    *(f"{check['field']}: {' + '.join(check['sum'])} at most {check['at_most']}"
      for check in CHECKS),
    f"surveyed_on: from {EARLIEST} to {DAYS_AHEAD} day after today",
)
"""The survey's rules JSON Schema cannot state (two fields compared; today's date)."""


def survey_schema() -> dict[str, Any]:
    """A survey as sent to POST /field/surveys (SURVEY_RULES are checked too)."""
    props = {"stairwell_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
    props.update({name: field_json_schema(spec) for name, spec in FIELDS.items()})
    required = [name for name, spec in FIELDS.items() if spec.get("required")]
    return {
        "type": "object",
        "required": ["stairwell_id", *required],
        "properties": props,
    }


def say(doc: dict[str, Any], key: str, name: str) -> str:
    """A message with {label} and the field's parameters filled in (as the page does)."""
    spec = doc["fields"].get(name, {})
    values = {"label": doc["labels"].get(name, name), **spec}
    if "values" in spec:
        values["values"] = ", ".join(spec["values"])
    text: str = doc["messages"][key]
    for param, value in values.items():
        text = text.replace("{" + param + "}", str(value))
    return text


def check_field(doc: dict[str, Any], name: str, raw: Any, today: dt.date) -> tuple[Any, str | None]:
    """A field's value and the message key of its first broken rule (None when fine)."""
    spec = doc["fields"][name]
    if raw is None or raw == "":
        return None, "required" if spec.get("required") else None
    kind = spec["type"]
    if kind == "integer":
        if (isinstance(raw, bool) or not isinstance(raw, int | float)
                or not math.isfinite(raw) or int(raw) != raw):
            return None, "integer"
        value = int(raw)
        if value < spec["min"]:
            return None, "min"
        return (None, "max") if value > spec["max"] else (value, None)
    if kind == "date":
        try:
            day = dt.date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
        except ValueError:
            day = None
        if day is None:
            return None, "date"
        if day < dt.date.fromisoformat(spec["min"]):
            return None, "date_min"
        return (None, "date_future") if (day - today).days > spec["days_ahead"] else (day, None)
    if kind == "enum":
        return (raw, None) if raw in spec["values"] else (None, "enum")
    if not isinstance(raw, str):
        return None, "string"
    return (None, "max_length") if len(raw) > spec["max_length"] else (raw, None)


def validate(
    doc: dict[str, Any], data: dict[str, Any], today: dt.date | None = None
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Clean values and the errors ({field, message}) of a survey form, as the page checks it."""
    today = today or dt.date.today()
    values: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for name in doc["fields"]:
        value, broken = check_field(doc, name, data.get(name), today)
        if broken:
            errors.append({"field": name, "message": say(doc, broken, name)})
        else:
            values[name] = value
    for check in doc["checks"]:
        names = [*check["sum"], check["at_most"]]
        if any(values.get(n) is None for n in names) or check["field"] in {
            e["field"] for e in errors
        }:
            continue
        if sum(values[n] for n in check["sum"]) > values[check["at_most"]]:
            errors.append({"field": check["field"], "message": say(doc, check["message"], "")})
    return values, errors
