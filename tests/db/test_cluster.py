"""The managed local cluster: start, stop, restart keeps the data, clear errors."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest

from gis_service.db.cluster import ManagedCluster, find_bin_dir, free_port
from gis_service.errors import PortInUse
from tests.conftest import TEST_ROOT


def test_start_stop_restart_keeps_data(tmp_path: Path) -> None:
    cluster = ManagedCluster(
        data_dir=tmp_path / "data",
        port=free_port(),
        bin_dir=find_bin_dir(),
        database="gis",
        root_dir=TEST_ROOT,
        throwaway=True,
    )
    try:
        assert not cluster.is_initialised()
        cluster.start()
        assert cluster.status()["running"] is True
        with psycopg.connect(cluster.conninfo("gis"), autocommit=True) as conn:
            assert conn.execute("SELECT postgis_lib_version()").fetchone()
            conn.execute("CREATE TABLE kept (name text)")
            conn.execute("INSERT INTO kept VALUES ('水荫路34号大院')")
        assert cluster.stop() is True
        assert cluster.status()["running"] is False
        assert cluster.stop() is False
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(cluster.conninfo("gis"), connect_timeout=2)
        cluster.start()
        with psycopg.connect(cluster.conninfo("gis")) as conn:
            assert conn.execute("SELECT name FROM kept").fetchone() == ("水荫路34号大院",)
        cluster.start()  # starting a running cluster is harmless
    finally:
        cluster.destroy()
    assert not cluster.cluster_dir.exists()


def test_port_taken_by_another_program_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        cluster = ManagedCluster(
            data_dir=tmp_path / "data",
            port=port,
            bin_dir=find_bin_dir(),
            root_dir=TEST_ROOT,
            throwaway=True,
        )
        try:
            with pytest.raises(PortInUse, match=f"port {port} is in use"):
                cluster.start()
        finally:
            cluster.destroy()
