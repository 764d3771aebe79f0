"""``flask --app app scheduler``: the one scheduler process (or, with ``--once``, one pass for cron and tests)."""
from __future__ import annotations

import logging
import signal
import sys
from datetime import timedelta

import click
from flask import Flask

from tasks.runner import Runner

log = logging.getLogger("saihui.scheduler")


def _configure_logging() -> None:
    logger = logging.getLogger("saihui.scheduler")
    if not logging.root.handlers and not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    for name in ("tasks", "registration.jobs"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.INFO)


def run_scheduler(app: Flask, *, once: bool, tasks_for: int = 60) -> None:
    _configure_logging()
    runner = Runner(app)
    if once:
        counts = runner.run_all_sweeps()
        for job_id, count in counts.items():
            click.echo(f"{job_id}: {'skipped or failed' if count is None else count}")
        steps = runner.run_tasks(budget=timedelta(seconds=tasks_for)) if tasks_for else 0
        click.echo(f"background task steps: {steps}")
        return

    from tasks.scheduler import blocking_scheduler

    scheduler, runner = blocking_scheduler(app, runner)

    def stop(signum, _frame):
        log.info("scheduler: signal %s, stopping after the current steps", signum)
        runner.stop()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler %s: %d sweeps and the background-task runner", runner.owner, len(runner.sweeps))
    scheduler.start()  # blocks until shutdown
    log.info("scheduler %s stopped", runner.owner)
