"""Domain errors of the features API (api/problems.py maps each to its HTTP status)."""

from __future__ import annotations

from typing import Any

from gis_service.errors import GisServiceError, InvalidInput


class BadRequest(InvalidInput):
    """A query the service cannot understand: unknown parameter, wrong type, bad filter."""


class Conflict(GisServiceError):
    """The request conflicts with the stored state (idempotency key reuse, references, unique)."""


class PayloadTooLarge(GisServiceError):
    """The request body is above the configured limit."""


class UnsupportedMediaType(GisServiceError):
    """The request body is not JSON."""


class PreconditionFailed(GisServiceError):
    """If-Match names a version that is no longer current; carries that version (its ETag and
    the feature as the caller reads it), so the client merges or asks without a second read."""

    def __init__(
        self, message: str, etag: str | None = None, current: dict[str, Any] | None = None,
        crs: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.etag = etag
        self.current = current
        self.crs = crs
        """The URI of the CRS `current` is in."""

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with the current version."""
        return (type(self), (str(self), self.etag, self.current, self.crs))


class PreconditionRequired(GisServiceError):
    """A write to an existing item came without If-Match."""


class MethodNotAllowed(GisServiceError):
    """The resource exists but does not answer this method."""
