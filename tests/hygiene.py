"""What a test run starts, it stops: every process and cluster is tagged with the run and swept.

The pytest process that owns a run sets `GIS_TEST_RUN` in its environment before anything else
starts, so every process the suite starts (xdist workers, PostgreSQL clusters, servers, Dask,
Chromium, CLI subprocesses) inherits the tag. At the end of the run the owner stops every process
carrying its tag and removes the run's directory; at the start of a run it does the same for runs
whose owner is gone (a crash, `kill -9`). `python -m tests.hygiene check` finds leftovers after
a run and exits non-zero when there are any (`make test` runs it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

RUN_VARIABLE = "GIS_TEST_RUN"
BASE = Path("/var/lib/gis-service-test")
RUNS = BASE / "runs"
OWNER_FILE = "owner"
KEPT_FILE = "kept"


def start_time(pid: int) -> str | None:
    """The kernel's start time of a process (field 22 of /proc/PID/stat), None when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def current_run() -> str:
    """This run's tag: inherited from the owner, or made here (this process owns the run)."""
    run = os.environ.get(RUN_VARIABLE)
    if run is None:
        run = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.environ[RUN_VARIABLE] = run
        claim(run)
    return run


def run_dir(run: str) -> Path:
    """Where a run keeps its clusters."""
    return RUNS / run


def claim(run: str) -> None:
    """Record this process as the run's owner (pid and start time, to survive pid reuse)."""
    directory = run_dir(run)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(BASE, 0o755)
    os.chmod(RUNS, 0o755)
    (directory / OWNER_FILE).write_text(f"{os.getpid()} {start_time(os.getpid())}\n")


def owner_alive(run: str) -> bool:
    """Tell whether the process that owns a run still runs."""
    try:
        pid_text, started = (run_dir(run) / OWNER_FILE).read_text().split()
    except (OSError, ValueError):
        pid_text, started = run.split("-", 1)[0], None
    if not pid_text.isdigit():
        return False
    now = start_time(int(pid_text))
    return now is not None and (started is None or now == started)


@dataclass(frozen=True)
class Tagged:
    """A process that carries a run's tag."""

    pid: int
    run: str
    command: str

    @property
    def is_postmaster(self) -> bool:
        """PostgreSQL's main process (its children follow it when it stops)."""
        try:
            name = Path(f"/proc/{self.pid}/comm").read_text().strip()
            parent = int(Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            parent_name = Path(f"/proc/{parent}/comm").read_text().strip()
        except (OSError, ValueError, IndexError):
            return False
        return name == "postgres" and parent_name != "postgres"


def tagged_processes() -> list[Tagged]:
    """Every process of any run, except this one."""
    found: list[Tagged] = []
    prefix = f"{RUN_VARIABLE}=".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        for item in environ.split(b"\0"):
            if item.startswith(prefix):
                found.append(Tagged(int(entry.name), item[len(prefix):].decode(), command.strip()))
                break
    return found


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def stop_processes(processes: list[Tagged], grace_s: float = 10.0) -> None:
    """Stop processes: PostgreSQL by fast shutdown, others by SIGTERM, then SIGKILL after grace."""
    for process in processes:
        _signal(process.pid, signal.SIGINT if process.is_postmaster else signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(start_time(p.pid) for p in processes):
        time.sleep(0.1)
    for process in processes:
        _signal(process.pid, signal.SIGKILL)


def sweep(run: str) -> list[Tagged]:
    """Stop every process of a run and remove its directory; return what was still running."""
    left = [process for process in tagged_processes() if process.run == run]
    stop_processes(left)
    shutil.rmtree(run_dir(run), ignore_errors=True)
    return left


def keep(run: str) -> None:
    """Leave a run's clusters running for debugging (`--keep-test-clusters`) until the next run."""
    (run_dir(run) / KEPT_FILE).touch()


def kept(run: str) -> bool:
    """Tell whether a run was kept on purpose."""
    return (run_dir(run) / KEPT_FILE).exists()


def orphaned_runs(include_kept: bool = True) -> set[str]:
    """Runs whose owner is gone but whose processes or directory are still here."""
    runs = {process.run for process in tagged_processes()}
    if RUNS.exists():
        runs.update(entry.name for entry in RUNS.iterdir())
    return {run for run in runs if not owner_alive(run) and (include_kept or not kept(run))}


def sweep_orphans(include_kept: bool = True) -> dict[str, list[Tagged]]:
    """Clean up after earlier runs that ended without cleaning up (crash, kill -9)."""
    return {run: sweep(run) for run in sorted(orphaned_runs(include_kept))}


def check() -> int:
    """After a run: report (and remove) anything a finished run left behind; 1 when there was."""
    leftovers = sweep_orphans(include_kept=False)
    if not leftovers:
        print("test hygiene: no process or cluster of a finished test run is left")
        return 0
    for run, processes in leftovers.items():
        print(f"test hygiene: run {run} left {len(processes)} process(es) and/or its directory:",
              file=sys.stderr)
        for process in processes:
            print(f"  pid {process.pid}: {process.command[:160]}", file=sys.stderr)
    print("test hygiene: FAILED — the suite left processes or clusters behind (now removed)",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    if sys.argv[1:] != ["check"]:
        sys.exit("usage: python -m tests.hygiene check")
    sys.exit(check())
