"""Edits still waiting to be sent can be corrected or cancelled: a cancelled edit never reaches the
server, a corrected one reaches it once, with the corrected values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.field.pages import (
    SMALL_PHONE,
    fill_survey,
    open_stairwell,
    phone,
    rows,
    sign_in,
    stairwells_of,
    wait_pending,
)

SURVEYS = "SELECT stairwell_id, households, notes FROM survey WHERE stairwell_id = ANY(:ids)"


def test_correct_one_queued_edit_and_cancel_another(
    field_server: Any, contexts: Any, tmp_path: Path
) -> None:
    engine = field_server.engine
    a, b, c = stairwells_of(engine, 2)[6:9]
    ids = [a["id"], b["id"], c["id"]]
    before = rows(engine, SURVEYS, ids=ids)
    context = phone(contexts, a["lon"], a["lat"], SMALL_PHONE, "zh-CN")
    page = context.new_page()
    sign_in(page, field_server, "grid02")
    context.set_offline(True)
    for sid, households in ((a["id"], 10), (b["id"], 11), (c["id"], 12)):
        open_stairwell(page, sid)
        fill_survey(page, {"households": households, "elderly_households": 1,
                           "consent_agree": 1, "consent_object": 0, "notes": f"first {sid}"})
        page.tap("#survey-save")
        page.wait_for_selector("#sheet", state="hidden")
    wait_pending(page, 3)

    page.tap("#pending")
    page.wait_for_selector("#outbox .outbox-item")
    states = page.eval_on_selector_all("#outbox .outbox-item .meta",
                                       "ms => ms.map(m => m.textContent)")
    assert states == [" · 等待上传"] * 3  # a label, never the code
    # correct a's counts: the form opens on the queued values
    page.tap(f".outbox-item[data-id='{a['id']}'] button.correct")
    page.wait_for_selector(f"#survey-form[data-id='{a['id']}']")
    assert page.input_value("#survey-form [name=households]") == "10"
    fill_survey(page, {"households": 20, "notes": "corrected"})
    page.tap("#survey-save")
    page.wait_for_selector("#sheet", state="hidden")
    wait_pending(page, 3)
    # cancel b
    page.tap("#pending")
    page.wait_for_selector(f".outbox-item[data-id='{b['id']}'] button.cancel-edit")
    page.screenshot(path=str(tmp_path / "outbox-zh.png"))
    page.tap(f".outbox-item[data-id='{b['id']}'] button.cancel-edit")
    wait_pending(page, 2)
    assert page.evaluate(f"FieldMap.features[{b['id']}].properties.households") == b["households"]

    response = page.reload()  # still offline: the queue survives as corrected
    assert response is not None and response.from_service_worker
    wait_pending(page, 2)
    context.set_offline(False)
    page.evaluate("FieldOutbox.flush()")
    wait_pending(page, 0)

    sent = rows(engine, SURVEYS, ids=ids)
    new = [(r["stairwell_id"], r["households"], r["notes"]) for r in sent if r not in before]
    assert sorted(new) == sorted([(a["id"], 20, "corrected"), (c["id"], 12, f"first {c['id']}")])
    after = {s["id"]: s for s in stairwells_of(engine, 2)}
    assert after[a["id"]]["households"] == 20 and after[a["id"]]["version"] == a["version"] + 1
    assert after[b["id"]]["version"] == b["version"]  # never sent
    assert after[c["id"]]["version"] == c["version"] + 1
