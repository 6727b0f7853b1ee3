"""What a report says about a compound, community or subdistrict, read in the caller's role.

Row-level security decides what is counted: a grid worker's report holds only the stairwells of
their grids, and a unit where the caller sees no stairwell at all is refused (Forbidden).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from gis_service.analysis.coverage import Eligibility
from gis_service.auth import Principal
from gis_service.catalog import Catalog
from gis_service.datasets.area import Area
from gis_service.datasets.checklist import checklist_params, checklist_report, run_checklist
from gis_service.datasets.load import STAIRWELL_FROM, unit_test
from gis_service.datasets.runs import coverage_table
from gis_service.db.engine import data_versions
from gis_service.errors import Forbidden, GisServiceError, NotFound
from gis_service.reports.strings import say
from gis_service.rows.lookups import labelled

LEVELS = ("compound", "community", "subdistrict")
CHECKLIST_LEVELS = ("compound", "community")
VERSION_TABLES = ["stairwell", "building", "compound", "community", "subdistrict", "grid",
                  "retrofit_batch", "garden", "parking", "facility", "street"]  # fmt: skip


@dataclass(frozen=True)
class Unit:
    """The compound, community or subdistrict a report is about."""

    level: str
    id: int
    name: str
    name_en: str | None

    def title(self, lang: str) -> str:
        """The unit's name in a language (the Chinese one when there is no English name)."""
        return self.name_en if lang == "en" and self.name_en else self.name

    @property
    def area(self) -> Area:
        """The analysis area of the unit."""
        ids: dict[str, Any] = {f"{self.level}_id": self.id}
        return Area(**ids)


@dataclass
class Facts:
    """The figures of one report, labels resolved to one language."""

    unit: Unit
    lang: str
    coverage: list[tuple[str, str]]
    pipeline: list[tuple[str, str, int]]
    """(code, label, stairwells) per status of the pipeline, in order."""
    batches: list[dict[str, Any]]
    gaps: list[str]
    data_version: int
    generated: dt.date
    user: str
    colors: dict[str, str] = field(default_factory=dict)


def find_unit(conn: sa.Connection, level: str, unit_id: int) -> Unit:
    """The unit by level and id (NotFound when it does not exist)."""
    if level not in LEVELS:
        raise NotFound(f"there are no reports of {level!r}: use one of {', '.join(LEVELS)}")
    row = conn.execute(
        sa.text(f"SELECT id, name, name_en FROM {level} WHERE id = :id"), {"id": unit_id}
    ).first()  # level is one of LEVELS, a table name fixed in code
    if row is None:
        raise NotFound(f"there is no {level} {unit_id}")
    return Unit(level, int(row.id), str(row.name), row.name_en)


def of_unit(unit: Unit, joins: str = "") -> str:
    """FROM and WHERE of the unit's stairwells (s, building b), parameter :id."""
    return f"{STAIRWELL_FROM}{joins} WHERE {unit_test(unit.level + '_id', 'ARRAY[:id]')}"


def visible_stairwells(conn: sa.Connection, unit: Unit) -> int:
    """How many stairwells of the unit the caller may see."""
    sql = f"SELECT count(*) {of_unit(unit)}"
    return int(conn.execute(sa.text(sql), {"id": unit.id}).scalar_one())


def percent(value: Any) -> str:
    """A share as a percentage with one decimal ('–' when there is nothing to divide by)."""
    number = float(value) if value is not None and pd.notna(value) else float("nan")
    return "–" if not np.isfinite(number) else f"{number * 100:.1f} %"


def coverage_lines(row: pd.Series, lang: str) -> list[tuple[str, str]]:
    """The coverage figures of one unit as (label, value) lines."""
    return [
        (say(lang, "stairwells"), str(int(row["stairwells"]))),
        (say(lang, "eligible"), str(int(row["eligible_stairwells"]))),
        (say(lang, "in_service"), str(int(row["in_service_stairwells"]))),
        (say(lang, "share_stairwells"), percent(row["share_stairwells"])),
        (say(lang, "share_households"), percent(row["share_households"])),
        (say(lang, "share_elderly_households"), percent(row["share_elderly_households"])),
    ]


def pipeline_counts(conn: sa.Connection, unit: Unit, lang: str) -> list[tuple[str, str, int]]:
    """Stairwells of the unit per elevator status, every status of the pipeline in order."""
    sql = f"SELECT s.elevator_status, count(*) {of_unit(unit)} GROUP BY 1"
    counts = {str(code): int(n) for code, n in conn.execute(sa.text(sql), {"id": unit.id})}
    return [(s.code, s.label(lang), counts.get(s.code, 0))
            for s in labelled(conn, "elevator_status", "rank")]  # fmt: skip


def batch_projections(
    conn: sa.Connection, catalog: Catalog, unit: Unit, lang: str
) -> list[dict[str, Any]]:
    """Each retrofit batch with stairwells in the unit: its stage and coverage once in service."""
    joins = " JOIN retrofit_batch rb ON rb.id = s.batch_id"
    sql = (f"SELECT rb.id, rb.name, rb.status, count(*) AS n {of_unit(unit, joins)} "
           "GROUP BY rb.id, rb.name, rb.status ORDER BY rb.id LIMIT 20")  # fmt: skip
    labels = catalog.layer("stairwells").labels
    out = []
    for row in conn.execute(sa.text(sql), {"id": unit.id}):
        table = coverage_table(conn, f"{unit.level}_id", unit.area, int(row.id))
        mine = table[table[f"{unit.level}_id"] == unit.id]
        stage = labels.get(f"batch_{row.status}")
        out.append({
            "name": str(row.name), "stairwells": int(row.n),
            "status": stage.pick(lang) if stage else str(row.status),
            "projection": str(mine["label"].iloc[0]).replace("->", "→") if len(mine) else "–",
            "after": percent(mine["after_share_stairwells"].iloc[0]) if len(mine) else "–",
        })  # fmt: skip
    return out


def checklist_gap(conn: sa.Connection, catalog: Catalog, unit: Unit, lang: str) -> str:
    """What the complete-community checklist finds missing within walking reach of the unit."""
    try:
        params = checklist_params("network" if catalog.network() else "crow", catalog)
        result = run_checklist(conn, params, unit.area)
        labels = catalog.layer("communities").labels
        report = checklist_report(conn, params, result, unit.level, labels)
    except GisServiceError as exc:
        return say(lang, "checklist_unavailable", reason=str(exc))
    rows = [r for r in report["rows"] if r[f"{unit.level}_id"] == unit.id]
    if not rows:
        return say(lang, "checklist_unavailable", reason=say(lang, "none"))
    missing = rows[0]["missing_zh" if lang == "zh" else "missing_en"]
    return say(lang, "checklist_missing", kinds=missing) if missing else say(
        lang, "checklist_complete")


def gap_lines(
    conn: sa.Connection, catalog: Catalog, unit: Unit, lang: str, rule: Eligibility
) -> list[str]:
    """The unit's gaps: eligible stairwells not covered and in no batch; checklist kinds."""
    sql = (f"SELECT count(*) {of_unit(unit)} AND s.batch_id IS NULL AND s.elevator_status <> :done "
           "AND coalesce(b.year_built <= :cutoff, false) AND coalesce(b.floors, 0) >= :floors "
           "AND NOT coalesce(b.has_original_elevator, false)")  # fmt: skip
    params = {"id": unit.id, "done": rule.in_service, "cutoff": rule.cutoff_year,
              "floors": rule.min_floors}  # fmt: skip
    uncovered = int(conn.execute(sa.text(sql), params).scalar_one())
    lines = [say(lang, "not_covered", n=uncovered)]
    if unit.level in CHECKLIST_LEVELS and catalog.complete_community() is not None:
        lines.append(checklist_gap(conn, catalog, unit, lang))
    return lines


def report_facts(
    conn: sa.Connection, catalog: Catalog, principal: Principal, level: str, unit_id: int,
    lang: str,
) -> Facts:  # fmt: skip
    """Everything a report of one unit shows, as the caller may see it."""
    unit = find_unit(conn, level, unit_id)
    if principal.role == "grid_worker" and visible_stairwells(conn, unit) == 0:
        raise Forbidden(f"{level} {unit_id} lies outside your grids")
    rule = Eligibility()
    table = coverage_table(conn, f"{level}_id", unit.area, None, rule)
    mine = table[table[f"{level}_id"] == unit.id]
    coverage = coverage_lines(mine.iloc[0], lang) if len(mine) else []
    versions = data_versions(conn, VERSION_TABLES)
    style = catalog.layer("stairwells").style
    return Facts(
        unit=unit, lang=lang, coverage=coverage, pipeline=pipeline_counts(conn, unit, lang),
        batches=batch_projections(conn, catalog, unit, lang),
        gaps=gap_lines(conn, catalog, unit, lang, rule), data_version=sum(versions.values()),
        generated=dt.date.today(), user=principal.username, colors=dict(style.colors),
    )  # fmt: skip
