"""Retrofit coverage: Shuiyin Road No. 34 compound (57 stairwells, 15 lifts, batch of 42)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis_service.analysis.coverage import (
    Eligibility,
    apply_batch,
    coverage,
    eligible,
    funnel,
    project_batch,
)
from gis_service.errors import InvalidInput

STATUSES = [
    "none", "proposed", "consenting", "applied", "approved",
    "under_construction", "in_service", "infeasible",
]  # fmt: skip


def stairwell_table() -> pd.DataFrame:
    """Compound 34: 57 eligible stairwells (15 in service) and 3 that do not count; compound 35."""
    rows = []
    for i in range(57):
        status = "in_service" if i < 15 else STATUSES[i % 6]
        rows.append((i + 1, 100 + i // 6, 34, 1, 6, 12, 4 if i < 15 else 3, status, 1988, False))
    rows.append((58, 200, 34, 1, 3, 6, 2, "none", 1985, False))  # 3 floors
    rows.append((59, 201, 34, 1, 6, 12, 1, "none", 2005, False))  # built 2005
    rows.append((60, 202, 34, 1, 7, 14, 5, "none", 1995, True))  # original elevator
    rows.append((61, 300, 35, 2, 5, 10, 6, "in_service", 2000, False))
    rows.append((62, 300, 35, 2, 5, 10, 0, "approved", 2000, False))
    cols = [
        "id", "building_id", "compound_id", "grid_id", "floors", "households",
        "elderly_households", "elevator_status", "year_built", "has_original_elevator",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def test_eligibility_excludes_low_new_and_lifted_buildings():
    frame = stairwell_table()
    ok = eligible(frame)
    assert ok.sum() == 59
    assert not ok[frame["id"].isin([58, 59, 60])].any()
    later = eligible(frame, Eligibility(cutoff_year=2010, min_floors=3))
    assert later[frame["id"].isin([58, 59])].all()
    assert not later[frame["id"] == 60].any()


def test_compound_34_is_15_of_57():
    out = coverage(stairwell_table(), "compound_id", STATUSES).set_index("compound_id")
    row = out.loc[34]
    assert row["stairwells"] == 60
    assert row["eligible_stairwells"] == 57
    assert row["in_service_stairwells"] == 15
    assert row["share_stairwells"] == pytest.approx(15 / 57)
    assert row["share_households"] == pytest.approx(15 * 12 / (57 * 12))
    assert row["share_elderly_households"] == pytest.approx(15 * 4 / (15 * 4 + 42 * 3))
    funnel_cols = [f"status_{s}" for s in STATUSES]
    assert [c for c in out.columns if c.startswith("status_")] == funnel_cols
    assert row[funnel_cols].sum() == 57
    assert row["status_in_service"] == 15
    assert out.loc[35, "share_elderly_households"] == pytest.approx(1.0)
    assert out.loc[35, "share_stairwells"] == pytest.approx(0.5)
    assert row["eligible_households"] == 57 * 12 and row["in_service_households"] == 15 * 12
    counts = [f"{part}_{name}" for part in ("eligible", "in_service")
              for name in ("stairwells", "households", "elderly_households")]  # fmt: skip
    assert (out[counts].dtypes == np.int64).all()  # 684 households, never 684.0


def test_batch_of_the_other_42_gives_57_of_57():
    frame = stairwell_table()
    batch = frame.loc[(frame["compound_id"] == 34) & (frame["elevator_status"] != "in_service")]
    batch = batch[batch["id"] <= 57]["id"].tolist()
    assert len(batch) == 42
    out = project_batch(frame, "compound_id", batch, STATUSES)
    assert out["compound_id"].tolist() == [34]
    row = out.iloc[0]
    assert row["label"] == "15/57 -> 57/57"
    assert row["after_share_stairwells"] == 1.0
    assert row["after_share_households"] == 1.0
    assert row["batch_stairwells"] == 42 and row["batch_ineligible"] == 0
    everything = project_batch(frame, "grid_id", [*batch, 59], STATUSES, only_touched=False)
    grid = everything.set_index("grid_id")
    assert grid.loc[1, "batch_ineligible"] == 1
    assert grid.loc[1, "after_in_service_stairwells"] == 57
    assert grid.loc[2, "label"] == "1/2 -> 1/2"
    assert grid.loc[1, "after_in_service_households"] == 57 * 12
    for when in ("before", "after"):
        assert everything[f"{when}_in_service_households"].dtype == np.int64
        assert everything[f"{when}_in_service_elderly_households"].dtype == np.int64


def test_funnel_in_status_order():
    long = funnel(stairwell_table(), "compound_id", STATUSES)
    c34 = long[long["compound_id"] == 34]
    assert c34["elevator_status"].tolist() == STATUSES
    assert c34["rank"].tolist() == list(range(len(STATUSES)))
    assert c34["stairwells"].sum() == 57
    assert c34["households"].sum() == 57 * 12 and long["households"].dtype == np.int64
    extended = [*STATUSES[:4], "public_notice", *STATUSES[4:]]
    assert funnel(stairwell_table(), "grid_id", extended)["elevator_status"].nunique() == 9


def test_bad_input_is_refused():
    frame = stairwell_table()
    with pytest.raises(InvalidInput):
        coverage(frame, "compound_id", ["none", "in_service"])
    with pytest.raises(InvalidInput):
        coverage(frame.drop(columns=["year_built"]), "compound_id", STATUSES)
    with pytest.raises(InvalidInput):
        apply_batch(frame, [9999])
    moved = apply_batch(frame, [16, 17])
    assert (moved.loc[moved["id"].isin([16, 17]), "elevator_status"] == "in_service").all()
    assert (frame.loc[frame["id"] == 16, "elevator_status"] != "in_service").all()
    assert np.array_equal(moved["id"], frame["id"])
