"""Proof photos nothing names: uploaded for a vote never sent, or for one that lost to the
office's vote in a conflict (the field page's "take theirs"). A photo of a signed form is
personal data; one no household, vote or edit names is removed once older than a grace period,
so a vote still waiting in a phone's outbox keeps the proof it will name."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from gis_service.field.photos import PHOTO_DIR

GRACE_DAYS = 30
"""A proof younger than this is kept, named or not (a phone may be offline for weeks)."""
NAMED_SQL = """
SELECT proof_photo_path FROM household WHERE proof_photo_path IS NOT NULL
UNION SELECT proof_photo_path FROM household_vote WHERE proof_photo_path IS NOT NULL
UNION SELECT kept.doc -> 'properties' ->> 'proof_photo_path'
  FROM edit_log, LATERAL (VALUES (before), (after)) AS kept(doc)
 WHERE table_name IN ('household', 'household_vote')
   AND kept.doc -> 'properties' ->> 'proof_photo_path' IS NOT NULL
"""
"""Every proof path a household, a vote or the edit log (before or after an edit of either)
names."""


@dataclass(frozen=True)
class Sweep:
    """The proof photos found unnamed and old enough (removed unless a dry run), and the rest."""

    unnamed: list[Path]
    kept: int
    oldest: float
    """Photos last written after this time (epoch seconds) are kept."""

    @property
    def size(self) -> int:
        """Bytes of the unnamed photos."""
        return sum(path.stat().st_size for path in self.unnamed if path.exists())


def unnamed_proofs(conn: sa.Connection, data_dir: Path, grace_days: float = GRACE_DAYS) -> Sweep:
    """The proof photos under the data dir that nothing names and older than the grace period
    (by when each was last written: an upload sent again is young again)."""
    named = set(conn.execute(sa.text(NAMED_SQL)).scalars())
    oldest = time.time() - grace_days * 86400
    unnamed, kept = [], 0
    for path in sorted((data_dir / PHOTO_DIR).glob("household-*.jpg")):
        if f"{PHOTO_DIR}/{path.name}" not in named and path.stat().st_mtime < oldest:
            unnamed.append(path)
        else:
            kept += 1
    return Sweep(unnamed, kept, oldest)


def remove(sweep: Sweep) -> int:
    """Remove the unnamed photos, but one written again since they were found (the same photo
    sent again for a vote about to name it) or gone meanwhile; how many were removed."""
    removed = 0
    for path in sweep.unnamed:
        try:
            if path.stat().st_mtime < sweep.oldest:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
