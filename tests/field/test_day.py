"""A grid worker's whole offline day on a 360 x 740 touch phone: download the grid, lose the
network, survey three stairwells, report an issue with a photo taken sideways, correct one queued
edit and cancel another, reload, come back online - and the server holds exactly the right edits,
each once, with the photo upright."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from tests.field.conftest import FieldServer
from tests.field.pages import (
    SMALL_PHONE,
    fill_survey,
    open_stairwell,
    phone,
    rows,
    sign_in,
    stairwells_of,
    wait_pending,
    wait_ready,
)
from tests.field.test_issues import sideways_photo

SURVEYS = "SELECT stairwell_id, households, notes FROM survey WHERE stairwell_id = ANY(:ids)"


def survey(page: Any, sid: int, households: int, note: str) -> None:
    """Open a stairwell from the list, answer every question, save (the outbox keeps it)."""
    open_stairwell(page, sid)
    fill_survey(page, {"survey_status": "visited", "households": households,
                       "elderly_households": 2, "consent_agree": households - 3,
                       "consent_object": 1, "notes": note})
    page.tap("#survey-save")
    page.wait_for_selector("#sheet", state="hidden")


def test_a_whole_offline_day(field_server: FieldServer, contexts: Any, tmp_path: Path) -> None:
    engine = field_server.engine
    grid = stairwells_of(engine, 2)
    a, b, c = grid[10], grid[11], grid[12]
    ids = [a["id"], b["id"], c["id"]]
    surveys_before = rows(engine, SURVEYS, ids=ids)
    issues_before = rows(engine, "SELECT max(id) AS id FROM issue")[0]["id"] or 0
    context = phone(contexts, a["lon"], a["lat"], SMALL_PHONE, "zh-CN")
    context.set_geolocation({"longitude": a["lon"], "latitude": a["lat"], "accuracy": 6})
    page = context.new_page()
    failed: list[str] = []
    page.on("requestfailed",
            lambda r: failed.append(r.url) if r.url.startswith(field_server.url) else None)

    # morning, on the network: sign in and download the grid
    sign_in(page, field_server, "grid02")
    page.wait_for_selector("html[data-field-offline-ready]", state="attached", timeout=20_000)
    page.tap("#net")
    page.tap("#dl-start")
    page.wait_for_selector("html[data-field-download=done]", state="attached", timeout=60_000)
    page.screenshot(path=str(tmp_path / "day-1-downloaded.png"))
    page.tap(".sheet-close")

    # in the stairwells: no network
    context.set_offline(True)
    survey(page, a["id"], 12, "3楼 老人多")
    survey(page, b["id"], 14, "门禁坏")
    survey(page, c["id"], 9, "顶楼反对")
    wait_pending(page, 3)
    page.tap("#report-btn")
    page.select_option("#issue-form [name=category]", "water_pipes")
    page.fill("#issue-form [name=note]", "立管漏水")
    page.set_input_files("#issue-form [name=photo]", files=[
        {"name": "riser.jpg", "mimeType": "image/jpeg", "buffer": sideways_photo()}])
    page.tap("#issue-here")
    page.wait_for_selector("#issue-form[data-location]", state="attached")
    page.tap("#issue-save")
    page.wait_for_selector("#sheet", state="hidden")
    wait_pending(page, 4)

    # a's households were miscounted: correct the queued edit; b was the wrong door: cancel it
    page.tap("#pending")
    page.tap(f".outbox-item[data-id='{a['id']}'] button.correct")
    page.wait_for_selector(f"#survey-form[data-id='{a['id']}']")
    fill_survey(page, {"households": 16, "consent_agree": 13, "notes": "3楼 老人多(已核对)"})
    page.tap("#survey-save")
    page.wait_for_selector("#sheet", state="hidden")
    page.tap("#pending")
    page.tap(f".outbox-item[data-id='{b['id']}'] button.cancel-edit")
    wait_pending(page, 3)
    page.screenshot(path=str(tmp_path / "day-2-outbox.png"))
    page.tap(".sheet-close")

    # deeper into the compound at a zoom never seen online, then the page is reloaded offline
    page.evaluate(f"FieldMap.map.setView([{c['lat']}, {c['lon']}], 19, {{animate: false}})")
    page.wait_for_function("""() => Object.values(FieldMap.layers.context._tiles)
        .filter(t => t.coords.z === 19).every(t => t.loaded)""")
    response = page.reload()
    assert response is not None and response.from_service_worker
    wait_ready(page)
    wait_pending(page, 3)
    assert page.evaluate("FieldMap.map.getZoom()") == 19  # the view is kept
    assert page.inner_text("#net") == "离线"
    page.screenshot(path=str(tmp_path / "day-3-offline-reload.png"))
    assert not failed, failed[:5]  # everything came from the downloaded cache

    # evening: back online, the outbox empties
    context.set_offline(False)
    page.evaluate("FieldOutbox.flush()")
    wait_pending(page, 0, timeout=60_000)
    page.screenshot(path=str(tmp_path / "day-4-sent.png"))

    sent = [r for r in rows(engine, SURVEYS, ids=ids) if r not in surveys_before]
    assert sorted((r["stairwell_id"], r["households"], r["notes"]) for r in sent) == sorted([
        (a["id"], 16, "3楼 老人多(已核对)"), (c["id"], 9, "顶楼反对")])
    logged = rows(engine, "SELECT feature_id, count(*) AS n FROM edit_log WHERE table_name = "
                  "'stairwell' AND username = 'grid02' GROUP BY feature_id")
    assert {int(r["feature_id"]): r["n"] for r in logged} == {a["id"]: 1, c["id"]: 1}
    after = {s["id"]: s for s in stairwells_of(engine, 2)}
    assert (after[a["id"]]["households"], after[a["id"]]["version"]) == (16, a["version"] + 1)
    assert after[b["id"]]["version"] == b["version"]  # cancelled: never sent
    assert (after[c["id"]]["households"], after[c["id"]]["version"]) == (9, c["version"] + 1)
    issues = rows(engine, "SELECT i.id, i.category, i.note, i.photo_path, i.grid_id FROM issue i "
                  "WHERE i.id > :before", before=issues_before)
    assert [(i["category"], i["note"], i["grid_id"]) for i in issues] == [
        ("water_pipes", "立管漏水", 2)]
    with field_server.client("grid02") as api:
        photo = api.get(f"/issues/{issues[0]['id']}/photo")
    assert photo.status_code == 200
    upright = Image.open(io.BytesIO(photo.content)).convert("RGB")
    width, height = upright.size
    assert height > width  # taken upright, stored upright
    top = upright.crop((width // 4, 0, 3 * width // 4, height // 4)).resize((1, 1))
    red, _, blue = top.tobytes()
    assert red > 200 and blue < 60  # red on top, as the phone was held
