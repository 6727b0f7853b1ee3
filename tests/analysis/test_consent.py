"""The consent arithmetic on hand cases: Civil Code art. 278 and the older headcount rule."""

from __future__ import annotations

from fractions import Fraction

from gis_service.analysis.consent import Flat, Rule, evaluate

CIVIL_CODE = Rule(
    "civil_code_278", quorum_area=Fraction(2, 3), quorum_owners=Fraction(2, 3),
    approval_area=Fraction(3, 4), approval_owners=Fraction(3, 4),
)  # fmt: skip
OLD_RULE = Rule("two_thirds_owners_agree", approval_owners=Fraction(2, 3), approval_base="all")


def flats(*rows: tuple[int, str, str, str]) -> list[Flat]:
    """Flats from (floor, area, vote, owner) rows; owner '' means an owner of one flat."""
    return [
        Flat(i, floor, f"{floor}0{i}", Fraction(area), owner or f"#{i}", vote)
        for i, (floor, area, vote, owner) in enumerate(rows, start=1)
    ]


def test_area_and_headcount_pull_opposite_ways() -> None:
    # Eight small flats agree, two large ground-floor flats object: 8/10 owners (≥ 3/4) agree,
    # but 400 of 800 m² is only half of the participating area.
    rows = [(1, "200", "object", "")] * 2 + [(f, "50", "agree", "") for f in range(2, 10)]
    result = evaluate(flats(*rows), CIVIL_CODE)
    assert result.verdict == "approval_not_met"
    assert result.to_agree.owners == 0
    assert result.to_agree.area_m2 == 200  # 3/4 × 800 − 400
    assert result.to_agree.flats_for_area == 1  # one 200 m² flat changing its vote
    # and the other way round: the large flats agree, the many small ones object
    rows = [(1, "200", "agree", "")] * 2 + [(f, "50", "object", "") for f in range(2, 10)]
    result = evaluate(flats(*rows), CIVIL_CODE)
    assert result.verdict == "approval_not_met"
    assert result.to_agree.area_m2 == 200 and result.to_agree.owners == 6  # ⌈7.5⌉ − 2


def test_exactly_at_the_threshold_passes() -> None:
    # 12 owners of 60 m²: 8 vote (exactly 2/3 of owners and of area), 6 of 8 agree (exactly 3/4).
    rows = [(f, "60", "agree", "") for f in range(1, 7)]
    rows += [(7, "60", "object", ""), (8, "60", "object", "")]
    rows += [(f, "60", "not_voted", "") for f in range(9, 13)]
    result = evaluate(flats(*rows), CIVIL_CODE)
    assert result.verdict == "passed"
    assert result.shares()["participation_owners"] == 2 / 3
    assert result.shares()["approval_area"] == 0.75
    # one approval fewer is below 3/4 by area and by headcount
    rows[5] = (6, "60", "object", "")
    result = evaluate(flats(*rows), CIVIL_CODE)
    assert result.verdict == "approval_not_met"
    assert (result.to_agree.owners, result.to_agree.area_m2) == (1, 60)


def test_quorum_not_met_lists_the_missing_lowest_floors_first() -> None:
    rows = [(6, "70", "agree", ""), (5, "70", "agree", ""), (4, "70", "agree", "")]
    rows += [(3, "70", "not_voted", ""), (1, "90", "not_voted", ""), (2, "70", "not_voted", "")]
    result = evaluate(flats(*rows), CIVIL_CODE)
    assert result.verdict == "quorum_not_met"
    assert result.to_vote.owners == 1  # 4 of 6 owners
    assert result.to_vote.area_m2 == Fraction(2, 3) * 440 - 210
    assert result.to_vote.flats_for_area == 1  # the 90 m² flat alone is enough
    assert [f.floor for f in result.not_voted] == [1, 2, 3]


def test_abstentions_take_part_and_do_not_approve() -> None:
    rows = [(f, "60", "agree", "") for f in range(1, 7)] + [(7, "60", "abstain", "")] * 2
    result = evaluate(flats(*rows), CIVIL_CODE)
    assert result.voted_owners == 8 and result.agree_owners == 6
    assert result.verdict == "passed"  # all took part; 6 of 8 is exactly 3/4
    rows.append((9, "60", "abstain", ""))
    assert evaluate(flats(*rows), CIVIL_CODE).verdict == "approval_not_met"


def test_an_owner_of_two_flats_counts_once_by_headcount_and_twice_by_area() -> None:
    rows = [(1, "80", "agree", "li"), (2, "80", "agree", "li"), (3, "80", "object", "")]
    result = evaluate(flats(*rows), CIVIL_CODE)
    assert (result.households, result.owners) == (3, 2)
    assert (result.agree_owners, result.agree_area_m2) == (1, 160)
    assert result.verdict == "approval_not_met"  # 1 of 2 owners, though 2/3 of the area
    # under the older rule a headcount of 2/3 of all owners: one of two is not enough either
    assert evaluate(flats(*rows), OLD_RULE).verdict == "approval_not_met"


def test_the_older_rule_counts_owners_only_and_over_everyone() -> None:
    # 2 of 3 owners agree, the third never voted: the older rule passes, the Civil Code does
    # not (2/3 took part, but the largest flat stayed away: area below 2/3).
    rows = [(1, "50", "agree", ""), (2, "50", "agree", ""), (3, "120", "not_voted", "")]
    assert evaluate(flats(*rows), OLD_RULE).verdict == "passed"
    result = evaluate(flats(*rows), CIVIL_CODE)
    assert result.verdict == "quorum_not_met"
    assert result.to_vote.owners == 0 and result.to_vote.flats_for_area == 1


def test_no_register_and_nobody_voted() -> None:
    assert evaluate([], CIVIL_CODE).verdict == "no_register"
    rows = [(1, "60", "not_voted", "")] * 3
    assert evaluate(flats(*rows), CIVIL_CODE).verdict == "quorum_not_met"
    assert evaluate(flats(*rows), OLD_RULE).to_agree.owners == 2
