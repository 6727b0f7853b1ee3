"""Run by tests/test_hygiene.py in a nested pytest (never collected by the suite itself).

Each probe starts what a real test starts — the session's PostgreSQL cluster, a child process —
then says so in a file and waits to be interrupted or killed.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from gis_service.db.cluster import ManagedCluster


def _hold(pg_cluster: ManagedCluster, name: str) -> None:
    child = subprocess.Popen(["sleep", "600"])
    ready = Path(os.environ["HYGIENE_PROBE_DIR"]) / name
    ready.write_text(f"{os.environ['GIS_TEST_RUN']} {pg_cluster.port} {child.pid}\n")
    time.sleep(600)


def test_holds_a_cluster_and_a_child(pg_cluster: ManagedCluster) -> None:
    _hold(pg_cluster, "first")


def test_holds_another(pg_cluster: ManagedCluster) -> None:
    _hold(pg_cluster, "second")


def test_nothing() -> None:
    pass
