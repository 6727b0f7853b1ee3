"""Files an attacker uploads: zipped Shapefile bombs, zips that lie about sizes, big GeoJSON.

The bomb is a valid Shapefile (points near the demo district) whose .dbf holds wide text
columns of one repeated character: it deflates about a thousand to one, so a small zip expands
to a large file and to far more memory once read into a data frame.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

LON, LAT = 113.2919, 23.1448
WGS84_PRJ = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
)
FIELD_WIDTH = 254
CHUNK_ROWS = 2000


def shp_header(file_words: int) -> bytes:
    """The 100-byte header shared by .shp and .shx (point shapes around the demo)."""
    head = struct.pack(">7i", 9994, 0, 0, 0, 0, 0, file_words)
    return head + struct.pack("<2i4d4d", 1000, 1, LON, LAT, LON, LAT, 0, 0, 0, 0)


def dbf_header(rows: int, fields: int) -> bytes:
    """A dBase III header with `fields` text columns of FIELD_WIDTH characters."""
    header_len = 32 + 32 * fields + 1
    record_len = 1 + FIELD_WIDTH * fields
    out = struct.pack("<4BIHH20x", 3, 124, 1, 1, rows, header_len, record_len)
    for i in range(fields):
        name = f"name{i}".encode().ljust(11, b"\0")
        out += name + b"C" + b"\0" * 4 + bytes([FIELD_WIDTH, 0]) + b"\0" * 14
    return out + b"\r"


def write_member(archive: zipfile.ZipFile, name: str, head: bytes, rows: int,
                 record: bytes | None = None, numbered: bool = False, tail: bytes = b"") -> None:
    """Stream a member: header, `rows` records (point records numbered when asked), tail."""
    with archive.open(name, "w", force_zip64=True) as out:
        out.write(head)
        for start in range(0, rows, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, rows)
            if numbered:
                point = struct.pack("<i2d", 1, LON, LAT)
                out.write(b"".join(struct.pack(">2i", i + 1, 10) + point
                                  for i in range(start, stop)))
            elif record is not None:
                out.write(record * (stop - start))
            else:  # .shx: offset and length of each 28-byte point record, in 16-bit words
                out.write(b"".join(struct.pack(">2i", 50 + 14 * i, 10) for i in range(start, stop)))
        out.write(tail)


def shapefile_bomb(path: Path, rows: int, fields: int = 10) -> Path:
    """A zipped point Shapefile of `rows` records with `fields` 254-character text columns."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        write_member(archive, "bomb.shp", shp_header(50 + 14 * rows), rows, numbered=True)
        write_member(archive, "bomb.shx", shp_header(50 + 4 * rows), rows)
        record = b" " + b"x" * FIELD_WIDTH * fields
        write_member(archive, "bomb.dbf", dbf_header(rows, fields), rows, record, tail=b"\x1a")
        archive.writestr("bomb.prj", WGS84_PRJ)
    return path


def expanded_size(path: Path) -> int:
    """The sum of the declared uncompressed sizes of a zip's members."""
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def lying_zip(path: Path, actual: int, declared: int = 1000) -> Path:
    """A zipped Shapefile whose .dbf declares `declared` bytes but inflates to `actual`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lie.dbf", dbf_header(1, 1) + b" " * actual)
        archive.writestr("lie.shp", shp_header(64) + struct.pack(">2i", 1, 10)
                           + struct.pack("<i2d", 1, LON, LAT))
        archive.writestr("lie.shx", shp_header(54) + struct.pack(">2i", 50, 10))
        archive.writestr("lie.prj", WGS84_PRJ)
    data = bytearray(buffer.getvalue())
    local = data.find(b"PK\x03\x04")  # lie.dbf is the first member
    struct.pack_into("<I", data, local + 22, declared)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)
    path.write_bytes(bytes(data))
    return path


def big_geojson(path: Path, size: int) -> Path:
    """A FeatureCollection of gardens of about `size` bytes (long notes pad each feature)."""
    pad = "园" * 300
    features = []
    template = {"type": "Feature", "properties": {"name": "", "kind": "pocket_park", "notes": pad},
                "geometry": {"type": "Polygon", "coordinates": []}}
    one = len(json.dumps(template, ensure_ascii=False).encode()) + 120
    for i in range(max(1, size // one)):
        x, y = LON + (i % 500) * 0.0003, LAT + (i // 500) * 0.0003
        ring = [[x, y], [x + 0.0002, y], [x + 0.0002, y + 0.0002], [x, y + 0.0002], [x, y]]
        features.append({**template, "properties": {**template["properties"], "name": f"g{i}"},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path
