"""The edit listener under a steady stream of writes: passes bounded to a share of the time,
the writes of its rests refreshed together after them, none left behind."""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import pairwise

from sqlalchemy.engine import Engine

from gis_service.datasets import edit_listener
from gis_service.datasets.edit_listener import EditListener
from tests.datasets.conftest import execute

PASS_S = 0.04
"""The CPU seconds each pass of the test's listener takes (as a refresh on a big city would)."""


def test_a_stream_of_writes_takes_at_most_a_share_of_the_time(demo_db: Engine) -> None:
    """Thirty writes 10 ms apart, each pass taking 40 ms of CPU: after each pass the listener
    rests three times as long (SHARE 0.25), the writes meanwhile are one pass, and the last pass
    comes after the last write; a stop during a rest (0.9 s after a pass of 0.3 s) ends it at
    once."""
    passes: list[tuple[float, float]] = []
    takes = [PASS_S]

    def on_write(_more_written: Callable[[], bool]) -> None:
        started, cpu = time.monotonic(), time.thread_time()
        while time.thread_time() - cpu < takes[0]:  # a refresh's CPU work
            sum(range(1000))
        passes.append((started, time.monotonic()))

    listener = EditListener(demo_db, on_write)
    listener.wanted()
    try:
        assert listener.listening.wait(10)
        time.sleep(0.3)  # the catch-up pass after listening, and its rest
        passes.clear()
        first_write = time.monotonic()
        for _ in range(30):
            execute(demo_db, "SELECT pg_notify('gis_row_change', 'stairwell')")
            last_write = time.monotonic()
            time.sleep(0.01)
        deadline = time.monotonic() + 5
        while not (passes and passes[-1][0] > last_write - 0.005) and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(PASS_S * 2)  # that pass ended
        span = passes[-1][1] - first_write
        assert 2 <= len(passes) <= span * edit_listener.SHARE / PASS_S + 2, passes  # not 30
        rest = 1 / edit_listener.SHARE - 1
        for (_, ended), (next_started, _) in pairwise(passes):
            assert next_started - ended >= 0.9 * rest * PASS_S, passes
        assert passes[-1][0] > last_write - 0.005  # the last write was refreshed
        takes[0], seen = 0.3, len(passes)  # a long pass, so a long rest after it
        execute(demo_db, "SELECT pg_notify('gis_row_change', 'stairwell')")
        deadline = time.monotonic() + 5
        while len(passes) == seen and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(passes) == seen + 1
    finally:
        stopping = time.monotonic()
        listener.stop()
    assert time.monotonic() - stopping < edit_listener.WAIT_S * 2  # a rest does not hold a stop
