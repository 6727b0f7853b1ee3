"""What an `f=html` page shows a person: its language (from Accept-Language) and the zh/en
labels of the layer's fields and enum values (layers/*.yaml, lookup tables), never codes."""

from __future__ import annotations

import sqlalchemy as sa

from gis_service.catalog import Layer
from gis_service.rows.lookups import labelled
from gis_service.webmap.i18n import negotiate


def page_language(accept_language: str | None) -> str:
    """'zh' when the caller prefers Chinese to English, else 'en'."""
    if not accept_language or "zh" not in accept_language.lower():
        return "en"
    return negotiate(None, accept_language)


def language_headers(lang: str) -> dict[str, str]:
    """Headers of a page whose language follows Accept-Language."""
    return {"Content-Language": "zh-CN" if lang == "zh" else "en", "Vary": "Accept-Language"}


def layer_title(layer: Layer, lang: str) -> str:
    """The layer's title in the page's language."""
    return layer.title.zh if lang == "zh" else layer.title.en


def field_heads(layer: Layer, names: tuple[str, ...] | None, lang: str) -> dict[str, str]:
    """Column heads of the fields shown: their labels in the page's language."""
    return {
        f.name: f.label.zh if lang == "zh" else f.label.en
        for f in layer.fields
        if names is None or f.name in names
    }


def value_labels(conn: sa.Connection, layer: Layer, lang: str) -> dict[str, dict[str, str]]:
    """For each enum field: code -> label in the page's language (catalog or lookup table)."""
    found: dict[str, dict[str, str]] = {}
    for field in layer.fields:
        if field.enum_labels:
            found[field.name] = {
                code: text.zh if lang == "zh" else text.en
                for code, text in field.enum_labels.items()
            }
        elif field.enum_from:
            found[field.name] = {c.code: c.label(lang) for c in labelled(conn, field.enum_from)}
    return found
