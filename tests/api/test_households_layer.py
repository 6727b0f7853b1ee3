"""The households layer through the catalog: a CSV ledger import, items by role, an export."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import DemoTemplate
from tests.features.live import clients, running

LEDGER = """lon,lat,stairwell_id,floor,door,area_m2,owner_group,elderly,vote,voted_on
{lon},{lat},{sid},1,101,88.5,,2,object,2025-03-02
{lon},{lat},{sid},1,102,61.2,,0,abstain,2025-03-02
{lon},{lat},{sid},2,201,61.2,王家,1,agree,2025-03-03
{lon},{lat},{sid},2,202,61.2,王家,0,agree,2025-03-03
{lon},{lat},{sid},3,301,61.2,,0,not_voted,
"""


def test_a_csv_ledger_imports_and_exports(demo_db: Engine, demo_template: DemoTemplate) -> None:
    with demo_db.connect() as conn:
        sw = conn.execute(sa.text(
            "SELECT id, grid_id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM stairwell "
            "WHERE grid_id = 1 ORDER BY id LIMIT 1")).one()  # fmt: skip
    ledger = LEDGER.format(lon=sw.lon, lat=sw.lat, sid=sw.id).encode()
    with running(demo_db) as live:
        api = clients(live, demo_template)
        with api("planner") as planner:
            done = planner.post("/collections/households/import",
                                files={"file": ("ledger.csv", ledger)})  # fmt: skip
            assert done.status_code == 201, done.text
            bad = ledger.replace(b"not_voted", b"maybe")
            refused = planner.post("/collections/households/import",
                                   files={"file": ("ledger.csv", bad)})  # fmt: skip
            assert refused.status_code == 422 and "vote" in refused.text
        with demo_db.connect() as conn:
            figures = conn.execute(sa.text(
                "SELECT households, elderly_households, consent_agree, consent_object "
                "FROM stairwell WHERE id = :id"), {"id": sw.id}).one()  # fmt: skip
        assert tuple(figures) == (5, 2, 2, 1)  # derived from the imported register
        with api("planner") as planner:
            url = f"/collections/stairwells/items/{sw.id}"
            etag = planner.get(url).headers["etag"]
            patch = {"If-Match": etag, "Content-Type": "application/merge-patch+json"}
            refused = planner.patch(url, json={"properties": {"households": 9}}, headers=patch)
            assert refused.status_code == 422, refused.text  # not 200 with the edit undone
            assert refused.json()["errors"][0]["field"] == "households"
            assert "5 registered households" in refused.json()["errors"][0]["message"]
            # the rule is named, so a page says it in its language (the field outbox does)
            assert refused.json()["errors"][0]["constraint"] == "stairwell_counts_follow_register"
            assert planner.get(url).headers["etag"] == etag  # nothing was written
            same = planner.patch(url, json={"properties": {"households": 5, "notes": "楼道"}},
                                 headers=patch)  # fmt: skip
            assert same.status_code == 200, same.text
            assert same.json()["properties"]["households"] == 5
        mine = api.get("grid01", "/collections/households/items", params={"limit": 50}).json()
        assert {f["properties"]["stairwell_id"] for f in mine["features"]} == {sw.id}
        read = api.get("analyst", "/collections/households/items",
                       params={"stairwell_id": sw.id})  # fmt: skip
        assert read.status_code == 200 and read.json()["numberMatched"] == 5
        assert "owner_names" not in read.json()["features"][0]["properties"]
        assert api.get("anonymous", "/collections/households/items").status_code == 401
        other = api.get("grid02", "/collections/households/items").json()
        assert other["numberMatched"] == 0  # another grid's worker sees none of them
        export = api.get("planner", "/collections/households/export",
                         params={"f": "csv", "stairwell_id": sw.id, "labels": "false"})  # fmt: skip
        assert export.status_code == 200, export.text
        rows = list(csv.DictReader(io.StringIO(export.text)))
        assert sorted(r["door"] for r in rows) == ["101", "102", "201", "202", "301"]
        assert {r["vote"] for r in rows} == {"agree", "object", "abstain", "not_voted"}


def test_households_stand_at_their_stairwell_as_it_moves(
    register_db: Engine, register_template: DemoTemplate
) -> None:
    """A stairwell moved through the API takes its households and its proposal along; a
    household moved alone is refused, naming the rule (not answered 200 with its point put
    back); its point as read (coordinates rounded) is still taken as the stairwell's."""
    with register_db.connect() as conn:
        sid, hid = conn.execute(sa.text(
            "SELECT h.stairwell_id, h.id FROM household h JOIN retrofit_proposal p "
            "ON p.stairwell_id = h.stairwell_id ORDER BY h.id LIMIT 1")).one()  # fmt: skip
    with running(register_db) as live, clients(live, register_template)("planner") as planner:
        stairwell = planner.get(f"/collections/stairwells/items/{sid}")
        lon, lat = stairwell.json()["geometry"]["coordinates"]
        moved = {"type": "Point", "coordinates": [lon + 0.00005, lat]}  # about 5 m east
        answer = planner.patch(f"/collections/stairwells/items/{sid}", json={"geometry": moved},
                               headers={"If-Match": stairwell.headers["etag"]})  # fmt: skip
        assert answer.status_code == 200, answer.text
        household = planner.get(f"/collections/households/items/{hid}")
        proposal = planner.get("/collections/proposals/items", params={"stairwell_id": sid})
        votes = planner.get("/collections/household_votes/items", params={"household_id": hid})
        assert household.json()["geometry"] == answer.json()["geometry"]
        assert votes.json()["numberMatched"] >= 1
        assert {tuple(f["geometry"]["coordinates"]) for f in votes.json()["features"]} == {
            tuple(answer.json()["geometry"]["coordinates"])}
        assert {tuple(f["geometry"]["coordinates"]) for f in proposal.json()["features"]} == {
            tuple(answer.json()["geometry"]["coordinates"])}
        away = {"type": "Point", "coordinates": [lon + 0.0005, lat]}  # 50 m from its entrance
        refused = planner.patch(f"/collections/households/items/{hid}", json={"geometry": away},
                                headers={"If-Match": household.headers["etag"]})  # fmt: skip
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert (error["field"], error["constraint"]) == ("geometry", "household_at_its_stairwell")
        assert planner.get(f"/collections/households/items/{hid}").headers["etag"] == (
            household.headers["etag"])  # nothing written
        as_read = planner.put(f"/collections/households/items/{hid}", json=household.json(),
                              headers={"If-Match": household.headers["etag"]})  # fmt: skip
        assert as_read.status_code == 200, as_read.text
        assert as_read.json()["geometry"] == answer.json()["geometry"]
