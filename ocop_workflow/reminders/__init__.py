"""Reminders when stages stall, escalation, certificate expiry notices, and the scheduler (issue #5).

* `run_sweep(db, registry, settings, now=…)` — one sweep: queue what is due, then send mail;
* `start_background_scheduler(settings)` — APScheduler in a thread (for the web server);
* `run_scheduler(settings)` — the `ocop scheduler` process.

The scheduler imports APScheduler, so it is imported lazily here; so is the sweep, because the move
notices (notify.moves, imported by services.products) use this package's recipients and messages, and
the sweep imports the outbox, which imports the services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from ..config import Settings
    from .sweep import SweepReport, queue, run_sweep


def __getattr__(name: str) -> Any:
    if name in ("SweepReport", "queue", "run_sweep"):
        from . import sweep

        return getattr(sweep, name)
    raise AttributeError(name)


def start_background_scheduler(settings: Settings | None = None) -> BackgroundScheduler:
    from .scheduler import start_background_scheduler as start

    return start(settings)


def run_scheduler(settings: Settings | None = None) -> None:
    from .scheduler import run_scheduler as run

    run(settings)


__all__ = ["SweepReport", "queue", "run_scheduler", "run_sweep", "start_background_scheduler"]
