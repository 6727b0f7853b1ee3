"""Import a file into a layer: read, check every row, then write all rows in one transaction.

Policy: when any row is rejected nothing is written and the report lists each rejected row
(row number in the file, field, reason); with `skip_invalid` the valid rows are written and the
rejected ones reported. With `key` (a column holding a stable id), each row's source key is
COLUMN=value and the import is an upsert (ingest/upsert.py): changed rows are updated, new ones
added, rows the file no longer has reported. The write runs in a SAVEPOINT of the caller's
transaction: if the database refuses any row (a unique key, a reference, a rule the checks did
not catch), every row already inserted is rolled back and the report says why. Each written row
gets its edit-log entry (an insert, or an update of a keyed row, by the importing user) in the
same transaction. The file is read within `ImportLimits` (bytes, zip members, rows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from gis_service.auth import Principal
from gis_service.catalog import Layer
from gis_service.db.models import Base
from gis_service.errors import InvalidInput
from gis_service.features.edit import log_inserts
from gis_service.ingest.limits import ImportLimits
from gis_service.ingest.readers import read_source
from gis_service.ingest.report import ImportRejected, ImportReport, RowError
from gis_service.ingest.upsert import upsert
from gis_service.ingest.validate import Prepared, is_null, prepare
from gis_service.ingest.writer import BATCH_ROWS, Progress, write_frame


@dataclass(frozen=True)
class ImportOptions:
    """How to read the file and what to do with rejected rows."""

    layer_name: str | None = None
    crs: str | None = None
    from_gcj02: bool = False
    lon_column: str | None = None
    lat_column: str | None = None
    encoding: str | None = None
    dry_run: bool = False
    skip_invalid: bool = False
    key: str | None = None


def refusal_message(exc: DBAPIError) -> tuple[str, str, str]:
    """The database's reason for refusing a write: (sqlstate, field or constraint, message)."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    state = str(getattr(orig, "sqlstate", "") or "")
    primary = getattr(diag, "message_primary", None) or str(orig).splitlines()[0]
    detail = getattr(diag, "message_detail", None)
    where = (getattr(diag, "column_name", None) or getattr(diag, "constraint_name", None)
             or "row")
    return state, str(where), f"{primary}{f' ({detail})' if detail else ''}"


def import_file(
    conn: sa.Connection,
    layer: Layer,
    path: Path,
    options: ImportOptions,
    *,
    name: str | None = None,
    author: Principal | None = None,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
    limits: ImportLimits | None = None,
) -> ImportReport:
    """Import a file into a layer within the connection's transaction (all rows or none).

    `author` is the importing user, whose role decides the importable fields (None: the
    command line, every field).
    """
    source = read_source(
        path,
        name=name,
        layer=options.layer_name,
        crs=options.crs,
        from_gcj02=options.from_gcj02,
        lon_column=options.lon_column,
        lat_column=options.lat_column,
        encoding=options.encoding,
        limits=limits,
    )
    if len(source.frame) == 0:
        raise InvalidInput("the file holds no rows to import")
    prepared = prepare(conn, layer, source, author.role if author else None)
    if options.key is not None:
        prepared = with_keys(layer, source.frame, prepared, options.key)
    report = ImportReport(
        layer=layer.id,
        source=name or path.name,
        format=source.format,
        source_crs=source.source_crs,
        from_gcj02=options.from_gcj02,
        rows_read=len(source.frame),
        rows_valid=len(prepared.rows),
        dry_run=options.dry_run,
        skip_invalid=options.skip_invalid,
        rejected=prepared.errors,
        ignored_columns=prepared.ignored,
        warnings=source.warnings,
        key=options.key,
    )
    if prepared.errors and not options.skip_invalid:
        raise ImportRejected(report)
    if options.dry_run or prepared.rows.empty:
        return report
    rows = prepared.rows
    savepoint = conn.begin_nested()
    try:
        if options.key is None:
            ids = write_frame(conn, layer.table, rows.reset_index(drop=True), progress, batch_rows)
        else:
            owned = [c for c in rows.columns if c not in ("source_key", "geom")]
            done, ids, _ = upsert(conn, layer.table, rows.reset_index(drop=True), owned,
                                  key_prefix(options.key))  # fmt: skip
            report.rows_updated, report.rows_unchanged = done.updated, done.unchanged
            report.rows_vanished, report.vanished_keys = done.vanished, done.vanished_keys
            log_inserts(conn, layer, author, done.updated_ids, action="update")
        log_inserts(conn, layer, author, ids)
    except DBAPIError as exc:
        savepoint.rollback()
        state, where, message = refusal_message(exc)
        culprits = rows_with_key(rows, message) or [0]
        report.rejected = [
            *report.rejected,
            *(RowError(row, where, f"the database refused it: {message}") for row in culprits),
        ]
        raise ImportRejected(
            report,
            state or None,
            f"the database refused the import ({message}); nothing was written",
        ) from exc
    savepoint.commit()
    report.rows_written = len(ids)
    report.ids = ids
    return report


def key_prefix(column: str) -> str:
    """The source-key prefix of rows imported with --key COLUMN."""
    return f"{column}="


def with_keys(layer: Layer, frame: pd.DataFrame, prepared: Prepared, column: str) -> Prepared:
    """The prepared rows with their source key (COLUMN=value); blank or repeated keys rejected."""
    if "source_key" not in Base.metadata.tables[layer.table].c:
        raise InvalidInput(f"{layer.id} keeps no source keys: import it without --key",
                           [{"field": "key", "message": "not supported by this layer"}])
    found = {str(c).strip().lower(): c for c in frame.columns if c != frame.geometry.name}
    if column.strip().lower() not in found:
        raise InvalidInput(f"the file has no column {column!r} to use as the key",
                           [{"field": "key", "message": f"no column {column!r}"}])
    values = frame[found[column.strip().lower()]]
    texts = [None if is_null(v) else str(v).strip() for v in values.tolist()]
    errors = list(prepared.errors)
    seen: dict[str, int] = {}
    for index, value in enumerate(texts):
        if value is None:
            errors.append(RowError(index + 1, column, "the key is blank"))
        elif value in seen:
            errors.append(RowError(index + 1, column, f"the key {value!r} is also on row "
                                                      f"{seen[value] + 1}"))
        else:
            seen[value] = index
    bad = {e.row - 1 for e in errors}
    rows = prepared.rows.drop(index=[i for i in prepared.rows.index if i in bad])
    rows = rows.assign(source_key=[f"{key_prefix(column)}{texts[i]}" for i in rows.index])
    return Prepared(rows, sorted(errors, key=lambda e: (e.row, e.field)), prepared.ignored)


def rows_with_key(rows: pd.DataFrame, message: str) -> list[int]:
    """File row numbers holding the key a refusal names ('Key (code)=(G01) already exists')."""
    match = re.search(r"Key \((\w+)\)=\((.*?)\)", message)
    if not match or match.group(1) not in rows.columns:
        return []
    column, value = match.group(1), match.group(2)
    hits = rows.index[rows[column].map(lambda v: v is not None and str(v) == value)]
    return [int(i) + 1 for i in hits]
