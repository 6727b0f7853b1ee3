"""Bounds of an import, checked before the work: expanded bytes, zip members, rows.

A zip is judged by its directory first (member count, the sizes members declare) and then by
what it really inflates to: members are copied out in chunks, counting bytes, and the copy stops
as soon as a member passes its declared size or the whole passes the byte limit. Readers take
at most one row more than the row limit, so an oversized file is refused without being held.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gis_service.features.errors import PayloadTooLarge
from gis_service.settings import Settings, get_settings

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ImportLimits:
    """How large an import may be, and how many rejected rows its report lists."""

    max_bytes: int
    max_rows: int
    max_members: int
    report_rows: int

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ImportLimits:
        """The limits the settings give."""
        settings = settings or get_settings()
        return cls(
            max_bytes=settings.max_import_bytes,
            max_rows=settings.max_import_rows,
            max_members=settings.max_archive_members,
            report_rows=settings.import_report_rows,
        )

    def check_file(self, path: Path) -> None:
        """413 for a file larger than max_bytes."""
        size = path.stat().st_size
        if size > self.max_bytes:
            raise PayloadTooLarge(f"the file holds {size} bytes; imports take at most "
                                  f"{self.max_bytes} (GIS_MAX_IMPORT_BYTES)")

    def check_rows(self, rows: int) -> None:
        """413 for more rows than max_rows (readers stop at max_rows + 1)."""
        if rows > self.max_rows:
            raise PayloadTooLarge(f"the file holds more than {self.max_rows} rows "
                                  "(GIS_MAX_IMPORT_ROWS): split it")

    def check_archive(self, infos: list[zipfile.ZipInfo]) -> None:
        """413 for a zip with too many members or declaring more than max_bytes in all."""
        if len(infos) > self.max_members:
            raise PayloadTooLarge(f"the zip holds {len(infos)} members; imports take at most "
                                  f"{self.max_members} (GIS_MAX_ARCHIVE_MEMBERS)")
        declared = sum(info.file_size for info in infos)
        if declared > self.max_bytes:
            raise PayloadTooLarge(f"the zip expands to {declared} bytes; imports take at most "
                                  f"{self.max_bytes} (GIS_MAX_IMPORT_BYTES)")

    def extract(
        self, archive: zipfile.ZipFile, members: Iterable[tuple[str, str]], folder: Path
    ) -> None:
        """Copy members (name in the zip, file name in `folder`) out, counting real bytes."""
        total = 0
        for name, target in members:
            info = archive.getinfo(name)
            written = 0
            with archive.open(info) as source, (folder / target).open("wb") as out:
                while chunk := source.read(CHUNK):
                    written += len(chunk)
                    total += len(chunk)
                    if written > info.file_size or total > self.max_bytes:
                        raise PayloadTooLarge(
                            f"{name} inflates beyond what the zip declares or what imports "
                            f"take ({self.max_bytes} bytes, GIS_MAX_IMPORT_BYTES)"
                        )
                    out.write(chunk)
