"""HTTP-flavoured domain errors of the features API (raised here, answered by api/problems.py)."""

from __future__ import annotations

from gis_service.errors import GisServiceError, InvalidInput


class BadRequest(InvalidInput):
    """A query the service cannot understand: unknown parameter, wrong type, bad filter."""

    status_code = 400
    title = "Bad request"


class Conflict(GisServiceError):
    """The request conflicts with the stored state (idempotency key reuse, references, unique)."""

    status_code = 409
    title = "Conflict"


class PayloadTooLarge(GisServiceError):
    """The request body is above the configured limit."""

    status_code = 413
    title = "Payload too large"


class UnsupportedMediaType(GisServiceError):
    """The request body is not JSON."""

    status_code = 415
    title = "Unsupported media type"


class PreconditionFailed(GisServiceError):
    """If-Match names a version that is no longer current."""

    status_code = 412
    title = "Precondition failed"


class PreconditionRequired(GisServiceError):
    """A write to an existing item came without If-Match."""

    status_code = 428
    title = "Precondition required"


class MethodNotAllowed(GisServiceError):
    """The resource exists but does not answer this method."""

    status_code = 405
    title = "Method not allowed"
