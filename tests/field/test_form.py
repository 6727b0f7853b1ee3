"""The survey form under the thumb: Save in reach, errors marked and shown, last counts as hints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.field.conftest import PHONE, FieldServer
from tests.field.pages import (
    SMALL_PHONE,
    fill_survey,
    in_reach,
    open_stairwell,
    phone,
    sign_in,
    stairwells_of,
    wait_pending,
)

COUNTS = ["households", "elderly_households", "consent_agree", "consent_object"]


@pytest.mark.parametrize("size", [SMALL_PHONE, PHONE["viewport"]], ids=["360x740", "390x844"])
def test_save_stays_in_reach_and_errors_are_marked_and_shown(
    field_server: FieldServer, contexts: Any, size: dict[str, int], tmp_path: Path
) -> None:
    target = stairwells_of(field_server.engine, 2)[1]
    page = phone(contexts, target["lon"], target["lat"], size).new_page()
    sign_in(page, field_server, "grid02")
    open_stairwell(page, target["id"])
    assert page.eval_on_selector("#sheet", "s => s.scrollHeight > s.clientHeight")  # it scrolls
    assert in_reach(page, "#survey-save")
    page.screenshot(path=str(tmp_path / f"form-{size['width']}.png"))

    # the date at the top is cleared; the worker is at the foot of the form and taps Save
    fill_survey(page, {"households": 9, "elderly_households": 3, "consent_agree": 5,
                       "consent_object": 1})
    page.fill("#survey-form [name=surveyed_on]", "")
    page.eval_on_selector("#sheet", "s => { s.scrollTop = s.scrollHeight; }")
    assert not in_reach(page, "#survey-form [name=surveyed_on]")
    assert in_reach(page, "#survey-save")
    page.tap("#survey-save")
    marked = page.eval_on_selector_all(".field.invalid", "ns => ns.map(n => n.dataset.field)")
    assert marked == ["surveyed_on"]
    assert page.get_attribute("#survey-form [name=surveyed_on]", "aria-invalid") == "true"
    assert page.inner_text(".field-error[data-field=surveyed_on]") == "Survey date is required"
    assert in_reach(page, "#survey-form [name=surveyed_on]")  # scrolled back to the field
    assert page.evaluate("document.activeElement.name") == "surveyed_on"
    page.screenshot(path=str(tmp_path / f"form-error-{size['width']}.png"))
    assert page.get_attribute("#pending", "data-count") == "0"


def test_last_counts_are_hints_to_confirm_not_answers(
    field_server: FieldServer, contexts: Any, tmp_path: Path
) -> None:
    engine = field_server.engine
    target = next(s for s in stairwells_of(engine, 2) if s["households"] is not None)
    page = phone(contexts, target["lon"], target["lat"], SMALL_PHONE, "zh-CN").new_page()
    sign_in(page, field_server, "grid02")
    open_stairwell(page, target["id"])
    for name in COUNTS:
        assert page.input_value(f"#survey-form [name={name}]") == ""
    hint = page.inner_text(".field[data-field=households] .previous")
    assert hint == f"上次 {target['households']} · 点此沿用"
    page.screenshot(path=str(tmp_path / "form-hints-zh.png"))

    # saving without asking anyone is refused: every count must be given or confirmed
    page.tap("#survey-save")
    marked = page.eval_on_selector_all(".field.invalid", "ns => ns.map(n => n.dataset.field)")
    assert marked == COUNTS
    assert page.inner_text(".field-error[data-field=households]") == "请填写户数"
    assert page.get_attribute("#pending", "data-count") == "0"

    # one tap keeps last time's households; the others are asked again and typed
    page.tap(".field[data-field=households] .previous")
    fill_survey(page, {"elderly_households": 1, "consent_agree": 0, "consent_object": 0})
    page.tap("#survey-save")
    page.wait_for_function(f"FieldMap.features[{target['id']}].server.version === "
                           f"{target['version'] + 1}")
    wait_pending(page, 0)
    saved = stairwells_of(engine, 2)
    row = next(s for s in saved if s["id"] == target["id"])
    assert (row["households"], row["elderly_households"]) == (target["households"], 1)
    assert row["version"] == target["version"] + 1
