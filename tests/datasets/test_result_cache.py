"""The result cache computes a key once however many ask for it at the same time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gis_service.datasets.cache import ResultCache


def test_a_key_asked_while_it_is_computed_is_computed_once():
    """Three planners open the same city at once: one street graph is built (0.3 s here), the
    two who came meanwhile wait and take it."""
    cache, calls, started = ResultCache(), [], threading.Event()

    def build() -> str:
        calls.append(threading.get_ident())
        started.set()
        time.sleep(0.3)
        return "graph"

    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(cache.get_or_compute, "city", build)
        assert started.wait(5)
        others = [pool.submit(cache.get_or_compute, "city", build) for _ in range(2)]
        answers = [first.result(5), *(other.result(5) for other in others)]
    assert len(calls) == 1
    assert answers == [("graph", False), ("graph", True), ("graph", True)]
    assert cache.get_or_compute("other city", lambda: "its graph") == ("its graph", False)


def test_a_failed_computation_fails_once_for_all_who_waited_then_is_tried_again():
    """A build that times out (after 0.3 s here): the two who asked meanwhile get its error at
    once, not a build each after it, and the next caller builds it anew."""
    cache, calls, started = ResultCache(), [], threading.Event()

    def failing() -> str:
        calls.append(threading.get_ident())
        started.set()
        time.sleep(0.3)
        raise TimeoutError("statement timeout")

    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(cache.get_or_compute, "city", failing)
        assert started.wait(5)
        others = [pool.submit(cache.get_or_compute, "city", failing) for _ in range(2)]
        for answer in (first, *others):
            with pytest.raises(TimeoutError):
                answer.result(5)
    assert len(calls) == 1
    assert cache.get_or_compute("city", lambda: "graph") == ("graph", False)
    assert cache.get_or_compute("city", failing) == ("graph", True)
