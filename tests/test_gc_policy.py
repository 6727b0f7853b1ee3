"""The collector's policy for a process holding a city: a bulk read pays few full passes."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import numpy as np
import pytest
import shapely

from gis_service.api.app import create_app
from gis_service.gc_policy import FULL_PASS_EVERY, hold_big_data


@pytest.fixture
def default_collector() -> Iterator[None]:
    """The collector as CPython starts it, with what the test process holds already frozen
    out of its counts (whatever ran before), restored afterwards."""
    kept, enabled, frozen = gc.get_threshold(), gc.isenabled(), gc.get_freeze_count()
    gc.enable()  # a library's context that turned it off on another thread may have left it so
    gc.freeze()
    gc.collect()  # of nothing: the old generation's size, which the quarter rule reads, now 0
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*kept)
    if not frozen:
        gc.unfreeze()
    if not enabled:
        gc.disable()


def full_passes_while_reading(rows: int) -> int:
    """Full collections while a city of points is held and `rows` rows are read as lists."""
    held = shapely.points(np.random.default_rng(1).random((600_000, 2)))
    passes = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            passes.append(info["collected"])

    gc.callbacks.append(count)
    try:
        read = [[i, i + 1] for i in range(rows)]  # a bulk read: a list per row, kept
    finally:
        gc.callbacks.remove(count)
    del read, held
    return len(passes)


def test_a_bulk_read_beside_a_held_city_pays_at_most_one_full_pass(default_collector):
    before = full_passes_while_reading(1_000_000)
    hold_big_data()
    assert gc.get_threshold()[2] == FULL_PASS_EVERY
    after = full_passes_while_reading(1_000_000)
    print(f"full passes: {before} with CPython's default, {after} with ours")
    assert before >= 3  # CPython's default: a pass each time the old objects grow by a quarter
    assert after <= 1


def test_the_server_sets_the_policy_at_start_up(default_collector, serve, shared_demo_db):
    live = serve(create_app(shared_demo_db))
    assert gc.get_threshold()[2] == FULL_PASS_EVERY
    with live.client() as client:
        assert client.get("/health").status_code == 200
