"""Retrofit coverage per level counted in PostGIS: one GROUP BY, then the engine's table shape.

The database groups the area's stairwells by unit, elevator status and eligibility (a few
thousand rows for a city of a million stairwells); the shares and the pipeline funnel are
derived from those counts with the same columns, order and types as analysis.coverage gives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from gis_service.analysis.coverage import Eligibility, coverage
from gis_service.datasets.area import Area
from gis_service.datasets.load import (
    STAIRWELL_FILTERS,
    STAIRWELL_FROM,
    load_stairwells,
    read_frame,
    stairwells_in,
)
from gis_service.errors import InvalidInput

ELIGIBLE_SQL = (
    "coalesce(b.year_built <= %(cutoff_year)s, false) AND coalesce(b.floors, 0) >= %(min_floors)s "
    "AND NOT coalesce(b.has_original_elevator, false)"
)
WEIGHTS = {"stairwells": "n", "households": "households", "elderly_households": "elderly"}


def unit_counts(conn: sa.Connection, level_col: str, area: Area, rule: Eligibility) -> pd.DataFrame:
    """Stairwells, households and elderly households per unit, status and eligibility."""
    unit = STAIRWELL_FILTERS[level_col]  # an identifier of the fixed hierarchy, never user text
    where, params = stairwells_in(area)
    params.update(cutoff_year=rule.cutoff_year, min_floors=rule.min_floors)
    sql = (
        f"SELECT {unit} AS unit, s.elevator_status AS status, ({ELIGIBLE_SQL}) AS ok, "
        "count(*) AS n, coalesce(sum(s.households), 0) AS households, "
        "coalesce(sum(s.elderly_households), 0) AS elderly"
        f"{STAIRWELL_FROM}{where} GROUP BY 1, 2, 3"
    )
    frame = read_frame(conn, sql, params)
    frame["unit"] = pd.array(frame["unit"], dtype="Int64")
    return frame


def check_counted_statuses(counts: pd.DataFrame, statuses: list[str], in_service: str) -> None:
    """Raise InvalidInput for a status outside the pipeline (as analysis.coverage does)."""
    if in_service not in statuses:
        raise InvalidInput(f"the status list has no {in_service!r}")
    unknown = sorted(set(counts["status"].dropna().astype(str)) - set(statuses))
    if unknown:
        raise InvalidInput(f"unknown elevator statuses: {', '.join(unknown)}")


def coverage_in_sql(
    conn: sa.Connection, level_col: str, area: Area, statuses: list[str], rule: Eligibility
) -> pd.DataFrame:
    """Coverage per level (the columns of analysis.coverage.coverage), counted in SQL."""
    counts = unit_counts(conn, level_col, area, rule)
    if not len(counts):
        return coverage(load_stairwells(conn, area), level_col, statuses, rule)
    return coverage_of_counts(counts, level_col, statuses, rule)


def coverage_of_counts(
    counts: pd.DataFrame, level_col: str, statuses: list[str], rule: Eligibility
) -> pd.DataFrame:
    """Coverage per level from counts per unit, status and eligibility (unit_counts' columns;
    a unit, status and eligibility may come in several rows, as parts counted apart)."""
    check_counted_statuses(counts, statuses, rule.in_service)
    ok = counts["ok"].to_numpy(bool)
    served = ok & (counts["status"].astype(str).to_numpy() == rule.in_service)
    cols: dict[str, np.ndarray] = {}
    for name, column in WEIGHTS.items():
        weight = counts[column].to_numpy(np.float64)
        cols[f"eligible_{name}"] = weight * ok
        cols[f"in_service_{name}"] = weight * served
    frame = pd.DataFrame(cols)
    keys = counts["unit"].to_numpy()
    frame[level_col] = keys
    out = frame.groupby(level_col, sort=True, dropna=False).sum()
    for name in WEIGHTS:
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"share_{name}"] = out[f"in_service_{name}"] / out[f"eligible_{name}"]
    for col in ("eligible_stairwells", "in_service_stairwells"):
        out[col] = out[col].astype(np.int64)
    sizes = pd.Series(counts["n"].to_numpy(np.int64), index=keys)
    out.insert(0, "stairwells", sizes.groupby(level=0, sort=True, dropna=False).sum())
    funnel = pd.crosstab(
        keys[ok], counts["status"].astype(str).to_numpy()[ok], values=counts["n"].to_numpy()[ok],
        aggfunc="sum",
    )  # fmt: skip
    funnel = funnel.reindex(index=out.index, columns=statuses, fill_value=0)
    funnel.columns = [f"status_{code}" for code in statuses]
    return out.join(funnel.fillna(0).astype(np.int64)).reset_index()
