"""What every `gis-service` command group shares: the database, the operator, the options.

The command modules import this one and nothing else of the CLI; cli.py gathers them.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import Engine

from gis_service.auth import Principal
from gis_service.datasets.area import Area, parse_bbox
from gis_service.db import migrate
from gis_service.db.engine import check_database, create_db_engine, resolve_database_url
from gis_service.errors import GisServiceError
from gis_service.settings import Settings, get_settings

STEPS = 6
FORMAT = typer.Option("table", "--format", "-f", help="table, json, csv (or geojson where listed)")
OUTPUT = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout")
MODE = typer.Option("network", help="network (along streets) or crow (straight line)")
DISTRICT = typer.Option(None, "--district", help="Only this district id")
SUBDISTRICT = typer.Option(None, "--subdistrict", help="Only this subdistrict id")
COMMUNITY = typer.Option(None, "--community", help="Only this community id")
GRID = typer.Option(None, "--grid", help="Only this grid id")
COMPOUND = typer.Option(None, "--compound", help="Only this compound id")
BBOX = typer.Option(None, "--bbox", help="west,south,east,north in degrees")


def open_database(settings: Settings, migrated: bool = True) -> Engine:
    """Start the managed cluster when needed, connect, check PostGIS and migrate."""
    url = resolve_database_url(settings)
    engine = create_db_engine(url, settings)
    check_database(engine)
    if migrated:
        migrate.upgrade(engine)
    return engine


def operator() -> Principal:
    """Who runs the command, as the audit trail names them."""
    return Principal(role="admin", username=f"cli:{getpass.getuser()}", address="local")


def area_of(
    district: int | None, subdistrict: int | None, community: int | None,
    grid: int | None, compound: int | None, bbox: str | None,
) -> Area:  # fmt: skip
    """The area filter from the common options."""
    return Area(district, subdistrict, community, grid, compound, parse_bbox(bbox))


@contextmanager
def session(what: str) -> Iterator[tuple[sa.Connection, Callable[[str], None]]]:
    """A transaction on the database and a progress callback drawing a bar on stderr."""
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(f"{what}: connecting", total=STEPS)
        engine = open_database(get_settings())

        def step(message: str) -> None:
            bar.update(task, description=f"{what}: {message}", advance=1)

        try:
            with engine.begin() as conn:
                yield conn, step
                bar.update(task, completed=STEPS)
        except sa.exc.DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise GisServiceError(f"the database refused: {reason}") from exc
        finally:
            engine.dispose()
