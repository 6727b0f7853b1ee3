"""Domain errors; the API layer is the one place they become HTTP answers."""

from __future__ import annotations


class GisServiceError(Exception):
    """Base of every error the service reports to a user in one clear line."""

    status_code = 500
    title = "Internal error"


class ConfigError(GisServiceError):
    """A setting or a file of configuration is wrong."""

    status_code = 500
    title = "Configuration error"


class DatabaseUnavailable(GisServiceError):
    """The database cannot be reached or started."""

    status_code = 503
    title = "Database unavailable"


class DatabaseNotReady(DatabaseUnavailable):
    """The database answers but lacks what the code needs (roles, migrations)."""

    title = "Database not ready"


class InstallationIncomplete(GisServiceError):
    """Files the service ships with (layer catalog, map views, browser assets) are missing."""

    status_code = 503
    title = "Installation incomplete"


class PrivilegesMissing(ConfigError):
    """The database user may not do what the migrations do (create roles, own the schema)."""

    title = "Database privileges missing"


class PostgisMissing(DatabaseUnavailable):
    """The server runs but has no PostGIS extension available."""

    title = "PostGIS missing"


class PortInUse(GisServiceError):
    """A port the service needs is taken by another program."""

    status_code = 500
    title = "Port in use"


class Unauthorized(GisServiceError):
    """No valid credentials for something that needs them."""

    status_code = 401
    title = "Unauthorized"


class Forbidden(GisServiceError):
    """The caller's role may not do this."""

    status_code = 403
    title = "Forbidden"


class NotFound(GisServiceError):
    """The thing asked for does not exist."""

    status_code = 404
    title = "Not found"


class InvalidInput(GisServiceError):
    """Input that breaks a rule; carries field-level details."""

    status_code = 422
    title = "Invalid input"

    def __init__(self, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with the field-level details (imports run in worker processes)."""
        return (type(self), (str(self), self.errors))


class TooManyAttempts(GisServiceError):
    """Too many wrong passwords lately: try again after `retry_after` seconds."""

    status_code = 429
    title = "Too many attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
