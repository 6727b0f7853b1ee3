"""Moving a stairwell to the next step of the retrofit pipeline, gated by the owners' vote.

The steps are the `elevator_status` lookup (its rank orders them); a step marked `needs_consent`
is reached only while the stairwell's vote passes under the consent rule in force, judged now
(never a stored verdict). The move is one UPDATE in the caller's role: the history trigger
records who, when, and the rule and verdict it was judged by.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from gis_service.analysis.consent import PASSED
from gis_service.auth import Principal
from gis_service.datasets.consent import consent_report, pick_rule, stored_rules
from gis_service.errors import Forbidden, NotFound, StepRefused, Unauthorized
from gis_service.text import Text

LANGS = ("zh", "en")


def steps(conn: sa.Connection) -> list[dict[str, Any]]:
    """The pipeline's steps in order (code, rank, labels, whether final or gated by the vote)."""
    rows = conn.execute(sa.text(
        "SELECT code, rank, label_zh, label_en, is_final, needs_consent "
        "FROM elevator_status ORDER BY rank"
    )).mappings()  # fmt: skip
    return [dict(row) for row in rows]


def next_step(pipeline: list[dict[str, Any]], current: str) -> dict[str, Any] | None:
    """The step after the current one (None at a final step or the end)."""
    here = next(s for s in pipeline if s["code"] == current)
    if here["is_final"]:
        return None
    return next((s for s in pipeline if s["rank"] > here["rank"]), None)


def label(step: dict[str, Any]) -> dict[str, str]:
    """A step's zh/en label."""
    return {"zh": step["label_zh"], "en": step["label_en"]}


def refuse(text: Text, values: dict[str, dict[str, str]], **details: Any) -> StepRefused:
    """A refusal in English (the problem's detail) with the Chinese text beside it."""
    texts = {lang: text.fill(lang, {k: v[lang] for k, v in values.items()}) for lang in LANGS}
    return StepRefused(texts["en"], {"detail_zh": texts["zh"], "reason": texts, **details})


def may_move(conn: sa.Connection, principal: Principal) -> None:
    """Raise unless the caller's database role may change a stairwell's elevator status."""
    held = conn.execute(sa.text(
        "SELECT has_column_privilege('stairwell', 'elevator_status', 'UPDATE')"
    )).scalar_one()  # fmt: skip
    if not held:
        if principal.is_anonymous:
            raise Unauthorized("sign in: moving a stairwell needs a bearer token")
        raise Forbidden(f"the {principal.role} role may not move a stairwell along the pipeline")


def advance(
    conn: sa.Connection,
    principal: Principal,
    stairwell_id: int,
    labels: dict[str, dict[str, Text]],
    *,
    on: dt.date,
    city: str | None = None,
    expected: str | None = None,
) -> dict[str, Any]:
    """Move one stairwell to its next step (refused unless its vote passes where that counts).

    labels: the stairwells layer's (refusals) and the households layer's (verdicts), by layer.
    """
    may_move(conn, principal)
    sw = conn.execute(
        sa.text("SELECT id, label, elevator_status FROM stairwell WHERE id = :id FOR UPDATE"),
        {"id": stairwell_id},
    ).mappings().first()  # fmt: skip
    if sw is None:
        raise NotFound(f"stairwell {stairwell_id} does not exist")
    pipeline = steps(conn)
    here = next(s for s in pipeline if s["code"] == sw["elevator_status"])
    name = {lang: f"{sw['label']} (#{stairwell_id})" for lang in LANGS}
    own = labels["stairwells"]
    if expected is not None and expected != here["code"]:
        wanted = next((label(s) for s in pipeline if s["code"] == expected), None)
        raise refuse(own["moved_meanwhile"], {
            "label": name, "status": label(here),
            "expected": wanted or {lang: expected for lang in LANGS}})  # fmt: skip
    target = next_step(pipeline, here["code"])
    if target is None:
        raise refuse(own["last_step"], {"label": name, "status": label(here)})
    judged = judge(conn, stairwell_id, labels, on, city) if target["needs_consent"] else None
    if judged is not None and judged["verdict"] != PASSED:
        raise refuse(own["vote_not_passed"], {
            "label": name, "rule": judged["rule"]["title"], "verdict": judged["verdict_label"],
            "to": label(target),
            "missing": {k: judged["missing"][k] or judged["verdict_label"][k] for k in LANGS},
        }, consent=judged)  # fmt: skip
    return move(conn, stairwell_id, here, target, judged)


def judge(
    conn: sa.Connection,
    stairwell_id: int,
    labels: dict[str, dict[str, Text]],
    on: dt.date,
    city: str | None,
) -> dict[str, Any]:
    """The stairwell's vote under the rule in force on the day (computed now)."""
    stored = pick_rule(stored_rules(conn), None, city, on)
    report = consent_report(conn, stored, ("stairwell_id", stairwell_id), labels["households"])
    row = report["stairwells"][0]
    return {
        "rule": {"code": stored.rule.code, "title": stored.title},
        "verdict": row["verdict"], "verdict_label": row["verdict_label"], "missing": row["missing"],
        **{k: row[k] for k in ("participation_area", "participation_owners", "approval_area",
                               "approval_owners")},
    }  # fmt: skip


def move(
    conn: sa.Connection,
    stairwell_id: int,
    here: dict[str, Any],
    target: dict[str, Any],
    judged: dict[str, Any] | None,
) -> dict[str, Any]:
    """The UPDATE (the trigger writes the history row with the judgement) and what it recorded."""
    conn.execute(
        sa.text("SELECT set_config('gis.consent_rule', :rule, true), "
                "set_config('gis.consent_verdict', :verdict, true)"),
        {"rule": judged["rule"]["code"] if judged else "",
         "verdict": judged["verdict"] if judged else ""},
    )  # fmt: skip
    conn.execute(
        sa.text("UPDATE stairwell SET elevator_status = :to WHERE id = :id"),
        {"to": target["code"], "id": stairwell_id},
    )
    conn.execute(sa.text("SELECT set_config('gis.consent_rule', '', true), "
                         "set_config('gis.consent_verdict', '', true)"))  # fmt: skip
    history = conn.execute(
        sa.text("SELECT from_status, to_status, changed_on, changed_at, changed_by, "
                "consent_rule, consent_verdict FROM stairwell_status_history "
                "WHERE stairwell_id = :id ORDER BY id DESC LIMIT 1"),
        {"id": stairwell_id},
    ).mappings().one()  # fmt: skip
    return {
        "stairwell_id": stairwell_id,
        "from": {"code": here["code"], "label": label(here)},
        "to": {"code": target["code"], "label": label(target)},
        "consent": judged,
        "history": {**dict(history), "changed_on": history["changed_on"].isoformat(),
                    "changed_at": history["changed_at"].isoformat()},
    }  # fmt: skip
