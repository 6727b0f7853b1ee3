"""Terminal side of imports: a progress bar on stderr (terminal only) and the printed report."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gis_service.catalog import Layer, default_catalog
from gis_service.errors import GisServiceError
from gis_service.ingest.report import ImportReport

SHOWN_ERRORS = 50


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr, shown only when stderr is a terminal."""
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal,
                  transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def steps(description: str) -> Iterator[Callable[[str], None]]:
    """A spinner-style status line on stderr (terminal only) for multi-step work."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda _message: None
        return
    with console.status(description) as status:
        yield lambda message: status.update(f"{description}: {message}")


def print_report(report: ImportReport, report_path: Path | None) -> None:
    """Print the rejected rows and ignored columns on stdout; write the JSON report if asked."""
    for column, reason in report.ignored_columns.items():
        typer.echo(f"ignored column {column!r}: {reason}")
    for warning in report.warnings:
        typer.echo(f"warning: {warning}")
    for error in report.rejected[:SHOWN_ERRORS]:
        typer.echo(error.line())
    if len(report.rejected) > SHOWN_ERRORS:
        more = len(report.rejected) - SHOWN_ERRORS
        typer.echo(f"... and {more} more problems" + (" (see the report)" if report_path else ""))
    if report_path is not None:
        data = report.as_dict()
        report_path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def catalog_layer(layer_id: str) -> Layer:
    """A layer of the catalog by id (a one-line error naming the layers otherwise)."""
    catalog = default_catalog()
    if layer_id not in catalog.layers:
        raise GisServiceError(
            f"unknown layer {layer_id!r}; layers: {', '.join(sorted(catalog.layers))}"
        )
    return catalog.layer(layer_id)


def parse_where(items: list[str]) -> dict[str, str]:
    """--where field=value options as a dict (a one-line error for a malformed one)."""
    filters: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise GisServiceError(f"--where takes field=value, not {item!r}")
        filters[name.strip()] = value
    return filters
