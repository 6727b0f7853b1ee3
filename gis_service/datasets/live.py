"""Answers kept up to date from the row_change feed, so an edit costs a refresh, not a recompute.

Each question (with the caller's scope) keeps its latest value, the data versions it was
computed at and its place in the feed. When only fed tables (stairwells, buildings) changed
since, the question's own refresh takes the written rows and returns the value now (re-reading
those rows, re-counting the units they touch); anything else that changed, a bulk write, or a
reader too old for the feed, computes it again. Values are never changed in place: a refresh
returns a new value (pandas copy-on-write keeps that cheap), so a request still rendering the
old one is unaffected.

A question asked with `Ahead` (how to open a transaction in the asker's scope) is also
refreshed with no request, as soon as a write commits (datasets/edit_listener.py calls
refresh_ahead). One question is worked on by one thread at a time: a request that arrives
while its refresh runs waits for it and takes its value, rather than doing it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from gis_service.datasets.cache import VersionKey, versions_key
from gis_service.datasets.changes import FED_TABLES, Changes, Seen, changes_since, seen_now
from gis_service.datasets.rows_json import ROWS_JSON

LOG = logging.getLogger(__name__)
Refresh = Callable[[sa.Connection, Any, Changes], Any]
"""How a question's value follows written rows: (connection, value then, changes) -> value now."""
Follower = Callable[[sa.Connection, Any, VersionKey], None]
"""What follows a question's value refreshed ahead (its answer rendered again): (connection,
value now, data versions now)."""
AHEAD_FOR_S = 1800.0
"""A question not asked for this long is refreshed only when it is asked again."""
FOLLOWERS = 4
"""Followers a question keeps (the last named)."""
YIELD_MAX_S = 1.0
"""How long a refresh ahead waits for requests being served before it goes on anyway."""


@dataclass(frozen=True)
class Ahead:
    """How a question is refreshed with no request: a transaction in its asker's scope, the
    tables its data versions are of, and its refresh."""

    transaction: Callable[[], AbstractContextManager[sa.Connection]]
    tables: tuple[str, ...]
    refresh: Refresh


@dataclass(frozen=True)
class Kept:
    """A question's latest value, the data versions it was computed at, its place in the feed
    (and how it is refreshed with no request)."""

    versions: VersionKey
    seen: Seen
    value: Any
    ahead: Ahead | None = None


def only_fed_changed(before: VersionKey, now: VersionKey) -> bool:
    """Whether every table but the fed ones has the same data version."""
    old, new = dict(before), dict(now)
    return old.keys() == new.keys() and all(old[t] == new[t] for t in old if t not in FED_TABLES)


class LiveAnswers:
    """The latest value of each question, refreshed from the feed; least recently used go."""

    def __init__(self, maxsize: int = 8) -> None:
        """An empty store holding at most maxsize questions."""
        self.maxsize = maxsize
        self._kept: OrderedDict[Hashable, Kept] = OrderedDict()
        self._asked: dict[Hashable, float] = {}
        self._working: dict[Hashable, threading.Lock] = {}
        self._followers: dict[Hashable, OrderedDict[Hashable, Follower]] = {}
        self._lock = threading.Lock()
        self.refreshes = 0
        self.refreshed_ahead = 0

    def _get(self, question: Hashable) -> Kept | None:
        with self._lock:
            kept = self._kept.get(question)
            if kept is not None:
                self._kept.move_to_end(question)
            return kept

    def _put(self, question: Hashable, kept: Kept) -> None:
        with self._lock:
            self._kept[question] = kept
            self._kept.move_to_end(question)
            while len(self._kept) > self.maxsize:
                gone, _ = self._kept.popitem(last=False)
                self._asked.pop(gone, None)
                self._working.pop(gone, None)
                self._followers.pop(gone, None)

    def _work_on(self, question: Hashable) -> threading.Lock:
        """The lock a thread holds while it refreshes or computes the question."""
        with self._lock:
            return self._working.setdefault(question, threading.Lock())

    def asked(self, question: Hashable) -> None:
        """Note that the question was asked now (its answer's bytes may have been sent from
        elsewhere): it is refreshed ahead for AHEAD_FOR_S more."""
        with self._lock:
            if question in self._kept:
                self._asked[question] = time.monotonic()

    def follow(self, question: Hashable, name: Hashable, follower: Follower) -> None:
        """After each refresh ahead of the question, call the follower (the last FOLLOWERS
        named are kept; a name given again replaces its follower)."""
        with self._lock:
            if question not in self._kept:
                return
            named = self._followers.setdefault(question, OrderedDict())
            named[name] = follower
            named.move_to_end(name)
            while len(named) > FOLLOWERS:
                named.popitem(last=False)

    def value(
        self,
        conn: sa.Connection,
        question: Hashable,
        versions: VersionKey,
        compute: Callable[[], Any],
        refresh: Refresh,
        ahead: Ahead | None = None,
    ) -> tuple[Any, bool]:
        """The question's value at these versions (hit=True when unchanged, or refreshed ahead
        meanwhile), refreshed from the feed when only stairwells and buildings were written
        since, else computed."""
        with self._work_on(question):  # a refresh running ahead is waited for, not repeated
            kept = self._get(question)
            self.asked(question)
            if kept is not None and kept.versions == versions:
                return kept.value, True
            if kept is not None and only_fed_changed(kept.versions, versions):
                changes, seen = changes_since(conn, kept.seen)
                if not changes.everything:
                    value = refresh(conn, kept.value, changes) if changes else kept.value
                    self.refreshes += 1
                    self._put(question, Kept(versions, seen, value, ahead))
                    return value, False
            seen = seen_now(conn)  # before reading: what is written meanwhile is read again later
            value = compute()
            self._put(question, Kept(versions, seen, value, ahead))
            self.asked(question)
            return value, False

    def refresh_ahead(
        self, busy: Callable[[], bool] = lambda: False,
        more_written: Callable[[], bool] = lambda: False,
    ) -> int:  # fmt: skip
        """Refresh from the feed, with no request, each question asked in the last AHEAD_FOR_S
        that says how (one needing a full compute waits for its next request); how many.

        The last asked goes first, at once: its next request, likely already on its way,
        waits for it. Each of the others waits while the server is `busy` with requests (at
        most YIELD_MAX_S), so it takes no CPU from their answers, and is left to the
        next pass when `more_written` says another write committed meanwhile (that pass
        begins again with the question asked last).
        """
        since = time.monotonic() - AHEAD_FOR_S
        with self._lock:
            asked = [(self._asked.get(question, since), question)
                     for question, kept in self._kept.items() if kept.ahead]  # fmt: skip
        due = [question for at, question in sorted(asked, key=lambda a: -a[0]) if at > since]
        done = 0
        for index, question in enumerate(due):
            if index:
                wait_while(lambda: busy() and not more_written(), YIELD_MAX_S)
                if more_written():
                    break
            try:
                done += self._refresh_one_ahead(question)
            except Exception:  # its next request refreshes it, or says what is wrong
                LOG.warning("a kept answer could not be refreshed ahead", exc_info=True)
        self.refreshed_ahead += done
        return done

    def _refresh_one_ahead(self, question: Hashable) -> bool:
        """Refresh one question from the feed in its asker's scope; whether it was."""
        with self._work_on(question):
            with self._lock:
                kept = self._kept.get(question)  # not moved: no one asked
            if kept is None or kept.ahead is None:
                return False
            ahead = kept.ahead
            with ahead.transaction() as conn:
                versions = versions_key(conn, ahead.tables)
                if versions == kept.versions or not only_fed_changed(kept.versions, versions):
                    return False
                changes, seen = changes_since(conn, kept.seen)
                if changes.everything:
                    return False
                value = ahead.refresh(conn, kept.value, changes) if changes else kept.value
                with self._lock:
                    if self._kept.get(question) is not kept:
                        return False  # dropped meanwhile
                    self._kept[question] = Kept(versions, seen, value, ahead)
                    followers = list(self._followers.get(question, {}).values())
                for follower in followers:  # before the next request may take the value
                    try:
                        follower(conn, value, versions)
                    except Exception:  # its next request renders it, or says what is wrong
                        LOG.warning("a kept answer could not be rendered ahead", exc_info=True)
            return True


def wait_while(busy: Callable[[], bool], at_most: float) -> None:
    """Return once `busy` says no (or after at_most seconds)."""
    deadline = time.monotonic() + at_most
    while busy() and time.monotonic() < deadline:
        time.sleep(0.002)


def splice_units(
    table: pd.DataFrame, fresh: pd.DataFrame, unit_col: str, units: set[int | None]
) -> pd.DataFrame:
    """A per-unit table with the rows of these units replaced by fresh ones (a unit without
    fresh rows is gone), sorted by unit as a GROUP BY gives them (no unit last); its JSON
    rows are those of the table but for the fresh ones (datasets/rows_json.py)."""
    ids = [u for u in units if u is not None]
    touched = table[unit_col].isin(ids).to_numpy(bool)
    if None in units:
        touched |= table[unit_col].isna().to_numpy(bool)
    at = np.flatnonzero(touched)
    out = replaced_at(table, at, fresh, unit_col)  # the same units, re-counted
    if out is not None:
        taken = np.arange(len(table))
        taken[at] = -1
        ROWS_JSON.spliced(out, table, taken)
        return out
    fresh = fresh[list(table.columns)]
    taken = np.flatnonzero(~touched)
    out = table[~touched].reset_index(drop=True)
    if len(fresh):
        out = pd.concat([out, fresh], ignore_index=True)
        taken = np.concatenate([taken, np.full(len(fresh), -1)])
        order = out[unit_col].sort_values(na_position="last", kind="stable").index.to_numpy()
        out, taken = out.take(order).reset_index(drop=True), taken[order]
    ROWS_JSON.spliced(out, table, taken)
    return out


def replaced_at(
    table: pd.DataFrame, at: np.ndarray, rows: pd.DataFrame, key: str
) -> pd.DataFrame | None:
    """The table with its rows at these positions replaced by `rows` (the same columns and
    types, and the same keys in the same order; else None): with_values_at."""
    order = rows.columns.get_indexer(table.columns)
    if len(at) != len(rows) or len(rows.columns) != len(order) or (order < 0).any():
        return None
    kinds = rows.dtypes.to_numpy()[order]
    if any(kind != dtype for kind, dtype in zip(kinds, table.dtypes.to_numpy(), strict=True)):
        return None
    new = rows.to_numpy(object)[:, order]  # one pass over the few rows, not a Series a column
    names = list(table.columns)
    keyed = names.index(key)
    if changed_columns(table, at, [key], new[:, keyed : keyed + 1]):
        return None
    return _with_rows_at(table, at, names, new)


def with_values_at(table: pd.DataFrame, at: np.ndarray, values: dict[str, Any]) -> pd.DataFrame:
    """A new table whose named columns hold these values (any sequence, converted to the
    column's type) at these positions, copying only the columns whose values there differ: the
    table itself is left as it is."""
    new = np.empty((len(at), len(values)), object)
    for j, column in enumerate(values.values()):
        new[:, j] = np.asarray(column, dtype=object)
    return _with_rows_at(table, at, list(values), new)


def _with_rows_at(table: pd.DataFrame, at: np.ndarray, names: list[str], new: np.ndarray) -> (
    pd.DataFrame
):
    """with_values_at of the named columns' new values as one object array (a row per
    position, a column per name)."""
    out = table.copy(deep=False)
    for j in changed_columns(table, at, names, new):
        current = table[names[j]]
        changed: Any  # this column only, not its whole block
        if isinstance(current.dtype, np.dtype) and current.dtype.kind in "iufb":
            changed = current.to_numpy(copy=True)  # numbers: numpy's own assignment
            changed[at] = pd.array(new[:, j], dtype=current.dtype).to_numpy()
        else:
            changed = current.array.copy()
            changed[at] = pd.array(new[:, j], dtype=current.dtype)
        out.isetitem(table.columns.get_loc(names[j]), changed)
    return out


def changed_columns(table: pd.DataFrame, at: np.ndarray, names: list[str], new: np.ndarray) -> (
    list[int]
):
    """Which of the named columns (by their place in `names`) hold other values at these
    positions than `new` (missing ones, None, NaN or NA, alike): all the rows compared at once
    for an edit's few, column by column through pandas for many."""
    if len(at) > SHORT:
        return [j for j, name in enumerate(names)
                if not same_values(table[name].array[at], new[:, j])]  # fmt: skip
    if not len(at):
        return []
    places = [table.columns.get_loc(name) for name in names]
    if len(at) < FEW:  # value by value: no pass over every block of a frame edits left apart
        old = np.empty(new.shape, object)
        for i, row in enumerate(at.tolist()):
            for j, place in enumerate(places):
                old[i, j] = table.iat[row, place]
    else:
        old = table.take(at).to_numpy(object)[:, places]
    old_missing, new_missing = pd.isna(old), pd.isna(new)
    old, new = old.copy(), new.copy()
    old[old_missing] = new[new_missing] = None  # so that == compares values, never NA
    differ = (old != new) | (old_missing != new_missing)
    return np.flatnonzero(differ.any(axis=0)).tolist()


FEW = 8
"""Below this many rows, changed_columns reads their values one by one (from a frame of a
block per column, as edits leave it, a take costs 130 us whatever the rows)."""
SHORT = 64
"""Up to this many rows, changed_columns compares values itself (cheaper than pandas)."""


def same_values(old: Any, new: Any) -> bool:
    """Whether a pandas array and a sequence of as many values hold the same values, missing
    ones (None, NaN, NA) alike, compared through pandas (changed_columns' way for many rows)."""
    try:
        new = pd.array(new, dtype=old.dtype)
    except (TypeError, ValueError):
        return False  # not even of the column's type
    return bool(pd.Series(old).equals(pd.Series(new)))
