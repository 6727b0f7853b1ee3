"""`gis-service analyze supply`: supply within reach per household and the shortage.

cli_analysis.py adds the command to `analyze`."""

from __future__ import annotations

from pathlib import Path

import typer

from gis_service import cli_base as common
from gis_service.catalog import default_catalog
from gis_service.datasets import formats
from gis_service.datasets.params import level_column
from gis_service.datasets.runs import with_names
from gis_service.datasets.supply import run_supply, supply_level_table, supply_params

CATALOG = default_catalog()
MEASURED = [i for i in CATALOG.service_layers() if CATALOG.supply_measures(i)]
LISTED = "; ".join(f"{i}: {', '.join(CATALOG.supply_measures(i))}" for i in MEASURED)


def supply_command(
    layer: str = typer.Option(MEASURED[0] if MEASURED else "parking", help=f"Layer ({LISTED})"),
    measure: str = typer.Option(None, help="Supply measure of the layer (its first if omitted)"),
    mode: str = common.MODE,
    decay: str = typer.Option("none", help="Distance decay: none, gaussian or stepped"),
    target: float = typer.Option(None, help="Target per household (default: the catalog's)"),
    level: str = typer.Option(
        "compound", help="stairwell, grid, compound, community, subdistrict or district"
    ),
    district: int = common.DISTRICT, subdistrict: int = common.SUBDISTRICT,
    community: int = common.COMMUNITY, grid: int = common.GRID, compound: int = common.COMPOUND,
    bbox: str = common.BBOX,
    fmt: str = common.FORMAT, output: Path = common.OUTPUT,
) -> None:  # fmt: skip
    """Supply within reach per household (each kind its own radius) and the shortage."""
    area = common.area_of(district, subdistrict, community, grid, compound, bbox)
    with common.session("supply") as (conn, step):
        params = supply_params(conn, layer, measure, mode, decay, target, CATALOG)
        result = run_supply(conn, params, area, progress=step)
        if level == "stairwell":
            frame = result.stairwells.drop(columns=["geometry"])
            shown = ["id", "compound_id", "households", "supply", "ratio", "shortage"]
        else:
            col = level_column(level)
            frame = with_names(conn, supply_level_table(result, col, params.target), level)
            shown = [col, "name", "households", "households_reached", "supply", "ratio",
                     "target", "shortage", "households_short"]  # fmt: skip
    meta = {"parameters": params.as_dict(), "area": area.as_dict(), "level": level}
    formats.write_table(frame, fmt, output, meta, shown)
