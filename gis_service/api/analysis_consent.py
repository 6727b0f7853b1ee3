"""GET /analysis/consent: the owners' vote of each stairwell judged by a consent rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import Depends, Query
from fastapi.responses import Response

from gis_service.api.analysis_answers import answer
from gis_service.api.deps import get_connection, get_principal
from gis_service.api.openapi import CSV, beyond_schema, errors
from gis_service.auth import Principal
from gis_service.catalog import Catalog
from gis_service.datasets import formats
from gis_service.datasets.consent import (
    consent_report,
    pick_rule,
    report_rows,
    scope_of,
    stored_rules,
)
from gis_service.datasets.proposals import proposal_of

HOUSEHOLDS = "households"
MAX_ID = 2**31 - 1
RULES = (
    "exactly one of stairwell_id, batch_id, compound_id (or none with proposal_id: the "
    "proposal's stairwell or building)",
    "rule: the code of a stored consent rule; without it, a rule in force on the day `on` "
    "(the city's own before the national one)",
)
DESCRIPTION = (
    "The owners' vote on the elevator of each stairwell of a stairwell, batch or compound, "
    "judged by a consent rule kept as data (per city and period): participation and approval "
    "by exclusive area and by headcount (an owner of several flats counts once), the verdict "
    "(quorum not met / approval not met / passed), what is still missing in zh and en, and "
    "the households not yet voted, lowest floors first. Counts per verdict for the scope. "
    "The votes are those on the retrofit proposal given (its stairwells only), else on each "
    "stairwell's current elevator proposal (the open one opened last, else the one closed last)."
)


def consent_route(catalog: Catalog) -> Callable[..., Response]:
    """The /analysis/consent handler (the verdict labels are the households layer's)."""
    labels = catalog.layer(HOUSEHOLDS).labels

    def consent(
        stairwell_id: int | None = Query(None, ge=1, le=MAX_ID, description="One stairwell"),
        batch_id: int | None = Query(None, ge=1, le=MAX_ID, description="A retrofit batch"),
        compound_id: int | None = Query(None, ge=1, le=MAX_ID, description="A compound"),
        proposal_id: int | None = Query(
            None, ge=1, le=MAX_ID, description="A retrofit proposal (default: the current ones)"
        ),
        rule: str | None = Query(None, max_length=60, description="Consent rule code"),
        on: dt.date | None = Query(None, description="Day the rule in force is taken from"),
        city: str | None = Query(None, max_length=100, description="City of a city rule"),
        f: Literal["json", "csv"] = Query("json", description="Output format"),
        principal: Principal = Depends(get_principal),
        conn: sa.Connection = Depends(get_connection, scope="function"),
    ) -> Response:
        """Per-stairwell verdicts of the owners' vote under a consent rule."""
        proposal = proposal_of(conn, proposal_id) if proposal_id is not None else None
        scope = scope_of(
            {"stairwell_id": stairwell_id, "batch_id": batch_id, "compound_id": compound_id},
            proposal,
        )
        stored = pick_rule(stored_rules(conn), rule, city, on or dt.date.today())
        report = consent_report(conn, stored, scope, labels, proposal)
        if f == "csv":
            return answer(formats.to_csv(report_rows(report)), "text/csv; charset=utf-8")
        return answer(formats.dumps(report), "application/json")

    return consent


def consent_route_options() -> dict[str, Any]:
    """The route's documented answers and the rules its schema cannot state."""
    ok = {"description": "the verdicts in the format asked for (f)",
          "content": {"application/json": {"schema": {"type": "object"}}, CSV: {}}}
    return {
        "description": DESCRIPTION,
        "responses": {200: ok, **errors(404, e404="No stairwell in the scope, or no such "
                                                  "proposal (that you may see)")},
        "openapi_extra": beyond_schema(422, *RULES),
    }  # fmt: skip
