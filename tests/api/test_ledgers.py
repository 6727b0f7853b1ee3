"""Ledgers (台账): XLSX and CSV exports with labelled headers and values, read back by openpyxl
and csv; codes on request (labels=false); formulas stay text; roles; the row bound."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import FastAPI
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.catalog import default_catalog
from gis_service.settings import get_settings
from tests.conftest import DemoTemplate, LiveServer, scalar
from tests.features.live import Clients
from tests.ingest.test_cli_transfer import run
from tests.security.test_exports_formulas import renamed_gardens

Serve = Callable[[FastAPI], LiveServer]
HOSTILE = ["=1+1", "<script>alert(1)</script>", "@SUM(A1:A2)", "-2+3"]


def sheet(answer: httpx.Response) -> Worksheet:
    """The first sheet of an XLSX answer."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(answer.content))
    return book.worksheets[0]


def columns(ws: Worksheet) -> dict[str, list[object]]:
    """The sheet's columns by header."""
    rows = list(ws.iter_rows(values_only=True))
    return {str(h): [r[i] for r in rows[1:]] for i, h in enumerate(rows[0])}


def table(answer: httpx.Response) -> list[dict[str, str]]:
    """The rows of a CSV answer."""
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


def test_stairwell_ledger_has_chinese_headers_and_labels(api: Clients, demo_db: Engine) -> None:
    ws = sheet(api.get("planner", "/collections/stairwells/export", params={"f": "xlsx"}))
    layer = default_catalog().layer("stairwells")
    assert ws.title == "梯口(单元)"
    found = columns(ws)
    expected = ["编号", *(f.label.zh for f in layer.fields), "经度", "纬度"]
    assert list(found) == expected
    assert len(found["编号"]) == scalar(demo_db, "SELECT count(*) FROM stairwell")
    statuses = set(found["加装电梯进度"])
    assert {"已投入使用", "已申请", "未启动"} <= statuses
    with demo_db.connect() as conn:
        codes = {r[0] for r in conn.exec_driver_sql("SELECT code FROM elevator_status")}
    assert not statuses & codes  # labels, never codes
    assert set(found["走访状态"]) <= {"未走访", "已走访", "需回访"}
    assert not set(found["维保模式"]) & {"property_contractor", "elevator_company",
                                        "custody_butler"}  # fmt: skip
    assert all(isinstance(v, float) and 113 < v < 114 for v in found["经度"])
    assert ws.freeze_panes == "A2"


def test_csv_is_labelled_by_default_codes_on_request(api: Clients) -> None:
    labelled = table(api.get("analyst", "/collections/gardens/export", params={"f": "csv"}))
    assert list(labelled[0]) == ["编号", "小区", "名称", "类型", "面积(平方米)", "来源编号", "版本"]
    assert {r["类型"] for r in labelled} <= {"邻里花园", "口袋公园", "街边小游园"}
    english = table(api.get("analyst", "/collections/gardens/export", params={"f": "csv"},
                            headers={"Accept-Language": "en"}))  # fmt: skip
    assert "Kind" in english[0] and "Pocket park" in {r["Kind"] for r in english}
    codes = table(api.get("analyst", "/collections/gardens/export",
                          params={"f": "csv", "labels": "false"}))  # fmt: skip
    assert list(codes[0])[:4] == ["id", "compound_id", "name", "kind"] and "wkt" in codes[0]
    assert {r["kind"] for r in codes} <= {"neighbourhood_garden", "pocket_park", "street_garden"}
    plain = sheet(api.get("analyst", "/collections/gardens/export",
                          params={"f": "xlsx", "labels": "false", "kind": "pocket_park"}))
    assert set(columns(plain)["kind"]) == {"pocket_park"}


def test_hostile_names_stay_text(api: Clients, demo_db: Engine) -> None:
    ids = renamed_gardens(api, demo_db, HOSTILE)
    with api("planner") as client:
        ws = sheet(client.get("/collections/gardens/export", params={"f": "xlsx"}))
        rows = table(client.get("/collections/gardens/export", params={"f": "csv"}))
    names = {row[0].value: row[2] for row in ws.iter_rows(min_row=2)}
    for fid, name in zip(ids, HOSTILE, strict=True):
        assert names[fid].value == name and names[fid].data_type == "s"  # text, not a formula
    by_id = {int(r["编号"]): r["名称"] for r in rows}
    assert [by_id[i] for i in ids] == ["'=1+1", "<script>alert(1)</script>", "'@SUM(A1:A2)",
                                       "'-2+3"]  # fmt: skip


def test_grid_workers_ledger_and_the_row_bound(
    api: Clients, demo_db: Engine, demo_template: DemoTemplate, serve: Serve
) -> None:
    own = scalar(demo_db, "SELECT count(*) FROM stairwell WHERE grid_id = 2")
    ws = sheet(api.get("grid02", "/collections/stairwells/export", params={"f": "xlsx"}))
    assert len(columns(ws)["编号"]) == own and set(columns(ws)["网格"]) == {2}
    settings = get_settings().model_copy(update={"max_ledger_rows": 20})
    live = serve(create_app(demo_db, settings=settings))
    with live.client(demo_template.tokens["planner"]) as client:
        big = client.get("/collections/stairwells/export", params={"f": "xlsx"})
        small = client.get("/collections/stairwells/export", params={
            "f": "xlsx", "compound_id": 5, "elevator_status": "in_service"})
    assert big.status_code == 400 and "at most 20" in big.json()["detail"]
    assert small.status_code == 200 and small.headers["x-feature-count"] == "15"


def test_cli_exports_a_labelled_xlsx(demo_db: Engine, tmp_path: Path) -> None:
    out = tmp_path / "gardens.xlsx"
    done = run(demo_db, tmp_path, "export", "gardens", "-o", str(out), "--labels")
    assert done.returncode == 0, done.stderr
    ws = load_workbook(out).worksheets[0]
    assert [c.value for c in ws[1]][:4] == ["编号", "小区", "名称", "类型"]
    assert ws.cell(row=2, column=4).value in {"邻里花园", "口袋公园", "街边小游园"}
