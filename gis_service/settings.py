"""Settings of the service, read only here, from the environment (prefix GIS_)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable, with defaults that work on a fresh machine."""

    model_config = SettingsConfigDict(env_prefix="GIS_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL/PostGIS URL; unset means the project-managed local cluster.",
    )
    database_read_url: str | None = Field(
        default=None,
        description="A read replica for GET requests (tiles, items); writes use database_url.",
    )
    data_dir: Path = Field(
        default_factory=lambda: default_data_dir(),
        description="Where the project keeps its managed cluster, caches and uploads; unset: "
        ".gis-data at the top of a source checkout, else ~/.local/share/gis-service "
        "(/var/lib/gis-service/data as root). A relative path is taken from where the command "
        "runs and kept absolute.",
    )
    pg_port: int = Field(default=55432, description="Port of the managed cluster (loopback).")
    pg_bin_dir: Path | None = Field(
        default=None, description="PostgreSQL server binaries; found under /usr/lib/postgresql."
    )
    pg_root_dir: Path = Field(
        default=Path("/var/lib/gis-service"),
        description="As root, PostgreSQL runs as the 'postgres' user with its cluster here.",
    )
    pg_database: str = Field(default="gis", description="Database name in the managed cluster.")
    pg_supervise: bool = Field(
        default=True,
        description="`serve` restarts the managed PostgreSQL after a crash (not with a URL).",
    )
    pg_check_interval_s: float = Field(
        default=2.0, description="How often `serve` checks that the managed PostgreSQL runs."
    )
    pg_restart_delay_s: float = Field(
        default=1.0, description="Wait before restarting a crashed managed PostgreSQL."
    )
    pg_restart_max_delay_s: float = Field(
        default=60.0, description="Longest wait between restart tries (doubling from the first)."
    )
    layers_dir: Path | None = Field(
        default=None, description="A city's own layer catalog (*.yaml); unset: the shipped layers/."
    )
    log_level: str | None = Field(
        default=None,
        description="Log level (debug, info, warning, error); unset: info for serve and "
        "db migrate, warning for the other commands.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as key=value text or one JSON object per line."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies whose X-Forwarded-For gives the client address (comma-separated, "
        "'*' for any): the address the sign-in throttle, /metrics and the audit trail use.",
    )
    pool_size: int = 5
    statement_timeout_ms: int = 30_000
    tile_cache_bytes: int = Field(
        default=256 * 1024 * 1024,
        description="Bytes of gzip-compressed vector tiles each server process keeps in memory.",
    )
    answer_cache_bytes: int = Field(
        default=512 * 1024 * 1024,
        description="Bytes of serialised analysis answers (JSON, CSV, GeoJSON) each server "
        "process keeps for repeated questions on unchanged data.",
    )
    refresh_ahead: bool = Field(
        default=True,
        description="Refresh kept analysis answers as soon as a write of stairwells or "
        "buildings commits (one listening database connection per server process), not when "
        "they are next asked.",
    )
    demo_seed: int = 34
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024, description="Largest import upload accepted (413 above)."
    )
    max_import_bytes: int = Field(
        default=256 * 1024 * 1024,
        description="Largest import once expanded: the file, or the members of a zip (413 above).",
    )
    max_import_rows: int = Field(
        default=500_000, description="Most rows one import may hold (413 above)."
    )
    max_archive_members: int = Field(
        default=100, description="Most members a zip upload may hold (413 above)."
    )
    import_report_rows: int = Field(
        default=100,
        description="Rejected rows an import report lists; the others are counted by reason.",
    )
    import_workers: int = Field(
        default=2,
        description="Processes that run imports (never the serving process); more imports wait.",
    )
    max_body_bytes: int = Field(
        default=2 * 1024 * 1024, description="Largest request body accepted (413 above)."
    )
    max_photo_bytes: int = Field(
        default=8 * 1024 * 1024,
        description="Largest photo (an issue's, a vote's proof) accepted (413 above).",
    )
    tianditu_key: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9]{8,64}$",
        description="Browser key (tk) of the Tianditu map service; unset: no Tianditu basemap.",
    )
    session_secret: str | None = Field(
        default=None,
        description="Key signing session cookies; unset: generated once, kept in the data dir.",
    )
    session_idle_minutes: int = Field(
        default=120, ge=1, description="A session unused this long is refused (server-side)."
    )
    session_max_hours: int = Field(
        default=12, ge=1, description="A session is refused this long after sign-in, used or not."
    )
    token_touch_seconds: int = Field(
        default=60,
        ge=1,
        description="A token's last use (and session's last activity) is written at most this "
        "often, so reads add no write per request.",
    )
    login_free_attempts: int = Field(
        default=5, ge=1, description="Wrong passwords per user name and address before delays."
    )
    login_address_free_attempts: int = Field(
        default=30, ge=1, description="Wrong passwords from one address (any names) before delays."
    )
    login_user_free_attempts: int = Field(
        default=100, ge=1, description="Wrong passwords for one name (any address) before delays."
    )
    login_max_delay_s: int = Field(
        default=900, ge=1, description="Longest delay for a name at one address, or an address."
    )
    login_user_max_delay_s: int = Field(
        default=30,
        ge=1,
        description="Longest delay for a name over all addresses (the real user's worst wait).",
    )
    login_failure_window_s: int = Field(
        default=3600, ge=1, description="Failed sign-ins are forgotten after this quiet time."
    )
    login_concurrency: int = Field(
        default=2, ge=1, description="Password checks (scrypt, 16 MB each) at once per process."
    )
    metrics_access: Literal["local", "admin", "public"] = Field(
        default="local",
        description="Who may read /metrics: local = loopback or admin, admin, or public.",
    )
    audit_retention_days: int = Field(
        default=400, ge=183, description="Audit entries are kept this long (at least 183 days)."
    )
    items_default_limit: int = Field(default=100, description="Features per page by default.")
    report_font: Path = Field(
        default=Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
        description="Font of map pictures (PNG): one with Chinese glyphs (Debian fonts-noto-cjk).",
    )
    max_ledger_rows: int = Field(
        default=100_000, ge=1, description="Most rows an XLSX ledger export may hold (400 above)."
    )
    local_timezone: str = Field(
        default="Asia/Shanghai", description="Zone of the times written in ledgers (XLSX, CSV)."
    )
    items_max_limit: int = Field(
        default=10_000, description="Largest page of features; larger limits are clamped."
    )
    service_area: Annotated[tuple[float, float, float, float] | None, NoDecode] = Field(
        default=None,
        description="lon/lat box 'W,S,E,N' stored geometries must lie in (edits, imports); unset: "
        "the stored data's extent grown by service_area_margin_km (gis_service/rows/area.py).",
    )
    service_area_margin_km: float = Field(
        default=50.0, ge=0, description="How far beyond the stored data's extent new data may lie."
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        """The data dir as an absolute path (the managed cluster is keyed on it)."""
        return value.expanduser().resolve()

    @field_validator("service_area", mode="before")
    @classmethod
    def _box(cls, value: Any) -> Any:
        """'W,S,E,N' text as four numbers, west < east and south < north within lon/lat."""
        if isinstance(value, str):
            value = [float(part) for part in value.split(",")] if value.strip() else None
        if value is not None:
            w, s, e, n = value
            if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
                raise ValueError("service_area must be W,S,E,N with W < E and S < N in degrees")
        return value


def default_data_dir() -> Path:
    """.gis-data of the source checkout this code runs from, else the user's data folder."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "gis_service").is_dir():
        return checkout / ".gis-data"
    if os.geteuid() == 0:
        return Path("/var/lib/gis-service/data")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gis-service"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()


def describe_setting_error(exc: ValidationError) -> str:
    """One line naming the GIS_* setting of the wrong form and why, never echoing its value."""
    first = exc.errors()[0]
    name = "GIS_" + str(first["loc"][0]).upper() if first.get("loc") else "a GIS_ setting"
    return f"{name}: {first['msg']}"
