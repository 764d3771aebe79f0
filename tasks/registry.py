"""Step functions of background tasks, registered by kind.

A package that runs background tasks declares its step function in its ``jobs.py``::

    from tasks.registry import task_handler, StepResult

    @task_handler("registration.export")
    def export_step(task, now) -> StepResult:
        ...  # ONE chunk, from task.cursor; set task.cursor to where the next step starts
        return StepResult(done=..., total=..., finished=False)

and adds its module to ``TASK_MODULES`` below. The runner commits the step's own database work together with the
new cursor, and only while it still holds the task's lease, so a step is never counted twice. A step must therefore
be safe to run again from the same cursor (its work in the database is rolled back if its commit is refused; work
outside the database, such as a part file, must be written so that writing it again gives the same result).
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)

# Modules whose import registers task handlers (other packages add theirs here).
TASK_MODULES = ["registration.jobs", "notifications.jobs", "certificates.jobs"]


@dataclass(frozen=True)
class StepResult:
    """What one step did: ``done`` of ``total`` things so far; ``finished`` with the task's ``result``."""

    done: int
    total: int | None = None
    finished: bool = False
    result: dict | None = None


StepFunction = Callable[[object, datetime], StepResult]
_HANDLERS: dict[str, StepFunction] = {}
_LABELS: dict[str, object] = {}
_loaded = False


def task_handler(kind: str, *, label=None) -> Callable[[StepFunction], StepFunction]:
    """Register the step function of ``kind``; ``label`` (a lazy_gettext string) names the task on its pages."""

    def register(function: StepFunction) -> StepFunction:
        known = _HANDLERS.get(kind)
        if known is not None and known.__qualname__ != function.__qualname__:
            raise ValueError(f"two handlers for task kind {kind!r}: {known.__qualname__} and {function.__qualname__}")
        _HANDLERS[kind] = function
        if label is not None:
            _LABELS[kind] = label
        return function

    return register


def load_handlers() -> None:
    """Import every module of TASK_MODULES once. A module that fails to import is logged, not fatal: the
    scheduler keeps running the other kinds, and tasks of the missing kind fail visibly."""
    global _loaded
    if _loaded:
        return
    for name in TASK_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - one broken package must not stop the scheduler
            log.exception("task handlers: cannot import %s", name)
    _loaded = True


def get_handler(kind: str) -> StepFunction | None:
    load_handlers()
    return _HANDLERS.get(kind)


def known_kinds() -> list[str]:
    load_handlers()
    return sorted(_HANDLERS)


def label_for(kind: str) -> str:
    load_handlers()
    return str(_LABELS.get(kind, kind))
