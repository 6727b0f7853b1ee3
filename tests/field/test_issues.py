"""Issue photos (only real images, bounded size, stored with the issue) and the issue ledger."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gis_service.settings import get_settings
from tests.field.conftest import FieldServer
from tests.field.images import image, sideways_photo
from tests.field.pages import rows


def report_issue(field_server: FieldServer) -> tuple[int, dict[str, str]]:
    """grid02 reports an issue at one of their stairwells; its id and a header with the CSRF."""
    web = field_server.signed_in("grid02")
    spot = rows(field_server.engine, "SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                "FROM stairwell WHERE grid_id = 2 ORDER BY id LIMIT 1")[0]
    made = web.post("/collections/issues/items", headers={"X-CSRF-Token": web.cookies["gis_csrf"]},
                    json={"type": "Feature", "properties": {
                        "category": "ground_locks", "status": "open", "stairwell_id": spot["id"],
                        "note": "private ground lock"},
                        "geometry": {"type": "Point", "coordinates": [spot["lon"], spot["lat"]]}})
    assert made.status_code == 201, made.text
    assert made.json()["properties"]["grid_id"] == 2
    web.close()
    return int(made.json()["id"]), {}


def test_photo_upload_is_checked_shrunk_and_stored(field_server: FieldServer) -> None:
    issue, _ = report_issue(field_server)
    with field_server.client("grid02") as api:
        url = f"/issues/{issue}/photo"
        sent = api.put(url, content=image(), headers={"Content-Type": "image/png"})
        assert sent.status_code == 200, sent.text
        stored = field_server.data_dir / "photos" / f"issue-{issue}.jpg"
        with Image.open(stored) as picture:
            assert picture.format == "JPEG" and max(picture.size) == 2048
        path = rows(field_server.engine, "SELECT photo_path, version FROM issue WHERE id = :i",
                    i=issue)[0]
        assert path["photo_path"] == f"photos/issue-{issue}.jpg"
        again = api.put(url, content=image(), headers={"Content-Type": "image/png"})
        assert again.status_code == 200 and again.headers["ETag"] == sent.headers["ETag"]
        got = api.get(url)
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        assert got.content == stored.read_bytes()
        history = api.get(f"/collections/issues/items/{issue}/history").json()["entries"]
        assert [e["action"] for e in history] == ["insert", "update"]  # one photo, one entry
    with field_server.client("planner") as planner:
        assert planner.get(url).status_code == 200


@pytest.mark.parametrize(
    ("body", "media", "status"),
    [
        (b"%PDF-1.4 not a photo", "application/pdf", 415),
        (b"", "text/plain", 415),
        (b"GIF89a but really text", "image/gif", 422),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png", 422),
        (image()[:400], "image/png", 422),
        (image("GIF", (20, 20)), "image/gif", 422),
    ],
)
def test_non_images_are_refused(
    field_server: FieldServer, body: bytes, media: str, status: int
) -> None:
    issue, _ = report_issue(field_server)
    with field_server.client("grid02") as api:
        answer = api.put(f"/issues/{issue}/photo", content=body, headers={"Content-Type": media})
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert not (field_server.data_dir / "photos").exists()


def test_oversize_photos_get_413(
    field_server: FieldServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue, _ = report_issue(field_server)
    monkeypatch.setattr(get_settings(), "max_photo_bytes", 10_000)
    big = image("PNG", (800, 800))
    big = big + b"\x00" * max(0, 10_001 - len(big))
    with field_server.client("grid02") as api:
        answer = api.put(f"/issues/{issue}/photo", content=big,
                         headers={"Content-Type": "image/png"})
        assert answer.status_code == 413

        def chunks():  # no Content-Length: counted while streaming
            yield big[:6000]
            yield big[6000:]

        streamed = api.put(f"/issues/{issue}/photo", content=chunks(),
                           headers={"Content-Type": "image/png"})
        assert streamed.status_code == 413


def test_ledger_counts_and_resolution_rate(field_server: FieldServer) -> None:
    engine = field_server.engine
    expected = {r["grid_id"]: r for r in rows(engine, """
        SELECT grid_id, count(*) FILTER (WHERE status = 'open') AS open,
               count(*) FILTER (WHERE status = 'resolved') AS resolved, count(*) AS total
        FROM issue GROUP BY grid_id""")}
    with field_server.client("planner") as planner:
        ledger = planner.get("/issues/ledger").json()
        by_grid = {g["grid_id"]: g for g in ledger["grids"]}
        assert len(by_grid) == 12
        for grid, row in by_grid.items():
            want = expected.get(grid)
            assert row["open"] == (want["open"] if want else 0)
            assert row["resolved"] == (want["resolved"] if want else 0)
            assert row["total"] == (want["total"] if want else 0)
        assert ledger["total"]["total"] == sum(r["total"] for r in expected.values())
        # a planner resolves one of grid 2's open issues: the rate moves accordingly
        before = by_grid[2]
        issue = planner.get("/collections/issues/items?grid_id=2&status=open").json()["features"][0]
        done = planner.patch(f"/collections/issues/items/{issue['id']}", headers={
            "If-Match": f'"{issue["properties"]["version"]}"'}, json={
            "type": "Feature", "properties": {"status": "resolved",
                                              "resolved_at": "2026-11-20T10:00:00+08:00"}})
        assert done.status_code == 200, done.text
        after = {g["grid_id"]: g for g in planner.get("/issues/ledger").json()["grids"]}[2]
        assert (after["open"], after["resolved"]) == (before["open"] - 1, before["resolved"] + 1)
        assert after["resolution_rate"] == round(after["resolved"] / after["total"], 4)
    with field_server.client("grid02") as worker:
        assert [g["grid_id"] for g in worker.get("/issues/ledger").json()["grids"]] == [2]


def test_photo_is_stored_the_way_up_it_was_taken(field_server: FieldServer) -> None:
    issue, _ = report_issue(field_server)
    with field_server.client("grid02") as api:
        sent = api.put(f"/issues/{issue}/photo", content=sideways_photo(),
                       headers={"Content-Type": "image/jpeg"})
        assert sent.status_code == 200, sent.text
        got = api.get(f"/issues/{issue}/photo")
    with Image.open(io.BytesIO(got.content)) as stored:
        assert stored.size == (200, 600)  # portrait, as the worker saw it
        assert stored.getexif().get(0x0112) is None  # nothing left to turn it again
        rgb = stored.convert("RGB")
        top, bottom = rgb.getpixel((100, 100)), rgb.getpixel((100, 500))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60  # red side up
    assert bottom[2] > 200 and bottom[0] < 60
