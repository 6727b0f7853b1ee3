"""`gis-service analyze consent`: each stairwell's vote judged by a consent rule.

cli_analysis.py adds the command to `analyze`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from gis_service import cli_base as common
from gis_service.catalog import default_catalog
from gis_service.datasets import formats
from gis_service.datasets.consent import (
    consent_report,
    pick_rule,
    report_rows,
    scope_of,
    stored_rules,
)
from gis_service.datasets.proposals import proposal_of
from gis_service.errors import InvalidInput

SHOWN = ["id", "label", "verdict", "households", "participation_area", "participation_owners",
         "approval_area", "approval_owners", "missing_en", "not_voted"]  # fmt: skip


def consent_command(
    stairwell: int = typer.Option(None, "--stairwell", help="One stairwell id"),
    batch: int = typer.Option(None, "--batch", help="A retrofit batch id"),
    compound: int = common.COMPOUND,
    proposal: int = typer.Option(
        None,
        "--proposal",
        help="A retrofit proposal id (default: each stairwell's current elevator proposal)",
    ),
    rule: str = typer.Option(None, help="Consent rule code (default: the one in force on --on)"),
    on: str = typer.Option(None, help="Day (YYYY-MM-DD) the rule in force is taken from"),
    city: str = typer.Option(None, help="City whose own rule applies before the national one"),
    fmt: str = common.FORMAT,
    output: Path = common.OUTPUT,
) -> None:
    """Per-stairwell verdicts of the owners' vote (quorum, approval, what is missing)."""
    try:
        day = dt.date.fromisoformat(on) if on else dt.date.today()
    except ValueError as exc:
        raise InvalidInput(f"on: {on!r} is not a YYYY-MM-DD date") from exc
    labels = default_catalog().layer("households").labels
    with common.session("consent") as (conn, _step):
        asked = proposal_of(conn, proposal) if proposal is not None else None
        scope = scope_of(
            {"stairwell_id": stairwell, "batch_id": batch, "compound_id": compound}, asked
        )
        stored = pick_rule(stored_rules(conn), rule, city, day)
        report = consent_report(conn, stored, scope, labels, asked)
    if fmt == "json":
        formats.write_out(formats.dumps(report), output)
        return
    meta = {key: report[key] for key in ("rule", "proposal", "scope", "voters", "verdicts")}
    formats.write_table(report_rows(report), fmt, output, meta, SHOWN)
    if fmt == "table":
        counts = ", ".join(f"{k}: {v}" for k, v in report["verdicts"].items())
        typer.echo(f"{report['rule']['code']}: {counts}", err=True)
