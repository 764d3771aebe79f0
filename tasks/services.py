"""Background tasks: start one, claim one (a runner), advance it one step, release, cancel, list.

Every state change is one conditional UPDATE: a task is claimed only if it is queued or its lease expired, a step is
committed only while its runner still holds the lease and the task is still running, a cancel only touches a task
that has not finished. Nothing is read and written back.
"""
from __future__ import annotations

import enum
import json
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, OperationalError

from core.errors import DomainError
from core.models import record_audit
from extensions import db
from tasks import registry
from tasks.models import ACTIVE_STATES, BackgroundTask, TaskState

log = logging.getLogger(__name__)

# A task taken over this many times (its runner stopped each time during a step) fails instead of looping forever.
MAX_TAKEOVERS = 5
MAX_ERROR_LENGTH = 2000


class TaskError(DomainError):
    pass


class StepOutcome(str, enum.Enum):
    STEPPED = "stepped"  # one step committed; more to do
    FINISHED = "finished"  # the last step committed: the task is done
    FAILED = "failed"  # the step raised: the task is failed, with the error kept
    RETRY = "retry"  # the database was unavailable: nothing committed, the lease released, the step runs again later
    LOST = "lost"  # the lease was taken over or the task cancelled meanwhile: the step's work was rolled back


def start_task(kind: str, *, event=None, organization=None, actor, params: dict | None, now: datetime,
               total: int | None = None) -> BackgroundTask:
    """Queue a task of ``kind`` for ``event`` (or, without an event, for ``organization``). Flushes, no commit."""
    if registry.get_handler(kind) is None:
        raise ValueError(f"no handler registered for task kind {kind!r}")
    if event is None and organization is None:
        raise ValueError("a task belongs to an event or an organization")
    params = json.loads(json.dumps(params or {}))  # must be JSON; fails here, not in the runner
    task = BackgroundTask(
        kind=kind, organization_id=event.organization_id if event is not None else organization.id,
        event_id=event.id if event is not None else None, created_by_id=getattr(actor, "id", None), params=params,
        state=TaskState.QUEUED, done=0, total=total, created_at=now, updated_at=now,
    )
    db.session.add(task)
    db.session.flush()
    record_audit(actor=actor, organization_id=task.organization_id, action="task.started", obj=task, now=now,
                 kind=kind, event_id=task.event_id)
    return task


def _claimable(now: datetime):
    return sa.or_(
        BackgroundTask.state == TaskState.QUEUED,
        sa.and_(
            BackgroundTask.state == TaskState.RUNNING,
            sa.or_(BackgroundTask.lease_owner.is_(None), BackgroundTask.lease_expires_at <= now),
        ),
    )


def claim_task(*, owner: str, now: datetime, lease: timedelta, kinds: list[str] | None = None) -> BackgroundTask | None:
    """Take the oldest task that is queued or whose runner stopped (lease released or expired). Commits."""
    query = sa.select(BackgroundTask.id).where(_claimable(now)).order_by(BackgroundTask.id).limit(20)
    if kinds is not None:
        query = query.where(BackgroundTask.kind.in_(kinds))
    candidates = list(db.session.scalars(query))
    db.session.rollback()  # end the read before writing (SQLite: a stale read cannot become a write)
    for task_id in candidates:
        taken = db.session.execute(
            sa.update(BackgroundTask)
            .where(BackgroundTask.id == task_id, _claimable(now))
            .values(
                state=TaskState.RUNNING, lease_owner=owner, lease_expires_at=now + lease, updated_at=now,
                started_at=sa.func.coalesce(BackgroundTask.started_at, now),
                takeovers=BackgroundTask.takeovers + sa.case((BackgroundTask.lease_owner.is_not(None), 1), else_=0),
            )
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        db.session.commit()
        if not taken:
            continue
        task = db.session.get(BackgroundTask, task_id, populate_existing=True)
        if task is None:
            continue
        if task.takeovers > MAX_TAKEOVERS:
            log.error("task %s (%s) stopped %d times without finishing: failing it", task.id, task.kind,
                      task.takeovers)
            fail_task(task.id, owner=owner, now=now,
                      error=f"The task stopped {task.takeovers} times before it could finish.")
            continue
        if task.takeovers:
            log.warning("task %s (%s) taken over by %s, continuing from its cursor (step %d)", task.id, task.kind,
                        owner, task.steps)
        return task
    return None


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, OperationalError) or (isinstance(error, DBAPIError) and error.connection_invalidated)


def advance_task(task_id: int, *, owner: str, now: datetime, lease: timedelta) -> StepOutcome:
    """Run one step of a task this runner holds, and commit it with the new cursor if the lease is still ours."""
    task = db.session.get(BackgroundTask, task_id, populate_existing=True)
    if task is None or task.state != TaskState.RUNNING or task.lease_owner != owner:
        db.session.rollback()
        return StepOutcome.LOST
    handler = registry.get_handler(task.kind)
    if handler is None:
        db.session.rollback()
        fail_task(task_id, owner=owner, now=now, error=f"No handler for tasks of kind {task.kind!r}.")
        return StepOutcome.FAILED
    try:
        step = handler(task, now)
        if not isinstance(step, registry.StepResult):
            raise TypeError(f"the step of {task.kind!r} returned {type(step).__name__}, not StepResult")
        cursor = json.loads(json.dumps(task.cursor)) if task.cursor is not None else None
        result = json.loads(json.dumps(step.result)) if step.result is not None else None
        total = step.total if step.total is not None else task.total
    except Exception as error:  # noqa: BLE001 - a step's failure is the task's, never the runner's
        db.session.rollback()
        if _is_transient(error):
            log.warning("task %s: database unavailable during a step; it runs again later", task_id,
                        exc_info=True)
            release_task(task_id, owner=owner, now=now, quietly=True)
            return StepOutcome.RETRY
        log.exception("task %s failed in a step", task_id)
        fail_task(task_id, owner=owner, now=now, error=f"{type(error).__name__}: {error}")
        return StepOutcome.FAILED
    # The step's changes to the task row are written below, on condition; drop them from the object.
    db.session.expire(task)
    values: dict = {
        "cursor": cursor, "done": step.done, "total": total, "steps": BackgroundTask.steps + 1,
        "updated_at": now, "lease_expires_at": now + lease,
    }
    if step.finished:
        values.update(state=TaskState.DONE, result=result, finished_at=now, lease_owner=None, lease_expires_at=None)
    committed = db.session.execute(
        sa.update(BackgroundTask)
        .where(BackgroundTask.id == task_id, BackgroundTask.lease_owner == owner,
               BackgroundTask.state == TaskState.RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not committed:
        db.session.rollback()
        log.warning("task %s: lease lost or task cancelled during a step; its work was rolled back", task_id)
        return StepOutcome.LOST
    db.session.commit()
    return StepOutcome.FINISHED if step.finished else StepOutcome.STEPPED


def release_task(task_id: int, *, owner: str, now: datetime, quietly: bool = False) -> bool:
    """Give the lease back (the runner's time is up, or it stops): another run continues from the cursor."""
    try:
        released = db.session.execute(
            sa.update(BackgroundTask)
            .where(BackgroundTask.id == task_id, BackgroundTask.lease_owner == owner,
                   BackgroundTask.state == TaskState.RUNNING)
            .values(lease_owner=None, lease_expires_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        db.session.commit()
        return released
    except Exception:  # noqa: BLE001 - the lease then expires by itself
        db.session.rollback()
        if not quietly:
            raise
        log.warning("task %s: could not release its lease; it expires by itself", task_id, exc_info=True)
        return False


def fail_task(task_id: int, *, owner: str, now: datetime, error: str) -> bool:
    failed = db.session.execute(
        sa.update(BackgroundTask)
        .where(BackgroundTask.id == task_id, BackgroundTask.lease_owner == owner,
               BackgroundTask.state == TaskState.RUNNING)
        .values(state=TaskState.FAILED, error=error[:MAX_ERROR_LENGTH], finished_at=now, updated_at=now,
                lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return failed


def cancel_task(task: BackgroundTask, *, actor, now: datetime) -> None:
    """Stop a queued or running task. A step in progress is rolled back when it tries to commit. No commit."""
    cancelled = db.session.execute(
        sa.update(BackgroundTask)
        .where(BackgroundTask.id == task.id, BackgroundTask.state.in_(ACTIVE_STATES))
        .values(state=TaskState.CANCELLED, finished_at=now, updated_at=now, lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not cancelled:
        raise TaskError("task_finished", _("This task has already finished."), status=409)
    record_audit(actor=actor, organization_id=task.organization_id, action="task.cancelled", obj=task, now=now,
                 kind=task.kind)
    db.session.flush()
    db.session.refresh(task)


def event_tasks(event_id: int, *, kind: str | None = None, limit: int = 50) -> list[BackgroundTask]:
    query = (
        sa.select(BackgroundTask).where(BackgroundTask.event_id == event_id)
        .order_by(BackgroundTask.created_at.desc(), BackgroundTask.id.desc()).limit(limit)
    )
    if kind is not None:
        query = query.where(BackgroundTask.kind == kind)
    return list(db.session.scalars(query))


def active_task(event_id: int, kind: str) -> BackgroundTask | None:
    """The event's queued or running task of ``kind``, if any (so a second click does not start a second one)."""
    return db.session.scalar(
        sa.select(BackgroundTask)
        .where(BackgroundTask.event_id == event_id, BackgroundTask.kind == kind,
               BackgroundTask.state.in_(ACTIVE_STATES))
        .order_by(BackgroundTask.id.desc()).limit(1)
    )
