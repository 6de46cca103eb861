"""The reminder scheduler (APScheduler 3); it lives in `ocop_workflow.reminders.scheduler`.

    from ocop_workflow.scheduler import start_background_scheduler
    scheduler = start_background_scheduler(settings)   # a started BackgroundScheduler
    ...
    scheduler.shutdown()
"""

from ..reminders.scheduler import SweepJob, build_scheduler, run_scheduler, start_background_scheduler

__all__ = ["SweepJob", "build_scheduler", "run_scheduler", "start_background_scheduler"]
