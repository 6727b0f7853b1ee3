"""Consent rules and household votes from PostGIS (in the caller's role), judged per stairwell.

A rule is chosen by code, or as the one in force on a day (a city's own rule before the
national one). The votes are those on a proposal given, else on each stairwell's current
elevator proposal (the household's own vote columns, kept so by the database). Units vote as
the rule says: a stairwell's owners, or its building's (every
stairwell of the building then carries the building's verdict). A batch or compound sums
the verdicts of its stairwells.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pandas as pd
import sqlalchemy as sa

from gis_service.analysis.consent import Evaluation, Flat, Rule, evaluate
from gis_service.datasets.params import bad
from gis_service.datasets.proposals import asks, proposal_scope
from gis_service.errors import NotFound
from gis_service.text import Text

SCOPES = ("stairwell_id", "batch_id", "compound_id", "building_id")
VERDICTS = ("passed", "approval_not_met", "quorum_not_met", "no_register")
FLAT_COLUMNS = [
    "id", "label", "building_id", "batch_id", "compound_id", "elevator_status", "verdict",
    "households", "owners", "area_m2", "voted_owners", "voted_area_m2", "agree_owners",
    "agree_area_m2", "participation_area", "participation_owners", "approval_area",
    "approval_owners", "proposal_id",
]  # fmt: skip


@dataclass(frozen=True)
class StoredRule:
    """A consent_rule row: the rule, where and when it applies, its titles and source."""

    rule: Rule
    city: str | None
    valid_from: dt.date
    valid_until: dt.date | None
    title: dict[str, str]
    source: str

    def as_dict(self) -> dict[str, Any]:
        """The rule as a JSON answer states it (fractions as text)."""
        r = self.rule
        thresholds = {
            name: (str(value) if value is not None else None)
            for name, value in (
                ("quorum_area", r.quorum_area), ("quorum_owners", r.quorum_owners),
                ("approval_area", r.approval_area), ("approval_owners", r.approval_owners),
            )
        }  # fmt: skip
        return {
            "code": r.code, "city": self.city, "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "voters": r.voters, "approval_base": r.approval_base, **thresholds,
            "title": self.title, "source": self.source,
        }  # fmt: skip


def fraction(text: str | None) -> Fraction | None:
    """'2/3' as an exact fraction (None stays None)."""
    return Fraction(text) if text else None


def stored_rules(conn: sa.Connection) -> list[StoredRule]:
    """Every consent rule, oldest first."""
    rows = conn.execute(sa.text("SELECT * FROM consent_rule ORDER BY valid_from, code")).mappings()
    return [stored_rule(row) for row in rows]


def stored_rule(row: Any) -> StoredRule:
    """One consent_rule row as a rule with its place, period, titles and source."""
    rule = Rule(
        row["code"], row["voters"], fraction(row["quorum_area"]), fraction(row["quorum_owners"]),
        fraction(row["approval_area"]), fraction(row["approval_owners"]), row["approval_base"],
    )  # fmt: skip
    title = {"zh": row["title_zh"], "en": row["title_en"]}
    period = (row["valid_from"], row["valid_until"])
    return StoredRule(rule, row["city"], *period, title, row["source"])


def pick_rule(
    rules: list[StoredRule], code: str | None, city: str | None, on: dt.date
) -> StoredRule:
    """The rule named, else the one in force on the day (the city's own before the nation's)."""
    if code is not None:
        for stored in rules:
            if stored.rule.code == code:
                return stored
        raise bad("rule", f"no consent rule {code!r} (rules: {', '.join(codes(rules))})")
    in_force = [
        s for s in rules
        if s.valid_from <= on and (s.valid_until is None or on < s.valid_until)
        and s.city in (None, city)
    ]  # fmt: skip
    if not in_force:
        raise bad("on", f"no consent rule is in force on {on.isoformat()}")
    return max(in_force, key=lambda s: (s.city is not None, s.valid_from))


def codes(rules: list[StoredRule]) -> list[str]:
    """The codes of the rules."""
    return [s.rule.code for s in rules]


def scope_of(
    scope: dict[str, int | None], proposal: dict[str, Any] | None = None
) -> tuple[str, int]:
    """The one scope asked for: a stairwell, a batch or a compound (else the proposal's)."""
    given = [(name, value) for name, value in scope.items() if value is not None]
    if not given and proposal is not None:
        return proposal_scope(proposal)
    if len(given) != 1:
        raise bad("scope", "give exactly one of stairwell_id, batch_id, compound_id")
    return given[0]


def stairwells_in(conn: sa.Connection, column: str, value: int) -> list[dict[str, Any]]:
    """The stairwells of the scope the caller may see (404 when there is none)."""
    assert column in SCOPES  # identifiers only from this module's list
    target = "id" if column == "stairwell_id" else column
    rows = conn.execute(
        sa.text(f"SELECT id, building_id, label, elevator_status, batch_id, compound_id, "
                f"gis_current_proposal(id) AS proposal_id "
                f"FROM stairwell WHERE {target} = :value ORDER BY id"),
        {"value": value},
    ).mappings()  # fmt: skip
    found = [dict(row) for row in rows]
    if not found:
        raise NotFound(f"no stairwell in {column} {value}")
    return found


def flats_of(
    conn: sa.Connection, unit: str, keys: list[int], proposal_id: int | None = None
) -> dict[int, list[Flat]]:
    """The households of these stairwells (unit 'stairwell') or buildings, by unit key, with
    their votes on the proposal (default: each stairwell's current elevator proposal)."""
    column = "s.building_id" if unit == "building" else "s.id"
    vote = "h.vote" if proposal_id is None else "coalesce(v.vote, 'not_voted')"
    rows = conn.execute(
        sa.text(f"SELECT {column} AS unit, h.id, h.floor, h.door, h.area_m2, {vote} AS vote, "
                "coalesce(h.owner_group, '#' || h.id) AS owner, h.visited_on IS NOT NULL "
                "AS visited FROM household h JOIN stairwell s ON s.id = h.stairwell_id "
                "LEFT JOIN household_vote v ON v.household_id = h.id AND v.proposal_id = :p "
                f"WHERE {column} = ANY(:keys) ORDER BY h.floor, h.door"),
        {"keys": keys, "p": proposal_id},
    )  # fmt: skip
    found: dict[int, list[Flat]] = {}
    for row in rows:
        flat = Flat(row.id, row.floor, row.door, Fraction(row.area_m2), row.owner, row.vote,
                    row.visited)  # fmt: skip
        found.setdefault(int(row.unit), []).append(flat)
    return found


def m2(value: Fraction) -> float:
    """Square metres rounded up to the centimetre square (never understating what is missing)."""
    return float(-((-value * 100) // 1) / 100)


def missing_text(found: Evaluation, labels: dict[str, Text], lang: str) -> str:
    """What the vote still lacks, in one language ('' when it passed)."""
    parts: list[str] = []
    for short, prefix in ((found.to_vote, "short_vote"), (found.to_agree, "short_agree")):
        if short.owners:
            parts.append(labels[f"{prefix}_owners"].pick(lang).format(n=short.owners))
        if short.area_m2:
            parts.append(labels[f"{prefix}_area"].pick(lang).format(
                m2=f"{m2(short.area_m2):g}", n=short.flats_for_area))  # fmt: skip
    return ("; " if lang == "en" else ";").join(parts)


def stairwell_row(sw: dict[str, Any], found: Evaluation, labels: dict[str, Text]) -> dict[str, Any]:
    """One stairwell's evaluation as the answer lists it."""
    return {
        **sw,
        "verdict": found.verdict,
        "verdict_label": labels[found.verdict].model_dump(),
        "households": found.households, "owners": found.owners,
        "area_m2": float(found.area_m2),
        "voted_owners": found.voted_owners, "voted_area_m2": float(found.voted_area_m2),
        "agree_owners": found.agree_owners, "agree_area_m2": float(found.agree_area_m2),
        **{k: (round(v, 4) if v is not None else None) for k, v in found.shares().items()},
        "to_vote": {"owners": found.to_vote.owners, "area_m2": m2(found.to_vote.area_m2),
                    "households_for_area": found.to_vote.flats_for_area},
        "to_agree": {"owners": found.to_agree.owners, "area_m2": m2(found.to_agree.area_m2),
                     "households_for_area": found.to_agree.flats_for_area},
        "missing": {lang: missing_text(found, labels, lang) for lang in ("zh", "en")},
        "not_voted": [{"id": f.id, "floor": f.floor, "door": f.door, "visited": f.visited}
                      for f in found.not_voted],
    }  # fmt: skip


def consent_report(
    conn: sa.Connection,
    stored: StoredRule,
    scope: tuple[str, int],
    labels: dict[str, Text],
    proposal: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The verdict of every stairwell of the scope under the rule, and the counts per verdict;
    the votes on the proposal given (its stairwells only), else on each current one."""
    stairwells = stairwells_in(conn, *scope)
    if proposal is not None:
        stairwells = [{**sw, "proposal_id": proposal["id"]} for sw in stairwells
                      if asks(proposal, sw)]  # fmt: skip
        if not stairwells:
            raise NotFound(f"proposal {proposal['id']} asks no stairwell of {scope[0]} {scope[1]}")
    unit = stored.rule.voters
    key = "building_id" if unit == "building" else "id"
    keys = sorted({int(sw[key]) for sw in stairwells})
    flats = flats_of(conn, unit, keys, proposal["id"] if proposal else None)
    evaluations = {k: evaluate(v, stored.rule) for k, v in flats.items()}
    rows = [
        stairwell_row(sw, evaluations.get(int(sw[key])) or evaluate([], stored.rule), labels)
        for sw in stairwells
    ]
    counts = Counter(row["verdict"] for row in rows)
    return {
        "rule": stored.as_dict(),
        "proposal": proposal,
        "scope": {scope[0]: scope[1]},
        "voters": {"unit": unit, "label": labels[unit].model_dump()},
        "verdicts": {v: counts.get(v, 0) for v in VERDICTS},
        "verdict_labels": {v: labels[v].model_dump() for v in VERDICTS},
        "stairwells": rows,
    }


def report_rows(report: dict[str, Any]) -> pd.DataFrame:
    """The stairwells of a report as flat rows, with what is missing in both languages."""
    rows = [
        {**{c: row[c] for c in FLAT_COLUMNS}, "rule": report["rule"]["code"],
         "missing_zh": row["missing"]["zh"], "missing_en": row["missing"]["en"],
         "not_voted": " ".join(f"{h['floor']}F:{h['door']}" for h in row["not_voted"])}
        for row in report["stairwells"]
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=[*FLAT_COLUMNS, "rule", "missing_zh", "missing_en",
                                       "not_voted"])  # fmt: skip
