"""Zip bombs and oversized imports: refused before the work, the server's memory and /live kept.

The server runs as its own process with small limits (GIS_MAX_IMPORT_BYTES 8 MB, rows 5,000,
20 zip members), so bombs of tens of MB expanded prove the bounds in seconds; the defaults are
the same code with larger numbers. Before the fix a 2 MB zip expanding to 1.5 GB took the
server from 0.28 to 3.8 GB RSS, left 2 GB held and stalled /live for 23 s
(benchmarks/import_isolation.py).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from gis_service.db.cluster import ManagedCluster
from gis_service.features.errors import PayloadTooLarge
from gis_service.ingest.limits import ImportLimits
from tests.conftest import DemoTemplate, scalar
from tests.security.hostile_files import expanded_size, lying_zip, shapefile_bomb
from tests.security.served import MB, Served, database_copy, served, watching

LIMITS = {"max_import_bytes": str(8 * MB), "max_import_rows": "5000",
          "max_archive_members": "20", "import_report_rows": "10"}  # fmt: skip
RSS_GROWTH = 60 * MB
"""How much the serving process may grow while refusing an attack."""
LIVE_P99_S = 1.0
"""A generous bound on /live while the attack runs (a few ms when idle)."""


@pytest.fixture(scope="module")
def target(
    pg_cluster: ManagedCluster,
    demo_template: DemoTemplate,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Served, Engine]]:
    """One server for the module: every attack here is refused, so they share the database."""
    with database_copy(pg_cluster, demo_template.name) as engine, served(
        engine, tmp_path_factory.mktemp("served"), **LIMITS
    ) as running:
        yield running, engine


@pytest.fixture
def server(target: tuple[Served, Engine]) -> Served:
    return target[0]


@pytest.fixture
def demo_db(target: tuple[Served, Engine]) -> Engine:
    return target[1]


def parking(engine: Engine) -> int:
    return int(scalar(engine, "SELECT count(*) FROM parking"))  # type: ignore[arg-type]


def attack(server: Served, token: str, path: Path, layer: str = "parking") -> httpx.Response:
    """Upload a file to a layer's import while /live and the server's RSS are watched."""
    with httpx.Client(base_url=server.url, timeout=120) as client:
        warm = client.post(f"/collections/{layer}/import", files={"file": ("a.csv", b"lon,lat\n")},
                           headers={"Authorization": f"Bearer {token}"})
        assert warm.status_code == 422  # the import worker is up: its start is not measured
        before = server.rss()
        with watching(server) as watch:
            answer = client.post(
                f"/collections/{layer}/import",
                files={"file": (path.name, path.read_bytes())},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert not watch.failures, watch.failures[:3]
    assert max(watch.rss) - before < RSS_GROWTH, (before, max(watch.rss))
    assert watch.p99() < LIVE_P99_S, sorted(watch.latencies)[-5:]
    return answer


def test_zip_bomb_is_413_before_it_inflates(
    server: Served, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    bomb = shapefile_bomb(tmp_path / "bomb.zip", rows=20_000, fields=10)
    assert bomb.stat().st_size < MB and expanded_size(bomb) > 45 * MB  # 50× expansion
    count = parking(demo_db)
    answer = attack(server, demo_template.tokens["planner"], bomb)
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "GIS_MAX_IMPORT_BYTES" in answer.json()["detail"]
    assert parking(demo_db) == count


def test_zip_lying_about_its_sizes_is_refused(
    server: Served, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    liar = lying_zip(tmp_path / "liar.zip", actual=40 * MB, declared=1000)
    assert expanded_size(liar) < 2000
    count = parking(demo_db)
    answer = attack(server, demo_template.tokens["planner"], liar)
    assert answer.status_code == 422, answer.text
    assert "not a readable zip file" in answer.json()["detail"]
    assert parking(demo_db) == count


def test_zip_of_many_members_is_413(
    server: Served, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path
) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(50):
            archive.writestr(f"part{i}.txt", b"x")
    answer = attack(server, demo_template.tokens["planner"], path)
    assert answer.status_code == 413, answer.text
    assert "GIS_MAX_ARCHIVE_MEMBERS" in answer.json()["detail"]


@pytest.mark.parametrize("kind", ["csv", "shapefile"])
def test_too_many_rows_is_413_and_nothing_written(
    server: Served, demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path, kind: str
) -> None:
    if kind == "csv":
        rows = "".join(f"{113.29 + i * 1e-6},23.145,surface_lot,{i}\n" for i in range(6000))
        path = tmp_path / "many.csv"
        path.write_text("lon,lat,kind,capacity\n" + rows)
    else:  # small once expanded (under the byte limit) but over the row limit
        path = shapefile_bomb(tmp_path / "rows.zip", rows=6000, fields=1)
        assert expanded_size(path) < 8 * MB
    count = parking(demo_db)
    answer = attack(server, demo_template.tokens["planner"], path)
    assert answer.status_code == 413, answer.text
    assert "GIS_MAX_IMPORT_ROWS" in answer.json()["detail"]
    assert parking(demo_db) == count


def test_extraction_counts_the_bytes_it_really_writes(tmp_path: Path) -> None:
    """The copy out of a zip stops at the limit whatever the directory said."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.dbf", b" " * (3 * MB))
    limits = ImportLimits(max_bytes=2 * MB, max_rows=10, max_members=5, report_rows=5)
    with zipfile.ZipFile(buffer) as archive, pytest.raises(PayloadTooLarge):
        limits.extract(archive, [("a.dbf", "a.dbf")], tmp_path)
    assert (tmp_path / "a.dbf").stat().st_size <= 2 * MB
