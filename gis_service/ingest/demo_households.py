"""The demo's household register: every stairwell's flats, their areas and votes.

Counts add up to the stairwell's figures (households, elderly households, agreeing and objecting
households). Objections and abstentions sit on the lowest floors. In-service stairwells carry
votes that pass the Civil Code rule; the Shuiyin Road No. 34 batch gets a realistic mix: the
stairwells with the least support are short of the quorum (large ground-floor flats stayed away)
(two work units still own most of the agreeing flats, so by headcount too few owners took
part) or of approval by area (large lower flats object or abstain), the others pass.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import numpy as np

from gis_service.analysis.consent import Flat, Rule, evaluate
from gis_service.ingest.demo_layout import Tables

CIVIL_CODE = Rule(
    "civil_code_278", quorum_area=Fraction(2, 3), quorum_owners=Fraction(2, 3),
    approval_area=Fraction(3, 4), approval_owners=Fraction(3, 4),
)  # fmt: skip
SHORT_OF_QUORUM = 5  # batch stairwells short of the quorum (by area)
SHORT_OF_APPROVAL = 6  # batch stairwells short of approval by area
LAYOUTS_M2 = (52.0, 58.5, 63.0, 71.5, 76.0)


def floors_and_doors(households: int, floors: int) -> list[tuple[int, str]]:
    """Floor and door label of each flat, from the ground floor up."""
    per_floor = max(1, -(-households // floors))
    return [(1 + i // per_floor, f"{1 + i // per_floor}{i % per_floor + 1:02d}")
            for i in range(households)]  # fmt: skip


def votes_for(households: int, agree: int, objecting: int, rest: str) -> list[str]:
    """Votes from the ground floor up: objections, then the rest, then agreement."""
    left = households - agree - objecting
    return ["object"] * objecting + [rest] * left + ["agree"] * agree


def areas_for(rng: np.random.Generator, votes: list[str], lower_m2: float) -> list[float]:
    """One layout per stairwell; the flats that do not agree get lower_m2 when it is given."""
    base = LAYOUTS_M2[int(rng.integers(0, len(LAYOUTS_M2)))]
    return [lower_m2 if lower_m2 and v != "agree" else base for v in votes]


def verdict(votes: list[str], areas: list[float], owners: list[str | None]) -> str:
    """The Civil Code verdict of these flats."""
    flats = [Flat(i, 0, str(i), Fraction(str(a)), o or f"#{i}", v)
             for i, (v, a, o) in enumerate(zip(votes, areas, owners, strict=True))]  # fmt: skip
    return evaluate(flats, CIVIL_CODE).verdict


def work_units(votes: list[str], objecting: int) -> list[str | None]:
    """Agreeing flats owned by a few work units (单位), so few owners took part by headcount."""
    waiting = votes.count("not_voted")
    units = max(1, min(3, 2 * waiting - objecting - 1))
    agreeing = [i for i, v in enumerate(votes) if v == "agree"]
    owners: list[str | None] = [None] * len(votes)
    for n, i in enumerate(agreeing):
        owners[i] = f"单位{chr(ord('A') + n * units // len(agreeing))}"
    return owners


Shaped = tuple[list[str], list[float], list[str | None]]


def shaped(
    rng: np.random.Generator, households: int, agree: int, objecting: int, target: str
) -> Shaped:
    """Votes, areas and owner groups giving the target verdict (else a vote that passes)."""
    if target == "quorum_not_met":
        votes = votes_for(households, agree, objecting, "not_voted")
        owners = work_units(votes, objecting)
        areas = areas_for(rng, votes, 0.0)
        if verdict(votes, areas, owners) == target:
            return votes, areas, owners
    if target == "approval_not_met":
        votes = votes_for(households, agree, objecting, "abstain")
        for lower in (98.0, 112.0, 126.0, 138.0):
            areas = areas_for(rng, votes, lower)
            if verdict(votes, areas, [None] * households) == target:
                return votes, areas, [None] * households
    votes = votes_for(households, agree, objecting, "abstain")
    return votes, areas_for(rng, votes, 0.0), [None] * households


def can_miss_quorum(households: int, agree: int, objecting: int) -> bool:
    """Whether work units owning the agreeing flats leave the vote short of owners taking part."""
    waiting = households - agree - objecting
    return waiting >= 2 or (waiting == 1 and objecting == 0)


def batch_targets(tables: Tables) -> dict[int, str]:
    """The verdict each stairwell of the demo's batch is shaped to (the least support fails)."""
    sw = tables.rows["stairwell"]
    figures = {
        i: [int(sw[c][i]) for c in ("households", "consent_agree", "consent_object")]  # type: ignore[call-overload]
        for i in range(len(sw["id"])) if sw["batch_id"][i] is not None
    }  # fmt: skip
    by_support = sorted(figures, key=lambda i: (figures[i][1] / max(1, figures[i][0]), i))
    targets = dict.fromkeys(figures, "passed")
    waiting = [i for i in by_support if can_miss_quorum(*figures[i])]
    for i in waiting[:SHORT_OF_QUORUM]:
        targets[i] = "quorum_not_met"
    for i in [i for i in by_support if targets[i] == "passed"][:SHORT_OF_APPROVAL]:
        targets[i] = "approval_not_met"
    return targets


def add_households(tables: Tables, seed: int) -> None:
    """Flats for every stairwell, adding up to its figures (deterministic for a seed)."""
    rng = np.random.default_rng(seed + 278)
    sw = tables.rows["stairwell"]
    targets = batch_targets(tables)
    for i in range(len(sw["id"])):
        households = int(sw["households"][i])  # type: ignore[call-overload]
        agree = int(sw["consent_agree"][i])  # type: ignore[call-overload]
        objecting = int(sw["consent_object"][i])  # type: ignore[call-overload]
        elderly = int(sw["elderly_households"][i])  # type: ignore[call-overload]
        target = targets.get(i, "passed")
        if agree + objecting:
            votes, areas, owners = shaped(rng, households, agree, objecting, target)
        else:
            votes, owners = ["not_voted"] * households, [None] * households
            areas = areas_for(rng, ["agree"] * households, 0)
        with_elderly = set(rng.choice(households, size=elderly, replace=False).tolist())
        changed = sw["status_changed_on"][i]
        voted_on = changed if isinstance(changed, dt.date) else None
        doors = floors_and_doors(households, int(sw["floors"][i]))  # type: ignore[call-overload]
        for n, ((floor, door), vote, area, owner) in enumerate(
            zip(doors, votes, areas, owners, strict=True)
        ):
            old = n in with_elderly
            tables.add(
                "household", stairwell_id=sw["id"][i], floor=floor, door=door, area_m2=area,
                owner_group=owner, elderly=(1 + int(rng.random() < 0.4)) if old else 0,
                limited_mobility=int(old and rng.random() < 0.25), visited_on=voted_on,
                vote=vote, voted_on=voted_on if vote != "not_voted" else None,
                recorded_by="demo" if vote != "not_voted" else None, proof_photo_path=None,
                geom=sw["geom"][i],
            )  # fmt: skip
