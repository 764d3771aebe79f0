"""Sweeps and background-task steps of notifications (declared in tasks/schedule.py and tasks/registry.py).

- ``send_due_messages(now)``: send (or, without MAIL_SERVER, keep) the messages whose time has come.
- ``queue_due_reminders(now)``: put the reminder of each approved sign-up in the outbox once the event's reminder
  time has come and until it starts; once per sign-up, however often the sweep runs and on however many schedulers.
- ``bulk_message_step``: the background task "notifications.bulk_message" — an organizer's message to many sign-ups,
  queued a chunk at a time from the task's cursor.
"""
from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from events.models import Event, EventState
from extensions import db
from notifications import rules, services
from notifications.models import MessageKind, ReminderSetting
from tasks.registry import StepResult, task_handler

log = logging.getLogger(__name__)

BULK_CHUNK = 100


def send_due_messages(now: datetime) -> int:
    """Handle the due messages of the outbox; return how many were sent, kept or failed an attempt."""
    return services.deliver_due(now)


def queue_due_reminders(now: datetime) -> int:
    """Queue reminders for approved sign-ups of published events whose reminder time has come and that have not
    started yet; return how many were queued. Each event's work is committed on its own."""
    rows = db.session.execute(
        sa.select(ReminderSetting.event_id, ReminderSetting.hours_before)
        .join(Event, Event.id == ReminderSetting.event_id)
        .where(ReminderSetting.enabled.is_(True), Event.status == EventState.PUBLISHED, Event.starts_at > now)
    ).all()
    db.session.commit()
    queued = 0
    for event_id, hours_before in rows:
        event = db.session.get(Event, event_id)
        if event is None or not rules.reminder_due(now, event.starts_at, hours_before):
            continue
        count = services.queue_reminders(event, hours_before, now)
        db.session.commit()
        if count:
            log.info("queued %d reminders for event %s", count, event_id)
        queued += count
    return queued


@task_handler(services.BULK_KIND, label=_l("Message to many"))
def bulk_message_step(task, now: datetime) -> StepResult:
    """Queue the task's message for the next chunk of its audience, after the last sign-up id in the cursor.

    Each message's dedupe key is "bulk:<task>:<sign-up>", so a step that runs again (after a restart) queues
    nothing twice.
    """
    params = task.params or {}
    cursor = dict(task.cursor or {"after_id": 0, "queued": 0, "no_address": 0})
    event = db.session.get(Event, task.event_id)
    query = services.audience_query(event.id, params["audience"], params.get("ids"))
    total = task.total
    if total is None:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    from registration.models import Registration

    chunk = list(db.session.scalars(
        query.where(Registration.id > cursor["after_id"]).order_by(Registration.id).limit(BULK_CHUNK)
    ))
    template = (params["subject"], params["body"])
    for registration in chunk:
        message = services.queue_message(
            event, registration, MessageKind.BULK, template, dedupe_key=f"bulk:{task.id}:{registration.id}",
            now=now, actor=task.created_by,
        )
        if message is not None:
            cursor["queued"] += 1
            if message.recipient is None:
                cursor["no_address"] += 1
        cursor["after_id"] = registration.id
    done = task.done + len(chunk)
    finished = len(chunk) < BULK_CHUNK
    task.cursor = cursor
    result = {"queued": cursor["queued"], "no_address": cursor["no_address"]} if finished else None
    return StepResult(done=done, total=max(total, done), finished=finished, result=result)
