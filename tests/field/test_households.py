"""Households in the field view: a small phone records three votes offline, reloads, comes back
online; each vote reaches the server once and the consent verdict moves; other grids refused."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from gis_service.rows.messages import MESSAGES
from tests.field.conftest import FieldServer
from tests.field.pages import (
    SMALL_PHONE,
    lose_first_answer,
    office_edit,
    open_stairwell,
    phone,
    rows,
    sign_in,
    wait_pending,
)

VERDICT = "/analysis/consent"


def short_stairwell(server: FieldServer) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A grid-2 stairwell whose vote three more agreeing flats carry past the quorum: every
    flat agrees but its three largest and its smallest, which have not voted (one owner each)."""
    sid = rows(server.engine, "SELECT s.id FROM stairwell s JOIN household h "
               "ON h.stairwell_id = s.id WHERE s.grid_id = 2 GROUP BY s.id "
               "HAVING count(*) BETWEEN 6 AND 11 ORDER BY s.id LIMIT 1")[0]["id"]  # fmt: skip
    flats = rows(server.engine, "SELECT id, floor, door, area_m2, version FROM household "
                 "WHERE stairwell_id = :s ORDER BY area_m2 DESC, id", s=sid)  # fmt: skip
    with server.engine.begin() as conn:
        conn.execute(sa.text("UPDATE household SET owner_group = NULL, vote = 'agree' "
                             "WHERE stairwell_id = :s"), {"s": sid})  # fmt: skip
        conn.execute(sa.text("UPDATE household SET vote = 'not_voted' WHERE id = ANY(:ids)"),
                     {"ids": [f["id"] for f in (*flats[:3], flats[-1])]})  # fmt: skip
    with server.client("planner") as api:
        row = api.get(VERDICT, params={"stairwell_id": sid}).json()["stairwells"][0]
    assert row["verdict"] == "quorum_not_met", row
    fresh = rows(server.engine, "SELECT id, version FROM household WHERE id = ANY(:ids)",
                 ids=[f["id"] for f in flats[:3]])  # fmt: skip
    versions = {f["id"]: f["version"] for f in fresh}
    return row, [{**f, "version": versions[f["id"]]} for f in flats[:3]]


def test_three_votes_offline_reach_the_server_once(
    register_server: FieldServer, phones: Any
) -> None:
    server, engine = register_server, register_server.engine
    before, flats = short_stairwell(server)
    sid = before["id"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE household SET owner_names = '李四' WHERE id = :h"),
                     {"h": flats[0]["id"]})  # fmt: skip
    here = rows(engine, "SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM stairwell "
                "WHERE id = :s", s=sid)[0]  # fmt: skip
    context = phone(phones, here["lon"], here["lat"], SMALL_PHONE)
    page = context.new_page()
    sign_in(page, server, "grid02")
    page.wait_for_selector("html[data-field-offline-ready]", state="attached", timeout=20_000)
    page.wait_for_selector("html[data-field-households-offline=ready]", state="attached")

    open_stairwell(page, sid)
    page.wait_for_selector(f"#households[data-stairwell='{sid}'] .household")
    listed = page.eval_on_selector_all(
        "#households .household", "rs => rs.map(r => [+r.dataset.id, r.dataset.vote])")
    assert len(listed) == before["households"]
    # with a register the stairwell's counts are the database's sums: shown read-only, not asked
    counts = rows(engine, "SELECT households, consent_agree FROM stairwell WHERE id = :s", s=sid)[0]
    assert page.eval_on_selector("#f-consent_agree", "i => [i.readOnly, i.value]") == [
        True, str(counts["consent_agree"])]
    assert page.eval_on_selector("#f-households", "i => i.value") == str(counts["households"])
    assert page.locator("#survey-form .derived-note").count() == 1
    assert page.locator("#survey-form .previous").count() == 0
    assert page.inner_text(f".household[data-id='{flats[0]['id']}'] .owner") == "李四"
    chip = page.inner_text(f".household[data-id='{flats[0]['id']}'] .vote-chip")
    assert chip == "Not voted"  # a label, never the code

    context.set_offline(True)
    for flat in flats:
        item = f".household[data-id='{flat['id']}']"
        page.tap(f"{item} .record-vote")
        page.tap(f"{item} .vote-pick[data-vote=agree]")
        page.tap(f"{item} .save-vote")
        page.wait_for_selector(f"{item}[data-pending=true][data-vote=agree]")
    wait_pending(page, 3)

    response = page.reload()  # offline: the page and the household list come from the cache
    assert response is not None and response.from_service_worker
    page.wait_for_selector("html[data-field-ready]", state="attached", timeout=20_000)
    wait_pending(page, 3)
    open_stairwell(page, sid)
    page.wait_for_selector(f".household[data-id='{flats[2]['id']}'][data-pending=true]")
    assert page.inner_text(f".household[data-id='{flats[2]['id']}'] .vote-chip") == "Agree"

    # back online: the first answer is lost on its way back, so that edit is sent twice
    lost = lose_first_answer(context, "**/collections/households/items/*", "PATCH")
    context.set_offline(False)
    wait_pending(page, 0, timeout=60_000)
    assert lost

    ids = [f["id"] for f in flats]
    logged = rows(engine, "SELECT feature_id, count(*) AS n FROM edit_log WHERE table_name = "
                  "'household' AND username = 'grid02' GROUP BY feature_id")  # fmt: skip
    assert {int(r["feature_id"]): r["n"] for r in logged} == dict.fromkeys(ids, 1)
    votes = rows(engine, "SELECT household_id, vote, recorded_by, proposal_id, voted_on, "
                 "version FROM household_vote WHERE household_id = ANY(:ids)", ids=ids)
    assert {v["household_id"]: (v["vote"], v["recorded_by"]) for v in votes} == dict.fromkeys(
        ids, ("agree", "grid02"))
    assert {v["proposal_id"] for v in votes} == {before["proposal_id"]}  # the current proposal
    with server.client("planner") as api:
        after = api.get(VERDICT, params={"stairwell_id": sid}).json()["stairwells"][0]
    assert after["voted_owners"] == before["voted_owners"] + 3
    assert after["agree_owners"] == before["agree_owners"] + 3
    assert after["verdict"] == "passed" and after["to_vote"]["owners"] == 0


def test_another_grids_worker_is_refused(register_server: FieldServer) -> None:
    flat = rows(register_server.engine, "SELECT h.id, h.version FROM household h JOIN stairwell s "
                "ON s.id = h.stairwell_id WHERE s.grid_id = 2 ORDER BY h.id LIMIT 1")[0]
    with register_server.client("grid03") as other:
        assert other.get("/field/households", params={"grid": 2}).status_code == 403
        mine = other.get("/field/households").json()
        assert {h["id"] for h in mine["households"]}.isdisjoint({flat["id"]})
        patch = other.patch(f"/collections/households/items/{flat['id']}",
                            json={"type": "Feature", "properties": {"vote": "object"}},
                            headers={"If-Match": f'"{flat["version"]}"',
                                     "Content-Type": "application/merge-patch+json"})
        assert patch.status_code == 403
    with register_server.client("planner") as staff:
        listed = staff.get("/field/households", params={"grid": 2, "lang": "en"}).json()
        assert "owner_names" in listed["households"][0]
        assert [v["label"] for v in listed["votes"]] == ["Agree", "Object", "Abstain", "Not voted"]
    with register_server.client("analyst") as analyst:
        assert analyst.get("/field/households", params={"grid": 2}).status_code == 403
    after = rows(register_server.engine, "SELECT version FROM household WHERE id = :h",
                 h=flat["id"])[0]  # fmt: skip
    assert after["version"] == flat["version"]  # nothing written


def vote_offline(server: FieldServer, phones: Any, vote: str, order: str = "ASC",
                 offset: int = 0) -> tuple[Any, Any, Any]:  # fmt: skip
    """A grid worker's phone records a vote for the first (or last: order DESC; offset: that
    many further) flat of grid 2 while offline: its context, the page and the flat as it was."""
    flat = rows(server.engine, "SELECT h.id, h.stairwell_id, h.version, h.area_m2, h.vote, "
                "h.visited_on, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat FROM household h "
                "JOIN stairwell s ON s.id = h.stairwell_id WHERE s.grid_id = 2 "
                f"ORDER BY h.id {order} LIMIT 1 OFFSET :o", o=offset)[0]  # fmt: skip
    context = phone(phones, flat["lon"], flat["lat"], SMALL_PHONE)
    page = context.new_page()
    sign_in(page, server, "grid02")
    open_stairwell(page, flat["stairwell_id"])
    item = f".household[data-id='{flat['id']}']"
    page.wait_for_selector(item)
    context.set_offline(True)
    page.tap(f"{item} .record-vote")
    page.tap(f"{item} .vote-pick[data-vote={vote}]")
    page.tap(f"{item} .save-vote")
    wait_pending(page, 1)
    return context, page, flat


def test_a_vote_changed_meanwhile_waits_for_the_workers_choice(
    register_server: FieldServer, phones: Any
) -> None:
    server, engine = register_server, register_server.engine
    context, page, flat = vote_offline(server, phones, "abstain")
    assert flat["vote"] not in ("abstain", "object")  # both sides change the vote
    office_edit(server, "households", flat["id"], {"vote": "object"})  # meanwhile, at the office
    context.set_offline(False)
    page.evaluate("FieldOutbox.flush()")
    page.wait_for_selector("#sheet[data-view=conflict] .conflict-row", timeout=30_000)
    sides = page.eval_on_selector_all(".conflict-row .vote-chip",
                                      "cs => cs.map(c => c.dataset.vote)")  # fmt: skip
    assert sides == ["abstain", "object"]  # mine, theirs: nothing overwritten silently
    assert rows(engine, "SELECT vote FROM household WHERE id = :h", h=flat["id"])[0]["vote"] == (
        "object")
    page.tap("#vote-keep-mine")
    wait_pending(page, 0, timeout=30_000)
    stored = rows(engine, "SELECT vote, recorded_by FROM household WHERE id = :h", h=flat["id"])[0]
    assert (stored["vote"], stored["recorded_by"]) == ("abstain", "grid02")
    logged = rows(engine, "SELECT username FROM edit_log WHERE table_name = 'household' "
                  "AND feature_id = :h ORDER BY id", h=str(flat["id"]))  # fmt: skip
    assert [r["username"] for r in logged] == ["planner", "grid02"]


def test_taking_the_offices_vote_keeps_the_workers_visit(
    register_server: FieldServer, phones: Any
) -> None:
    """Both sides changed the vote; the worker takes the office's. The vote is the office's, and
    the worker's visit of that door today is still saved (it is a fact of its own)."""
    server, engine = register_server, register_server.engine
    context, page, flat = vote_offline(server, phones, "agree", offset=1)
    visited = page.evaluate("FieldOutbox.all()")[0]["patch"]["visited_on"]
    assert flat["vote"] not in ("agree", "object") and str(flat["visited_on"]) != visited
    office_edit(server, "households", flat["id"], {"vote": "object"})  # meanwhile, at the office
    context.set_offline(False)
    page.evaluate("FieldOutbox.flush()")
    page.wait_for_selector("#sheet[data-view=conflict] .conflict-row", timeout=30_000)
    page.tap("#vote-take-theirs")
    wait_pending(page, 0, timeout=30_000)
    stored = rows(engine, "SELECT vote, visited_on FROM household WHERE id = :h", h=flat["id"])[0]
    assert (stored["vote"], str(stored["visited_on"])) == ("object", visited)
    logged = rows(engine, "SELECT username, after -> 'properties' ->> 'vote' AS vote FROM edit_log "
                  "WHERE table_name = 'household' AND feature_id = :h ORDER BY id",
                  h=str(flat["id"]))  # fmt: skip
    assert [(r["username"], r["vote"]) for r in logged] == [("planner", "object"),
                                                            ("grid02", "object")]  # the visit


def test_taking_the_offices_vote_and_visit_shows_them_and_sends_nothing(
    register_server: FieldServer, phones: Any
) -> None:
    """The office recorded another vote and the same visit day as the worker's: taking theirs
    leaves nothing of the worker's to send, and the list shows the office's vote at once."""
    server, engine = register_server, register_server.engine
    context, page, flat = vote_offline(server, phones, "abstain", offset=2)
    visited = page.evaluate("FieldOutbox.all()")[0]["patch"]["visited_on"]
    assert flat["vote"] not in ("abstain", "object")
    office_edit(server, "households", flat["id"], {"vote": "object", "visited_on": visited})
    before = rows(engine, "SELECT version FROM household WHERE id = :h", h=flat["id"])[0]
    context.set_offline(False)
    page.evaluate("FieldOutbox.flush()")
    page.wait_for_selector("#sheet[data-view=conflict] .conflict-row", timeout=30_000)
    page.tap("#vote-take-theirs")
    wait_pending(page, 0, timeout=30_000)
    open_stairwell(page, flat["stairwell_id"])
    shown = page.wait_for_selector(f".household[data-id='{flat['id']}']")
    assert shown.get_attribute("data-vote") == "object"
    after = rows(engine, "SELECT version, vote FROM household WHERE id = :h", h=flat["id"])[0]
    assert (after["version"], after["vote"]) == (before["version"], "object")  # nothing sent


def test_a_vote_meets_an_office_change_of_another_field_and_is_saved_without_asking(
    register_server: FieldServer, phones: Any
) -> None:
    """A vote recorded offline while the office corrects the flat's area: the two changes
    touch different fields, so both are kept and the worker is asked nothing."""
    server, engine = register_server, register_server.engine
    context, page, flat = vote_offline(server, phones, "agree", order="DESC")
    area = float(flat["area_m2"] or 50) + 1.5
    office_edit(server, "households", flat["id"], {"area_m2": area})  # meanwhile, at the office
    context.set_offline(False)
    page.evaluate("FieldOutbox.flush()")
    wait_pending(page, 0, timeout=30_000)
    assert page.query_selector("#sheet[data-view=conflict]") is None
    stored = rows(engine, "SELECT vote, area_m2, recorded_by FROM household WHERE id = :h",
                  h=flat["id"])[0]  # fmt: skip
    assert (stored["vote"], float(stored["area_m2"]), stored["recorded_by"]) == (
        "agree", area, "grid02")
    logged = rows(engine, "SELECT username FROM edit_log WHERE table_name = 'household' "
                  "AND feature_id = :h ORDER BY id", h=str(flat["id"]))  # fmt: skip
    assert [r["username"] for r in logged] == ["planner", "grid02"]


def test_a_vote_refused_on_its_way_is_said_in_the_workers_language(
    register_server: FieldServer, phones: Any
) -> None:
    """A vote recorded offline reaches a proposal closed meanwhile: the edit waits in the
    outbox, refused, and says why in the worker's language (the API writes English)."""
    server, engine = register_server, register_server.engine
    before, flats = short_stairwell(server)
    sid, flat = before["id"], flats[0]
    here = rows(engine, "SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM stairwell "
                "WHERE id = :s", s=sid)[0]  # fmt: skip
    context = phone(phones, here["lon"], here["lat"], SMALL_PHONE, locale="zh-CN")
    page = context.new_page()
    sign_in(page, server, "grid02")
    page.wait_for_selector("html[data-field-households-offline=ready]", state="attached",
                           timeout=20_000)  # fmt: skip
    open_stairwell(page, sid)
    item = f".household[data-id='{flat['id']}']"
    page.wait_for_selector(item)
    context.set_offline(True)
    page.tap(f"{item} .record-vote")
    page.tap(f"{item} .vote-pick[data-vote=agree]")
    page.tap(f"{item} .save-vote")
    wait_pending(page, 1)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE retrofit_proposal SET status = 'closed' WHERE id = :p"),
                     {"p": before["proposal_id"]})  # fmt: skip
    context.set_offline(False)
    page.evaluate("FieldOutbox.flush()")
    page.wait_for_selector("#pending[data-count='1']", state="attached")
    errors = []
    for _ in range(100):
        errors = page.evaluate("FieldOutbox.all().then(ops => ops.filter(o => o.state === "
                               "'failed').map(o => o.error))")  # fmt: skip
        if errors:
            break
        page.wait_for_timeout(200)
    assert errors == [MESSAGES["zh"]["vote_on_open_proposal"]]
    page.click("#pending")  # the outbox as the worker reads it
    shown = page.inner_text("#outbox")
    assert MESSAGES["zh"]["vote_on_open_proposal"] in shown and "final" not in shown
    vote = rows(engine, "SELECT vote FROM household WHERE id = :h", h=flat["id"])[0]["vote"]
    assert vote == "not_voted"  # nothing was written


def test_a_survey_offline_keeps_the_register_counts_though_the_list_never_loaded(
    register_server: FieldServer, phones: Any
) -> None:
    """The grid's household list never reached the phone: the stairwell itself says it has a
    register, so its counts are shown read-only (the register's) and the survey saved offline
    leaves them out: when the register changed meanwhile, the worker is asked nothing (their
    visit and the register's change touch different fields), and the visit is stored with the
    register's counts as they are now."""
    server, engine = register_server, register_server.engine
    stairwell = rows(engine, "SELECT id, households, consent_agree, ST_X(geom) AS lon, "
                     "ST_Y(geom) AS lat FROM stairwell WHERE grid_id = 2 AND has_register "
                     "ORDER BY id LIMIT 1")[0]  # fmt: skip
    sid = stairwell["id"]
    context = phone(phones, stairwell["lon"], stairwell["lat"], SMALL_PHONE, locale="zh-CN")
    never = re.compile(r"/field/households\?")  # the grid's list, not the script that asks for it
    context.route(never, lambda route: route.abort("internetdisconnected"))
    page = context.new_page()
    sign_in(page, server, "grid02")
    page.wait_for_selector("html[data-field-households=failed]", state="attached")
    context.set_offline(True)
    open_stairwell(page, sid)
    assert page.eval_on_selector("#f-households", "i => [i.readOnly, i.value]") == [
        True, str(stairwell["households"])]
    assert page.eval_on_selector("#f-consent_agree", "i => [i.readOnly, i.value]") == [
        True, str(stairwell["consent_agree"])]
    assert page.inner_text("#survey-form .derived-note") == "由住户台账计算(住户名单尚未下载到本机)"
    looks = "i => getComputedStyle(i).backgroundColor + ' ' + getComputedStyle(i).borderStyle"
    assert page.eval_on_selector("#f-households", looks) != page.eval_on_selector(
        "#f-surveyed_on", looks)  # read-only looks it: not a box to type in
    page.select_option("#survey-form [name=survey_status]", "follow_up")
    page.click("#survey-save")
    wait_pending(page, 1)
    with engine.begin() as conn:  # meanwhile, at the office, a flat joins the register
        conn.execute(sa.text("INSERT INTO household (stairwell_id, floor, door, area_m2, geom) "
                             "VALUES (:s, 1, '109', 60, ST_SetSRID(ST_MakePoint(0, 0), 4326))"),
                     {"s": sid})  # fmt: skip
    context.set_offline(False)
    page.evaluate("FieldOutbox.flush()")  # the stairwell changed meanwhile: merged, not asked
    wait_pending(page, 0)
    assert page.query_selector("form#conflict") is None  # their counts, my visit
    stored = rows(engine, "SELECT survey_status, households, consent_agree FROM stairwell "
                  "WHERE id = :s", s=sid)[0]  # fmt: skip
    assert stored == {"survey_status": "follow_up", "households": stairwell["households"] + 1,
                      "consent_agree": stairwell["consent_agree"]}  # the register's, as it is
    logged = rows(engine, "SELECT username FROM edit_log WHERE table_name = 'stairwell' "
                  "AND feature_id = :s", s=str(sid))  # fmt: skip
    assert [r["username"] for r in logged] == ["grid02"]
