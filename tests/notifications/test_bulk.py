"""A message to many: checked when the organizer sends it, then queued by a background task, resumable."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from notifications import jobs, services
from notifications.models import Message, MessageKind, MessageState
from registration import services as registration_services
from tasks import services as task_services
from tasks.models import BackgroundTask, TaskState
from tasks.runner import Runner
from tests.conftest import NOW
from tests.notifications.conftest import signup

SUBJECT = "{event}：会场变更通知"
BODY = "{name}，您好：\n{event} 改在 3 号厅举行，时间不变（{starts_at}）。"


def bulk_messages(db):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Message).where(Message.kind == MessageKind.BULK)
                                   .order_by(Message.registration_id)))


@pytest.fixture()
def crowd(db, factory, organizer):
    """An event with 205 approved sign-ups (every third without e-mail; the last in English), 2 waitlisted."""
    org, actor = organizer
    event = factory.event(org, status="published", capacity=205)
    approved = [signup(event, i, email=None if i % 3 == 0 else f"p{i}@example.org") for i in range(204)]
    approved.append(signup(event, 204, email="en@example.org", language="en", name="Li Lei"))
    waiting = [signup(event, 300 + i, email=f"w{i}@example.org") for i in range(2)]
    db.session.commit()
    return event, actor, approved, waiting


def test_the_task_queues_the_message_for_every_recipient_in_steps(app, db, crowd):
    event, actor, approved, waiting = crowd
    task = services.start_bulk_message(event, audience="approved", ids=None, subject=SUBJECT, body=BODY,
                                       actor=actor, now=NOW)
    db.session.commit()
    task_id = task.id
    steps = Runner(app, clock=lambda: NOW).run_tasks()
    assert steps == 3  # 100 + 100 + 5
    task = db.session.get(BackgroundTask, task_id, populate_existing=True)
    assert (task.state, task.done, task.total) == (TaskState.DONE, 205, 205)
    no_address = sum(1 for i in range(204) if i % 3 == 0)
    assert task.result == {"queued": 205, "no_address": no_address}
    rows = bulk_messages(db)
    assert [m.registration_id for m in rows] == [r.id for r in approved]
    english = rows[-1]
    assert english.language == "en" and "2026-12-12 08:30 (Beijing time)" in english.body
    assert rows[1].subject == f"{event.title}：会场变更通知"
    assert rows[1].body.startswith("参会者1，您好：")
    assert {m.state for m in rows} == {MessageState.QUEUED, MessageState.NO_ADDRESS}
    assert all(m.created_by_id == actor.id for m in rows)
    # then the sending sweep handles them like any other message (here: kept, no MAIL_SERVER)
    while jobs.send_due_messages(NOW):
        pass
    assert [m.state for m in bulk_messages(db)].count(MessageState.KEPT) == 205 - no_address
    # the waitlisted got nothing from the bulk message
    assert not {m.registration_id for m in rows} & {r.id for r in waiting}


def test_a_task_resumes_after_a_runner_stopped_mid_way_and_queues_nothing_twice(app, db, crowd):
    event, actor, approved, _waiting = crowd
    task = services.start_bulk_message(event, audience="approved", ids=None, subject=SUBJECT, body=BODY,
                                       actor=actor, now=NOW)
    db.session.commit()
    task_id = task.id
    lease = timedelta(minutes=5)
    # a runner claims the task, does one step, and dies without releasing it
    claimed = task_services.claim_task(owner="dead-runner", now=NOW, lease=lease)
    assert claimed.id == task_id
    assert task_services.advance_task(task_id, owner="dead-runner", now=NOW, lease=lease) == \
        task_services.StepOutcome.STEPPED
    assert len(bulk_messages(db)) == 100
    db.session.remove()
    assert Runner(app, clock=lambda: NOW + timedelta(minutes=1)).run_tasks() == 0  # the lease still holds
    later = NOW + lease + timedelta(seconds=1)
    Runner(app, clock=lambda: later).run_tasks()
    task = db.session.get(BackgroundTask, task_id, populate_existing=True)
    assert (task.state, task.done, task.takeovers) == (TaskState.DONE, 205, 1)
    rows = bulk_messages(db)
    assert len(rows) == 205 and len({m.registration_id for m in rows}) == 205


def test_a_step_run_twice_from_the_same_cursor_queues_nothing_twice(app, db, crowd):
    event, actor, _approved, _waiting = crowd
    task = services.start_bulk_message(event, audience="approved", ids=None, subject=SUBJECT, body=BODY,
                                       actor=actor, now=NOW)
    db.session.commit()
    first = jobs.bulk_message_step(task, NOW)
    db.session.commit()
    task.cursor = None  # as if the cursor's commit had been lost
    task.done = 0
    second = jobs.bulk_message_step(task, NOW)
    db.session.commit()
    assert first.done == second.done == 100
    assert task.cursor["queued"] == 0  # all already there
    assert len(bulk_messages(db)) == 100


def test_a_selection_reaches_only_the_ticked_active_sign_ups(app, db, crowd):
    event, actor, approved, waiting = crowd
    cancelled = approved[5]
    registration_services.cancel_registration(cancelled, now=NOW)
    db.session.commit()
    ids = [approved[1].id, waiting[0].id, cancelled.id, 999_999]
    services.start_bulk_message(event, audience="selected", ids=ids, subject=SUBJECT, body=BODY, actor=actor,
                                now=NOW)
    db.session.commit()
    Runner(app, clock=lambda: NOW).run_tasks()
    assert [m.registration_id for m in bulk_messages(db)] == sorted([approved[1].id, waiting[0].id])


@pytest.mark.parametrize("audience, ids, subject, body, code, field", [
    ("everyone", None, SUBJECT, BODY, "audience", "audience"),
    ("approved", None, "{evnt}", BODY, "bad_placeholder", "subject"),
    ("approved", None, SUBJECT, "{reason}", "bad_placeholder", "body"),  # a bulk message has no reason
    ("pending", None, SUBJECT, BODY, "no_recipients", "audience"),
    ("selected", [], SUBJECT, BODY, "no_recipients", "ids"),
])
def test_bad_bulk_messages_are_refused_before_any_task_starts(db, crowd, audience, ids, subject, body, code, field):
    event, actor, _approved, _waiting = crowd
    with pytest.raises(services.NotificationError) as error:
        services.start_bulk_message(event, audience=audience, ids=ids, subject=subject, body=body, actor=actor,
                                    now=NOW)
    assert (error.value.code, error.value.field) == (code, field)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(BackgroundTask.id))) == 0
