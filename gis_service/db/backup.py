"""One file holding a whole installation: roles, schema and data (pg_dump), photos, session key.

The file is a tar archive (owner-only: it holds password hashes and the session key):

    manifest.json      format, code version, migration revision, server versions, roles, counts
    database.dump      pg_dump --format=custom of the service's database
    session-secret     the key signing session cookies (when the data dir holds one)
    photos/...         the issue photos kept under the data dir

A restore goes only into an empty database and an empty photo folder; the database part is one
transaction (pg_restore --single-transaction), so a refused restore writes nothing there.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from gis_service import __version__
from gis_service.errors import ConfigError, GisServiceError

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
SECRET = "session-secret"
PHOTOS = "photos"
MAX_MANIFEST_BYTES = 1024 * 1024
LIBPQ_QUERY_KEYS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "application_name")
# TOC entries left out of a restore: the target's PostGIS was created beforehand (by a superuser
# for a server of its own), and commenting on it needs its ownership.
SKIPPED_TOC = (" EXTENSION ", " COMMENT - EXTENSION ")
USER_TABLES_SQL = sa.text(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
    "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'topology', 'tiger') "
    "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
    "AND d.objid = c.oid AND d.deptype = 'e') ORDER BY c.relname"
)


class BackupError(GisServiceError):
    """A backup or restore that cannot be done (the message says why and what to do)."""


@dataclass(frozen=True)
class PgTools:
    """The PostgreSQL client programs and the environment that points them at one database."""

    bin_dir: Path
    url: str

    def env(self) -> dict[str, str]:
        """libpq variables for the URL alone (the password never on a command line, no PG*
        variable of the caller's environment redirecting the tools)."""
        parsed = make_url(self.url)
        values = {
            "PGHOST": parsed.host or "",
            "PGPORT": str(parsed.port or ""),
            "PGUSER": parsed.username or "",
            "PGPASSWORD": parsed.password or "",
            "PGDATABASE": parsed.database or "",
            "PGCONNECT_TIMEOUT": "10",
            "LC_ALL": "C.UTF-8",
        }
        for key in LIBPQ_QUERY_KEYS:  # ?sslmode=require etc. of the URL
            if isinstance(parsed.query.get(key), str):
                values["PG" + key.upper()] = str(parsed.query[key])
        return {key: value for key, value in values.items() if value}

    def run(self, program: str, *args: str) -> subprocess.CompletedProcess[bytes]:
        """Run one client program (no shell); a failure is one line naming the program."""
        result = subprocess.run(
            [str(self.bin_dir / program), *args], env=self.env(), capture_output=True, check=False
        )
        if result.returncode != 0:
            lines = [line for line in result.stderr.decode(errors="replace").splitlines() if line]
            errors = [line for line in lines if "error" in line.lower()] or lines
            raise BackupError(f"{program} failed: {errors[0] if errors else 'no message'}")
        return result


@dataclass(frozen=True)
class Restored:
    """What a restore wrote, for the command's report."""

    revision: str | None
    tables: int
    photos: int
    seconds: float


def user_tables(engine: Engine) -> list[str]:
    """Tables, views and sequences of the database that no extension owns."""
    with engine.connect() as conn:
        return list(conn.execute(USER_TABLES_SQL).scalars())


def existing_roles(engine: Engine, names: list[str]) -> list[str]:
    """Which of the service's database roles exist on the server."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names) ORDER BY rolname"),
            {"names": names},
        )
        return list(found.scalars())


def photo_files(data_dir: Path) -> list[Path]:
    """The photos kept under the data dir (regular files only)."""
    root = data_dir / PHOTOS
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def backup(
    engine: Engine, tools: PgTools, target: Path, data_dir: Path, session_secret: bytes | None,
    roles: list[str], revision: str | None, versions: dict[str, str],
) -> dict[str, object]:
    """Write the backup file (atomically, owner-only); return its manifest."""
    target = target.resolve()
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".gis-backup-") as work:
        dump = Path(work) / DUMP
        tools.run("pg_dump", "--format=custom", "--file", str(dump))
        photos = photo_files(data_dir)
        manifest: dict[str, object] = {
            "format": FORMAT,
            "gis_service": __version__,
            "revision": revision,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "database": versions,
            "roles": existing_roles(engine, roles),
            "tables": len(user_tables(engine)),
            "photos": len(photos),
            "session_secret": session_secret is not None,
        }
        partial = Path(work) / "backup.tar"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as archive:
            add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
            archive.add(dump, DUMP)
            if session_secret is not None:
                add_bytes(archive, SECRET, session_secret)
            for photo in photos:
                archive.add(photo, photo.relative_to(data_dir).as_posix())
        os.replace(partial, target)
    return manifest


def add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add one in-memory file to the archive."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(time.time())
    archive.addfile(info, fileobj=_Reader(data))


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.offset + size
        chunk, self.offset = self.data[self.offset : end], min(end, len(self.data))
        return chunk


@contextmanager
def open_backup(path: Path) -> Iterator[tuple[tarfile.TarFile, dict[str, Any]]]:
    """Open a backup file and read its manifest, refusing anything that is not one."""
    if not path.is_file():
        raise BackupError(f"no such backup file: {path}")
    try:
        archive = tarfile.open(path, mode="r:")  # noqa: SIM115 (closed below)
    except tarfile.TarError as exc:
        raise BackupError(f"{path} is not a gis-service backup (not a tar file)") from exc
    with archive:
        yield archive, read_manifest(archive, path)


def read_manifest(archive: tarfile.TarFile, path: Path) -> dict[str, Any]:
    """The manifest, after checking every member is one a backup holds (no links, no '..')."""
    names = set()
    for member in archive.getmembers():
        name = member.name
        inside = name in (MANIFEST, DUMP, SECRET) or (
            name.startswith(PHOTOS + "/") and ".." not in Path(name).parts
        )
        if not inside or not member.isfile():
            raise BackupError(f"{path} holds an unexpected member {name!r}: not restored")
        names.add(name)
    if MANIFEST not in names or DUMP not in names:
        raise BackupError(f"{path} is not a gis-service backup (no {MANIFEST} or {DUMP})")
    member = archive.getmember(MANIFEST)
    if member.size > MAX_MANIFEST_BYTES:
        raise BackupError(f"{path}: {MANIFEST} is larger than {MAX_MANIFEST_BYTES} bytes")
    handle = archive.extractfile(member)
    assert handle is not None
    manifest: dict[str, Any] = json.loads(handle.read())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} has backup format {manifest.get('format')}, "
                          f"this gis-service reads format {FORMAT}")
    return manifest


def refuse_non_empty(engine: Engine, data_dir: Path, described: str) -> None:
    """Raise unless the target database holds no tables and the data dir no photos."""
    tables = user_tables(engine)
    if tables:
        raise BackupError(
            f"the target database {described} is not empty ({len(tables)} tables, e.g. "
            f"{tables[0]}): restore only into an empty database (a new GIS_DATA_DIR for the "
            "managed cluster, or a new database for GIS_DATABASE_URL)"
        )
    if photo_files(data_dir):
        raise BackupError(f"{data_dir / PHOTOS} already holds photos: restore into a new data dir")


def create_roles(engine: Engine, roles: list[str], known: set[str]) -> None:
    """Create the service's roles the backup names (only known names) and grant them to us."""
    unknown = sorted(set(roles) - known)
    if unknown:
        raise BackupError(f"the backup names roles this code does not know: {', '.join(unknown)}")
    with engine.begin() as conn:
        superuser = conn.execute(
            sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar_one()
        for role in sorted(roles):  # identifiers only from the code's own list (known)
            conn.execute(sa.text(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
                f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
            ))
            if not superuser:
                conn.execute(sa.text(f"GRANT {role} TO current_user"))


def restore_database(archive: tarfile.TarFile, tools: PgTools, work: Path) -> None:
    """pg_restore the dump in one transaction, without the extension entries."""
    archive.extract(DUMP, work, set_attrs=False)
    dump = work / DUMP
    listing = tools.run("pg_restore", "--list", str(dump)).stdout.decode()
    kept = [line for line in listing.splitlines()
            if not any(skip in line for skip in SKIPPED_TOC)]
    (work / "toc.list").write_text("\n".join(kept) + "\n")
    tools.run(
        "pg_restore", "--single-transaction", "--exit-on-error", "--no-owner",
        "--use-list", str(work / "toc.list"), "--dbname", make_url(tools.url).database or "",
        str(dump),
    )


def restore_files(archive: tarfile.TarFile, data_dir: Path) -> int:
    """Put the photos and the session key into the data dir; return how many photos."""
    data_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for member in archive.getmembers():
        if member.name.startswith(PHOTOS + "/"):
            target = data_dir / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            write_member(archive, member, target, 0o640)
            count += 1
        elif member.name == SECRET:
            write_member(archive, member, data_dir / SECRET, 0o600)
    return count


def write_member(
    archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path, mode: int
) -> None:
    """Copy one archive member to a file with the given mode (replacing an old file)."""
    source = archive.extractfile(member)
    if source is None:
        raise ConfigError(f"backup member {member.name} is not a file")
    partial = target.with_name(target.name + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        while chunk := source.read(1024 * 1024):
            handle.write(chunk)
    os.replace(partial, target)
