"""A test run leaves nothing behind: interrupted, killed or finished, nothing is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests import hygiene

PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
PROBE = "tests/hygiene_probe.py"
ROOT = Path(__file__).resolve().parent.parent


def nested(args: list[str], probe_dir: Path) -> subprocess.Popen[bytes]:
    """A pytest run of its own (its own run tag), in its own process group like a terminal job."""
    env = {k: v for k, v in os.environ.items() if k != hygiene.RUN_VARIABLE}
    env["HYGIENE_PROBE_DIR"] = str(probe_dir)
    return subprocess.Popen(
        [*PYTEST, *args], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=as_a_terminal_job,
    )


def as_a_terminal_job() -> None:
    """Ctrl-C as a shell's foreground job gets it: SIGINT and SIGTERM neither ignored nor blocked,
    whatever the test worker that starts the run inherited or set (a library may block them)."""
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def wait_for_probes(probe_dir: Path, names: list[str], run: subprocess.Popen[bytes]) -> str:
    """Wait until every probe holds its cluster and child; the nested run's tag."""
    deadline = time.monotonic() + 300
    while not all((probe_dir / name).exists() for name in names):
        assert run.poll() is None, "the nested run ended before its probes were ready"
        assert time.monotonic() < deadline, "the probes did not start"
        time.sleep(0.2)
    tags = {(probe_dir / name).read_text().split()[0] for name in names}
    assert len(tags) == 1
    return tags.pop()


def left_of(run: str) -> list[hygiene.Tagged]:
    """Processes of a run still alive."""
    return [process for process in hygiene.tagged_processes() if process.run == run]


def start_probes(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Two xdist workers, each with its own cluster and a child process, waiting."""
    run = nested(["-n", "2", f"{PROBE}::test_holds_a_cluster_and_a_child",
                  f"{PROBE}::test_holds_another"], tmp_path)
    tag = wait_for_probes(tmp_path, ["first", "second"], run)
    postmasters = [p for p in left_of(tag) if p.is_postmaster]
    assert len(postmasters) == 2, "each worker runs its own cluster"
    assert hygiene.run_dir(tag).exists()
    return run, tag


def test_ctrl_c_stops_every_cluster_and_process(tmp_path: Path) -> None:
    run, tag = start_probes(tmp_path)
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
    run.wait(timeout=300)  # a loaded machine stops two clusters slowly
    assert left_of(tag) == []
    assert not hygiene.run_dir(tag).exists()


def test_a_killed_run_is_found_by_the_check_and_removed(tmp_path: Path) -> None:
    run, tag = start_probes(tmp_path)
    os.killpg(run.pid, signal.SIGKILL)  # no chance to clean up: the clusters survive
    run.wait(timeout=30)
    assert any(p.is_postmaster for p in left_of(tag))
    check = subprocess.run([sys.executable, "-m", "tests.hygiene", "check"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 1
    assert f"run {tag} left" in check.stderr and "postgres" in check.stderr
    assert left_of(tag) == []
    assert not hygiene.run_dir(tag).exists()


def test_the_next_run_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    run, tag = start_probes(tmp_path)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=30)
    assert left_of(tag)
    after = nested(["-p", "no:xdist", f"{PROBE}::test_nothing"], tmp_path)
    assert after.wait(timeout=120) == 0
    assert left_of(tag) == []
    assert not hygiene.run_dir(tag).exists()
