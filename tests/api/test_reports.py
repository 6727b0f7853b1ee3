"""PDF reports over HTTP and from the CLI: their text (pdftotext), their picture (pdftoppm),
roles, hostile names; the map PNG of `gis-service map export --png`."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy.engine import Engine

from gis_service.reports import render
from tests.features.live import COMPOUND_34, Clients
from tests.ingest.test_cli_transfer import run
from tests.security.test_exports_formulas import rename

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"
COMMUNITY = 1  # 水荫南社区, Huanghuagang subdistrict 1
HOSTILE = "=1+1<script>alert(1)</script>"


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The text of a PDF as poppler's pdftotext reads it."""
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-layout", str(source), "-"], capture_output=True,
                          check=True, timeout=60)  # fmt: skip
    return done.stdout.decode("utf-8")


def first_page(pdf: bytes, tmp_path: Path, name: str) -> Image.Image:
    """The first page rendered by pdftoppm (kept under test-artifacts/reports/ to look at)."""
    source = tmp_path / "page.pdf"
    source.write_bytes(pdf)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(source), str(ARTIFACTS / name)], check=True, timeout=60)  # fmt: skip
    return Image.open(ARTIFACTS / f"{name}.png").convert("RGB")


def colours(image: Image.Image) -> int:
    """How many distinct colours a picture holds (a blank page has one)."""
    return len(image.getcolors(maxcolors=1 << 20) or [])


def pdf_of(answer: httpx.Response) -> bytes:
    """The PDF of a report answer (200, application/pdf)."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content[:5] == b"%PDF-"
    return answer.content


def test_compound_report_states_the_figures_in_chinese(api: Clients, tmp_path: Path) -> None:
    pdf = pdf_of(api.get("planner", f"/reports/compounds/{COMPOUND_34}.pdf"))
    text = pdf_text(pdf, tmp_path)
    assert "水荫路34号大院 · 小区" in text  # the title
    for words in ("图例", "北", "50 m", "加装电梯覆盖", "26.3 %", "梯口总数", "电梯已投用的梯口",
                  "已申请", "已投入使用", "水荫路34号大院连片加装电梯", "15/57 → 57/57",
                  "100.0 %", "缺口", "尚未加装且未列入批次的符合条件梯口:0 个",
                  "完整社区清单", f"生成日期: {dt.date.today().isoformat()}", "数据版本"):
        assert words in text, words
    lines = {" ".join(line.split()) for line in text.splitlines()}
    assert {"已申请 42", "已投入使用 15", "梯口总数 57", "符合加装条件的梯口 57"} <= lines
    assert not {"in_service", "applied", "pocket_park", "surface_lot"} & set(text.split())
    page = first_page(pdf, tmp_path, "compound-34-zh")
    assert page.width > 500 and colours(page) > 50  # map, legend and tables drawn, not blank
    inked = (np.asarray(page).astype(int).sum(axis=2) < 600).mean()  # share of non-white
    assert inked > 0.05


def test_community_and_subdistrict_reports_in_english(api: Clients, tmp_path: Path) -> None:
    community = pdf_text(pdf_of(api.get("analyst", f"/reports/communities/{COMMUNITY}.pdf",
                                        params={"lang": "en"})), tmp_path)  # fmt: skip
    assert "Shuiyinnan Community · Community" in community
    assert "Elevator pipeline (stairwells)" in community and "In service" in community
    assert "Complete-community checklist" in community
    subdistrict = api.get("planner", "/reports/subdistricts/1.pdf",
                          headers={"Accept-Language": "en-GB,en;q=0.9"})  # fmt: skip
    text = pdf_text(pdf_of(subdistrict), tmp_path)
    assert "Huanghuagang Subdistrict · Subdistrict" in text and "Legend" in text
    assert "Complete-community checklist" not in text  # the checklist is per compound/community


def test_a_grid_worker_gets_reports_of_their_grid_only(
    api: Clients, demo_db: Engine, tmp_path: Path
) -> None:
    own = pdf_text(pdf_of(api.get("grid02", f"/reports/compounds/{COMPOUND_34}.pdf")), tmp_path)
    assert "按grid02的数据权限生成" in own
    other = api.get("grid03", f"/reports/compounds/{COMPOUND_34}.pdf")
    assert other.status_code == 403 and "grids" in other.json()["detail"]
    assert api.get("anonymous", f"/reports/compounds/{COMPOUND_34}.pdf").status_code == 401
    assert api.get("planner", "/reports/compounds/999999.pdf").status_code == 404
    assert api.get("planner", "/reports/compounds/0.pdf").status_code == 422
    assert api.get("planner", "/reports/grids/1.pdf").status_code == 404
    with demo_db.connect() as conn:  # the community report counts only grid 3's stairwells
        mine = conn.exec_driver_sql(
            f"SELECT count(*) FROM stairwell s JOIN compound c ON c.id = s.compound_id "
            f"WHERE s.grid_id = 3 AND c.community_id = {COMMUNITY}").scalar_one()
    text = pdf_text(pdf_of(api.get("grid03", f"/reports/communities/{COMMUNITY}.pdf")), tmp_path)
    assert f"梯口总数 {mine}" in {" ".join(line.split()) for line in text.splitlines()}


def test_hostile_names_are_printed_as_text(api: Clients, tmp_path: Path) -> None:
    with api("planner") as client:
        rename(client, "compounds", COMPOUND_34, HOSTILE)
        text = pdf_text(pdf_of(client.get(f"/reports/compounds/{COMPOUND_34}.pdf")), tmp_path)
    assert f"{HOSTILE} · 小区" in text  # shown as written: not markup, not a formula


def test_cli_report_and_map_png(demo_db: Engine, tmp_path: Path) -> None:
    out = tmp_path / "shuiyin34.pdf"
    done = run(demo_db, tmp_path, "report", "compound", str(COMPOUND_34), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "水荫路34号大院" in pdf_text(out.read_bytes(), tmp_path)
    refused = run(demo_db, tmp_path, "report", "grid", "1", "-o", str(out))
    assert refused.returncode == 1 and "compound, community, subdistrict" in refused.stderr
    outside = run(demo_db, tmp_path, "report", "compound", str(COMPOUND_34), "-o", str(out),
                  "--user", "grid03")  # fmt: skip
    assert outside.returncode == 1 and "outside your grids" in outside.stderr
    png = tmp_path / "map.png"
    drawn = run(demo_db, tmp_path, "map", "export", "planner", "--compound", str(COMPOUND_34),
                "--png", str(png), "--width", "800", "--height", "600")  # fmt: skip
    assert drawn.returncode == 0, drawn.stderr
    picture = Image.open(io.BytesIO(png.read_bytes())).convert("RGB")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    picture.save(ARTIFACTS / "map-export-34.png")
    assert picture.size == (800 + 360, 600 + 72)  # the map, the legend beside, the title above
    assert colours(picture) > 30
    title_band = picture.crop((0, 0, 600, 60))
    assert colours(title_band) > 5  # the title is written
    legend = picture.crop((800, 72, 1160, 400))
    assert colours(legend) > 10  # swatches and labels


def test_a_report_refused_while_every_slot_renders_says_when_to_come_back(
    api: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both rendering slots taken: 503 with Retry-After (a minute, as the text says), and the
    next report renders once a slot is free."""
    monkeypatch.setattr(render, "WAIT_S", 0.05)
    held = [render.RENDERS.acquire(blocking=False) for _ in range(2)]
    try:
        assert held == [True, True]
        busy = api.get("planner", f"/reports/compounds/{COMPOUND_34}.pdf")
    finally:
        for _ in held:
            render.RENDERS.release()
    assert busy.status_code == 503 and busy.headers["retry-after"] == "60"
    assert busy.json()["detail"] == "too many reports are being rendered: try again in a minute"
    pdf_of(api.get("planner", f"/reports/compounds/{COMPOUND_34}.pdf"))
