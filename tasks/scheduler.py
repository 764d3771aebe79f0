"""APScheduler wiring: every sweep of tasks/schedule.py as an interval job, plus the background-task runner.

Jobs live in memory and are rebuilt from SWEEPS at start; all state is in the database (what is due, task cursors,
leases). That is why a restart loses nothing, and why a second scheduler (APScheduler's FAQ warns that several
processes sharing one job store run jobs twice) does no harm: each sweep runs under a database lock.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask

from core.types import utcnow
from tasks.runner import Runner
from tasks.schedule import TASK_RUNNER_EVERY

log = logging.getLogger("saihui.scheduler")

TASK_RUNNER_JOB = "tasks.run_background_tasks"


class _QuietBusyRunner(logging.Filter):
    """The task runner job is often still busy (it steps tasks for up to TASK_RUNNER_BUDGET) when its next 3-second
    tick comes: that skipped tick is expected, not worth a warning every 3 seconds."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (TASK_RUNNER_JOB in message and "maximum number of running instances" in message)


logging.getLogger("apscheduler.scheduler").addFilter(_QuietBusyRunner())


def add_jobs(scheduler, runner: Runner) -> None:
    start = utcnow()
    for sweep in runner.sweeps:
        scheduler.add_job(
            runner.run_sweep, "interval", args=[sweep], id=sweep.job_id, name=sweep.job_id,
            seconds=sweep.every.total_seconds(), next_run_time=start,  # catch up at once after a restart
            coalesce=True, max_instances=1,
            misfire_grace_time=max(30, int(sweep.every.total_seconds())),
        )
    scheduler.add_job(
        runner.run_tasks, "interval", id=TASK_RUNNER_JOB, name=TASK_RUNNER_JOB,
        seconds=TASK_RUNNER_EVERY.total_seconds(), next_run_time=start + timedelta(seconds=1),
        coalesce=True, max_instances=1, misfire_grace_time=30,
    )


def blocking_scheduler(app: Flask, runner: Runner | None = None):
    from apscheduler.schedulers.blocking import BlockingScheduler

    runner = runner or Runner(app)
    scheduler = BlockingScheduler(timezone="UTC")
    add_jobs(scheduler, runner)
    return scheduler, runner


_in_process_lock = threading.Lock()


def start_in_process(app: Flask) -> bool:
    """Development: run the scheduler in a background thread of the web server, once per app. Called on the first
    request, so that ``flask db upgrade`` and the other CLI commands never start one, nor the reloader's watching
    parent process (it serves no request). Returns True when it started it."""
    with _in_process_lock:
        if app.extensions.get("saihui_scheduler") is not None:
            return False
        from apscheduler.schedulers.background import BackgroundScheduler

        runner = Runner(app)
        scheduler = BackgroundScheduler(timezone="UTC", daemon=True)
        add_jobs(scheduler, runner)
        scheduler.start()
        app.extensions["saihui_scheduler"] = (scheduler, runner)
        log.info("scheduler running in-process (development); production runs `flask --app app scheduler`")

        import atexit

        def stop() -> None:
            runner.stop()
            scheduler.shutdown(wait=False)

        atexit.register(stop)
        return True


def init_app(app: Flask) -> None:
    if not app.config.get("SCHEDULER_IN_PROCESS"):
        return

    @app.before_request
    def _start_scheduler_once():
        if "saihui_scheduler" not in app.extensions:
            start_in_process(app)
