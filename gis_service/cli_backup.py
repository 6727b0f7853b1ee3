"""`gis-service db backup FILE`, `gis-service db restore FILE` and `gis-service photos sweep`
(registered by cli.py)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import typer
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from gis_service.auth import DB_ROLES
from gis_service.db import backup, migrate
from gis_service.db.cluster import find_bin_dir
from gis_service.db.engine import (
    check_database,
    create_db_engine,
    describe_url,
    resolve_database_url,
)
from gis_service.field import proof_sweep
from gis_service.settings import get_settings

BACKUP_FILE = typer.Argument(..., help="The backup file (a tar archive; keep it private)")


def backup_command(file: Path = BACKUP_FILE) -> None:
    """Back up roles, schema, data, photos and the session key into one file."""
    if file.exists():
        raise backup.BackupError(f"{file} exists: back up into a new file")
    if not file.resolve().parent.is_dir():
        raise backup.BackupError(f"no such directory: {file.resolve().parent}")
    settings = get_settings()
    started = time.monotonic()
    url = resolve_database_url(settings)
    engine = create_db_engine(url, settings)
    versions = check_database(engine)
    secret_file = settings.data_dir.resolve() / backup.SECRET
    secret = secret_file.read_bytes() if secret_file.is_file() else None
    manifest = backup.backup(
        engine, backup.PgTools(find_bin_dir(settings.pg_bin_dir), url), file,
        settings.data_dir.resolve(), secret, sorted(DB_ROLES.values()),
        migrate.current_revision(engine), versions,
    )
    engine.dispose()
    size_mb = file.stat().st_size / 1e6
    typer.echo(
        f"backed up {describe_url(url)} at revision {manifest['revision']} "
        f"({manifest['tables']} tables, {manifest['photos']} photos, roles "
        f"{', '.join(manifest['roles']) or 'none'}) to {file}: {size_mb:.1f} MB in "  # type: ignore[arg-type]
        f"{time.monotonic() - started:.1f} s"
    )
    if settings.session_secret:
        typer.echo("the session key comes from GIS_SESSION_SECRET: set it again where you restore")


def restore_command(file: Path = BACKUP_FILE) -> None:
    """Restore a backup into an empty database and data dir (refusing a non-empty one)."""
    settings = get_settings()
    started = time.monotonic()
    data_dir = settings.data_dir.resolve()
    with backup.open_backup(file) as (archive, manifest):
        revision = manifest.get("revision")
        known_revision(revision)
        url = resolve_database_url(settings)
        engine = create_db_engine(url, settings)
        check_database(engine)
        backup.refuse_non_empty(engine, data_dir, describe_url(url))
        backup.create_roles(engine, list(manifest.get("roles", [])), set(DB_ROLES.values()))
        tools = backup.PgTools(find_bin_dir(settings.pg_bin_dir), url)
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as work:
            backup.restore_database(archive, tools, Path(work))
        photos = backup.restore_files(archive, data_dir)
        tables = len(backup.user_tables(engine))
    engine.dispose()
    typer.echo(
        f"restored {file} into {describe_url(url)}: revision {revision}, {tables} tables, "
        f"{photos} photos, in {time.monotonic() - started:.1f} s"
    )
    head = migrate.head_revision()
    if revision != head:
        typer.echo(f"the data is at revision {revision}: `gis-service serve` (or `db migrate`) "
                   f"brings it to {head}")


def known_revision(revision: object) -> None:
    """Refuse a backup whose migration revision this code does not know (a newer release's)."""
    if revision is None:
        return
    try:
        ScriptDirectory.from_config(migrate.alembic_config()).get_revision(str(revision))
    except CommandError as exc:
        raise backup.BackupError(
            f"the backup is at revision {revision}, unknown to this gis-service "
            f"(head {migrate.head_revision()}): restore it with the release that made it"
        ) from exc


def sweep_command(
    older_than_days: float = typer.Option(
        proof_sweep.GRACE_DAYS, min=1, help="Keep proofs written more recently than this"),
    dry_run: bool = typer.Option(False, "--dry-run", help="List them, remove nothing"),
) -> None:
    """Remove proof photos no household, vote or edit names (personal data nobody can reach)."""
    settings = get_settings()
    engine = create_db_engine(resolve_database_url(settings), settings)
    with engine.connect() as conn:
        sweep = proof_sweep.unnamed_proofs(conn, settings.data_dir.resolve(), older_than_days)
    engine.dispose()
    for path in sweep.unnamed:
        typer.echo(path)
    size_mb = sweep.size / 1e6
    if dry_run:
        typer.echo(f"would remove {len(sweep.unnamed)} proof photos nothing names "
                   f"({size_mb:.1f} MB); kept {sweep.kept}")  # fmt: skip
        return
    removed = proof_sweep.remove(sweep)
    typer.echo(f"removed {removed} proof photos nothing names ({size_mb:.1f} MB); "
               f"kept {sweep.kept + len(sweep.unnamed) - removed}")
