"""Real images for the photo tests: a plain picture of a format and size, a sideways phone JPEG."""

from __future__ import annotations

import io

from PIL import Image


def image(kind: str = "PNG", size: tuple[int, int] = (3000, 1500)) -> bytes:
    """A real image of a format and size."""
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, kind)
    return out.getvalue()


def sideways_photo() -> bytes:
    """A phone JPEG stored landscape (red left, blue right), EXIF-tagged "rotate 90° clockwise"."""
    picture = Image.new("RGB", (600, 200), (0, 0, 255))
    picture.paste((255, 0, 0), (0, 0, 300, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was held upright, turned a quarter clockwise
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()
