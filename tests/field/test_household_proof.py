"""A vote's proof (a photo of the signed form): taken on a small phone offline with the vote, sent
once when back online before the vote that names it, shown to staff and the grid's worker only."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from gis_service.settings import get_settings
from tests.field.conftest import FieldServer
from tests.field.images import image, sideways_photo
from tests.field.pages import (
    SMALL_PHONE,
    lose_first_answer,
    open_stairwell,
    phone,
    rows,
    sign_in,
    wait_pending,
)

GRID2_FLAT = ("SELECT h.id, h.stairwell_id, h.version, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat "
              "FROM household h JOIN stairwell s ON s.id = h.stairwell_id "
              "WHERE s.grid_id = 2 AND h.vote = 'not_voted' ORDER BY h.id LIMIT 1")  # fmt: skip


def proof_files(server: FieldServer, household_id: int) -> list[Any]:
    """The proof photos stored for a household."""
    return sorted((server.data_dir / "photos").glob(f"household-{household_id}-*.jpg"))


def test_a_vote_with_its_proof_photo_recorded_offline_arrives_whole_and_once(
    register_server: FieldServer, phones: Any
) -> None:
    server, engine = register_server, register_server.engine
    flat = rows(engine, GRID2_FLAT)[0]
    item = f".household[data-id='{flat['id']}']"
    context = phone(phones, flat["lon"], flat["lat"], SMALL_PHONE)
    page = context.new_page()
    sign_in(page, server, "grid02")
    page.wait_for_selector("html[data-field-offline-ready]", state="attached", timeout=20_000)
    page.wait_for_selector("html[data-field-households-offline=ready]", state="attached")
    open_stairwell(page, flat["stairwell_id"])
    page.wait_for_selector(item)

    context.set_offline(True)
    page.tap(f"{item} .record-vote")
    page.tap(f"{item} .vote-pick[data-vote=agree]")
    assert page.inner_text(f"{item} .vote-panel").count("Photo of the signed form") == 1
    page.set_input_files(f"{item} .proof-photo", files=[{
        "name": "signed-form.png", "mimeType": "image/png", "buffer": image("PNG", (3000, 1500))}])
    page.tap(f"{item} .save-vote")
    page.wait_for_selector(f"{item}[data-pending=true] .proof[data-proof=waiting]")
    wait_pending(page, 1)

    response = page.reload()  # offline: the vote and its photo wait in IndexedDB
    assert response is not None and response.from_service_worker
    page.wait_for_selector("html[data-field-ready]", state="attached", timeout=20_000)
    wait_pending(page, 1)
    open_stairwell(page, flat["stairwell_id"])
    page.wait_for_selector(f"{item}[data-pending=true] .proof[data-proof=waiting]")
    assert not (server.data_dir / "photos").exists()  # nothing left the phone

    # back online: the answer to the photo is lost on its way back, so the photo goes twice
    lost = lose_first_answer(context, "**/households/*/proof", "PUT")
    context.set_offline(False)
    wait_pending(page, 0, timeout=60_000)
    assert lost == [f"{server.url}/households/{flat['id']}/proof"]

    stored = proof_files(server, flat["id"])
    assert len(stored) == 1  # the same photo twice is one file
    relative = f"photos/{stored[0].name}"
    with Image.open(stored[0]) as photo:
        assert (photo.format, photo.size) == ("JPEG", (1600, 800))  # resized on the phone
    votes = rows(engine, "SELECT vote, recorded_by, proof_photo_path FROM household_vote "
                 "WHERE household_id = :h", h=flat["id"])  # fmt: skip
    assert [tuple(v.values()) for v in votes] == [("agree", "grid02", relative)]
    logged = rows(engine, "SELECT username FROM edit_log WHERE table_name = 'household' "
                  "AND feature_id = :h", h=str(flat["id"]))  # fmt: skip
    assert [r["username"] for r in logged] == ["grid02"]  # one edit: the vote with its proof

    link = page.wait_for_selector(f"{item}[data-pending=false] a.proof[data-proof=stored]")
    assert link is not None
    fetched = "h => fetch(h).then(r => r.status + ' ' + r.headers.get('content-type'))"
    status = page.evaluate(fetched, link.get_attribute("href"))
    assert status == "200 image/jpeg"  # the worker sees it from the list

    url = f"/households/{flat['id']}/proof"
    for user in ("planner", "grid02"):
        with server.client(user) as api:
            got = api.get(url)
            assert (got.status_code, got.content) == (200, stored[0].read_bytes()), user
    for user, refused in (("grid03", 403), ("analyst", 403), (None, 401)):
        with server.client(user) as api:
            assert api.get(url).status_code == refused, user
    with server.client("planner") as planner:  # the feature page links the photo
        html = planner.get(f"/collections/households/items/{flat['id']}?f=html",
                           headers={"Accept-Language": "en"}).text  # fmt: skip
    assert f'<a href="{server.url}{url}">Proof (photo of the signed form)</a>' in html
    with server.client("analyst") as analyst:  # reads the register, is never shown the proof
        page_html = analyst.get(f"/collections/households/items/{flat['id']}?f=html")
    assert page_html.status_code == 200 and url not in page_html.text


def test_proof_uploads_are_bounded_scoped_and_upright(
    register_server: FieldServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, engine = register_server, register_server.engine
    flat = rows(engine, GRID2_FLAT)[0]
    url = f"/households/{flat['id']}/proof"
    jpeg = {"Content-Type": "image/jpeg"}
    for user, refused in (("grid03", 403), ("analyst", 403), (None, 401)):
        with server.client(user) as api:
            assert api.put(url, content=sideways_photo(), headers=jpeg).status_code == refused
    with server.client("grid02") as api:
        assert api.put(url, content=b"%PDF-1.4", headers=jpeg).status_code == 422
        limit = get_settings().max_photo_bytes
        monkeypatch.setattr(get_settings(), "max_photo_bytes", 10_000)
        big = image("PNG", (800, 800))
        big += b"\x00" * max(0, 10_001 - len(big))
        oversized = api.put(url, content=big, headers={"Content-Type": "image/png"})
        assert oversized.status_code == 413
        assert oversized.headers["content-type"] == "application/problem+json"
        assert not (server.data_dir / "photos").exists()  # nothing written
        monkeypatch.setattr(get_settings(), "max_photo_bytes", limit)

        sent = api.put(url, content=sideways_photo(), headers=jpeg)
        again = api.put(url, content=sideways_photo(), headers=jpeg)
        assert sent.status_code == again.status_code == 200, sent.text
        assert sent.json() == again.json()
        assert len(proof_files(server, flat["id"])) == 1
        with Image.open(proof_files(server, flat["id"])[0]) as stored:
            assert stored.size == (200, 600)  # upright, as the form was photographed
            assert stored.getexif().get(0x0112) is None
        assert api.get(url).status_code == 404  # stored, but no vote names it yet
    after = rows(engine, "SELECT version, proof_photo_path FROM household WHERE id = :h",
                 h=flat["id"])[0]  # fmt: skip
    assert (after["version"], after["proof_photo_path"]) == (flat["version"], None)

    with server.client("planner") as planner:  # a path naming any other file is never served
        named = planner.patch(f"/collections/households/items/{flat['id']}",
                              json={"type": "Feature",
                                    "properties": {"proof_photo_path": "photos/issue-1.jpg"}},
                              headers={"If-Match": f'"{flat["version"]}"',
                                       "Content-Type": "application/merge-patch+json"})
        assert named.status_code == 200, named.text
        (server.data_dir / "photos" / "issue-1.jpg").write_bytes(image("JPEG", (10, 10)))
        assert planner.get(url).status_code == 404


def test_proofs_nothing_names_are_swept_once_old(register_server: FieldServer) -> None:
    """`gis-service photos sweep`: of five proofs uploaded for a flat, the one its vote names
    now, the one an earlier edit named (the edit log keeps it), one an edit of the vote itself
    named (logged as household_vote) and one uploaded today stay; the old one nothing names
    goes (listed first by --dry-run, which removes nothing)."""
    server, engine = register_server, register_server.engine
    flat = rows(engine, GRID2_FLAT)[0]
    url, version = f"/households/{flat['id']}/proof", flat["version"]
    with server.client("grid02") as api:
        paths = [api.put(url, content=image("JPEG", (20 + n, 20)),
                         headers={"Content-Type": "image/jpeg"}).json()["proof_photo_path"]
                 for n in range(5)]  # fmt: skip
    with server.client("planner") as planner:
        for path in paths[:2]:  # the first proof replaced by the second: named in the log only
            proof = {"type": "Feature", "properties": {"proof_photo_path": path}}
            named = planner.patch(f"/collections/households/items/{flat['id']}", json=proof,
                                  headers={"If-Match": f'"{version}"',
                                           "Content-Type": "application/merge-patch+json"})
            assert named.status_code == 200, named.text
            version = int(named.headers["etag"].strip('"'))
    with engine.begin() as conn:  # as an edit of the vote through its own layer logs it
        conn.execute(sa.text("INSERT INTO edit_log (username, table_name, feature_id, action, "
                             "before) VALUES ('planner', 'household_vote', '1', 'update', "
                             "jsonb_build_object('properties', jsonb_build_object("
                             "'proof_photo_path', CAST(:p AS text))))"), {"p": paths[4]})
    files = [server.data_dir / path for path in paths]
    month_ago = time.time() - 40 * 86400
    for old in files[:3] + files[4:]:
        os.utime(old, (month_ago, month_ago))
    env = {**os.environ, "GIS_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "GIS_DATA_DIR": str(server.data_dir)}  # fmt: skip

    def sweep(*args: str) -> str:
        done = subprocess.run([sys.executable, "-c", "from gis_service.cli import main; main()",
                               "photos", "sweep", *args], capture_output=True, text=True,
                              env=env, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = sweep("--dry-run").splitlines()
    assert listed[0] == str(files[2].resolve())
    assert listed[1].startswith("would remove 1 proof photos") and listed[1].endswith("kept 4")
    assert all(f.exists() for f in files)
    assert sweep().splitlines()[-1].startswith("removed 1 proof photos")
    assert [f.exists() for f in files] == [True, True, False, True, True]
    with server.client("planner") as planner:
        assert planner.get(url).content == files[1].read_bytes()  # the vote's proof, served
