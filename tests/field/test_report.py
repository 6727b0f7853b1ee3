"""Reporting an issue on the phone: tap its place on the map, take a photo (shrunk in the
browser before upload), while offline; it is sent once, with its photo, when back online."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.field.conftest import FieldServer
from tests.field.pages import pending, phone, rows, sign_in, stairwells_of, wait_pending, wait_ready


def test_issue_with_photo_reported_offline(field_server: FieldServer, contexts: Any) -> None:
    engine = field_server.engine
    spot = stairwells_of(engine, 2)[10]
    context = phone(contexts, spot["lon"], spot["lat"])
    page = context.new_page()
    sign_in(page, field_server, "grid02")
    page.wait_for_selector("html[data-field-offline-ready]", state="attached", timeout=20_000)
    before = rows(engine, "SELECT count(*) AS n FROM issue")[0]["n"]

    context.set_offline(True)
    page.click("#report-btn")
    page.select_option("#issue-form [name=category]", "water_pipes")
    page.fill("#issue-form [name=note]", "leaking riser, unit 2")
    photo = io.BytesIO()
    Image.new("RGB", (4000, 3000), (120, 90, 60)).save(photo, "JPEG", quality=95)
    page.set_input_files("#issue-form [name=photo]", files=[
        {"name": "pipe.jpg", "mimeType": "image/jpeg", "buffer": photo.getvalue()}])
    page.click("#issue-save")
    assert page.inner_text("#issue-form .field-error") != ""  # no place chosen yet
    page.click("#issue-tap")
    page.evaluate(f"FieldMap.map.setView([{spot['lat']}, {spot['lon']}], 19, {{animate: false}})")
    box = page.locator(".folium-map").bounding_box()
    page.locator(".folium-map").click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    page.wait_for_selector("#issue-form[data-location]", state="attached")
    page.click("#issue-save")
    wait_pending(page, 1)

    page.reload()
    wait_ready(page)
    assert pending(page) == 1  # the photo waits in IndexedDB with the issue
    context.set_offline(False)
    wait_pending(page, 0, timeout=60_000)

    made = rows(engine, "SELECT id, grid_id, category, note, photo_path, ST_X(geom) AS lon, "
                "ST_Y(geom) AS lat FROM issue ORDER BY id DESC LIMIT 1")[0]
    assert rows(engine, "SELECT count(*) AS n FROM issue")[0]["n"] == before + 1
    assert (made["grid_id"], made["category"], made["note"]) == (2, "water_pipes",
                                                                 "leaking riser, unit 2")
    assert abs(made["lon"] - spot["lon"]) < 1e-4 and abs(made["lat"] - spot["lat"]) < 1e-4
    stored = field_server.data_dir / made["photo_path"]
    with Image.open(stored) as picture:
        assert picture.format == "JPEG" and max(picture.size) == 1600  # resized on the phone
