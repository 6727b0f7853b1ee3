"""Retrofit coverage per level counted in PostGIS: one GROUP BY, then the engine's table shape.

The database groups the area's stairwells by unit, elevator status and eligibility (a few
thousand rows for a city of a million stairwells); the shares and the pipeline funnel are
derived from those counts with the same columns, order and types as analysis.coverage gives.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from gis_service.analysis.coverage import Eligibility, coverage
from gis_service.analysis.per_unit import as_whole, units_of
from gis_service.datasets.area import Area
from gis_service.datasets.arrays import read_arrays, read_arrays_together
from gis_service.datasets.changes import Changes
from gis_service.datasets.load import (
    BUILDING_JOIN,
    STAIRWELL_FILTERS,
    STAIRWELL_FROM,
    UNIT_LOOKUPS,
    load_stairwells,
    read_frame,
    stairwells_in,
    unit_joins,
    units_superset,
)
from gis_service.errors import InvalidInput

ELIGIBLE_SQL = (
    "coalesce(b.year_built <= %(cutoff_year)s, false) AND coalesce(b.floors, 0) >= %(min_floors)s "
    "AND NOT coalesce(b.has_original_elevator, false)"
)
WEIGHTS = {"households": "s.households", "elderly_households": "s.elderly_households"}
"""What the shares weigh stairwells by besides the stairwells themselves (eligible and
in-service stairwells are the pipeline funnel's sums, not counted twice)."""
MEASURES = ("stairwells", *WEIGHTS)


def grouped_sql(
    level_col: str, area: Area, columns: dict[str, str], source: str, where: str, outer: str = ""
) -> str:
    """One row per unit of the level (in no order): the unit, then the columns (name: an
    aggregate of the stairwells, additive), of the stairwells `source` and `where` give.

    Above the compound the stairwells are grouped by grid and compound first (a few thousand
    groups in a city, a few for a community) and only the groups find their unit: joined to
    the hierarchy, or, for a few units (`outer`, only_units' test of them), looked up
    (UNIT_LOOKUPS).
    """
    joins = unit_joins(*area.ids())  # what the area's filters need
    made = ", ".join(f"{aggregate} AS {name}" for name, aggregate in columns.items())
    if level_col not in UNIT_LOOKUPS:  # the stairwell's own grid or compound
        return (f"SELECT {STAIRWELL_FILTERS[level_col]} AS unit, {made}{source}{joins}\n"
                f"{where} GROUP BY 1")  # fmt: skip
    unit = UNIT_LOOKUPS[level_col] if outer else STAIRWELL_FILTERS[level_col]
    up = "" if outer else unit_joins(level_col)
    sums = ", ".join(f"sum(s.{name})::int8 AS {name}" for name in columns)
    return (f"SELECT {unit} AS unit, {sums}\nFROM (SELECT s.grid_id, s.compound_id, {made}"
            f"{source}{joins}\n{where} GROUP BY 1, 2) s{up}\n{outer} GROUP BY 1")  # fmt: skip


def unit_counts_sql(
    level_col: str, area: Area, where: str, complete: bool, outer: str = ""
) -> str:
    """One row per unit (in no order): its stairwells and (unless the statuses are every code
    the lookup table allows) those of statuses not in the pipeline (outer: as only_units
    gives it)."""
    pipeline = "coalesce(s.elevator_status = ANY(%(statuses)s), false)"
    unknown = "0" if complete else f"count(*) FILTER (WHERE NOT {pipeline})"
    columns = {"stairwells": "count(*)", "unknown": unknown}
    return grouped_sql(level_col, area, columns, "\nFROM stairwell s", where, outer)


def eligible_sums_sql(
    level_col: str, area: Area, statuses: list[str], where: str, outer: str = ""
) -> str:
    """One row per unit with eligible stairwells (in no order): their households and elderly
    households, those in service, and the stairwells at each status of the pipeline (outer:
    as only_units gives it).

    Only eligible stairwells reach the sums (the test is the join's, once per stairwell):
    a third faster than testing it in each sum's filter.
    """
    served = "s.elevator_status = %(in_service)s"
    columns = {}
    for name, value in WEIGHTS.items():
        columns[f"eligible_{name}"] = f"coalesce(sum({value}), 0)"
        columns[f"in_service_{name}"] = f"coalesce(sum({value}) FILTER (WHERE {served}), 0)"
    for i in range(len(statuses)):
        columns[f"status_{i}"] = f"count(*) FILTER (WHERE s.elevator_status = %(status_{i})s)"
    eligible = f"{where} AND ({ELIGIBLE_SQL})" if where else f" WHERE {ELIGIBLE_SQL}"
    return grouped_sql(level_col, area, columns, BUILDING_JOIN, eligible, outer)


def eligible_sums_columns(statuses: list[str]) -> list[str]:
    """The column names of eligible_sums_sql's rows."""
    sums = [f"{part}_{name}" for name in WEIGHTS for part in ("eligible", "in_service")]
    return ["unit", *sums, *(f"status_{i}" for i in range(len(statuses)))]


def every_status(conn: sa.Connection, statuses: list[str]) -> bool:
    """Whether the statuses hold every code of the elevator_status lookup table (which a
    stairwell's status must be one of: then none is unknown)."""
    found = conn.execute(sa.text("SELECT NOT EXISTS (SELECT 1 FROM elevator_status "
                                 "WHERE NOT code = ANY(:s))"), {"s": list(statuses)})  # fmt: skip
    return bool(found.scalar_one())


NO_COMMUNITY = "s.grid_id IS NULL"
"""A superset of the stairwells in no community (so in no subdistrict or district): a grid,
its community and their parents are never null (NOT NULL columns), so one with a grid has a
community. The grid index finds them."""


def only_units(
    where: str, params: dict[str, Any], level_col: str, units: Collection[int | None]
) -> tuple[str, str, dict[str, Any]]:
    """The stairwells' WHERE narrowed to these units of a level (None: in none), and the test
    of grouped_sql's groups (outer: above the compound, their units looked up)."""
    ids = sorted(int(u) for u in units if u is not None)
    params = {**params, "only_units": ids}
    superset = units_superset(level_col, "%(only_units)s")
    if superset is None:  # the stairwell's own grid or compound
        unit = STAIRWELL_FILTERS[level_col]
        test = f"({unit} = ANY(%(only_units)s)" + (f" OR {unit} IS NULL)" if None in units else ")")
        return (f"{where} AND {test}" if where else f" WHERE {test}"), "", params
    unit = UNIT_LOOKUPS[level_col]
    test = f"{unit} = ANY(%(only_units)s)"
    if None in units:
        superset, test = f"({superset} OR {NO_COMMUNITY})", f"({test} OR {unit} IS NULL)"
    narrowed = f"{where} AND {superset}" if where else f" WHERE {superset}"
    return narrowed, f" WHERE {test}", params


@contextmanager
def serial_if(conn: sa.Connection, serial: bool) -> Iterator[None]:
    """With serial, statements of the transaction run with no parallel workers meanwhile: a
    few units' counts above the compound cost a few milliseconds, and the planner, which
    guesses a thousand grid-and-compound groups for them, would start workers that cost
    15-20 ms (a compound's count is planned well: no round trips added to it)."""
    if not serial:
        yield
        return
    before = conn.execute(sa.text(
        "SELECT current_setting('max_parallel_workers_per_gather'), "
        "set_config('max_parallel_workers_per_gather', '0', true)")).scalar_one()  # fmt: skip
    try:
        yield
    finally:
        conn.execute(sa.text("SELECT set_config('max_parallel_workers_per_gather', :v, true)"),
                     {"v": before})  # fmt: skip


def unknown_statuses(conn: sa.Connection, area: Area, statuses: list[str]) -> list[str]:
    """Elevator statuses of the area's stairwells that are not in the pipeline."""
    where, params = stairwells_in(area)
    test = "NOT coalesce(s.elevator_status = ANY(%(statuses)s), false)"
    where = f"{where} AND {test}" if where else f" WHERE {test}"
    found = read_frame(conn, f"SELECT DISTINCT s.elevator_status {STAIRWELL_FROM}{where}",
                       {**params, "statuses": list(statuses)})  # fmt: skip
    return sorted(str(code) for code in found.iloc[:, 0]) if len(found) else []


def coverage_in_sql(
    conn: sa.Connection,
    level_col: str,
    area: Area,
    statuses: list[str],
    rule: Eligibility,
    units: Collection[int | None] | None = None,
) -> pd.DataFrame:
    """Coverage per level (the columns of analysis.coverage.coverage), counted in SQL (of
    every unit of the area, or only of these units)."""
    if rule.in_service not in statuses:
        raise InvalidInput(f"the status list has no {rule.in_service!r}")
    where, params = stairwells_in(area)
    outer = ""
    if units is not None:
        where, outer, params = only_units(where, params, level_col, units)
    params.update(cutoff_year=rule.cutoff_year, min_floors=rule.min_floors,
                  in_service=rule.in_service, statuses=list(statuses),
                  **{f"status_{i}": code for i, code in enumerate(statuses)})  # fmt: skip
    # a few units' stairwells are cheaper to test in the count than the lookup in a statement
    complete = units is None and every_status(conn, statuses)
    with serial_if(conn, bool(outer)):  # a few units above the compound
        counted, summed = read_arrays_together(conn, [
            (unit_counts_sql(level_col, area, where, complete, outer),
             ["unit", "stairwells", "unknown"]),
            (eligible_sums_sql(level_col, area, statuses, where, outer),
             eligible_sums_columns(statuses)),
        ], params)  # fmt: skip
    if not len(counted["unit"]):
        none = load_stairwells(conn, area, ids=() if units is not None else None)
        return coverage(none, level_col, statuses, rule)
    if counted["unknown"].any():
        unknown = unknown_statuses(conn, area, statuses)
        raise InvalidInput(f"unknown elevator statuses: {', '.join(unknown)}")
    order = np.argsort(counted["unit"], kind="stable")  # by unit, stairwells in no unit (NaN) last
    ids = counted["unit"][order]
    rows = pd.Index(ids).get_indexer(summed["unit"]) if len(summed["unit"]) else np.empty(0, int)

    def per_unit(column: str, kind: type) -> np.ndarray:
        """A column of the eligible sums on every unit's row (0 where none is eligible)."""
        out: np.ndarray = np.zeros(len(ids), kind)
        if len(rows):
            out[rows] = summed[column]
        return out

    # The columns are gathered first and framed once: a frame grown column by column costs
    # about 1 ms more, which is most of re-counting an edited unit.
    out: dict[str, Any] = {level_col: pd.array(ids, dtype="Int64")}  # ids whole, no unit: NA
    out["stairwells"] = counted["stairwells"][order].astype(np.int64)
    funnel = np.stack([per_unit(f"status_{i}", np.int64) for i in range(len(statuses))], axis=1)
    out["eligible_stairwells"] = funnel.sum(axis=1)
    out["in_service_stairwells"] = funnel[:, statuses.index(rule.in_service)]
    for name in WEIGHTS:
        for part in ("eligible", "in_service"):
            out[f"{part}_{name}"] = per_unit(f"{part}_{name}", np.int64)  # sums of integers
    for name in MEASURES:
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"share_{name}"] = out[f"in_service_{name}"] / out[f"eligible_{name}"]
    for i, code in enumerate(statuses):
        out[f"status_{code}"] = funnel[:, i]
    return pd.DataFrame(out)


def pipeline_of(table: pd.DataFrame) -> list[str]:
    """The elevator pipeline a coverage table was counted with: the codes of its funnel's
    status_<code> columns, in rank order (a refresh counts by them: the lookup is in the
    answer's key, so a changed pipeline computes the answer again)."""
    return [str(c)[len("status_") :] for c in table.columns if str(c).startswith("status_")]


def coverage_of_counts(
    counts: pd.DataFrame, level_col: str, statuses: list[str], rule: Eligibility
) -> pd.DataFrame:
    """Coverage per level from counts per unit, status and eligibility (columns unit, status,
    ok, n, households, elderly; a unit may come in several rows, as parts counted apart),
    summed with bincount into coverage_in_sql's table."""
    if rule.in_service not in statuses:
        raise InvalidInput(f"the status list has no {rule.in_service!r}")
    unknown = sorted(set(counts["status"].dropna().astype(str)) - set(statuses))
    if unknown:
        raise InvalidInput(f"unknown elevator statuses: {', '.join(unknown)}")
    units = units_of(counts["unit"])
    codes, size, total = units.codes, len(units.ids), units.whole  # every sum a count
    ok = counts["ok"].to_numpy(bool)
    status = pd.Categorical(counts["status"].astype(str), categories=statuses).codes
    served = ok & (status == statuses.index(rule.in_service))
    n = counts["n"].to_numpy(np.float64)
    out = pd.DataFrame({level_col: units.ids, "stairwells": total(n)})
    for name, column in {"stairwells": "n", "households": "households",
                         "elderly_households": "elderly"}.items():  # fmt: skip
        weight = counts[column].to_numpy(np.float64)
        out[f"eligible_{name}"] = total(weight * ok)
        out[f"in_service_{name}"] = total(weight * served)
    for name in MEASURES:
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"share_{name}"] = out[f"in_service_{name}"] / out[f"eligible_{name}"]
    cells = np.bincount(codes * len(statuses) + status, weights=n * ok,
                        minlength=size * len(statuses)).reshape(size, len(statuses))  # fmt: skip
    funnel = pd.DataFrame(as_whole(cells), columns=[f"status_{c}" for c in statuses])
    return pd.concat([out, funnel], axis=1)


OWN_UNITS = {"grid_id": 0, "compound_id": 1}
"""The levels a stairwell names itself, and where in the feed's (grid_id, compound_id) pairs."""


def touched_units(conn: sa.Connection, changes: Changes, level_col: str) -> set[int | None]:
    """The units of a level that written stairwells were in before or are in now, and those of
    the stairwells of written buildings (None: stairwells in no unit of the level). A
    stairwell's own grid or compound the feed gives: only written buildings need a statement."""
    own = OWN_UNITS.get(level_col)
    if own is not None and not changes.buildings:
        return {pair[own] for pair in changes.units}
    unit = STAIRWELL_FILTERS[level_col]
    joins = unit_joins(level_col)  # only those the level needs: less to plan
    grids = [g for g, _ in changes.units]
    compounds = [c for _, c in changes.units]
    sql = (
        f"SELECT {unit} AS unit FROM (SELECT unnest(CAST(%(grids)s AS int[])) AS grid_id, "
        f"unnest(CAST(%(compounds)s AS int[])) AS compound_id) s {joins} "
        f"UNION SELECT {unit} FROM stairwell s {joins} "
        "WHERE s.building_id = ANY(%(buildings)s)"
    )
    params = {"grids": grids, "compounds": compounds, "buildings": sorted(changes.buildings)}
    found = read_arrays(conn, sql, params, ["unit"])["unit"]
    return {None if np.isnan(u) else int(u) for u in np.asarray(found, np.float64).tolist()}
