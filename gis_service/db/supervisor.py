"""Keeps the managed PostgreSQL up while the service runs: a crashed server is restarted.

`gis-service serve` on the managed cluster (no GIS_DATABASE_URL) starts one supervisor thread.
Every `pg_check_interval_s` it looks at the postmaster: when its pid file is left behind by a
process that is gone (kill -9, the OOM killer), the server crashed, and the supervisor starts it
again after `pg_restart_delay_s`, doubling the wait after each failed try up to
`pg_restart_max_delay_s`. Every step is logged. A clean stop (`gis-service db stop`) removes the
pid file and is respected: the supervisor leaves a stopped server stopped. Requests meanwhile
get 503 and the engine's pool reconnects by itself once the server is back.

A killed postmaster that no one has reaped yet (a zombie: containers whose init does not reap)
still looks alive to pg_ctl and PostgreSQL, which then refuse to start. Its lock file is removed
once PostgreSQL's own interlock says it is safe: no process is attached to the crashed server's
shared memory any more.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from gis_service.db.cluster import ManagedCluster
from gis_service.errors import DatabaseUnavailable, GisServiceError
from gis_service.settings import Settings

log = logging.getLogger("gis_service.db.supervisor")
SYSV_SHM = Path("/proc/sysvipc/shm")


def process_state(pid: int) -> str | None:
    """A process's state letter (R, S, Z...) from /proc, None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return "?"
    return stat.rsplit(")", 1)[-1].split()[0]


def lock_file(cluster: ManagedCluster) -> list[str] | None:
    """The lines of the cluster's postmaster.pid (None when there is none: cleanly stopped)."""
    try:
        return (cluster.pgdata / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None


def postmaster_state(cluster: ManagedCluster) -> str:
    """'running', 'stopped' (cleanly: no pid file) or 'crashed' (its process is gone)."""
    try:
        lines = lock_file(cluster)
    except OSError:
        return "running"  # unreadable: not ours to judge
    if lines is None:
        return "stopped"
    if not lines or not lines[0].strip().isdigit():
        return "running"  # being written by a starting server
    return "crashed" if process_state(int(lines[0])) in (None, "Z", "X") else "running"


def attached_processes(shmid: int) -> int:
    """How many processes are attached to a System V shared memory segment (0 when gone)."""
    for line in SYSV_SHM.read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) > 6 and fields[1] == str(shmid):
            return int(fields[6])
    return 0


def clear_zombie_lock(cluster: ManagedCluster) -> None:
    """Remove the lock file a zombie postmaster left, once none of its processes remain."""
    lines = lock_file(cluster)
    if not lines or not lines[0].strip().isdigit() or process_state(int(lines[0])) != "Z":
        return  # a reaped postmaster: PostgreSQL removes its stale lock file itself
    shm = lines[6].split() if len(lines) > 6 else []
    attached = attached_processes(int(shm[1])) if len(shm) == 2 and shm[1].isdigit() else 0
    if attached:
        raise DatabaseUnavailable(
            f"{attached} processes of the crashed server still use its shared memory"
        )
    log.warning("removing the lock file of the crashed postmaster %s (a zombie)", lines[0])
    (cluster.pgdata / "postmaster.pid").unlink(missing_ok=True)


def next_delay(delay: float, most: float) -> float:
    """The wait before the next restart try: double the last, at most `most`."""
    return min(delay * 2, most)


class ClusterSupervisor:
    """A daemon thread restarting the managed cluster after a crash, with growing delays."""

    def __init__(
        self, cluster: ManagedCluster, check_every: float, first_delay: float, max_delay: float
    ) -> None:
        self.cluster = cluster
        self.check_every = check_every
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.watch, name="pg-supervisor", daemon=True)
        self.restarts = 0

    @classmethod
    def from_settings(cls, cluster: ManagedCluster, settings: Settings) -> ClusterSupervisor:
        """A supervisor with the settings' interval and delays."""
        return cls(cluster, settings.pg_check_interval_s, settings.pg_restart_delay_s,
                   settings.pg_restart_max_delay_s)

    def start(self) -> ClusterSupervisor:
        """Start watching."""
        log.info("watching the managed PostgreSQL on port %s", self.cluster.port)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (the server is left as it is)."""
        self.stopping.set()
        self.thread.join(timeout=10)

    def watch(self) -> None:
        """Check the server every interval; restart it when it crashed."""
        while not self.stopping.wait(self.check_every):
            if postmaster_state(self.cluster) == "crashed":
                self.recover()

    def recover(self) -> None:
        """Start the crashed server again, waiting longer after each failed try."""
        delay, tries, down_since = self.first_delay, 0, time.monotonic()
        log.warning("managed PostgreSQL on port %s is down (its process is gone): "
                    "restarting in %.1f s", self.cluster.port, delay)
        while not self.stopping.wait(delay):
            tries += 1
            try:
                clear_zombie_lock(self.cluster)
                self.cluster.start()
            except GisServiceError as exc:
                delay = next_delay(delay, self.max_delay)
                log.error("restart %d of the managed PostgreSQL failed: %s; next try in %.1f s",
                          tries, exc, delay)
                continue
            self.restarts += 1
            log.warning("managed PostgreSQL restarted after %.1f s (%d tries)",
                        time.monotonic() - down_since, tries)
            return
