"""Edits still waiting to be sent can be corrected or cancelled: a cancelled edit never reaches the
server, a corrected one reaches it once, with the corrected values."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.field.pages import (
    SMALL_PHONE,
    fill_survey,
    open_stairwell,
    pending,
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


def test_a_save_refused_for_now_is_sent_again_when_the_server_says(
    field_server: Any, contexts: Any
) -> None:
    """The server answers a survey's first send 503 with Retry-After: 6. The phone keeps the
    survey waiting and sends nothing before then, though its own first wait is 1 s and another
    save flushes the queue; then it sends it, and the server holds it once."""
    engine = field_server.engine
    a, b = stairwells_of(engine, 2)[9:11]
    before = rows(engine, SURVEYS, ids=[a["id"], b["id"]])
    context = phone(contexts, a["lon"], a["lat"], SMALL_PHONE, "zh-CN")
    page = context.new_page()
    sign_in(page, field_server, "grid02")
    posted: list[float] = []

    def refuse_the_first(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        posted.append(time.monotonic())
        if len(posted) == 1:
            route.fulfill(status=503, body="busy", headers={"Retry-After": "6"})
        else:
            route.continue_()

    context.route("**/field/surveys", refuse_the_first)
    for stairwell in (a, b):
        open_stairwell(page, stairwell["id"])
        fill_survey(page, {"households": 9, "elderly_households": 1, "consent_agree": 1,
                           "consent_object": 0, "notes": f"retry-after {stairwell['id']}"})
        page.tap("#survey-save")
        page.wait_for_selector("#sheet", state="hidden")
    page.wait_for_timeout(3_000)  # the page's own wait (1 s) and the second save's flush
    assert len(posted) == 1 and pending(page) == 2
    wait_pending(page, 0, timeout=30_000)
    assert posted[1] - posted[0] > 5.0, posted
    sent = [r for r in rows(engine, SURVEYS, ids=[a["id"], b["id"]]) if r not in before]
    assert sorted(r["notes"] for r in sent) == [f"retry-after {a['id']}", f"retry-after {b['id']}"]
