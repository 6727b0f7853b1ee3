"""A map view's `consent:` block (maps/planner.yaml): the owners' vote on the stairwell popup
and the compound card, the complete-community score as a choropleth, and their exports.

Validated here; `consent_entry` is what the page's script (gismap-consent.js) receives."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gis_service.text import Text

URL = r"^/[^\s\"'<>]*$"
COLOR = r"^#[0-9a-fA-F]{6}$"
LABELS = (
    "vote", "rule", "took_part", "approve", "by_area", "by_owners", "missing", "not_voted",
    "verdicts", "score", "missing_kinds", "nothing_missing", "export_consent",
    "export_checklist", "sign_in_to_see", "stairwell", "status", "verdict", "households",
    "name", "level",
)  # fmt: skip
"""The texts the script shows (every one needs zh and en)."""


class ChecklistLevel(BaseModel):
    """A level the complete-community checklist is drawn by."""

    model_config = ConfigDict(extra="forbid")
    id: Literal["community", "compound"]
    title: Text


class ConsentPanels(BaseModel):
    """Where the vote and the checklist are asked for, the score's classes, and the texts."""

    model_config = ConfigDict(extra="forbid")
    consent_url: str = Field(pattern=URL, description="the consent analysis (scope added)")
    checklist_url: str = Field(pattern=r"^/[^\s\"'<>]*\{level\}[^\s\"'<>]*$")
    checklist_title: Text
    levels: list[ChecklistLevel] = Field(min_length=1)
    breaks: list[float] = Field(min_length=1, description="score classes (0-100)")
    colors: list[str] = Field(min_length=2)
    labels: dict[str, Text]

    @model_validator(mode="after")
    def _complete(self) -> ConsentPanels:
        if self.breaks != sorted(self.breaks) or len(self.colors) != len(self.breaks) + 1:
            raise ValueError("breaks must ascend, with one colour more than breaks")
        bad = [c for c in self.colors if not re.match(COLOR, c)]
        if bad:
            raise ValueError(f"colors must be #rrggbb, not {bad}")
        missing = sorted(set(LABELS) - set(self.labels))
        if missing:
            raise ValueError(f"labels: give zh/en texts for {missing}")
        return self


def consent_entry(panels: ConsentPanels | None, lang: str) -> dict[str, Any] | None:
    """The block as the page's script reads it, in one language."""
    if panels is None:
        return None
    return {
        "consent_url": panels.consent_url,
        "checklist_url": panels.checklist_url,
        "checklist_title": panels.checklist_title.pick(lang),
        "levels": [{"id": lv.id, "title": lv.title.pick(lang)} for lv in panels.levels],
        "breaks": panels.breaks,
        "colors": panels.colors,
        "labels": {key: text.pick(lang) for key, text in panels.labels.items()},
    }
