"""`gis-service analyze complete-community`: the complete-community checklist per unit.

cli_analysis.py adds the command to `analyze`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from gis_service import cli_base as common
from gis_service.catalog import default_catalog
from gis_service.datasets import formats
from gis_service.datasets.checklist import (
    checklist_params,
    checklist_report,
    report_rows,
    run_checklist,
)

SUMMARY = ["name", "stairwells", "households", "score", "missing_zh", "missing_en"]


def checklist_command(
    level: str = typer.Option("community", help="compound or community"),
    mode: str = common.MODE,
    district: int = common.DISTRICT, subdistrict: int = common.SUBDISTRICT,
    community: int = common.COMMUNITY, grid: int = common.GRID, compound: int = common.COMPOUND,
    bbox: str = common.BBOX,
    fmt: str = common.FORMAT, output: Path = common.OUTPUT,
) -> None:  # fmt: skip
    """Required facility kinds within walking reach per compound or community, and the score."""
    area = common.area_of(district, subdistrict, community, grid, compound, bbox)
    catalog = default_catalog()
    labels = catalog.layer("communities").labels
    with common.session("complete-community") as (conn, _step):
        params = checklist_params(mode, catalog)
        result = run_checklist(conn, params, area)
        report = {"area": area.as_dict(), **checklist_report(conn, params, result, level, labels)}
    if fmt == "json":
        formats.write_out(formats.dumps(report), output)
        return
    if fmt == "csv":
        formats.write_out(formats.to_csv(report_rows(report)), output)
        return
    col = f"{level}_id"
    frame = pd.DataFrame(report["rows"], columns=[col, *SUMMARY])
    meta = {key: report[key] for key in ("area", "level", "mode", "present_share")}
    formats.write_table(frame, fmt, output, meta, [col, *SUMMARY])
