"""What an import found and did: rejected rows with reasons, ignored columns, counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from gis_service.errors import InvalidInput


@dataclass(frozen=True)
class RowError:
    """One problem of one row: its 1-based number in the file, the field, and why."""

    row: int
    field: str
    message: str

    def line(self) -> str:
        """The problem as one line of text."""
        return f"row {self.row}: {self.field}: {self.message}"


@dataclass
class ImportReport:
    """The outcome of an import (or of a dry run)."""

    layer: str
    source: str
    format: str
    source_crs: str | None = None
    from_gcj02: bool = False
    rows_read: int = 0
    rows_valid: int = 0
    rows_written: int = 0
    dry_run: bool = False
    skip_invalid: bool = False
    rejected: list[RowError] = field(default_factory=list)
    ignored_columns: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    problems: int | None = None
    problems_by_reason: list[dict[str, Any]] | None = None
    rejected_rows: int | None = None
    key: str | None = None
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_vanished: int = 0
    vanished_keys: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        """How many distinct rows were rejected."""
        if self.rejected_rows is not None:
            return self.rejected_rows
        return len({error.row for error in self.rejected})

    def capped(self, shown: int) -> ImportReport:
        """The report listing only the first `shown` problems, with counts of all by reason.

        Reasons are a field and its message; the `shown` most frequent are counted one by one.
        """
        if self.problems is not None:
            return self
        reasons = Counter((error.field, error.message) for error in self.rejected)
        return replace(
            self,
            rejected=self.rejected[:shown],
            problems=len(self.rejected),
            problems_by_reason=[
                {"field": name, "message": message, "rows": count}
                for (name, message), count in reasons.most_common(shown)
            ],
            rejected_rows=self.rows_rejected,
        )

    def summary(self) -> str:
        """One line saying what happened."""
        if self.rejected and not self.skip_invalid:
            return (
                f"{self.rows_rejected} of {self.rows_read} rows rejected; "
                "nothing was written"
            )
        verb = "would import" if self.dry_run else "imported"
        count = self.rows_valid if self.dry_run else self.rows_written
        skipped = f" ({self.rows_rejected} invalid rows skipped)" if self.rejected else ""
        keyed = ""
        if self.key is not None and not self.dry_run:
            keyed = (f" by {self.key}: {self.rows_written} added, {self.rows_updated} updated, "
                     f"{self.rows_unchanged} unchanged, {self.rows_vanished} vanished (kept)")
            count = self.rows_written + self.rows_updated + self.rows_unchanged
        return f"{verb} {count} of {self.rows_read} rows into {self.layer}{skipped}{keyed}"

    def as_dict(self, with_ids: bool = False) -> dict[str, Any]:
        """A JSON-ready form of the report."""
        data = asdict(self)
        data.pop("rejected_rows")
        if self.problems is None:
            data.pop("problems")
            data.pop("problems_by_reason")
        data["rows_rejected"] = self.rows_rejected
        data["summary"] = self.summary()
        if not with_ids:
            data.pop("ids")
        return data


class ImportRejected(InvalidInput):
    """Rows were rejected (or the database refused the import): nothing was written.

    `sqlstate` is the database's reason when it refused the rows (23505: a duplicate key).
    """

    def __init__(self, report: ImportReport, sqlstate: str | None = None, detail: str = "") -> None:
        super().__init__(detail or report.summary())
        self.report = report
        self.sqlstate = sqlstate

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with the report (imports run in worker processes)."""
        return (type(self), (self.report, self.sqlstate, str(self)))
