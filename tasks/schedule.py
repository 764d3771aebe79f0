"""Every periodic job of Saihui, declared in this ONE list.

A job id ``"<package>.<function>"`` names the function ``<package>/jobs.py::<function>(now: datetime) -> int``
(the number of things it did). A sweep reads what is due from the database and changes state with conditional
UPDATEs, committing its own work: running it twice does nothing the second time, and a run missed while the
scheduler was down is caught up by the next one. The runner (tasks/runner.py) holds a database lock per sweep, so a
second scheduler started by mistake does no work twice.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Sweep:
    job_id: str
    every: timedelta
    # How long a lease on SQLite lasts (a scheduler that dies while holding it blocks the sweep this long at most).
    lease: timedelta = timedelta(minutes=10)

    @property
    def package(self) -> str:
        return self.job_id.rpartition(".")[0]

    @property
    def function_name(self) -> str:
        return self.job_id.rpartition(".")[2]

    def resolve(self) -> Callable[[datetime], int]:
        module = importlib.import_module(f"{self.package}.jobs")
        return getattr(module, self.function_name)


SWEEPS: list[Sweep] = [
    Sweep("registration.open_due_registrations", every=timedelta(minutes=1)),
    Sweep("registration.close_due_registrations", every=timedelta(minutes=1)),
    Sweep("registration.promote_waitlists", every=timedelta(minutes=1)),
    Sweep("tasks.purge_task_files", every=timedelta(hours=1)),
    Sweep("notifications.send_due_messages", every=timedelta(minutes=1)),
    Sweep("notifications.queue_due_reminders", every=timedelta(minutes=1)),
]

# The background-task runner (not a sweep: it claims queued tasks and advances them step by step).
TASK_RUNNER_EVERY = timedelta(seconds=3)
TASK_RUNNER_BUDGET = timedelta(seconds=30)  # one run steps tasks for at most this long, then lets the next run go
TASK_LEASE = timedelta(minutes=5)  # a step must finish well within this (steps are chunks of a few seconds)


def sweep_by_id(job_id: str) -> Sweep:
    for sweep in SWEEPS:
        if sweep.job_id == job_id:
            return sweep
    raise KeyError(job_id)
