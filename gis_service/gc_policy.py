"""The garbage collector's policy for a process that holds a city in memory.

A 1M-stairwell city kept for answers is millions of objects the cyclic collector tracks
(shapely geometries: two million points and the streets). CPython makes a full pass over all
of them whenever the objects that outlived two younger passes grow by a quarter, so a call
that builds a million lists, or the first read of the city, paid several full passes of
0.3-0.7 s each that freed nothing (13 in the first network call: 6 of its 26 s). Two rules:
what exists at start-up (modules, routes, the catalog) is frozen out of every pass, and a full
pass is considered after FULL_PASS_EVERY passes of the middle generation instead of 10, so a
bulk read pays one or two. Young objects are still collected as before; objects are still
freed by their reference counts the moment they are dropped.
"""

from __future__ import annotations

import gc

FULL_PASS_EVERY = 1000
"""Middle-generation passes between full passes considered (CPython's default: 10)."""


def hold_big_data() -> None:
    """Set this process's collector for big data kept in memory (call once it has started;
    what is frozen is frozen once: a later app in the same process, as in tests, is not).

    No collection runs first: it would run other threads' finalizers on the caller's thread
    (a server's start-up), and what start-up leaves as garbage is small."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_PASS_EVERY)
    if not gc.get_freeze_count():
        gc.freeze()
