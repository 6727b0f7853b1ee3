"""Photos (an issue's, a household vote's proof): checked with Pillow, turned upright (EXIF
orientation), re-encoded as JPEG (no EXIF, bounded size), kept on disk under the data dir."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import warnings
from pathlib import Path

import sqlalchemy as sa
from PIL import Image, ImageOps, UnidentifiedImageError

from gis_service.errors import InvalidInput

FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PIXELS = 40_000_000
MAX_SIDE = 2048
PHOTO_DIR = "photos"


def attach(conn: sa.Connection, issue_id: int, relative: str) -> None:
    """Point an issue at its stored photo (a path relative to the data dir)."""
    conn.execute(
        sa.text("UPDATE issue SET photo_path = :path WHERE id = :id"),
        {"path": relative, "id": issue_id},
    )


def checked_jpeg(data: bytes) -> bytes:
    """The image upright, re-encoded as JPEG (422 when not a whole JPEG, PNG or WebP image)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise InvalidInput(
                        f"photo: at most {MAX_PIXELS} pixels",
                        [{"field": "photo", "message": f"at most {MAX_PIXELS} pixels"}],
                    )
                image.load()
                picture = ImageOps.exif_transpose(image).convert("RGB")  # as the camera was held
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise InvalidInput(
            "photo: not a readable JPEG, PNG or WebP image",
            [{"field": "photo", "message": f"not a readable image ({type(exc).__name__})"}],
        ) from exc
    if kind not in FORMATS:
        raise InvalidInput(
            f"photo: {kind} images are not accepted",
            [{"field": "photo", "message": "send a JPEG, PNG or WebP image"}],
        )
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def relative_path(issue_id: int) -> str:
    """Where an issue's photo lives, relative to the data dir (kept in issue.photo_path)."""
    return f"{PHOTO_DIR}/issue-{issue_id}.jpg"


def proof_path(household_id: int, jpeg: bytes) -> str:
    """Where a household's proof photo lives: named by its content, so a repeated upload of the
    same photo lands on the same file (the vote's edit then names it in proof_photo_path)."""
    digest = hashlib.sha256(jpeg).hexdigest()[:20]
    return f"{PHOTO_DIR}/household-{household_id}-{digest}.jpg"


def is_proof_of(household_id: int, relative: str) -> bool:
    """Whether a stored path is one of this household's proofs (never another file's)."""
    prefix = f"{PHOTO_DIR}/household-{household_id}-"
    digest = relative.removeprefix(prefix).removesuffix(".jpg")
    return relative.startswith(prefix) and len(digest) == 20 and digest.isalnum()


def store(data_dir: Path, relative: str, jpeg: bytes) -> str:
    """Write the photo atomically (replacing an earlier one) at its relative path; that path."""
    target = Path(data_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{target.name}.{secrets.token_hex(6)}.tmp")
    temporary.write_bytes(jpeg)
    os.replace(temporary, target)
    return relative


def load(data_dir: Path, relative: str) -> bytes | None:
    """A stored photo's bytes (None when the file is gone or the path leaves the photo dir)."""
    root = (Path(data_dir) / PHOTO_DIR).resolve()
    target = (Path(data_dir) / relative).resolve()
    if root not in target.parents or not target.is_file():
        return None
    return target.read_bytes()
