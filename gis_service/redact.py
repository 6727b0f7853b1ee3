"""Secrets out of messages: passwords in URLs and libpq connection strings."""

from __future__ import annotations

import re

URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s'\"]*:)[^@\s'\"]*@")
KEYWORD_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)('[^']*'|[^\s'\"]+)", re.IGNORECASE)


def redact(text: str) -> str:
    """The text with every URL password and `password=...` value replaced by ***."""
    text = URL_PASSWORD.sub(r"\g<head>***@", text)
    return KEYWORD_PASSWORD.sub(r"\g<head>***", text)
