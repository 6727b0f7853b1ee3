"""Export then import gives the same rows (every catalog field, geometry to 1e-9°)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.catalog import default_catalog
from gis_service.db.cluster import ManagedCluster
from gis_service.ingest.export import export_file, row_filter
from gis_service.ingest.importer import ImportOptions, import_file
from gis_service.ingest.validate import importable_fields
from tests.conftest import DemoTemplate, engine_on_copy

LAYERS = ["stairwells", "buildings", "gardens", "streets", "issues", "parking"]


def rows(engine: Engine, layer_id: str, ids: list[int] | None = None) -> list[dict[str, Any]]:
    layer = default_catalog().layer(layer_id)
    fields = list(importable_fields(layer, None))
    columns = ", ".join(f'"{f}"' for f in fields)
    where = "WHERE id = ANY(:ids)" if ids is not None else ""
    with engine.connect() as conn:
        result = conn.execute(
            sa.text(f'SELECT {columns}, ST_AsBinary(geom) AS wkb FROM "{layer.table}" {where} '
                    "ORDER BY id"),
            {"ids": ids},
        ).mappings().all()
    return [dict(row) for row in result]


@pytest.fixture(scope="module")
def module_demo_db(pg_cluster: ManagedCluster, demo_template: DemoTemplate) -> Iterator[Engine]:
    """A copy of the demo district for this module: each import is rolled back."""
    yield from engine_on_copy(pg_cluster, demo_template.name)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
@pytest.mark.parametrize("layer_id", LAYERS)
def test_export_then_import_gives_the_same_rows(
    module_demo_db: Engine, tmp_path: Path, layer_id: str, fmt: str
) -> None:
    layer = default_catalog().layer(layer_id)
    path = tmp_path / f"{layer_id}.{fmt}"
    original = rows(module_demo_db, layer_id)
    with module_demo_db.begin() as conn:
        assert export_file(conn, layer, path, row_filter(layer, {})) == len(original)
    conn = module_demo_db.connect()
    transaction = conn.begin()
    try:
        report = import_file(conn, layer, path, ImportOptions())
        copied = [dict(r) for r in conn.execute(
            sa.text(f'SELECT {", ".join(repr_columns(layer_id))}, ST_AsBinary(geom) AS wkb '
                    f'FROM "{layer.table}" WHERE id = ANY(:ids) ORDER BY id'),
            {"ids": report.ids},
        ).mappings()]
    finally:
        transaction.rollback()  # the next case exports the demo as it was
        conn.close()
    assert report.rows_written == len(original) and not report.rejected
    assert len(copied) == len(original)
    for before, after in zip(original, copied, strict=True):
        geometry_before = shapely.from_wkb(bytes(before.pop("wkb")))
        geometry_after = shapely.from_wkb(bytes(after.pop("wkb")))
        assert after == before
        assert shapely.hausdorff_distance(geometry_before, geometry_after) < 1e-9


def repr_columns(layer_id: str) -> list[str]:
    return [f'"{f}"' for f in importable_fields(default_catalog().layer(layer_id), None)]


def test_filtered_export(shared_demo_db: Engine, tmp_path: Path) -> None:
    layer = default_catalog().layer("stairwells")
    with shared_demo_db.begin() as conn:
        compound = conn.execute(
            sa.text("SELECT id FROM compound WHERE name = '水荫路34号大院'")).scalar_one()
        where = row_filter(layer, {"compound_id": str(compound)})
        assert export_file(conn, layer, tmp_path / "s34.geojson", where) == 57
        both = row_filter(layer, {"compound_id": str(compound)}, "elevator_status = 'in_service'")
        assert export_file(conn, layer, tmp_path / "s34.csv", both) == 15
