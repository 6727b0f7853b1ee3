"""One validator everywhere: an edit, an import and the field form refuse the same value with
the same message, and the page's script (in Chromium) agrees with the server on every form."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.catalog import default_catalog
from gis_service.field.rules import rules_document, validate
from gis_service.webmap import assets
from tests.conftest import DemoTemplate, LiveServer, scalar

BAD = [
    ({"households": -1}, "households", "Households must be at least 0"),
    ({"households": 1001}, "households", "Households must be at most 1000"),
    ({"households": 10, "elderly_households": 11}, "elderly_households",
     "Elderly households cannot exceed households"),
    ({"households": 10, "consent_agree": 6, "consent_object": 5}, "consent_object",
     "Agreeing plus objecting households cannot exceed households"),
    ({"notes": "x" * 2001}, "notes", "Notes must be at most 2000 characters"),
]  # fmt: skip


@pytest.fixture
def live(demo_db: Engine, serve: Callable[[FastAPI], LiveServer]) -> LiveServer:
    """The app on a demo copy this test may write to."""
    return serve(create_app(demo_db))


def survey(sid: int, **values: object) -> dict[str, object]:
    """A valid survey of a stairwell, with some values changed."""
    body: dict[str, object] = {
        "stairwell_id": sid, "surveyed_on": dt.date.today().isoformat(),
        "survey_status": "visited", "households": 12, "elderly_households": 5,
        "consent_agree": 8, "consent_object": 2, "notes": None}  # fmt: skip
    return {**body, **values}


def import_csv(tmp_path: Path, building: int, values: dict[str, object]) -> bytes:
    """A one-stairwell CSV with these values."""
    row = {"building_id": building, "label": "Z", "floors": 6, "households": 12,
           "lon": 113.2919, "lat": 23.1448, **values}  # fmt: skip
    return (",".join(row) + "\n" + ",".join(str(v) for v in row.values()) + "\n").encode()


@pytest.mark.parametrize(("values", "field", "message"), BAD)
def test_an_edit_an_import_and_the_form_say_the_same(
    live: LiveServer,
    demo_db: Engine,
    demo_template: DemoTemplate,
    tmp_path: Path,
    values: dict[str, object],
    field: str,
    message: str,
) -> None:
    sid = int(str(scalar(demo_db, "SELECT min(id) FROM stairwell WHERE grid_id = 2")))
    building = int(str(scalar(demo_db, "SELECT building_id FROM stairwell WHERE id = :i", i=sid)))
    with live.client(demo_template.tokens["planner"]) as planner:
        version = planner.get(f"/collections/stairwells/items/{sid}").headers["etag"]
        edit = planner.patch(f"/collections/stairwells/items/{sid}", headers={"If-Match": version},
                             json={"type": "Feature", "properties": values})
        upload = planner.post("/collections/stairwells/import", files={
            "file": ("s.csv", import_csv(tmp_path, building, values))})
    with live.client(demo_template.tokens["grid02"]) as worker:
        form = worker.post("/field/surveys?lang=en", json=survey(sid, **values))
    said = {
        "edit": {e["field"]: e["message"] for e in edit.json()["errors"]},
        "import": {e["field"]: e["message"] for e in upload.json()["errors"]},
        "form": {e["field"]: e["message"] for e in form.json()["errors"]},
    }
    assert (edit.status_code, upload.status_code, form.status_code) == (422, 422, 422), said
    for path, messages in said.items():
        assert messages[field] == message, path


CASES: list[dict[str, Any]] = [
    {},
    {"households": -1, "elderly_households": 2.5, "surveyed_on": "2026-02-30",
     "survey_status": "maybe", "notes": "x" * 2001},
    {"surveyed_on": "3000-01-01", "consent_agree": 11},
    {"surveyed_on": "1999-12-31", "households": "12", "consent_object": None},
    {"households": 10, "elderly_households": 11, "consent_agree": 6, "consent_object": 6},
    {"survey_status": "not_visited", "notes": "", "households": 1001},
    {"households": 7.0, "notes": "a\u0000b", "surveyed_on": 20260301},
    {"households": True, "elderly_households": "", "consent_agree": 1e400},
]  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_script_checks_forms_as_the_server_does(
    live: LiveServer, browser: Any, lang: str
) -> None:
    doc = rules_document(default_catalog(), lang)
    today = dt.date.today()
    forms = [{**survey(1), **case} for case in CASES]
    with live.client() as http:  # the script as the app serves it to the field page
        script = http.get(assets.own("field/rules.js"))
    assert script.status_code == 200
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content("<!DOCTYPE html><html><body></body></html>")
        page.add_script_tag(content=script.text)
        shown = page.evaluate(
            "([doc, forms, today]) => forms.map(f => FieldRules.validate(doc, f, today).errors)",
            [doc, json.loads(json.dumps(forms, allow_nan=True)), today.isoformat()],
        )
    finally:
        context.close()
    for form, errors in zip(forms, shown, strict=True):
        _, expected = validate(doc, form, today)
        assert errors == expected, form
    assert any(len(e) >= 3 for e in shown)  # the cases do break rules


def test_an_edit_and_an_import_refuse_the_same_place_outside_the_service_area(
    live: LiveServer, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    """Paris is far outside the demo district's extent (grown by 50 km): both refuse it, alike."""
    sid = int(str(scalar(demo_db, "SELECT min(id) FROM stairwell")))
    building = int(str(scalar(demo_db, "SELECT building_id FROM stairwell WHERE id = :i", i=sid)))
    paris = {"type": "Point", "coordinates": [2.35, 48.85]}
    near = {"type": "Point", "coordinates": [113.6, 23.3]}  # ~35 km from the district: inside
    with live.client(demo_template.tokens["planner"]) as planner:
        version = planner.get(f"/collections/stairwells/items/{sid}").headers["etag"]
        edit = planner.patch(f"/collections/stairwells/items/{sid}", headers={"If-Match": version},
                             json={"type": "Feature", "geometry": paris})
        upload = planner.post("/collections/stairwells/import", files={"file": (
            "s.csv", import_csv(tmp_path, building, {"lon": 2.35, "lat": 48.85}))})
        moved = planner.patch(f"/collections/stairwells/items/{sid}",
                              headers={"If-Match": version},
                              json={"type": "Feature", "geometry": near})
    assert (edit.status_code, upload.status_code, moved.status_code) == (422, 422, 200)
    said = [e["message"] for e in edit.json()["errors"] if e["field"] == "geometry"]
    imported = [e["message"] for e in upload.json()["errors"] if e["field"] == "geometry"]
    assert said == imported and said[0].startswith("outside the service area")


def test_a_field_the_database_keeps_is_read_never_written(
    register_db: Engine, register_template: DemoTemplate, serve: Callable[[FastAPI], LiveServer],
    tmp_path: Path,
) -> None:  # fmt: skip
    """has_register: an edit, a new stairwell and an upload that carry it are answered as if
    they did not (the database says it); the document says so and asks no client for it."""
    live = serve(create_app(register_db))
    sid = int(str(scalar(register_db, "SELECT min(id) FROM stairwell WHERE has_register")))
    building = int(str(scalar(register_db, "SELECT building_id FROM stairwell WHERE id = :i",
                              i=sid)))  # fmt: skip
    with live.client(register_template.tokens["planner"]) as planner:
        version = planner.get(f"/collections/stairwells/items/{sid}").headers["etag"]
        edit = planner.patch(f"/collections/stairwells/items/{sid}", headers={"If-Match": version},
                             json={"type": "Feature", "properties": {"has_register": False,
                                                                     "notes": "kept"}})  # fmt: skip
        made = planner.post("/collections/stairwells/items", json={
            "type": "Feature", "geometry": edit.json()["geometry"],
            "properties": {"building_id": building, "label": "N", "floors": 6,
                           "has_register": True}})  # fmt: skip
        upload = planner.post("/collections/stairwells/import", files={
            "file": ("s.csv", import_csv(tmp_path, building, {"has_register": "true"}))})
        document = planner.get("/api").json()
    assert edit.status_code == 200, edit.text
    said = edit.json()["properties"]
    assert (said["has_register"], said["notes"]) == (True, "kept")
    assert made.status_code == 201, made.text
    assert made.json()["properties"]["has_register"] is False
    assert upload.status_code == 201, upload.text
    assert upload.json()["ignored_columns"] == {"has_register": "kept by the database"}
    paths = document["paths"]["/collections/stairwells/items/{featureId}"]
    for method in ("put", "patch"):
        body = next(iter(paths[method]["requestBody"]["content"].values()))["schema"]
        written = body["properties"]["properties"]
        assert "ignored" in written["properties"]["has_register"]["description"], method
        assert "has_register" not in written.get("required", []), method
