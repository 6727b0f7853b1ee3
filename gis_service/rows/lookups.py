"""The row checks that need the database: lookup codes (enum_from) and references to records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.catalog import Catalog, Layer
from gis_service.db.models import Base
from gis_service.rows.columns import quoted
from gis_service.rows.messages import say


def target(layer: Layer, name: str, references: bool) -> tuple[str, str] | None:
    """The table and column a field's values must exist in: its lookup table, or its reference."""
    spec = layer.field(name)
    if spec.enum_from:
        return spec.enum_from, "code"
    keys = list(Base.metadata.tables[layer.table].c[name].foreign_keys)
    if references and keys:
        return keys[0].column.table.name, keys[0].column.name
    return None


def existing(conn: sa.Connection, table: str, column: str, wanted: list[Any]) -> set[Any] | None:
    """Which of the wanted values exist (None when the caller may not read the table)."""
    readable = conn.execute(
        sa.text("SELECT has_table_privilege(:t, 'SELECT')"), {"t": table}
    ).scalar_one()
    if not readable:
        return None  # the database checks the reference when the row is written
    sql = f"SELECT {quoted(column)} FROM {quoted(table)} WHERE {quoted(column)} = ANY(:values)"
    return {row[0] for row in conn.execute(sa.text(sql), {"values": wanted})}


@dataclass(frozen=True)
class Code:
    """A row of a lookup table (elevator status, issue category) with its labels."""

    code: str
    label_zh: str
    label_en: str

    def label(self, lang: str) -> str:
        """The label in the page's language."""
        return self.label_zh if lang == "zh" else self.label_en


def labelled(conn: sa.Connection, table: str, order: str = "code") -> list[Code]:
    """Every row of a lookup table (a name fixed in code) with its labels, in `order`."""
    sql = f"SELECT code, label_zh, label_en FROM {quoted(table)} ORDER BY {quoted(order)}"
    return [Code(r.code, r.label_zh, r.label_en) for r in conn.execute(sa.text(sql))]


def elevator_statuses(engine: Engine) -> list[Code]:
    """The elevator pipeline in order, with its labels (reference data, read as the service)."""
    with engine.connect() as conn:
        return labelled(conn, "elevator_status", "rank")


def lookup_tables(engine: Engine, catalog: Catalog) -> dict[str, list[Code]]:
    """Every lookup table the catalog's fields name (enum_from), with its labels."""
    tables = sorted({f.enum_from for layer in catalog.layers.values() for f in layer.fields
                     if f.enum_from})  # fmt: skip
    with engine.connect() as conn:
        return {table: labelled(conn, table) for table in tables}


def codes(conn: sa.Connection, table: str) -> list[str]:
    """Every code of a lookup table, sorted."""
    found = conn.execute(sa.text(f"SELECT code FROM {quoted(table)}")).scalars()
    return sorted(str(code) for code in found)


def lookup_errors(
    conn: sa.Connection,
    layer: Layer,
    doc: dict[str, Any],
    columns: dict[str, list[Any]],
    references: bool = True,
) -> dict[tuple[int, str], str]:
    """Unknown codes (and, with references, missing referenced records) by (row, field)."""
    found: dict[tuple[int, str], str] = {}
    for name, values in columns.items():
        where = target(layer, name, references)
        wanted = sorted({v for v in values if v is not None}, key=str)
        if where is None or not wanted:
            continue
        present = existing(conn, *where, wanted)
        if present is None:
            continue
        lookup = layer.field(name).enum_from
        message = say(doc, "enum", name, values=codes(conn, lookup)) if lookup else None
        for index, value in enumerate(values):
            if value is not None and value not in present:
                found[(index, name)] = message or say(doc, "reference", name)
    return found
