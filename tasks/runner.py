"""Runs the sweeps of tasks/schedule.py and advances background tasks, each in its own app context.

The scheduler process (``flask --app app scheduler``) calls these from APScheduler jobs; ``--once`` and the tests
call them directly, with a fixed ``now``. Nothing here may raise: a sweep that fails, a broken row, a database that
is briefly unavailable are logged and the next run tries again.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask

from core.types import utcnow
from extensions import db
from tasks import locks, services
from tasks.schedule import SWEEPS, TASK_LEASE, TASK_RUNNER_BUDGET, Sweep

log = logging.getLogger("saihui.scheduler")


def make_owner() -> str:
    """Who holds a lease: host, process and a random part (two runners in one process differ too)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Runner:
    def __init__(self, app: Flask, *, owner: str | None = None, clock: Callable[[], datetime] = utcnow,
                 sweeps: list[Sweep] | None = None, task_lease: timedelta = TASK_LEASE,
                 task_budget: timedelta = TASK_RUNNER_BUDGET):
        self.app = app
        self.owner = owner or make_owner()
        self.clock = clock
        self.sweeps = list(SWEEPS if sweeps is None else sweeps)
        self.task_lease = task_lease
        self.task_budget = task_budget
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Finish the current step, give the task back and take no more (on shutdown)."""
        self._stopping.set()

    # ------------------------------------------------------------ sweeps

    def run_sweep(self, sweep: Sweep, now: datetime | None = None) -> int | None:
        """Run one sweep if no other scheduler is running it. Returns its count, or None (skipped or failed)."""
        with self.app.app_context():
            try:
                return self._run_sweep(sweep, now or self.clock())
            except Exception:  # noqa: BLE001 - e.g. the database is unavailable for the lock itself
                log.exception("sweep %s: could not run", sweep.job_id)
                return None
            finally:
                db.session.remove()

    def _run_sweep(self, sweep: Sweep, now: datetime) -> int | None:
        with locks.sweep_lock(sweep.job_id, owner=self.owner, now=now, lease=sweep.lease) as held:
            if not held:
                log.debug("sweep %s: skipped, another scheduler is running it", sweep.job_id)
                return None
            started = utcnow()
            began = time.monotonic()
            try:
                count = int(sweep.resolve()(now) or 0)
                db.session.commit()  # a sweep commits its own work; nothing may be left pending
            except Exception as error:  # noqa: BLE001 - a failing sweep never stops the scheduler
                db.session.rollback()
                log.exception("sweep %s failed", sweep.job_id)
                locks.record_run(sweep.job_id, started_at=started, finished_at=utcnow(), count=None,
                                 error=f"{type(error).__name__}: {error}")
                return None
            log.info("sweep %s: %d done in %.2fs", sweep.job_id, count, time.monotonic() - began)
            locks.record_run(sweep.job_id, started_at=started, finished_at=utcnow(), count=count, error=None)
            return count

    def run_all_sweeps(self, now: datetime | None = None) -> dict[str, int | None]:
        return {sweep.job_id: self.run_sweep(sweep, now) for sweep in self.sweeps}

    # ------------------------------------------------------------ background tasks

    def run_tasks(self, budget: timedelta | None = None, max_steps: int | None = None) -> int:
        """Claim tasks and advance them, step after step, for at most ``budget``; returns the steps done.

        A task not finished when the time is up is released (not abandoned): the next run, here or in another
        scheduler, continues from its cursor."""
        deadline = time.monotonic() + (budget or self.task_budget).total_seconds()
        steps = 0
        while not self._stopping.is_set() and time.monotonic() < deadline:
            if max_steps is not None and steps >= max_steps:
                break
            with self.app.app_context():
                try:
                    task = services.claim_task(owner=self.owner, now=self.clock(), lease=self.task_lease)
                    if task is None:
                        break
                    task_id, kind = task.id, task.kind
                    log.info("task %s (%s): running", task_id, kind)
                    while True:
                        outcome = services.advance_task(task_id, owner=self.owner, now=self.clock(),
                                                        lease=self.task_lease)
                        steps += 1
                        if outcome != services.StepOutcome.STEPPED:
                            log.info("task %s (%s): %s", task_id, kind, outcome.value)
                            break
                        out_of_time = time.monotonic() >= deadline or self._stopping.is_set()
                        if out_of_time or (max_steps is not None and steps >= max_steps):
                            services.release_task(task_id, owner=self.owner, now=self.clock(), quietly=True)
                            break
                    if outcome == services.StepOutcome.RETRY:
                        break  # the database is unavailable: wait for the next run
                except Exception:  # noqa: BLE001 - the lease expires and the task is taken over later
                    db.session.rollback()
                    log.exception("background tasks: run failed")
                    break
                finally:
                    db.session.remove()
        return steps
