"""A label or a sentence in Chinese and English (the catalog's and the maps' texts)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class Text(BaseModel):
    """A label in Chinese and English."""

    model_config = ConfigDict(extra="forbid")
    zh: str
    en: str

    def pick(self, lang: str) -> str:
        """The label in a language ('zh' or 'en'; English otherwise)."""
        return self.zh if lang.startswith("zh") else self.en

    def fill(self, lang: str, values: dict[str, object]) -> str:
        """The text in a language with its {name} placeholders replaced by values (others kept)."""
        return PLACEHOLDER.sub(
            lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0),
            self.pick(lang),
        )
