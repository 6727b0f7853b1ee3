"""`gis-service map export`: a view around one compound as a self-contained HTML file or PNG."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import typer

from gis_service.auth import USER_COLUMNS, Principal, principal_of
from gis_service.catalog import default_catalog
from gis_service.errors import GisServiceError, NotFound
from gis_service.maps_catalog import MapView, default_maps

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
    png: Path | None = typer.Option(
        None, "--png", help="PNG file to write: the view's layers drawn with title and legend"),
    lang: str = typer.Option("zh", help="Language of the labels: zh or en"),
    user: str | None = typer.Option(None, help="Read with this user's rights"),
    width: int = typer.Option(1280, min=200, max=4000, help="PNG map width in pixels"),
    height: int = typer.Option(900, min=200, max=4000, help="PNG map height in pixels"),
) -> None:  # fmt: skip
    """Write one compound's map: a page with assets and data inlined, and/or a PNG picture."""
    from gis_service import audit
    from gis_service.cli_base import open_database, operator
    from gis_service.settings import get_settings
    from gis_service.webmap.i18n import negotiate

    if output is None and png is None:
        raise GisServiceError("say where to write: -o FILE.html and/or --png FILE.png")
    views = default_maps()
    if view_id not in views:
        raise GisServiceError(f"no map view {view_id!r}; views: {', '.join(sorted(views))}")
    engine = open_database(get_settings())
    reader = export_user(engine, user)
    chosen = negotiate(lang, None)
    if output:
        html = page_html(engine, reader, views[view_id], chosen, compound)
        output.write_text(html, encoding="utf-8")
        typer.echo(f"wrote {output} ({len(html.encode()) // 1024} KB)")
    if png:
        png.write_bytes(picture(engine, reader, views[view_id], chosen, compound, (width, height)))
        typer.echo(f"wrote {png}")
    detail = {"compound": compound, "read_as": reader.username, "html": str(output or ""),
              "png": str(png or "")}
    audit.record(engine, operator(), audit.Event("export", target=f"map:{view_id}",
                                                 detail=detail))


def page_html(engine: sa.Engine, reader: Principal, view: MapView, lang: str, compound: int) -> str:
    """The self-contained page of a view around one compound (its skipped parts on stderr)."""
    from gis_service.api import asgi
    from gis_service.rows.lookups import elevator_statuses
    from gis_service.webmap.export import export_html

    html, skipped = export_html(asgi.reader(engine, reader), view, default_catalog(), lang,
                                elevator_statuses(engine), compound)  # fmt: skip
    for url in skipped:
        typer.echo(f"left out (the API refused it): {url}", err=True)
    return html


def picture(
    engine: sa.Engine, reader: Principal, view: MapView, lang: str, compound: int,
    size: tuple[int, int],
) -> bytes:  # fmt: skip
    """A PNG of the compound drawn from the data: the view's layers, title, legend, scale."""
    import datetime as dt

    from gis_service.auth import apply_scope
    from gis_service.reports.render import map_png
    from gis_service.settings import get_settings

    shown = {c for layer in view.layers if layer.show for c in layer.catalog_ids()}
    subtitle = f"{view.title.pick(lang)} · {dt.date.today().isoformat()}"
    with engine.begin() as conn:
        apply_scope(conn, reader)
        return map_png(conn, default_catalog(), "compound", compound, lang, size,
                       get_settings().report_font, subtitle, shown)  # fmt: skip
