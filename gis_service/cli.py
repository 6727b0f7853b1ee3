"""The `gis-service` command line: serve, demo, db, import, export, import-osm."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from gis_service.cli_access import audit_app, create_token, token_app, user_app
from gis_service.cli_analysis import analyze_app
from gis_service.cli_backup import backup_command, restore_command, sweep_command
from gis_service.cli_base import migrate_checked, open_database, operator
from gis_service.cli_maps import app as map_app
from gis_service.cli_pipeline import stairwell_app
from gis_service.cli_reports import report_command
from gis_service.cli_users import list_users, set_password
from gis_service.db import migrate
from gis_service.db.cluster import ManagedCluster, port_is_free
from gis_service.db.engine import (
    check_database,
    create_db_engine,
    describe_url,
    normalise_url,
    resolve_database_url,
)
from gis_service.errors import (
    DatabaseUnavailable,
    GisServiceError,
    InstallationIncomplete,
    PortInUse,
)
from gis_service.settings import Settings, describe_setting_error, get_settings
from gis_service.shipped import incomplete_installation

app = typer.Typer(
    help="GIS planning service for old-neighbourhood renewal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(
    help="The database: managed local PostGIS or GIS_DATABASE_URL.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(analyze_app, name="analyze")
app.add_typer(map_app, name="map")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(stairwell_app, name="stairwell")
photos_app = typer.Typer(help="Stored photos (issues, proofs of votes).", no_args_is_help=True)
app.add_typer(photos_app, name="photos")
photos_app.command("sweep")(sweep_command)
db_app.command("backup")(backup_command)
db_app.command("restore")(restore_command)
user_app.command("list")(list_users)
user_app.command("password")(set_password)
user_app.command("passwd", help="Same as `user password`.")(set_password)
user_app.command("token", help="Same as `token create`.")(create_token)
app.command("report")(report_command)


def configure_logs(default_level: str) -> None:
    """Log lines on stderr in GIS_LOG_FORMAT at GIS_LOG_LEVEL (else the command's default)."""
    from gis_service.logs import configure

    settings = get_settings()
    configure(settings.log_level or default_level, settings.log_format)


def write_tokens(settings: Settings, tokens: dict[str, str]) -> Path:
    """Keep the demo users' tokens in the data directory, readable by the owner only."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "demo-tokens.json"
    path.write_text(json.dumps(tokens, indent=2, ensure_ascii=False) + "\n")
    os.chmod(path, 0o600)
    return path


def load_demo_with_report(engine: Engine, settings: Settings, seed: int, scale: int) -> None:
    """Load the demo city and print what was written and the demo users' tokens."""
    from gis_service.ingest.demo_load import load_demo

    report = load_demo(
        engine,
        seed=seed,
        target_stairwells=scale,
        progress=lambda message: typer.echo(f"  demo: {message}", err=True),
    )
    counts = ", ".join(f"{table} {n}" for table, n in report.counts.items())
    typer.echo(f"demo loaded in {report.seconds:.1f} s: {counts}")
    path = write_tokens(settings, report.tokens)
    typer.echo(f"demo users' bearer tokens (also in {path}) and sign-in passwords:")
    for username, token in report.tokens.items():
        typer.echo(f"  {username:<10} {token}  password {report.passwords.get(username, '-')}")


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (default GIS_HOST, 127.0.0.1)"),
    port: int = typer.Option(None, help="Port to listen on (default GIS_PORT, 8000)"),
    demo: bool = typer.Option(True, help="Load the demo district when the database is empty"),
    workers: int = typer.Option(1, min=1, help="Worker processes (each its own database pool)"),
) -> None:
    """Serve the API (starting the managed database and loading the demo if empty)."""
    import uvicorn

    from gis_service.api.app import create_app
    from gis_service.ingest.demo_load import stairwell_count

    settings = get_settings()
    configure_logs("INFO")
    incomplete = incomplete_installation(settings.layers_dir)
    if incomplete:
        raise InstallationIncomplete(incomplete)
    host = host or settings.host
    port = port or settings.port
    if not port_is_free(port, host if host != "0.0.0.0" else "127.0.0.1"):
        raise PortInUse(f"port {port} on {host} is in use by another program; use --port")
    engine = open_database(settings)
    purge_audit(engine, settings)
    if demo and stairwell_count(engine) == 0:
        typer.echo("the database is empty: loading the demo district")
        load_demo_with_report(engine, settings, settings.demo_seed, 0)
    replica = None
    if settings.database_read_url:
        replica = create_db_engine(normalise_url(settings.database_read_url), settings)
        check_database(replica)
    if not settings.database_url and settings.pg_supervise:
        from gis_service.db.supervisor import ClusterSupervisor

        ClusterSupervisor.from_settings(ManagedCluster.from_settings(settings), settings).start()
    typer.echo(f"serving on http://{host}:{port} (database {describe_url(str(engine.url))})")
    if workers > 1:
        serve_workers(settings, host, port, workers, [engine, replica])
        return
    uvicorn.run(create_app(engine, replica), host=host, port=port, log_config=None,
                access_log=False, forwarded_allow_ips=settings.forwarded_allow_ips)


def purge_audit(engine: Engine, settings: Settings) -> None:
    """Apply the audit trail's retention (settings.audit_retention_days) at start-up."""
    from gis_service import audit

    try:
        removed = audit.purge(engine, settings.audit_retention_days, operator())
    except DBAPIError as exc:  # a read-only database (a standby) keeps serving reads
        typer.echo(f"audit trail not purged: {str(exc.orig).strip().splitlines()[0]}", err=True)
        return
    if removed:
        typer.echo(f"audit trail: removed {removed} entries older than "
                   f"{settings.audit_retention_days} days")


def serve_workers(
    settings: Settings, host: str, port: int, workers: int, engines: list[Engine | None]
) -> None:
    """Run N uvicorn worker processes, each building the app and its pools from the settings."""
    import shutil

    import uvicorn

    from gis_service.api.metrics import multiprocess_dir

    for engine in engines:
        if engine is not None:
            engine.dispose()  # the workers open their own connections
    metrics_dir = multiprocess_dir(settings.data_dir)
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)  # read by prometheus_client
    uvicorn.run(
        "gis_service.api.app:app_from_settings",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


@app.command("demo")
def demo_command(
    scale: int = typer.Option(0, help="Grow the city until it has at least this many stairwells"),
    seed: int = typer.Option(34, help="Seed of the generator (same seed, same city)"),
) -> None:
    """Load the demo district (Yuexiu, around Shuiyin Road) into an empty database."""
    settings = get_settings()
    engine = open_database(settings)
    load_demo_with_report(engine, settings, seed, scale)


@db_app.command("status")
def db_status() -> None:
    """Where the database is and whether it runs."""
    settings = get_settings()
    if settings.database_url:
        engine = create_db_engine(resolve_database_url(settings, start=False), settings)
        versions = check_database(engine)
        typer.echo(
            json.dumps(
                {
                    "url": describe_url(str(engine.url)),
                    "managed": False,
                    "revision": migrate.current_revision(engine),
                    **versions,
                }
            )
        )
        return
    cluster = ManagedCluster.from_settings(settings)
    status: dict[str, object] = {"managed": True, **cluster.status()}
    if cluster.is_running():
        engine = create_db_engine(cluster.url(), settings)
        status.update(check_database(engine), revision=migrate.current_revision(engine))
    typer.echo(json.dumps(status))


@db_app.command("start")
def db_start() -> None:
    """Initialise (first time) and start the managed cluster."""
    settings = get_settings()
    if settings.database_url:
        typer.echo("GIS_DATABASE_URL is set: that server is not managed here")
        return
    cluster = ManagedCluster.from_settings(settings)
    cluster.start()
    typer.echo(f"managed PostGIS running on port {cluster.port} ({cluster.cluster_dir})")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the managed cluster."""
    settings = get_settings()
    if settings.database_url:
        typer.echo("GIS_DATABASE_URL is set: that server is not managed here")
        return
    cluster = ManagedCluster.from_settings(settings)
    typer.echo("stopped" if cluster.stop() else "not running")


@db_app.command("migrate")
def db_migrate(revision: str = typer.Argument("head", help="Target revision")) -> None:
    """Apply migrations up to a revision (head by default)."""
    configure_logs("INFO")
    engine = open_database(get_settings(), migrated=False)
    migrate_checked(engine, revision)
    typer.echo(f"database at revision {migrate.current_revision(engine)}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base'")) -> None:
    """Revert migrations down to a revision."""
    engine = open_database(get_settings(), migrated=False)
    migrate.downgrade(engine, revision)
    typer.echo(f"database at revision {migrate.current_revision(engine)}")


@db_app.command("reset")
def db_reset(
    yes: bool = typer.Option(False, "--yes", help="Confirm: every row is deleted"),
) -> None:
    """Drop every table and migrate again (empties the database)."""
    if not yes:
        raise GisServiceError("db reset deletes every row: add --yes to confirm")
    engine = open_database(get_settings(), migrated=False)
    migrate.downgrade(engine, "base")
    migrate.upgrade(engine)
    typer.echo("database emptied and migrated")


@app.command("import")
def import_command(
    layer: str = typer.Argument(..., help="Layer id, e.g. stairwells, gardens (layers/*.yaml)"),
    file: Path = typer.Argument(..., help=".geojson, .gpkg, .zip (Shapefile) or .csv"),
    crs: str = typer.Option(None, "--crs", help="Source CRS, overriding the file's (EPSG:4490)"),
    from_gcj02: bool = typer.Option(False, "--from-gcj02", help="Coordinates are GCJ-02"),
    source_layer: str = typer.Option(None, "--layer", help="Layer of a GeoPackage / .shp in a zip"),
    lon_column: str = typer.Option(None, help="CSV longitude column (default lon/longitude/x)"),
    lat_column: str = typer.Option(None, help="CSV latitude column (default lat/latitude/y)"),
    encoding: str = typer.Option(None, help="Text encoding when not UTF-8 (default: GB18030)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row, write nothing"),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Write the valid rows only"),
    key: str = typer.Option(
        None, "--key", help="A column with a stable id: re-imports update changed rows"
    ),
    report: Path = typer.Option(None, "--report", help="Also write the report as JSON here"),
) -> None:
    """Import a file into a layer: all rows or none, with a report of each rejected row."""
    from gis_service import audit
    from gis_service.ingest.console import catalog_layer, print_report, progress_bar
    from gis_service.ingest.importer import ImportOptions, import_file
    from gis_service.ingest.report import ImportRejected

    target = catalog_layer(layer)
    if not file.is_file():
        raise GisServiceError(f"no such file: {file}")
    options = ImportOptions(
        layer_name=source_layer, crs=crs, from_gcj02=from_gcj02, lon_column=lon_column,
        lat_column=lat_column, encoding=encoding, dry_run=dry_run, skip_invalid=skip_invalid,
        key=key,
    )
    engine = open_database(get_settings())
    try:
        with progress_bar(f"importing {file.name}") as progress, engine.begin() as conn:
            outcome = import_file(conn, target, file, options, progress=progress)
    except ImportRejected as exc:
        audit.record(engine, operator(), audit.import_event(exc.report, "refused"))
        print_report(exc.report, report)
        raise GisServiceError(str(exc)) from exc
    audit.record(engine, operator(), audit.import_event(outcome))
    print_report(outcome, report)
    typer.echo(outcome.summary())


@app.command("export")
def export_command(
    layer: str = typer.Argument(..., help="Layer id, e.g. stairwells"),
    output: Path = typer.Option(
        ..., "-o", "--output", help="File: .geojson, .gpkg, .csv or .xlsx"),
    where: list[str] = typer.Option(None, "--where", help="field=value (repeatable)"),
    cql: str = typer.Option(None, "--filter", help="CQL2-text filter, e.g. \"floors >= 6\""),
    labels: bool = typer.Option(
        False, "--labels", help=".csv/.xlsx: field labels and value labels instead of codes"),
    lang: str = typer.Option("zh", help="Language of the labels: zh or en"),
) -> None:  # fmt: skip
    """Export a layer (optionally filtered) to GeoJSON, GeoPackage, CSV or XLSX."""
    from gis_service import audit
    from gis_service.ingest.console import catalog_layer, parse_where
    from gis_service.ingest.export import Ledger, export_file, format_for, row_filter
    from gis_service.webmap.i18n import negotiate

    target = catalog_layer(layer)
    format_for(output)
    filters = parse_where(where or [])
    settings = get_settings()
    engine = open_database(settings)
    ledger = Ledger(labels, negotiate(lang, None), settings.max_ledger_rows,
                    settings.local_timezone)  # fmt: skip
    with engine.begin() as conn:
        count = export_file(conn, target, output, row_filter(target, filters, cql), ledger)
    detail = {"format": output.suffix.lstrip("."), "features": count, "filter": cql,
              "where": filters, "file": str(output)}
    audit.record(engine, operator(), audit.Event("export", target=layer, detail=detail))
    typer.echo(f"exported {count} features of {layer} to {output}")


@app.command("import-osm")
def import_osm_command(
    file: Path = typer.Argument(..., help="An OpenStreetMap extract (.osm.pbf)"),
    bbox: str = typer.Option(None, help="Only this lon/lat box: W,S,E,N"),
    default_floors: int = typer.Option(5, help="Floors of a building without building:levels"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Read and count, write nothing"),
) -> None:
    """Import buildings, stairwells, gardens, parking and walkable streets from OSM (pyrosm).

    Importing again updates what changed, adds what is new and reports what vanished.
    """
    from gis_service.ingest.console import steps
    from gis_service.ingest.osm import parse_bbox, read_osm
    from gis_service.ingest.osm_load import load_osm

    if not file.is_file():
        raise GisServiceError(f"no such file: {file}")
    box = parse_bbox(bbox) if bbox else None
    with steps(f"reading {file.name}") as say:
        data = read_osm(file, bbox=box, default_floors=default_floors, progress=say)
    for line in data.describe():
        typer.echo(line)
    if dry_run:
        typer.echo("dry run: nothing written")
        return
    engine = open_database(get_settings())
    try:
        with steps("writing") as say, engine.begin() as conn:
            reports = load_osm(conn, data, progress=say, bbox=box)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        message = f"the database refused the import, nothing written: {reason}"
        raise GisServiceError(message) from exc
    for table, report in reports.items():
        typer.echo(report.line(table))


def main() -> None:
    """Entry point: every failure is one line on stderr and a non-zero exit."""
    try:
        configure_logs("WARNING")
        app()
    except GisServiceError as exc:
        typer.echo(f"gis-service: error: {exc}", err=True)
        sys.exit(1)
    except ValidationError as exc:  # a GIS_* setting of the wrong form (its value not echoed)
        typer.echo(f"gis-service: error: {describe_setting_error(exc)}", err=True)
        sys.exit(1)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        typer.echo(f"gis-service: error: {DatabaseUnavailable(reason)}", err=True)
        sys.exit(1)
    except DBAPIError as exc:  # e.g. a read-only database refusing the audit entry
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        typer.echo(f"gis-service: error: the database refused: {reason}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
