"""The `gis-service` entry point: a malformed GIS_* setting is one line, even at load."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from gis_service.gc_policy import hold_big_data
from gis_service.settings import describe_setting_error


def main() -> None:
    """Load the command line (its help texts read the catalog and settings) and run it."""
    try:
        from gis_service.cli import main as run_command_line
    except ValidationError as exc:
        print(f"gis-service: error: {describe_setting_error(exc)}", file=sys.stderr)
        sys.exit(1)
    hold_big_data()
    run_command_line()
