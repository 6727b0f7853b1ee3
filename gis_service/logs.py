"""The service's log lines: one format (key=value text or JSON), one level, secrets redacted.

Every line has a time, level, logger and message; extra fields come from
`log.info(message, extra={"fields": {...}})`. Uvicorn's own access log is off: the request log
(api/request_log.py) writes one line per request instead.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from gis_service.redact import redact

HANDLER_NAME = "gis-service"
# alembic says these each time a revision is read (every /ready): not news
ALEMBIC_CHATTER = ("Context impl ", "Will assume ")


def not_chatter(record: logging.LogRecord) -> bool:
    """Drop alembic's per-connection chatter; keep its 'Running upgrade ...' lines."""
    return not (record.name.startswith("alembic") and record.getMessage().startswith(
        ALEMBIC_CHATTER))


def quoted(value: object) -> str:
    """A value for key=value text: quoted when it holds spaces, quotes or '='."""
    text = str(value)
    if text == "" or any(c in text for c in ' "=\t\n'):
        return json.dumps(text, ensure_ascii=False)
    return text


def stamp(record: logging.LogRecord) -> str:
    """The record's time in UTC, ISO 8601 with milliseconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + \
        f".{int(record.msecs):03d}Z"


def fields_of(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, Any]:
    """time, level, logger, msg, the record's extra fields and the exception's last line."""
    fields: dict[str, Any] = {"time": stamp(record), "level": record.levelname.lower(),
                              "logger": record.name, "msg": record.getMessage()}
    fields.update(getattr(record, "fields", {}))
    if record.exc_info:
        fields["exc"] = formatter.formatException(record.exc_info).splitlines()[-1]
    return fields


class KeyValueFormatter(logging.Formatter):
    """time=... level=... logger=... msg="..." key=value ..."""

    def format(self, record: logging.LogRecord) -> str:
        """One line, secrets redacted."""
        fields = fields_of(record, self)
        return redact(" ".join(f"{key}={quoted(value)}" for key, value in fields.items()))


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """One line, secrets redacted."""
        return redact(json.dumps(fields_of(record, self), ensure_ascii=False, default=str))


def configure(level: str, log_format: str) -> None:
    """Send every logger's lines (ours, uvicorn's, alembic's) to stderr in the chosen format."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.set_name(HANDLER_NAME)
    handler.addFilter(not_chatter)
    handler.setFormatter(JsonFormatter() if log_format == "json" else KeyValueFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "gis_service", "alembic"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    logging.getLogger("uvicorn.access").disabled = True
