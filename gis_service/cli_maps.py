"""`gis-service map export`: a view around one compound as a self-contained HTML file or PNG."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import typer

from gis_service.auth import USER_COLUMNS, Principal, principal_of
from gis_service.catalog import default_catalog
from gis_service.errors import GisServiceError, NotFound
from gis_service.maps_catalog import default_maps

app = typer.Typer(help="Map views: static exports for reports.", no_args_is_help=True)


def export_user(engine: sa.Engine, username: str | None) -> Principal:
    """The user whose rights the export reads with (default: the first planner or admin)."""
    which = "u.username = :name" if username else "u.role IN ('planner', 'admin')"
    query = (f"SELECT {USER_COLUMNS} FROM app_user u LEFT JOIN user_grid g ON g.user_id = u.id "
             f"WHERE {which} GROUP BY u.id, u.username, u.role "
             "ORDER BY u.role = 'planner' DESC, u.id LIMIT 1")  # fmt: skip
    with engine.connect() as conn:
        row = conn.execute(sa.text(query), {"name": username}).first()
    if row is None:
        raise NotFound(f"no user {username!r}" if username else "no planner or admin user")
    return principal_of(row)  # with a grid worker's grids


@app.command("export")
def export(
    view_id: str = typer.Argument(..., help="The map view (maps/<view>.yaml), e.g. planner"),
    compound: int = typer.Option(..., "--compound", help="Id of the compound shown"),
    output: Path | None = typer.Option(None, "-o", "--output", help="HTML file to write"),
    png: Path | None = typer.Option(None, "--png", help="PNG file to write (headless Chromium)"),
    lang: str = typer.Option("zh", help="Language of the labels: zh or en"),
    user: str | None = typer.Option(None, help="Read with this user's rights"),
    chromium: str = typer.Option("/usr/bin/chromium", help="Chromium executable for --png"),
    width: int = typer.Option(1280, help="PNG width in pixels"),
    height: int = typer.Option(900, help="PNG height in pixels"),
) -> None:
    """Write one compound's map: assets and data inlined (GeoJSON instead of tiles)."""
    import tempfile

    from gis_service import audit
    from gis_service.api import asgi
    from gis_service.cli_base import open_database, operator
    from gis_service.rows.lookups import elevator_statuses
    from gis_service.settings import get_settings
    from gis_service.webmap.export import export_html, screenshot
    from gis_service.webmap.i18n import negotiate

    if output is None and png is None:
        raise GisServiceError("say where to write: -o FILE.html and/or --png FILE.png")
    views = default_maps()
    if view_id not in views:
        raise GisServiceError(f"no map view {view_id!r}; views: {', '.join(sorted(views))}")
    engine = open_database(get_settings())
    reader = export_user(engine, user)
    html, skipped = export_html(
        asgi.reader(engine, reader), views[view_id], default_catalog(), negotiate(lang, None),
        elevator_statuses(engine), compound,
    )
    for url in skipped:
        typer.echo(f"left out (the API refused it): {url}", err=True)
    detail = {"compound": compound, "read_as": reader.username, "html": str(output or ""),
              "png": str(png or "")}
    audit.record(engine, operator(), audit.Event("export", target=f"map:{view_id}",
                                                 detail=detail))
    with tempfile.TemporaryDirectory() as scratch:
        page = output or Path(scratch) / "map.html"
        page.write_text(html, encoding="utf-8")
        if output:
            typer.echo(f"wrote {output} ({len(html.encode()) // 1024} KB)")
        if png:
            screenshot(page, png, chromium, (width, height))
            typer.echo(f"wrote {png}")
