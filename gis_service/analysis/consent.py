"""The owners' vote judged by a consent rule: participation, approval, verdict, what is missing.

Pure arithmetic over households in exact fractions (no floating point at a threshold). Area
counts per flat; headcount counts owners, an owner of several flats once (they take part when
any of their flats voted, and agree when they agreed for most of their voted area). Abstentions
take part and do not approve.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

VOTED = ("agree", "object", "abstain")
QUORUM_NOT_MET, APPROVAL_NOT_MET, PASSED, NO_REGISTER = (
    "quorum_not_met", "approval_not_met", "passed", "no_register",
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """A consent rule: who votes, quorum and approval by area and by headcount (None: none)."""

    code: str
    voters: str = "stairwell"  # or "building"
    quorum_area: Fraction | None = None
    quorum_owners: Fraction | None = None
    approval_area: Fraction | None = None
    approval_owners: Fraction | None = None
    approval_base: str = "participating"  # or "all": approval counted over every owner


@dataclass(frozen=True)
class Flat:
    """One household as the vote sees it."""

    id: int
    floor: int
    door: str
    area: Fraction
    owner: str
    vote: str = "not_voted"
    visited: bool = False


@dataclass
class Shortfall:
    """What a threshold still lacks: owners, square metres and the fewest flats giving them."""

    owners: int = 0
    area_m2: Fraction = Fraction(0)
    flats_for_area: int = 0

    def met(self) -> bool:
        """True when nothing is lacking."""
        return self.owners == 0 and self.area_m2 == 0


@dataclass
class Evaluation:
    """The vote of one unit (stairwell or building) under a rule."""

    rule: str
    households: int = 0
    owners: int = 0
    area_m2: Fraction = Fraction(0)
    voted_owners: int = 0
    voted_area_m2: Fraction = Fraction(0)
    agree_owners: int = 0
    agree_area_m2: Fraction = Fraction(0)
    verdict: str = NO_REGISTER
    to_vote: Shortfall = field(default_factory=Shortfall)
    to_agree: Shortfall = field(default_factory=Shortfall)
    not_voted: list[Flat] = field(default_factory=list)

    def shares(self) -> dict[str, float | None]:
        """Participation over all, approval over the base the rule counts on."""
        return {
            "participation_area": ratio(self.voted_area_m2, self.area_m2),
            "participation_owners": ratio(self.voted_owners, self.owners),
            "approval_area": ratio(self.agree_area_m2, self.voted_area_m2),
            "approval_owners": ratio(self.agree_owners, self.voted_owners),
        }


def ratio(part: Fraction | int, whole: Fraction | int) -> float | None:
    """part / whole as a float (None for an empty whole)."""
    return float(Fraction(part) / whole) if whole else None


def owners_needed(threshold: Fraction | None, have: int, base: int) -> int:
    """How many more owners reach threshold × base (0 without a threshold)."""
    if threshold is None:
        return 0
    return max(0, math.ceil(threshold * base - have))


def area_needed(threshold: Fraction | None, have: Fraction, base: Fraction) -> Fraction:
    """How many more square metres reach threshold × base (0 without a threshold)."""
    if threshold is None:
        return Fraction(0)
    return max(Fraction(0), threshold * base - have)


def fewest_flats(short: Fraction, areas: Iterable[Fraction]) -> int:
    """The fewest of these flats (largest first) whose areas add up to the shortfall."""
    total, count = Fraction(0), 0
    for area in sorted(areas, reverse=True):
        if total >= short:
            break
        total, count = total + area, count + 1
    return count if total >= short else count + 1


def owner_votes(flats: Sequence[Flat]) -> dict[str, str]:
    """Each owner's vote: not_voted, agree when most of their voted area agreed, else object."""
    voted: dict[str, Fraction] = {}
    agreed: dict[str, Fraction] = {}
    for flat in flats:
        voted.setdefault(flat.owner, Fraction(0))
        agreed.setdefault(flat.owner, Fraction(0))
        if flat.vote in VOTED:
            voted[flat.owner] += flat.area
        if flat.vote == "agree":
            agreed[flat.owner] += flat.area
    return {
        owner: "not_voted" if not area else "agree" if agreed[owner] * 2 > area else "other"
        for owner, area in voted.items()
    }


def evaluate(flats: Sequence[Flat], rule: Rule) -> Evaluation:
    """Participation, approval, verdict and what is missing for one unit's households."""
    found = Evaluation(rule.code, households=len(flats))
    if not flats:
        return found
    owners = owner_votes(flats)
    found.owners = len(owners)
    found.area_m2 = sum((f.area for f in flats), Fraction(0))
    found.voted_owners = sum(1 for v in owners.values() if v != "not_voted")
    found.agree_owners = sum(1 for v in owners.values() if v == "agree")
    found.voted_area_m2 = sum((f.area for f in flats if f.vote in VOTED), Fraction(0))
    found.agree_area_m2 = sum((f.area for f in flats if f.vote == "agree"), Fraction(0))
    waiting = [f for f in flats if f.vote not in VOTED]
    found.not_voted = sorted(waiting, key=lambda f: (f.floor, f.door))
    to_vote = area_needed(rule.quorum_area, found.voted_area_m2, found.area_m2)
    found.to_vote = Shortfall(
        owners_needed(rule.quorum_owners, found.voted_owners, found.owners),
        to_vote, fewest_flats(to_vote, (f.area for f in waiting)),
    )  # fmt: skip
    everyone = rule.approval_base == "all"
    base_owners = found.owners if everyone else found.voted_owners
    base_area = found.area_m2 if everyone else found.voted_area_m2
    to_agree = area_needed(rule.approval_area, found.agree_area_m2, base_area)
    against = [f.area for f in flats if f.vote != "agree" and (everyone or f.vote in VOTED)]
    found.to_agree = Shortfall(
        owners_needed(rule.approval_owners, found.agree_owners, base_owners),
        to_agree, fewest_flats(to_agree, against),
    )  # fmt: skip
    if not found.to_vote.met() or (not everyone and found.voted_owners == 0):
        found.verdict = QUORUM_NOT_MET
    elif not found.to_agree.met():
        found.verdict = APPROVAL_NOT_MET
    else:
        found.verdict = PASSED
    return found
