"""Someone changes a stairwell after the worker's page loaded it: both values are shown, the
worker chooses per field, and exactly the chosen values are saved (never a silent overwrite)."""

from __future__ import annotations

from typing import Any

from tests.field.conftest import FieldServer
from tests.field.pages import (
    fill_survey,
    open_stairwell,
    phone,
    rows,
    sign_in,
    stairwells_of,
    wait_pending,
)


def test_conflict_shows_both_values_and_saves_the_choice(
    field_server: FieldServer, contexts: Any
) -> None:
    engine = field_server.engine
    target = stairwells_of(engine, 2)[5]
    context = phone(contexts, target["lon"], target["lat"])
    page = context.new_page()
    sign_in(page, field_server, "grid02")

    # a planner changes the stairwell after the page has loaded it
    with field_server.client("planner") as planner:
        url = f"/collections/stairwells/items/{target['id']}"
        etag = planner.get(url).headers["ETag"]
        changed = planner.patch(
            url,
            json={"type": "Feature", "properties": {"households": 40, "notes": "planner count"}},
            headers={"If-Match": etag, "Content-Type": "application/merge-patch+json"})
        assert changed.status_code == 200, changed.text

    mine = {"households": 30, "elderly_households": 9, "consent_agree": 20, "consent_object": 4,
            "survey_status": "visited", "notes": "worker count"}
    open_stairwell(page, target["id"])
    fill_survey(page, mine)
    page.click("#survey-save")
    page.wait_for_selector(f"form#conflict[data-id='{target['id']}']", timeout=30_000)

    def side(field: str, who: str) -> str:
        return str(page.inner_text(f".conflict-row[data-field={field}] .pick.{who} .value"))

    assert (side("households", "mine"), side("households", "theirs")) == ("30", "40")
    assert (side("notes", "mine"), side("notes", "theirs")) == ("worker count", "planner count")
    # fields the planner left alone and the worker changed are preset to the worker's value
    assert page.is_checked(".conflict-row[data-field=consent_agree] input[value=mine]")
    # nothing is saved until the worker has chosen every contested field
    page.click("#conflict-save")
    assert page.inner_text("form#conflict .field-error") != ""
    assert stairwells_of(engine, 2)[5]["households"] == 40

    page.check(".conflict-row[data-field=households] input[value=mine]")
    page.check(".conflict-row[data-field=notes] input[value=theirs]")
    page.click("#conflict-save")
    wait_pending(page, 0)

    saved = stairwells_of(engine, 2)[5]
    assert saved["households"] == 30 and saved["notes"] == "planner count"
    assert saved["consent_agree"] == 20 and saved["elderly_households"] == 9
    assert saved["version"] == target["version"] + 2  # the planner's edit, then the chosen one
    history = rows(engine, "SELECT username, after -> 'properties' ->> 'households' AS households "
                   "FROM edit_log WHERE table_name = 'stairwell' AND feature_id = :fid ORDER BY id",
                   fid=str(target["id"]))
    assert [(h["username"], h["households"]) for h in history] == [("planner", "40"),
                                                                  ("grid02", "30")]
