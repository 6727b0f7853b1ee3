"""Imports run in worker processes, never in the serving process.

An import reads, checks and writes in a process of its own, with its own database connection
in the caller's role and one transaction (all rows or none). Each import gets a fresh process,
forked from a small server process that has the libraries loaded, so the memory an import took
goes back to the system when it ends. The serving process only streams the upload to disk and
waits: a zip bomb or a 49 MB GeoJSON neither stalls its event loop nor grows its memory. At most
`settings.import_workers` imports run at once; others wait their turn.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from gis_service.auth import Principal, apply_scope
from gis_service.catalog import Layer
from gis_service.db.engine import patient_connect
from gis_service.errors import InvalidInput
from gis_service.ingest.importer import ImportOptions, import_file
from gis_service.ingest.limits import ImportLimits
from gis_service.ingest.report import ImportRejected, ImportReport


@dataclass(frozen=True)
class ImportJob:
    """Everything a worker process needs to run one import."""

    database_url: str
    statement_timeout_ms: int
    principal: Principal
    layer: Layer
    path: Path
    name: str
    options: ImportOptions
    limits: ImportLimits


class ImportStopped(InvalidInput):
    """The worker process ended before the import did (killed, out of memory)."""


def run_job(job: ImportJob) -> ImportReport:
    """Run one import in this process; its report (or ImportRejected) lists capped rows."""
    engine = sa.create_engine(
        job.database_url,
        poolclass=NullPool,
        connect_args={"options": f"-c statement_timeout={job.statement_timeout_ms}"},
    )
    sa.event.listen(engine, "do_connect", patient_connect)
    shown = job.limits.report_rows
    try:
        with engine.begin() as conn:
            apply_scope(conn, job.principal)
            report = import_file(conn, job.layer, job.path, job.options, name=job.name,
                                 author=job.principal, limits=job.limits)
        return report.capped(shown)
    except ImportRejected as exc:
        raise ImportRejected(exc.report.capped(shown), exc.sqlstate, str(exc)) from None
    finally:
        engine.dispose()


class WorkerPool:
    """A lazily started pool of import processes (one fresh process per import)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.executor: ProcessPoolExecutor | None = None

    def get(self, workers: int) -> ProcessPoolExecutor:
        """The running pool, started with `workers` processes on first use."""
        with self.lock:
            if self.executor is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload([__name__])
                self.executor = ProcessPoolExecutor(
                    max_workers=workers, mp_context=context, max_tasks_per_child=1
                )
            return self.executor

    def discard(self, broken: ProcessPoolExecutor) -> None:
        """Forget a broken pool so that the next import starts a new one."""
        with self.lock:
            if self.executor is broken:
                self.executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    async def run(self, job: ImportJob, workers: int) -> ImportReport:
        """Run an import in a worker process and wait for it without blocking the loop."""
        executor = self.get(workers)
        try:
            # submit may start a process (and the fork server): never on the event loop
            future = await asyncio.to_thread(executor.submit, run_job, job)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool as exc:
            self.discard(executor)
            raise ImportStopped(
                "the import stopped before it finished (the file may need more memory than an "
                "import may take); nothing was written"
            ) from exc


POOL = WorkerPool()
