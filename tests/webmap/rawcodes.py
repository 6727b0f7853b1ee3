"""The codes a person must never read on a page: every enum and lookup code, every field name."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.catalog import default_catalog
from gis_service.db.models import BATCH_STATUSES


def all_codes(engine: Engine) -> set[str]:
    """Enum codes of the catalog, codes of its lookup tables and field names with an underscore."""
    catalog = default_catalog()
    found: set[str] = set(BATCH_STATUSES)
    tables: set[str] = set()
    for layer in catalog.layers.values():
        for f in layer.fields:
            found.update(f.enum or [])
            if f.enum_from:
                tables.add(f.enum_from)
            if "_" in f.name:
                found.add(f.name)
        if layer.style.color_by:
            found.update(layer.style.colors)
    with engine.connect() as conn:
        for table in sorted(tables):
            found.update(conn.execute(sa.text(f'SELECT code FROM "{table}"')).scalars())
    return found


def raw_codes(text: str, codes: set[str]) -> list[str]:
    """The codes standing as words in a page's visible text."""
    def standing(code: str) -> bool:
        return re.search(rf"(?<![A-Za-z0-9_]){re.escape(code)}(?![A-Za-z0-9_])", text) is not None

    return sorted(c for c in codes if standing(c))
