"""The scheduler: APScheduler 3 runs the sweep every `OCOP_SWEEP_MINUTES` (default 5).

`ocop scheduler` runs a `BlockingScheduler` in its own process; `start_background_scheduler`
gives the web server (`ocop serve --with-scheduler`) a `BackgroundScheduler` in a thread.
The job store is the default in-memory one: the database, not the job store, is the source
of truth, so nothing about reminders is kept in the scheduler. Two schedulers (two hosts, a
restart, a web server started with the flag as well as `ocop scheduler`) are harmless: the
reminder keys and the outbox claims stop them from queueing or sending anything twice.

Job settings: `coalesce=True` (runs missed while the machine slept collapse into one),
`max_instances=1` (a slow sweep is never overlapped by the next one in the same process),
and a `misfire_grace_time` of a whole interval instead of APScheduler's 1 second, so a run
delayed by a busy machine still happens. The first sweep starts at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from ..config import Settings
from ..db import Database
from ..engine import Registry, get_registry
from .sweep import SweepReport, run_sweep

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

JOB_ID = "ocop-sweep"


class SweepJob:
    """The job: one sweep with a database engine kept for the life of the scheduler."""

    def __init__(self, settings: Settings, db: Database | None = None, registry: Registry | None = None) -> None:
        self.settings = settings
        self._db = db
        self._registry = registry
        self._lock = threading.Lock()
        self.runs = 0
        self.last_report: SweepReport | None = None
        self.last_error: BaseException | None = None

    @property
    def db(self) -> Database:
        with self._lock:
            if self._db is None:
                self._db = Database(self.settings.database_url)
            return self._db

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = get_registry(self.settings.workflows_dir, self.settings.default_workflow)
        return self._registry

    def __call__(self) -> None:
        try:
            self.last_report = run_sweep(self.db, self.registry, self.settings)
            self.last_error = None
            for line in self.last_report.lines(self.settings.timezone):
                log.info("%s", line)
        except Exception as exc:  # keep the scheduler alive; the next run tries again
            self.last_error = exc
            log.exception("reminder sweep failed")
        finally:
            self.runs += 1

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


def build_scheduler(
    settings: Settings | None = None, *, background: bool = False, job: SweepJob | None = None
) -> BaseScheduler:
    """A configured, not yet started scheduler with the sweep job."""
    settings = settings or Settings()
    tz = ZoneInfo(settings.timezone)
    interval = max(1, settings.sweep_minutes)
    cls = BackgroundScheduler if background else BlockingScheduler
    scheduler = cls(
        timezone=tz,
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": interval * 60},
    )
    scheduler.add_job(
        job or SweepJob(settings),
        "interval",
        minutes=interval,
        id=JOB_ID,
        name="OCOP reminder sweep",
        next_run_time=datetime.now(tz),
        replace_existing=True,
    )
    return scheduler


def start_background_scheduler(settings: Settings | None = None, *, job: SweepJob | None = None) -> BackgroundScheduler:
    """Start the sweep in a background thread of this process (for `ocop serve --with-scheduler`).
    Call `.shutdown()` on the result when the process stops."""
    scheduler = build_scheduler(settings, background=True, job=job)
    scheduler.start()
    return scheduler


def run_scheduler(settings: Settings | None = None) -> None:
    """Run the sweep until SIGTERM or Ctrl-C (the `ocop scheduler` process)."""
    settings = settings or Settings()
    job = SweepJob(settings)
    scheduler = build_scheduler(settings, job=job)

    def stop(signum, _frame) -> None:
        log.info("signal %s: stopping after the current sweep", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        job.close()
