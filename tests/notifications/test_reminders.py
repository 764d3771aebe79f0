"""Reminders: a setting per event, refused when its time has passed; the sweep queues one per approved sign-up."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from notifications import jobs, services
from notifications.models import Message, MessageKind, ReminderSetting
from registration import services as registration_services
from tests.conftest import NOW
from tests.notifications.conftest import signup

# The factory's events start 2026-12-12 00:30 UTC (08:30 in Beijing); NOW is 2026-11-24 02:00 UTC.


def reminders(db):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Message).where(Message.kind == MessageKind.REMINDER)
                                   .order_by(Message.registration_id)))


def test_a_reminder_time_in_the_past_is_refused_with_a_clear_message(app, db, factory, organizer):
    org, actor = organizer
    event = factory.event(org, status="published")
    late = event.starts_at - timedelta(hours=5, minutes=30)
    with app.test_request_context():
        with pytest.raises(services.NotificationError) as error:
            services.save_reminder_setting(event, enabled=True, hours_before=24, actor=actor, now=late)
        assert error.value.code == "reminder_in_past" and error.value.field == "hours_before"
        # 24 hours before 08:30 on 12 December (Beijing) is 08:30 on the 11th; at most 5 hours are left
        assert "2026-12-11 08:30" in error.value.message and "5" in error.value.message
        with pytest.raises(services.NotificationError) as error:
            services.save_reminder_setting(event, enabled=True, hours_before=2, actor=actor,
                                           now=event.starts_at + timedelta(minutes=1))
        assert error.value.code == "reminder_started"
        with pytest.raises(services.NotificationError) as error:
            services.save_reminder_setting(event, enabled=True, hours_before=0, actor=actor, now=NOW)
        assert error.value.code == "hours_range"
        db.session.rollback()
        assert db.session.get(ReminderSetting, event.id) is None
        # switching it off is always allowed; a time that is still ahead is accepted
        services.save_reminder_setting(event, enabled=False, hours_before=24, actor=actor, now=late)
        services.save_reminder_setting(event, enabled=True, hours_before=5, actor=actor, now=late)
        db.session.commit()
        setting = db.session.get(ReminderSetting, event.id)
        assert (setting.enabled, setting.hours_before) == (True, 5)


def test_reminders_are_queued_once_for_approved_sign_ups_between_the_reminder_time_and_the_start(
        db, factory, organizer):
    org, actor = organizer
    event = factory.event(org, status="published", capacity=2, requires_approval=True)
    approved = signup(event, 1, email="a@example.org", language="en", name="Li Lei")
    registration_services.approve_registration(approved, now=NOW, actor=actor)
    pending = signup(event, 2, email="b@example.org")
    signup(event, 3, email="c@example.org")  # waitlisted: no reminder
    services.save_reminder_setting(event, enabled=True, hours_before=24, actor=actor, now=NOW)
    db.session.commit()
    remind_at = event.starts_at - timedelta(hours=24)

    assert jobs.queue_due_reminders(remind_at - timedelta(minutes=1)) == 0  # not yet
    assert jobs.queue_due_reminders(remind_at) == 1
    assert jobs.queue_due_reminders(remind_at) == 0  # the same run again: nothing twice
    assert jobs.queue_due_reminders(remind_at + timedelta(minutes=1)) == 0
    [reminder] = reminders(db)
    assert reminder.registration_id == approved.id and reminder.language == "en"
    assert reminder.subject == f"Reminder: {event.title} starts at 2026-12-12 08:30 (Beijing time)"
    assert "Li Lei" in reminder.body

    # approved after the reminder time but before the start: reminded on the next run
    registration_services.approve_registration(db.session.merge(pending), now=remind_at, actor=actor)
    db.session.commit()
    assert jobs.queue_due_reminders(remind_at + timedelta(hours=2)) == 1
    # once the event has started, nobody is reminded any more
    assert jobs.queue_due_reminders(event.starts_at) == 0
    assert [m.registration_id for m in reminders(db)] == [approved.id, pending.id]


def test_a_sweep_missed_during_downtime_catches_up_once(db, factory, organizer):
    org, actor = organizer
    event = factory.event(org, status="published")
    for i in range(3):
        signup(event, i, email=f"p{i}@example.org")
    services.save_reminder_setting(event, enabled=True, hours_before=48, actor=actor, now=NOW)
    db.session.commit()
    # the scheduler was down from before the reminder time until 3 hours before the start
    back = event.starts_at - timedelta(hours=3)
    assert jobs.queue_due_reminders(back) == 3
    assert jobs.queue_due_reminders(back + timedelta(minutes=1)) == 0
    assert len(reminders(db)) == 3


def test_no_reminders_for_drafts_or_when_switched_off(db, factory, organizer):
    org, actor = organizer
    event = factory.event(org, status="published")
    signup(event, 1, email="a@example.org")
    services.save_reminder_setting(event, enabled=False, hours_before=24, actor=actor, now=NOW)
    draft = factory.event(org, status="draft", title="草稿活动")
    signup(draft, 2, email="b@example.org")
    services.save_reminder_setting(draft, enabled=True, hours_before=24, actor=actor, now=NOW)
    db.session.commit()
    assert jobs.queue_due_reminders(event.starts_at - timedelta(hours=1)) == 0
    assert reminders(db) == []


def test_two_schedulers_at_once_queue_each_reminder_once(app, db, factory, organizer):
    org, actor = organizer
    event = factory.event(org, status="published", capacity=None)
    for i in range(40):
        signup(event, i, email=f"p{i}@example.org")
    services.save_reminder_setting(event, enabled=True, hours_before=24, actor=actor, now=NOW)
    db.session.commit()
    when = event.starts_at - timedelta(hours=1)
    db.session.remove()
    counts: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def sweep():
        from extensions import db as _db

        with app.app_context():
            try:
                barrier.wait()
                counts.append(jobs.queue_due_reminders(when))
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(counts) == 40
    rows = reminders(db)
    assert len(rows) == 40 and len({m.registration_id for m in rows}) == 40


def test_the_scheduler_runs_both_sweeps_from_the_one_list(app, db, factory, organizer):
    """The job ids in tasks/schedule.py resolve to these functions, and run under the runner's lock."""
    from tasks.runner import Runner
    from tasks.schedule import sweep_by_id

    org, actor = organizer
    event = factory.event(org, status="published")
    signup(event, 1, email="a@example.org")
    services.save_reminder_setting(event, enabled=True, hours_before=24, actor=actor, now=NOW)
    db.session.commit()
    sweeps = [sweep_by_id("notifications.queue_due_reminders"), sweep_by_id("notifications.send_due_messages")]
    assert sweeps[0].resolve() is jobs.queue_due_reminders and sweeps[1].resolve() is jobs.send_due_messages
    when = event.starts_at - timedelta(hours=2)
    results = Runner(app, sweeps=sweeps).run_all_sweeps(when)
    assert results == {"notifications.queue_due_reminders": 1, "notifications.send_due_messages": 2}
    assert {m.state.value for m in reminders(db)} == {"kept"}
