"""Engine and sessions: the managed cluster by default, GIS_DATABASE_URL when set."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from gis_service.db.cluster import ManagedCluster
from gis_service.errors import ConfigError, DatabaseUnavailable, PostgisMissing
from gis_service.settings import Settings

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 10
"""How long one attempt to connect may take (libpq connect_timeout)."""
CONNECT_ATTEMPTS = 2
"""Attempts to connect when one times out: psycopg has been seen to report a timeout that did
not happen (psycopg issues 1089, 1238), and a busy server may be slow once."""
PROBE_CONNECT_TIMEOUT_S = 5
"""How long a health probe (/health, /ready) waits to connect, in one attempt: a probe must
answer soon, also when the database's port is held by a program that never answers."""
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
             "keepalives_count": 3, "tcp_user_timeout": 60_000}  # fmt: skip
"""TCP keepalive of every connection (libpq; the URL may set its own): a database gone silent
(a dead network that sends no reset) is noticed within about a minute, so the edit listener
listens again and a waiting request is answered 503, rather than either waiting for ever."""
_PROBING: ContextVar[bool] = ContextVar("probing", default=False)


def normalise_url(url: str) -> str:
    """Use the psycopg (v3) driver whatever PostgreSQL URL form was given."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # the URL is never echoed: it may hold a password
        raise ConfigError(
            "GIS_DATABASE_URL is not a database URL of the form "
            "postgresql://user:password@host:port/database"
        ) from exc
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ConfigError(
            f"GIS_DATABASE_URL must point at PostgreSQL/PostGIS, not {parsed.drivername}"
        )
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def resolve_database_url(settings: Settings, start: bool = True) -> str:
    """Return the database URL, starting the managed cluster on demand."""
    if settings.database_url:
        return normalise_url(settings.database_url)
    cluster = ManagedCluster.from_settings(settings)
    if start:
        cluster.start()
    return cluster.url()


def connect_options(settings: Settings | None = None) -> str:
    """The libpq `options` of every connection: the statement timeout."""
    timeout = settings.statement_timeout_ms if settings else 30_000
    return f"-c statement_timeout={timeout}"


def timed_out_once(attempt: int, exc: psycopg.errors.ConnectionTimeout) -> bool:
    """Whether a connection attempt that timed out gets another (logged when it does)."""
    if attempt + 1 >= CONNECT_ATTEMPTS:
        return False
    log.warning("connecting to the database timed out, trying once more: %s", exc)
    return True


def keepalive_missing(conninfo: str, params: dict[str, Any]) -> dict[str, Any]:
    """The KEEPALIVE settings the connection's own (its URL's, or a pg_service entry's) leave
    unset; none when it turns keepalive off or names a service."""
    given = {**psycopg.conninfo.conninfo_to_dict(conninfo), **params}
    if "service" in given or str(given.get("keepalives", "1")) == "0":
        return {}
    return {name: value for name, value in KEEPALIVE.items() if name not in given}


def connect_patiently(conninfo: str = "", **params: Any) -> psycopg.Connection[Any]:
    """A psycopg connection (CONNECT_TIMEOUT_S unless the URL sets connect_timeout), tried
    again when an attempt times out (timed_out_once), with TCP keepalive (KEEPALIVE)."""
    params.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    params.update(keepalive_missing(conninfo, params))
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            return psycopg.connect(conninfo, **params)
        except psycopg.errors.ConnectionTimeout as exc:
            if not timed_out_once(attempt, exc):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def create_db_engine(url: str, settings: Settings | None = None) -> Engine:
    """Create an engine with a bounded pool and a statement timeout on every connection
    (connected patiently: connect_patiently)."""
    pool_size = settings.pool_size if settings else 5
    engine = sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args={"options": connect_options(settings)},
    )
    sa.event.listen(engine, "do_connect", patient_connect)
    return engine


def patient_connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
    """The engine's do_connect hook: the DBAPI connection made by connect_patiently (for a
    probe: one attempt of at most PROBE_CONNECT_TIMEOUT_S)."""
    if _PROBING.get():
        given = cparams.get("connect_timeout") or PROBE_CONNECT_TIMEOUT_S  # the URL's
        timeout = min(int(given), PROBE_CONNECT_TIMEOUT_S)
        return psycopg.connect(*cargs, **{**cparams, "connect_timeout": timeout})
    return connect_patiently(*cargs, **cparams)


@contextmanager
def probing() -> Iterator[None]:
    """Within this block, connections this thread makes are a health probe's (patient_connect)."""
    token = _PROBING.set(True)
    try:
        yield
    finally:
        _PROBING.reset(token)


def describe_url(url: str) -> str:
    """A URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def check_database(engine: Engine) -> dict[str, str]:
    """Connect (as a probe: soon) and return the PostgreSQL and PostGIS versions, or raise a
    clear error."""
    try:
        with probing(), engine.connect() as conn:
            server = conn.execute(sa.text("SHOW server_version")).scalar_one()
            has_postgis = conn.execute(
                sa.text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
            ).first()
            if not has_postgis:
                raise PostgisMissing(
                    f"database {describe_url(str(engine.url))} has no PostGIS extension: "
                    "CREATE EXTENSION postgis (the managed cluster does it itself)"
                )
            postgis = conn.execute(sa.text("SELECT postgis_lib_version()")).scalar_one()
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"cannot connect to {describe_url(str(engine.url))}: {reason}"
        ) from exc
    return {"postgresql": str(server), "postgis": str(postgis)}


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to the engine."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[sa.Connection]:
    """One transaction: committed if the block succeeds, rolled back otherwise."""
    with engine.begin() as conn:
        yield conn


def data_versions(conn: sa.Connection, tables: list[str]) -> dict[str, int]:
    """Current data version of each table (bumped by a trigger on every write)."""
    rows = conn.execute(
        sa.text("SELECT table_name, version FROM data_version WHERE table_name = ANY(:t)"),
        {"t": tables},
    )
    return {row.table_name: int(row.version) for row in rows}
