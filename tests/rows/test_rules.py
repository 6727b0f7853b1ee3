"""The row rules come from the model and the catalog: bounds, lengths, enums, limits, messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from gis_service.catalog import LAYERS_DIR, load_catalog
from gis_service.errors import ConfigError
from gis_service.rows.check import check_row, read_cell
from gis_service.rows.rules import layer_rules
from tests.conftest import catalog_copy

CATALOG = load_catalog()
STAIRWELL_CHECKS = yaml.safe_load((LAYERS_DIR / "stairwells.yaml").read_text())["checks"]
TODAY = dt.date(2026, 3, 1)


def test_rules_follow_the_model_and_the_catalog() -> None:
    doc = layer_rules(CATALOG.layer("stairwells"))
    fields = doc["fields"]
    assert fields["floors"] | {} == {"type": "integer", "required": True, "nullable": False,
                                     "min": 1, "max": 200}  # CHECK floors BETWEEN 1 AND 200
    assert (fields["households"]["min"], fields["households"]["max"]) == (0, 1000)  # CHECK, yaml
    assert fields["households"]["default"] == 0 and not fields["households"]["required"]
    assert fields["label"]["max_length"] == 50  # String(50)
    assert fields["notes"]["max_length"] == 2000  # Text, with the catalog's limit
    assert fields["last_surveyed_on"] | {} == {"type": "date", "required": False,
                                               "nullable": True, "min": "2000-01-01",
                                               "days_ahead": 1}
    assert fields["elevator_status"]["lookup"] == "elevator_status"
    assert fields["survey_status"]["values"] == ["not_visited", "visited", "follow_up"]
    assert "version" not in fields and "id" not in fields
    assert {(tuple(r["fields"]), r["other"]) for r in doc["checks"]} == {
        (("elderly_households",), "households"),
        (("consent_agree", "consent_object"), "households"),
    }
    garden = layer_rules(CATALOG.layer("gardens"))["fields"]["area_m2"]
    assert garden["above"] == 0 and "min" not in garden  # CHECK area_m2 > 0
    issue = layer_rules(CATALOG.layer("issues"))["checks"]
    assert issue == [{"kind": "set_when", "fields": ["resolved_at"], "other": "status",
                      "value": "resolved", "message": "ck_issue_resolved_at"}]


def test_messages_in_both_languages() -> None:
    layer = CATALOG.layer("stairwells")
    row = {"households": 10, "elderly_households": 11, "floors": 0}
    for lang, expected in (
        ("en", {"floors": "Floors must be at least 1",
                "elderly_households": "Elderly households cannot exceed households"}),
        ("zh", {"floors": "层数不能小于1", "elderly_households": "老年户数不能超过总户数"}),
    ):  # fmt: skip
        _, errors = check_row(layer_rules(layer, lang), row, today=TODAY)
        assert {e["field"]: e["message"] for e in errors} == expected


def test_a_rule_between_fields_sees_the_stored_row_or_the_defaults() -> None:
    doc = layer_rules(CATALOG.layer("stairwells"))
    _, new = check_row(doc, {"elderly_households": 3}, today=TODAY)  # households default 0
    assert [e["field"] for e in new] == ["elderly_households"]
    _, stored = check_row(doc, {"elderly_households": 3}, {"households": 12}, today=TODAY)
    assert stored == []
    issues = layer_rules(CATALOG.layer("issues"))
    _, resolved = check_row(issues, {"status": "resolved"}, {"status": "open"}, today=TODAY)
    assert resolved == [{"field": "resolved_at",
                         "message": "Resolved at is given when the status is resolved, "
                                    "and only then"}]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "value", "message"),
    [
        ("12", 12, None), (12.0, 12, None), ("12.5", None, "Floors must be a whole number"),
        (True, None, "Floors must be a whole number"), ("", None, "Floors must be a whole number"),
        (" 7 ", 7, None), (250, None, "Floors must be at most 200"),
    ],
)
def test_file_cells_are_read_leniently_and_checked_alike(
    raw: object, value: object, message: str | None
) -> None:
    doc = layer_rules(CATALOG.layer("stairwells"))
    clean, errors = check_row(doc, {"floors": raw}, read=read_cell, today=TODAY)
    assert clean.get("floors") == value
    assert [e["message"] for e in errors] == ([message] if message else [])


def test_dates_within_the_catalogs_limits() -> None:
    doc = layer_rules(CATALOG.layer("stairwells"))
    for raw, message in (("2026-03-02", None), ("2026-03-03", "must not be after today"),
                         ("1999-12-31", "must not be before 2000-01-01"),
                         ("2026-02-30", "must be a date (YYYY-MM-DD)"),
                         ("20260301", "must be a date (YYYY-MM-DD)")):
        _, errors = check_row(doc, {"last_surveyed_on": raw}, today=TODAY)
        assert [e["message"] for e in errors] == ([f"Last surveyed on {message}"] if message
                                                  else [])  # fmt: skip


def changed_catalog(tmp_path: Path, layer: str, change: dict[str, object]) -> Path:
    return catalog_copy(tmp_path / "layers", {layer: change})


def test_a_city_changes_a_limit_in_its_catalog(tmp_path: Path) -> None:
    fields = yaml.safe_load((LAYERS_DIR / "stairwells.yaml").read_text())["fields"]
    for spec in fields:
        if spec["name"] == "households":
            spec["limits"] = {"max": 400}
    city = load_catalog(changed_catalog(tmp_path, "stairwells", {"fields": fields}))
    _, errors = check_row(layer_rules(city.layer("stairwells")), {"households": 500})
    assert errors == [{"field": "households", "message": "Households must be at most 400"}]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"checks": {}}, "checks: give the zh/en message of ck_stairwell_consent"),
        ({"checks": {**STAIRWELL_CHECKS, "ck_stairwell_floors": {"zh": "层", "en": "floors"}}},
         "ck_stairwell_floors is no rule between these fields"),
    ],
)
def test_every_rule_between_fields_has_its_message(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_catalog(changed_catalog(tmp_path, "stairwells", change))


def test_limits_must_fit_the_field_type(tmp_path: Path) -> None:
    fields = yaml.safe_load((LAYERS_DIR / "stairwells.yaml").read_text())["fields"]
    fields[3]["limits"] = {"max": 5}  # label: a string
    with pytest.raises(ConfigError, match=r"limits\.max does not apply to a string field"):
        load_catalog(changed_catalog(tmp_path, "stairwells", {"fields": fields}))
