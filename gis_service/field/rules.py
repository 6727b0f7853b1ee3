"""The survey form's rules: the stairwell layer's row rules on the form's fields, served to the
page (web/static/field/rules.js applies them there) and applied here with the same messages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gis_service.catalog import Catalog
from gis_service.rows.check import check_row
from gis_service.rows.rules import form_rules, layer_rules
from gis_service.rows.schema import row_schema, unstated_rules

FORM = {
    "surveyed_on": "last_surveyed_on",
    "survey_status": "survey_status",
    "households": "households",
    "elderly_households": "elderly_households",
    "consent_agree": "consent_agree",
    "consent_object": "consent_object",
    "notes": "notes",
}
"""Form field -> stairwell field; every one is required but the notes."""
CHOICES = {"survey_status": ["visited", "follow_up"]}  # a visit is never 'not visited'
LABELS = {"surveyed_on": {"zh": "走访日期", "en": "Survey date"}}


def rules_document(catalog: Catalog, lang: str) -> dict[str, Any]:
    """What the page reads: fields, rules between them, labels and messages in one language."""
    doc = layer_rules(catalog.layer("stairwells"), lang)
    labels = {name: text[lang] for name, text in LABELS.items()}
    return form_rules(doc, FORM, optional=["notes"], choices=CHOICES, labels=labels)


def validate(
    doc: dict[str, Any], data: dict[str, Any], today: dt.date | None = None
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Clean values and the errors ({field, message}) of a survey form, as the page checks it."""
    given = {name: None if data.get(name) == "" else data.get(name) for name in doc["fields"]}
    return check_row(doc, given, complete=True, today=today)


def survey_schema(catalog: Catalog) -> dict[str, Any]:
    """A survey as POST /field/surveys takes it: the form's rules as JSON Schema.

    A required field takes no null (nor ""); keys the form does not know are ignored.
    """
    doc = rules_document(catalog, "en")
    required = [name for name, spec in doc["fields"].items() if spec.get("required")]
    fields = {
        name: {**spec, "nullable": name not in required} for name, spec in doc["fields"].items()
    }
    schema = row_schema({**doc, "fields": fields}, ["stairwell_id", *required])
    schema["properties"]["stairwell_id"] = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    del schema["additionalProperties"]
    return schema


def unstated_survey_rules(catalog: Catalog) -> list[str]:
    """The form's rules JSON Schema cannot state (between fields, dates against today)."""
    return unstated_rules(rules_document(catalog, "en"))
