"""Settings of the service, read only here, from the environment (prefix GIS_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable, with defaults that work on a fresh machine."""

    model_config = SettingsConfigDict(env_prefix="GIS_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL/PostGIS URL; unset means the project-managed local cluster.",
    )
    data_dir: Path = Field(
        default=Path(".gis-data"),
        description="Where the project keeps its managed cluster, caches and uploads.",
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
    host: str = "127.0.0.1"
    port: int = 8000
    pool_size: int = 5
    statement_timeout_ms: int = 30_000
    demo_seed: int = 34


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()
