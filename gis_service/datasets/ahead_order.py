"""In what order, and when, kept answers are refreshed after an edit with no request.

The question asked last goes first, at once: its next request, likely already on its way, waits
for it. Each of the others waits for a quiet moment (`busy` says no, or YIELD_MAX_S passed), so
it takes no CPU from answers on their way, and is left to the next pass when `more_written` says
another write committed meanwhile: that pass begins again with the question asked last. A
question nobody asked for AHEAD_FOR_S is left to its next request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from gis_service.datasets.live import Begin, LiveAnswers

LOG = logging.getLogger(__name__)
AHEAD_FOR_S = 1800.0
"""A question not asked for this long is refreshed only when it is asked again."""
YIELD_MAX_S = 1.0
"""How long a refresh waits for a quiet moment before it goes on anyway."""


def refresh_ahead(
    live: LiveAnswers, begin: Begin, busy: Callable[[], bool] = lambda: False,
    more_written: Callable[[], bool] = lambda: False,
) -> int:  # fmt: skip
    """Refresh the kept questions from the feed, with no request, in that order, each in a
    transaction `begin` opens; how many."""
    since = time.monotonic() - AHEAD_FOR_S
    due = [question for at, question in sorted(live.asked_at(), key=lambda a: -a[0])
           if at > since]  # fmt: skip
    done = 0
    for index, question in enumerate(due):
        if index:
            wait_while(lambda: busy() and not more_written(), YIELD_MAX_S)
            if more_written():
                break
        try:
            done += live.refresh_ahead_one(question, begin)
        except Exception:  # its next request refreshes it, or says what is wrong
            LOG.warning("a kept answer could not be refreshed ahead", exc_info=True)
    return done


def wait_while(busy: Callable[[], bool], at_most: float) -> None:
    """Return once `busy` says no (or after at_most seconds)."""
    deadline = time.monotonic() + at_most
    while busy() and time.monotonic() < deadline:
        time.sleep(0.002)
