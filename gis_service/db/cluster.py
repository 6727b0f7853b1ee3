"""A project-managed local PostgreSQL/PostGIS cluster (initdb / pg_ctl), started on demand."""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from gis_service.errors import ConfigError, DatabaseUnavailable, PortInUse, PostgisMissing
from gis_service.settings import Settings

SERVER_USER = "postgres"
TUNING = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "shared_buffers": "'256MB'",
    "work_mem": "'32MB'",
    "maintenance_work_mem": "'256MB'",
    "max_wal_size": "'2GB'",
    "timezone": "'UTC'",
}
log = logging.getLogger("gis_service.db.cluster")
THROWAWAY_TUNING = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def find_bin_dir(configured: Path | None = None) -> Path:
    """Find the PostgreSQL server binaries (newest under /usr/lib/postgresql)."""
    if configured is not None:
        if not (configured / "pg_ctl").exists():
            raise ConfigError(f"GIS_PG_BIN_DIR={configured} has no pg_ctl")
        return configured
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise DatabaseUnavailable(
        "PostgreSQL server is not installed: run `make run` (it installs postgresql-15-postgis-3) "
        "or set GIS_DATABASE_URL to an existing PostGIS database"
    )


def cluster_version(pgdata: Path) -> str | None:
    """The PostgreSQL major version that made a cluster (its PG_VERSION), None before initdb."""
    try:
        return (pgdata / "PG_VERSION").read_text().strip()
    except OSError:
        return None


def bin_version(bin_dir: Path) -> str:
    """The major version of the PostgreSQL binaries in a folder."""
    if bin_dir.parent.parent == Path("/usr/lib/postgresql"):  # Debian's layout names it
        return bin_dir.parent.name
    result = subprocess.run([str(bin_dir / "pg_ctl"), "--version"], capture_output=True,
                            text=True, check=False)
    return result.stdout.split()[-1].split(".")[0] if result.stdout.split() else "unknown"


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Tell whether nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) != 0


def free_port() -> int:
    """Ask the kernel for a free loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ManagedCluster:
    """One local cluster: its directory, port and binaries; root runs it as 'postgres'."""

    data_dir: Path
    port: int
    bin_dir: Path
    database: str = "gis"
    root_dir: Path = Path("/var/lib/gis-service")
    throwaway: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> ManagedCluster:
        """Build the cluster the settings describe (binaries of its PostgreSQL version)."""
        cluster = cls(
            data_dir=settings.data_dir.resolve(),
            port=settings.pg_port,
            bin_dir=find_bin_dir(settings.pg_bin_dir),
            database=settings.pg_database,
            root_dir=settings.pg_root_dir,
        )
        made_by = cluster_version(cluster.pgdata)
        matching = Path(f"/usr/lib/postgresql/{made_by}/bin")
        if settings.pg_bin_dir is None and made_by and (matching / "pg_ctl").exists():
            cluster.bin_dir = matching
        return cluster

    @property
    def as_root(self) -> bool:
        """PostgreSQL refuses to run as root, so root delegates to the 'postgres' user."""
        return os.geteuid() == 0

    @property
    def cluster_dir(self) -> Path:
        """Directory of the cluster files (outside the project when running as root)."""
        if self.as_root:
            key = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:12]
            return self.root_dir / "clusters" / key
        return self.data_dir / "pg"

    @property
    def pgdata(self) -> Path:
        """PGDATA of the cluster."""
        return self.cluster_dir / "data"

    @property
    def socket_dir(self) -> Path:
        """Directory of the cluster's unix socket."""
        return self.cluster_dir / "run"

    @property
    def log_file(self) -> Path:
        """Server log."""
        return self.cluster_dir / "server.log"

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL of a database in this cluster."""
        return (
            f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{database or self.database}"
        )

    def conninfo(self, database: str = "postgres") -> str:
        """libpq connection string of a database in this cluster."""
        return f"host=127.0.0.1 port={self.port} user={SERVER_USER} dbname={database}"

    def is_initialised(self) -> bool:
        """Tell whether initdb has run."""
        return (self.pgdata / "PG_VERSION").exists()

    def is_running(self) -> bool:
        """Tell whether the server of this cluster is up."""
        if not self.is_initialised():
            return False
        result = self._run(["pg_ctl", "status", "-D", str(self.pgdata)], check=False)
        return result.returncode == 0

    def init(self) -> None:
        """Run initdb and write the cluster's configuration."""
        if self.is_initialised():
            return
        self.cluster_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            self.root_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(self.root_dir, 0o755)
            os.chmod(self.root_dir / "clusters", 0o755)
            self._chown_to_server_user(self.cluster_dir)
        self._run(
            [
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                SERVER_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        )
        settings = {
            **TUNING,
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
        }
        if self.throwaway:
            settings.update(THROWAWAY_TUNING)
        lines = [f"{key} = {value}" for key, value in settings.items()]
        conf = self.pgdata / "postgresql.auto.conf"
        with conf.open("a") as handle:
            handle.write("\n# written by gis-service\n" + "\n".join(lines) + "\n")

    def start(self) -> None:
        """Start the server (initialising first if needed) and create the database."""
        if self.is_running():
            self.ensure_database()
            return
        if not port_is_free(self.port):  # before initdb: a refused start leaves nothing behind
            raise PortInUse(
                f"port {self.port} is in use by another program; set GIS_PG_PORT to a free port "
                "or GIS_DATABASE_URL to use that server"
            )
        self.check_version()
        self.init()
        result = self._run(
            [
                "pg_ctl",
                "start",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {self.port}",
            ],
            check=False,
        )
        if result.returncode != 0:
            tail = self._log_tail()
            log.error("managed PostgreSQL did not start: %s", tail)
            raise DatabaseUnavailable(f"managed PostgreSQL did not start: {tail}")
        log.info("managed PostgreSQL started on port %s (%s)", self.port, self.pgdata)
        self.ensure_database()

    def check_version(self) -> None:
        """Refuse, with what to do, a cluster made by another PostgreSQL major version."""
        made_by = cluster_version(self.pgdata)
        ours = bin_version(self.bin_dir)
        if made_by is None or made_by == ours:
            return
        raise DatabaseUnavailable(
            f"the managed cluster in {self.pgdata} was made by PostgreSQL {made_by}, and the "
            f"binaries in {self.bin_dir} are PostgreSQL {ours}: install PostgreSQL {made_by} "
            f"(GIS_PG_BIN_DIR=/usr/lib/postgresql/{made_by}/bin picks it), or upgrade the cluster "
            f"with pg_upgrade (back it up first: gis-service db backup FILE)"
        )

    def stop(self) -> bool:
        """Stop the server; return whether it was running."""
        if not self.is_running():
            return False
        self._run(["pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60"])
        log.info("managed PostgreSQL on port %s stopped", self.port)
        return True

    def destroy(self) -> None:
        """Stop the server and remove all its files."""
        self.stop()
        shutil.rmtree(self.cluster_dir, ignore_errors=True)

    def ensure_database(self, name: str | None = None) -> None:
        """Create the database (with PostGIS) if it does not exist yet."""
        database = name or self.database
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.conninfo(), autocommit=True) as conn:
                    exists = conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
                    ).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{database}"')
                break
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise DatabaseUnavailable(f"managed PostgreSQL does not answer: {exc}") from exc
                time.sleep(0.2)
        ensure_postgis(self.conninfo(database))

    def status(self) -> dict[str, object]:
        """Describe the cluster for `gis-service db status`."""
        return {
            "cluster_dir": str(self.cluster_dir),
            "initialised": self.is_initialised(),
            "running": self.is_running(),
            "port": self.port,
            "url": self.url(),
        }

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_file.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no server log"
        return " | ".join(text[-lines:]) or "empty server log"

    def _chown_to_server_user(self, path: Path) -> None:
        try:
            entry = pwd.getpwnam(SERVER_USER)
        except KeyError as exc:
            raise DatabaseUnavailable(
                "running as root needs the 'postgres' system user (from the postgresql package)"
            ) from exc
        for item in [path, *path.rglob("*")]:
            os.chown(item, entry.pw_uid, entry.pw_gid)

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / argv[0]), *argv[1:]]
        if self.as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)
        if check and result.returncode != 0:
            message = (result.stderr or result.stdout).strip().splitlines()
            raise DatabaseUnavailable(f"{argv[0]} failed: {' | '.join(message[-3:])}")
        return result


def ensure_postgis(conninfo: str) -> None:
    """Create the PostGIS extension in a database, or explain how to install it."""
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.errors.FeatureNotSupported as exc:
        raise PostgisMissing(
            "PostGIS is not installed for this PostgreSQL server: "
            "apt-get install postgresql-15-postgis-3 (make run does it)"
        ) from exc
    except psycopg.errors.UndefinedFile as exc:
        raise PostgisMissing(
            "PostGIS is not installed for this PostgreSQL server: "
            "apt-get install postgresql-15-postgis-3 (make run does it)"
        ) from exc


@contextmanager
def throwaway_cluster(
    data_dir: Path, root_dir: Path = Path("/var/lib/gis-service-test"), database: str = "postgres"
) -> Iterator[ManagedCluster]:
    """A fast, disposable cluster on a free port (tests, benchmarks); removed afterwards."""
    cluster = ManagedCluster(
        data_dir=data_dir,
        port=free_port(),
        bin_dir=find_bin_dir(),
        database=database,
        root_dir=root_dir,
        throwaway=True,
    )
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
