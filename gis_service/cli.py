"""The `gis-service` command line: serve, demo, db."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from gis_service.db import migrate
from gis_service.db.cluster import ManagedCluster, port_is_free
from gis_service.db.engine import (
    check_database,
    create_db_engine,
    describe_url,
    resolve_database_url,
)
from gis_service.errors import DatabaseUnavailable, GisServiceError, PortInUse
from gis_service.settings import Settings, get_settings

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


def open_database(settings: Settings, migrated: bool = True) -> Engine:
    """Start the managed cluster when needed, connect, check PostGIS and migrate."""
    url = resolve_database_url(settings)
    engine = create_db_engine(url, settings)
    check_database(engine)
    if migrated:
        migrate.upgrade(engine)
    return engine


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
    typer.echo(f"demo users' bearer tokens (also in {path}):")
    for username, token in report.tokens.items():
        typer.echo(f"  {username:<10} {token}")


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (default GIS_HOST, 127.0.0.1)"),
    port: int = typer.Option(None, help="Port to listen on (default GIS_PORT, 8000)"),
    demo: bool = typer.Option(True, help="Load the demo district when the database is empty"),
) -> None:
    """Serve the API (starting the managed database and loading the demo if empty)."""
    import uvicorn

    from gis_service.api.app import create_app
    from gis_service.ingest.demo_load import stairwell_count

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    if not port_is_free(port, host if host != "0.0.0.0" else "127.0.0.1"):
        raise PortInUse(f"port {port} on {host} is in use by another program; use --port")
    engine = open_database(settings)
    if demo and stairwell_count(engine) == 0:
        typer.echo("the database is empty: loading the demo district")
        load_demo_with_report(engine, settings, settings.demo_seed, 0)
    typer.echo(f"serving on http://{host}:{port} (database {describe_url(str(engine.url))})")
    uvicorn.run(create_app(engine), host=host, port=port, log_level="info")


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
    engine = open_database(get_settings(), migrated=False)
    migrate.upgrade(engine, revision)
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


def main() -> None:
    """Entry point: every failure is one line on stderr and a non-zero exit."""
    try:
        app()
    except GisServiceError as exc:
        typer.echo(f"gis-service: error: {exc}", err=True)
        sys.exit(1)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        typer.echo(f"gis-service: error: {DatabaseUnavailable(reason)}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
