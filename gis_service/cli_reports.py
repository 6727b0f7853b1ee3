"""`gis-service report compound 34 -o report.pdf`: the PDF report of a unit, as one user sees it."""

from __future__ import annotations

from pathlib import Path

import typer

from gis_service.errors import GisServiceError
from gis_service.reports.facts import LEVELS


def report_command(
    level: str = typer.Argument(..., help="compound, community or subdistrict"),
    unit_id: int = typer.Argument(..., help="Id of the compound, community or subdistrict"),
    output: Path = typer.Option(..., "-o", "--output", help="PDF file to write"),
    lang: str = typer.Option("zh", help="Language of the report: zh or en"),
    user: str | None = typer.Option(None, help="Read with this user's rights (default: a planner)"),
) -> None:
    """Write the PDF report of a compound, community or subdistrict."""
    from gis_service import audit
    from gis_service.auth import apply_scope
    from gis_service.catalog import default_catalog
    from gis_service.cli_base import open_database, operator
    from gis_service.cli_maps import export_user
    from gis_service.reports.render import report_pdf
    from gis_service.settings import get_settings
    from gis_service.webmap.i18n import negotiate

    if level not in LEVELS:
        raise GisServiceError(f"no reports of {level!r}: use one of {', '.join(LEVELS)}")
    if output.suffix.lower() != ".pdf":
        raise GisServiceError(f"write the report to a .pdf file, not {output.name!r}")
    engine = open_database(get_settings())
    reader = export_user(engine, user)
    chosen = negotiate(lang, None)
    with engine.begin() as conn:
        apply_scope(conn, reader)
        pdf = report_pdf(conn, default_catalog(), reader, level, unit_id, chosen)
    output.write_bytes(pdf)
    detail = {"format": "pdf", "read_as": reader.username, "file": str(output), "lang": chosen}
    audit.record(engine, operator(), audit.Event("export", target=f"report:{level}:{unit_id}",
                                                 detail=detail))
    typer.echo(f"wrote {output} ({len(pdf) // 1024} KB)")
