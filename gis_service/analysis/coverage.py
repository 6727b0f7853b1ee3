"""Elevator retrofit coverage per level, the pipeline funnel and batch projections."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis_service.analysis.per_unit import as_whole, with_whole_ids
from gis_service.errors import InvalidInput

LEVELS = ("grid_id", "compound_id", "community_id", "subdistrict_id", "district_id")
WEIGHTS = {
    "stairwells": None,
    "households": "households",
    "elderly_households": "elderly_households",
}


@dataclass(frozen=True)
class Eligibility:
    """Which stairwells count: building built in or before cutoff_year, min_floors, no lift."""

    cutoff_year: int = 2000
    min_floors: int = 4
    in_service: str = "in_service"


def _need(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"missing columns: {', '.join(missing)}",
            [{"field": c, "msg": "missing column"} for c in missing],
        )


def _floors_column(frame: pd.DataFrame) -> str:
    return "building_floors" if "building_floors" in frame.columns else "floors"


def eligible(stairwells: pd.DataFrame, rule: Eligibility = Eligibility()) -> pd.Series:
    """True for stairwells of buildings built <= cutoff_year, with >= min_floors, no original lift.

    Building floors come from `building_floors` when present, else `floors`; an unknown
    year of completion is not eligible.
    """
    floors = _floors_column(stairwells)
    _need(stairwells, ("year_built", "has_original_elevator", floors))
    year = pd.to_numeric(stairwells["year_built"], errors="coerce")
    lift = stairwells["has_original_elevator"].astype("boolean").fillna(False).astype(bool)
    levels = pd.to_numeric(stairwells[floors], errors="coerce").fillna(0)
    return ((year <= rule.cutoff_year) & (levels >= rule.min_floors) & ~lift).astype(bool)


def check_statuses(stairwells: pd.DataFrame, statuses: Sequence[str], in_service: str) -> None:
    """Raise InvalidInput when a stairwell's status is not in the ordered status list."""
    _need(stairwells, ("elevator_status",))
    if in_service not in statuses:
        raise InvalidInput(f"the status list has no {in_service!r}")
    unknown = sorted(set(stairwells["elevator_status"].dropna().astype(str)) - set(statuses))
    if unknown:
        raise InvalidInput(f"unknown elevator statuses: {', '.join(unknown)}")


def _weights(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, col in WEIGHTS.items():
        if col is None:
            out[name] = np.ones(len(frame))
        else:
            out[name] = pd.to_numeric(frame[col], errors="coerce").fillna(0).to_numpy(float)
    return out


def _shares(
    stairwells: pd.DataFrame, level: str, ok: np.ndarray, served: np.ndarray, prefix: str = ""
) -> pd.DataFrame:
    """Per level: eligible and in-service totals and shares under the three weights."""
    weights = _weights(stairwells)
    cols: dict[str, np.ndarray] = {}
    for name, w in weights.items():
        cols[f"eligible_{name}"] = w * ok
        cols[f"{prefix}in_service_{name}"] = w * (ok & served)
    frame = pd.DataFrame(cols)
    frame[level] = stairwells[level].to_numpy()
    out = frame.groupby(level, sort=True, dropna=False).sum()
    for name in weights:
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{prefix}share_{name}"] = (
                out[f"{prefix}in_service_{name}"] / out[f"eligible_{name}"]
            )
    for name in weights:  # counts of stairwells and households: integers
        for col in (f"eligible_{name}", f"{prefix}in_service_{name}"):
            out[col] = as_whole(out[col])
    return out


def coverage(
    stairwells: pd.DataFrame, level: str, statuses: Sequence[str], rule: Eligibility = Eligibility()
) -> pd.DataFrame:
    """Coverage per level: eligible, in service, shares by stairwells/households/elderly, funnel.

    `statuses` is the ordered pipeline (data from the elevator_status table); the funnel
    columns status_<code> count eligible stairwells per status, in that order.
    """
    _need(stairwells, (level, "households", "elderly_households"))
    check_statuses(stairwells, statuses, rule.in_service)
    ok = eligible(stairwells, rule).to_numpy()
    status = stairwells["elevator_status"].astype(str).to_numpy()
    out = _shares(stairwells, level, ok, status == rule.in_service)
    out.insert(0, "stairwells", stairwells.groupby(level, sort=True, dropna=False).size())
    eligible_rows = pd.DataFrame({"unit": stairwells[level].to_numpy()[ok], "status": status[ok]})
    funnel = eligible_rows.groupby(["unit", "status"], dropna=False).size().unstack(fill_value=0)
    funnel = funnel.reindex(index=out.index, columns=list(statuses), fill_value=0)
    funnel.columns = [f"status_{code}" for code in statuses]
    return with_whole_ids(out.join(funnel.fillna(0).astype(np.int64)).reset_index(), level)


def funnel(
    stairwells: pd.DataFrame, level: str, statuses: Sequence[str], rule: Eligibility = Eligibility()
) -> pd.DataFrame:
    """The pipeline funnel in long form: level, status, rank, eligible stairwells, households."""
    _need(stairwells, (level, "households"))
    check_statuses(stairwells, statuses, rule.in_service)
    ok = eligible(stairwells, rule).to_numpy()
    sub = stairwells.loc[ok, [level, "elevator_status", "households"]]
    counts = sub.groupby([level, "elevator_status"], dropna=False).agg(
        stairwells=("households", "size"), households=("households", "sum")
    )
    levels = pd.Index(sorted(stairwells[level].dropna().unique().tolist()), name=level)
    full = pd.MultiIndex.from_product([levels, list(statuses)], names=[level, "elevator_status"])
    out = counts.reindex(full, fill_value=0).reset_index()
    out["households"] = as_whole(out["households"])
    out["rank"] = out["elevator_status"].map({code: i for i, code in enumerate(statuses)})
    return out


def apply_batch(
    stairwells: pd.DataFrame, stairwell_ids: Iterable[int], status: str = "in_service"
) -> pd.DataFrame:
    """A copy of the stairwells with the given ids moved to `status`."""
    _need(stairwells, ("id", "elevator_status"))
    ids = pd.Index(list(stairwell_ids))
    unknown = ids.difference(pd.Index(stairwells["id"]))
    if len(unknown):
        raise InvalidInput(f"unknown stairwell ids: {', '.join(map(str, unknown[:20]))}")
    out = stairwells.copy()
    out.loc[out["id"].isin(ids), "elevator_status"] = status
    return out


def project_batch(
    stairwells: pd.DataFrame,
    level: str,
    stairwell_ids: Iterable[int],
    statuses: Sequence[str],
    rule: Eligibility = Eligibility(),
    only_touched: bool = True,
) -> pd.DataFrame:
    """Before/after coverage per level when a batch of stairwells goes into service.

    Columns: eligible_*, before_/after_ in_service and share per weight, batch_stairwells,
    batch_ineligible (in the batch but outside the eligibility rule), and a label such as
    "15/57 -> 57/57".
    """
    _need(stairwells, (level, "households", "elderly_households"))
    check_statuses(stairwells, statuses, rule.in_service)
    ids = list(stairwell_ids)
    after_frame = apply_batch(stairwells, ids, rule.in_service)
    ok = eligible(stairwells, rule).to_numpy()
    before = stairwells["elevator_status"].astype(str).to_numpy() == rule.in_service
    after = after_frame["elevator_status"].astype(str).to_numpy() == rule.in_service
    b = _shares(stairwells, level, ok, before, "before_")
    a = _shares(stairwells, level, ok, after, "after_")
    out = b.join(a.drop(columns=[c for c in a.columns if c.startswith("eligible_")]))
    in_batch = stairwells["id"].isin(ids).to_numpy()
    keys = stairwells[level].to_numpy()
    out["batch_stairwells"] = pd.Series(in_batch, index=keys).groupby(level=0).sum()
    out["batch_ineligible"] = pd.Series(in_batch & ~ok, index=keys).groupby(level=0).sum()
    out[["batch_stairwells", "batch_ineligible"]] = (
        out[["batch_stairwells", "batch_ineligible"]].fillna(0).astype(np.int64)
    )
    out["label"] = [
        f"{bs}/{e} -> {af}/{e}"
        for bs, af, e in zip(
            out["before_in_service_stairwells"],
            out["after_in_service_stairwells"],
            out["eligible_stairwells"],
            strict=True,
        )
    ]
    if only_touched:
        out = out[out["batch_stairwells"] > 0]
    return with_whole_ids(out.reset_index(), level)
