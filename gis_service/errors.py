"""Domain errors: what went wrong, in one clear line (api/problems.py maps each to a status)."""

from __future__ import annotations


class GisServiceError(Exception):
    """Base of every error the service reports to a user in one clear line."""


class ConfigError(GisServiceError):
    """A setting or a file of configuration is wrong."""


class DatabaseUnavailable(GisServiceError):
    """The database cannot be reached or started."""


class DatabaseNotReady(DatabaseUnavailable):
    """The database answers but lacks what the code needs (roles, migrations)."""


class InstallationIncomplete(GisServiceError):
    """Files the service ships with (layer catalog, map views, browser assets) are missing."""


class PrivilegesMissing(ConfigError):
    """The database user may not do what the migrations do (create roles, own the schema)."""


class PostgisMissing(DatabaseUnavailable):
    """The server runs but has no PostGIS extension available."""


class PortInUse(GisServiceError):
    """A port the service needs is taken by another program."""


class Unauthorized(GisServiceError):
    """No valid credentials for something that needs them."""


class Forbidden(GisServiceError):
    """The caller's role may not do this."""


class NotFound(GisServiceError):
    """The thing asked for does not exist."""


class InvalidInput(GisServiceError):
    """Input that breaks a rule; carries field-level details."""

    def __init__(self, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with the field-level details (imports run in worker processes)."""
        return (type(self), (str(self), self.errors))


class TooManyAttempts(GisServiceError):
    """Too many wrong passwords lately: try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StepRefused(GisServiceError):
    """A step the stored state does not allow (a vote not passed, the last step reached); carries
    what a person needs to see why (zh/en texts, the verdict) for the answer."""

    def __init__(self, message: str, details: dict[str, object]) -> None:
        super().__init__(message)
        self.details = details

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with the details."""
        return (type(self), (str(self), self.details))
