"""Distributed analysis on a LocalCluster of 2 processes equals the single-process run exactly."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from dask.distributed import Client
from sqlalchemy.engine import Engine

from gis_service.datasets.area import Area
from gis_service.datasets.params import service_params
from gis_service.datasets.runs import coverage_table, nearest_table, service_inputs, shares_table
from gis_service.db.cluster import ManagedCluster
from gis_service.db.engine import create_db_engine
from gis_service.distributed import (
    BORDER_SLACK_M,
    PART_STAIRWELLS,
    District,
    coverage_all,
    dask_client,
    district_partitions,
    local_cluster,
    nearest_all,
    partition_count,
    partitions,
)
from gis_service.gc_policy import FULL_PASS_EVERY
from gis_service.ingest.demo_load import load_demo
from tests.conftest import admin, create_database

FACILITY_DISTRICT_SQL = """
SELECT f.id AS facility_id, d.id AS facility_district
FROM facility f JOIN district d ON ST_Intersects(d.geom, f.geom)
"""
BORDER_SQL = """
SELECT s.id, ST_Distance(s.geom::geography, ST_Boundary(d.geom)::geography) AS to_border
FROM stairwell s, district d WHERE ST_Intersects(d.geom, s.geom)
"""


@pytest.fixture(scope="module")
def city(pg_cluster: ManagedCluster, empty_template: str) -> Iterator[Engine]:
    """A demo city of several districts sharing borders (about 40,000 stairwells)."""
    name = create_database(pg_cluster, empty_template)
    engine = create_db_engine(pg_cluster.url(name))
    load_demo(engine, target_stairwells=40_000)
    yield engine
    engine.dispose()
    admin(pg_cluster, f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def client(city: Engine) -> Iterator[Client]:
    """A local cluster of 2 worker processes whose own settings point at the city."""
    before = os.environ.get("GIS_DATABASE_URL")
    os.environ["GIS_DATABASE_URL"] = url(city)  # what the worker processes start with
    try:
        with local_cluster(2) as cluster, Client(cluster) as dask:
            os.environ.pop("GIS_DATABASE_URL")  # the test process itself is told nothing
            if before is not None:
                os.environ["GIS_DATABASE_URL"] = before
            yield dask
    finally:
        if before is None:
            os.environ.pop("GIS_DATABASE_URL", None)
        else:
            os.environ["GIS_DATABASE_URL"] = before


def url(engine: Engine) -> str:
    """The engine's URL with its password, for the workers' own settings."""
    return engine.url.render_as_string(hide_password=False)


def frame(engine: Engine, sql: str) -> pd.DataFrame:
    """A query's rows."""
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(sa.text(sql)).mappings().all())


def test_partitions_are_finer_only_in_a_big_city() -> None:
    """One partition per worker thread until the city holds PART_STAIRWELLS for more, then up
    to two per thread: a small city does not read its margins four times over."""

    def city(stairwells: int) -> list[District]:
        return [District(i, stairwells // 10, (0.0, 0.0, 1.0, 1.0)) for i in range(10)]

    assert partition_count(city(100_000), 2) == 2
    assert partition_count(city(3 * PART_STAIRWELLS), 2) == 3
    assert partition_count(city(1_000_000), 2) == 4
    assert partition_count(city(10_000_000), 2) == 4
    assert partition_count(city(1_000_000), 0) == 2  # no thread reported: one, up to two


def test_city_has_several_districts(city: Engine) -> None:
    with city.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM district")).scalar_one() >= 3


@pytest.mark.parametrize("level", ["grid_id", "compound_id", "subdistrict_id", "district_id"])
def test_coverage_equals_single_process(city: Engine, client: Client, level: str) -> None:
    with city.begin() as conn:
        single = coverage_table(conn, level)
    with city.connect() as conn:
        distributed = coverage_all(client, conn, level)
    assert len(distributed) >= 3
    pd.testing.assert_frame_equal(distributed, single, check_exact=True)
    assert distributed["eligible_households"].dtype == "int64"  # 781, never 781.0


@pytest.mark.parametrize(("mode", "count"), [("network", None), ("network", 99), ("crow", None)])
def test_nearest_equals_single_process_across_borders(
    city: Engine, client: Client, mode: str, count: int | None
) -> None:
    """Grouped districts (the default) or one partition per district (count 99): the same."""
    with city.begin() as conn:
        params = service_params(conn, "facilities", None, 300.0, mode=mode)
        single = nearest_table(service_inputs(conn, params, Area()), params)
    with city.connect() as conn:
        parts = partitions(client, conn, params, count)
        assert 2 <= len(parts) == (len(district_partitions(conn)) if count else len(parts))
        distributed = nearest_all(client, conn, params, parts)
        # the same partitions, read once, serve coverage too
        pd.testing.assert_frame_equal(
            coverage_all(client, conn, "district_id", parts=parts),
            coverage_table(conn, "district_id"), check_exact=True,
        )  # fmt: skip
    assert len(distributed) == len(single) > 30_000
    # names are categories in both; each side lists them in the order it met them
    pd.testing.assert_frame_equal(distributed, single, check_exact=True, check_categorical=False)
    assert distributed["facility_name"].notna().sum() > 20_000
    pd.testing.assert_frame_equal(
        shares_table(distributed, "district_id"), shares_table(single, "district_id")
    )
    # stairwells within the margin of their district's border served by a facility across it
    where = frame(city, FACILITY_DISTRICT_SQL).drop_duplicates("facility_id", keep=False)
    near = distributed[distributed["served"]].astype({"facility_id": "int64"})
    near = near.merge(where, on="facility_id").merge(frame(city, BORDER_SQL), on="id")
    across = near[near["facility_district"] != near["district_id"].astype("int64")]
    assert (across["to_border"] <= params.radius_m + BORDER_SLACK_M).all()
    assert len(across) > 20, f"only {len(across)} stairwells served across a district border"


def test_cli_all_runs_on_a_local_cluster(city: Engine) -> None:
    env = {**os.environ, "GIS_DATABASE_URL": url(city)}
    args: list[Any] = [sys.executable, "-c", "from gis_service.cli import main; main()"]
    out = subprocess.run(
        [*args, "analyze", "coverage", "--all", "--level", "district", "-f", "json"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["rows"]
    with city.begin() as conn:
        single = coverage_table(conn, "district_id")
    assert [r["eligible_stairwells"] for r in rows] == single["eligible_stairwells"].tolist()
    out = subprocess.run(
        [*args, "analyze", "service-areas", "--all", "--layer", "facilities", "--radius-m", "300",
         "--level", "district", "-f", "json"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["rows"]) == len(single)


def test_cli_all_runs_on_a_separately_started_cluster(city: Engine, tmp_path: Path) -> None:
    """`--scheduler tcp://…`: a real scheduler and worker processes, started like on a cluster."""
    from gis_service.db.cluster import free_port

    port = free_port()
    dask = Path(sys.executable).parent / "dask"
    logs = (tmp_path / "scheduler.log").open("w"), (tmp_path / "worker.log").open("w")
    scheduler = subprocess.Popen(
        [str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--dashboard-address", ":0", "--no-show"],
        stdout=logs[0], stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        [str(dask), "worker", f"tcp://127.0.0.1:{port}", "--nworkers", "2", "--nthreads", "1",
         "--no-dashboard", "--local-directory", str(tmp_path)],
        stdout=logs[1], stderr=subprocess.STDOUT,
        env={**os.environ, "GIS_DATABASE_URL": url(city)},  # the workers' own settings
    )  # fmt: skip
    try:
        env = {**os.environ, "GIS_DATABASE_URL": url(city)}
        out = subprocess.run(
            [sys.executable, "-c", "from gis_service.cli import main; main()", "analyze",
             "coverage", "--all", "--scheduler", f"tcp://127.0.0.1:{port}", "--level", "district",
             "-f", "json"],
            capture_output=True, text=True, env=env, timeout=300, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr + (tmp_path / "worker.log").read_text()[-2000:]
        rows = json.loads(out.stdout)["rows"]
        with city.begin() as conn:
            single = coverage_table(conn, "district_id")
        assert [r["eligible_stairwells"] for r in rows] == single["eligible_stairwells"].tolist()
        assert [r["in_service_stairwells"] for r in rows] == (
            single["in_service_stairwells"].tolist()
        )
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait(timeout=30)
        for log in logs:
            log.close()


def test_the_workers_of_our_client_hold_big_data_as_one_process_does() -> None:
    """Each worker gets the collector policy of a process holding a city as it starts."""
    with dask_client(n_workers=1) as dask:
        thresholds = dask.run(lambda: gc.get_threshold()[2])
    assert thresholds and set(thresholds.values()) == {FULL_PASS_EVERY}
