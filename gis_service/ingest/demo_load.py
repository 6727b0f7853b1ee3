"""Stream the generated demo city into PostGIS with COPY, in one transaction."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from pyproj import Transformer
from sqlalchemy.engine import Engine

from gis_service.auth import hash_token
from gis_service.db.models import Base
from gis_service.errors import InvalidInput
from gis_service.ingest.demo import generate_city
from gis_service.ingest.demo_households import add_households
from gis_service.ingest.demo_layout import Tables

METRIC_CRS = "EPSG:32649"  # UTM zone 49N: Guangzhou
ORIGIN_LONLAT = (113.2919, 23.1448)
BULK_INDEX_THRESHOLD = 100_000  # the lattice origin; Shuiyin Road No. 34 lies ~400 m NE
LOAD_ORDER = [
    "district",
    "subdistrict",
    "community",
    "grid",
    "compound",
    "building",
    "retrofit_batch",
    "stairwell",
    "stairwell_status_history",
    "garden",
    "parking",
    "facility",
    "street",
    "candidate_site",
    "app_user",
    "api_token",
    "user_grid",
    "survey",
    "issue",
    "household",
]


@dataclass
class DemoReport:
    """What a demo load wrote, and the demo users' tokens (shown once)."""

    counts: dict[str, int]
    tokens: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    passwords: dict[str, str] = field(default_factory=dict)


def to_lonlat() -> Callable[[np.ndarray], np.ndarray]:
    """A vectorised transform from the lattice's metres to EPSG:4326 lon/lat."""
    forward = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    x0, y0 = forward.transform(*ORIGIN_LONLAT)
    back = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)

    def apply(coords: np.ndarray) -> np.ndarray:
        lon, lat = back.transform(coords[:, 0] + x0, coords[:, 1] + y0)
        return np.column_stack([lon, lat])

    return apply


def build_geometries(specs: list[Any], geometry_type: str) -> np.ndarray:
    """Turn geometry specs (box/point/line tuples, or lists of boxes) into shapely arrays."""
    if isinstance(specs[0], list):
        parts = [shapely.union_all([shapely.box(*s[1]) for s in spec]) for spec in specs]
        geoms = np.array(parts, dtype=object)
    else:
        coords = np.array([spec[1] for spec in specs], dtype=float)
        kind = specs[0][0]
        if kind == "box":
            geoms = shapely.box(coords[:, 0], coords[:, 1], coords[:, 2], coords[:, 3])
        elif kind == "point":
            geoms = shapely.points(coords)
        else:
            geoms = shapely.linestrings(coords.reshape(-1, 2, 2))
    if geometry_type == "MULTIPOLYGON":
        single = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
        if single.any():
            geoms = geoms.copy()
            geoms[single] = shapely.multipolygons(geoms[single], indices=np.arange(single.sum()))
    return geoms


def frame_for(
    table: str, columns: dict[str, list[object]], transform: Callable[[np.ndarray], np.ndarray]
) -> pd.DataFrame:
    """A table's rows as a DataFrame ready for COPY (geometry as hex EWKB)."""
    frame = pd.DataFrame(
        {name: pd.Series(values, dtype=object) for name, values in columns.items()}
    )
    if "id" not in Base.metadata.tables[table].c:
        frame = frame.drop(columns="id")
    if "geom" in frame:
        gtype = getattr(Base.metadata.tables[table].c.geom.type, "geometry_type", "GEOMETRY")
        geoms = build_geometries(columns["geom"], gtype)
        geoms = shapely.transform(geoms, transform)
        geoms = shapely.set_srid(geoms, 4326)
        frame["geom"] = shapely.to_wkb(geoms, hex=True, include_srid=True)
    return frame


def copy_frame(raw: Any, table: str, frame: pd.DataFrame) -> None:
    """COPY a DataFrame into a table (CSV, empty = NULL)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="")
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    with (
        raw.cursor() as cur,
        cur.copy(f'COPY "{table}" ({columns}) FROM STDIN WITH (FORMAT csv)') as copy,
    ):
        copy.write(buffer.getvalue())


def stairwell_count(engine: Engine) -> int:
    """Stairwells in the database (0 for an empty one)."""
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM stairwell")).scalar_one())


def load_demo(
    engine: Engine,
    seed: int = 34,
    target_stairwells: int = 0,
    progress: Callable[[str], None] | None = None,
    households: bool | None = None,
) -> DemoReport:
    """Generate the demo city and write it into an empty database, all or nothing.

    households: the household register of every stairwell (by default for the district alone,
    not for a city grown to target_stairwells).
    """
    import time

    started = time.perf_counter()
    existing = stairwell_count(engine)
    if existing:
        raise InvalidInput(
            f"the database already holds {existing} stairwells; the demo loads only into an empty "
            "database (gis-service db reset --yes empties it)"
        )
    say = progress or (lambda _message: None)
    say("generating")
    tables = generate_city(seed, target_stairwells)
    if target_stairwells == 0 if households is None else households:
        add_households(tables, seed)
    tokens = demo_tokens(tables)
    passwords = demo_passwords(tables)
    transform = to_lonlat()
    rebuild = target_stairwells >= BULK_INDEX_THRESHOLD
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL statement_timeout = 0"))  # a bulk load may take minutes
        raw = conn.connection.driver_connection
        spatial = [t for t in LOAD_ORDER if "geom" in Base.metadata.tables[t].c]
        if rebuild:  # building a GiST index once is faster than growing it row by row
            for table in spatial:
                conn.execute(sa.text(f'DROP INDEX "ix_{table}_geom"'))
        for table in LOAD_ORDER:
            columns = tables.rows.get(table)
            if not columns:
                continue
            say(f"{table}: {len(columns['id'])} rows")
            copy_frame(raw, table, frame_for(table, columns, transform))
        if rebuild:
            say("spatial indexes")
            for table in spatial:
                conn.execute(
                    sa.text(f'CREATE INDEX "ix_{table}_geom" ON "{table}" USING gist (geom)')
                )
        for table in LOAD_ORDER:
            if table == "user_grid":
                continue
            conn.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f'coalesce((SELECT max(id) FROM "{table}"), 0) + 1, false)'
                )
            )
        for table in LOAD_ORDER:
            conn.execute(sa.text(f'ANALYZE "{table}"'))
    counts = {table: len(tables.rows[table]["id"]) for table in LOAD_ORDER if table in tables.rows}
    return DemoReport(
        counts=counts, tokens=tokens, seconds=time.perf_counter() - started, passwords=passwords
    )


def demo_tokens(tables: Tables) -> dict[str, str]:
    """Fresh random tokens for the demo users; only their hashes are stored."""
    users = tables.rows["app_user"]
    tokens: dict[str, str] = {}
    for user_id, username in zip(users["id"], users["username"], strict=True):
        token = f"gis_{secrets.token_urlsafe(24)}"
        tokens[str(username)] = token
        tables.add("api_token", user_id=user_id, token_hash=hash_token(token), label="demo")
    return tokens


def demo_passwords(tables: Tables) -> dict[str, str]:
    """Fresh random passwords for the demo users; only their scrypt hashes are stored."""
    from gis_service.field.passwords import hash_password

    users = tables.rows["app_user"]
    passwords = {str(name): secrets.token_urlsafe(9) for name in users["username"]}
    users["password_hash"] = [hash_password(passwords[str(name)]) for name in users["username"]]
    return passwords
