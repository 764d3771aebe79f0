"""The registration sweeps with a fixed clock: sign-up windows open and close exactly once (each logged once),
catch up after downtime, follow edited times, survive a broken row; waiting lists are promoted once; two schedulers
at once (real threads, each with its own app context and connection) do each piece of work once.
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.models import AuditEntry
from events.models import Event, RegistrationPhase
from registration import jobs, services
from registration.models import Registration, RegistrationState
from tests.conftest import NOW

OPENS = NOW + timedelta(hours=1)
CLOSES = NOW + timedelta(days=5)


def phase(db, event) -> RegistrationPhase:
    db.session.expire_all()
    return db.session.get(Event, event.id).registration_phase


def audit(db, event, action: str | None = None) -> list[AuditEntry]:
    query = sa.select(AuditEntry).where(AuditEntry.object_type == "Event", AuditEntry.object_id == event.id,
                                        AuditEntry.action.like("registration.%"))
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


@pytest.fixture()
def org(factory):
    return factory.organization()


@pytest.fixture()
def event(factory, org):
    return factory.event(org, status="published", registration_opens_at=OPENS, registration_closes_at=CLOSES)


def test_a_window_opens_and_closes_exactly_once(db, event):
    assert phase(db, event) == RegistrationPhase.SCHEDULED
    assert jobs.open_due_registrations(NOW) == 0  # not yet
    assert jobs.close_due_registrations(NOW) == 0
    assert phase(db, event) == RegistrationPhase.SCHEDULED

    at = OPENS + timedelta(seconds=30)
    assert jobs.open_due_registrations(at) == 1
    assert jobs.open_due_registrations(at) == 0  # the second run does nothing
    assert jobs.open_due_registrations(at + timedelta(minutes=1)) == 0
    assert jobs.close_due_registrations(at) == 0
    assert phase(db, event) == RegistrationPhase.OPEN

    later = CLOSES + timedelta(seconds=10)
    assert jobs.close_due_registrations(later) == 1
    assert jobs.close_due_registrations(later) == 0
    assert jobs.open_due_registrations(later) == 0  # a closed window is not opened again
    assert phase(db, event) == RegistrationPhase.CLOSED

    entries = audit(db, event)
    assert [e.action for e in entries] == ["registration.opened", "registration.closed"]
    opened, closed = entries
    assert opened.details["from"] == "scheduled" and opened.details["by"] == "scheduler"
    assert opened.details["due_at"] == OPENS.isoformat() and opened.at == at
    assert closed.details["from"] == "open" and closed.details["due_at"] == CLOSES.isoformat()
    assert opened.actor_id is None and opened.organization_id == event.organization_id


def test_without_times_sign_up_opens_on_publication_and_closes_when_the_event_ends(db, factory, org):
    draft = factory.event(org, status="draft")
    assert jobs.open_due_registrations(NOW) == 0  # a draft takes no sign-ups
    assert phase(db, draft) == RegistrationPhase.SCHEDULED
    db.session.execute(sa.update(Event).where(Event.id == draft.id).values(status="published"))
    db.session.commit()
    assert jobs.open_due_registrations(NOW) == 1
    assert phase(db, draft) == RegistrationPhase.OPEN
    assert jobs.close_due_registrations(draft.ends_at - timedelta(seconds=1)) == 0
    assert jobs.close_due_registrations(draft.ends_at) == 1
    assert phase(db, draft) == RegistrationPhase.CLOSED


def test_a_close_missed_during_downtime_is_caught_up_once(db, event):
    assert jobs.open_due_registrations(OPENS) == 1
    # The scheduler is down from OPENS until two days after the window closed.
    back = CLOSES + timedelta(days=2)
    assert jobs.close_due_registrations(back) == 1
    assert jobs.close_due_registrations(back + timedelta(minutes=1)) == 0
    closed = audit(db, event, "registration.closed")
    assert len(closed) == 1 and closed[0].at == back and closed[0].details["due_at"] == CLOSES.isoformat()


def test_a_window_that_opened_and_closed_during_downtime_goes_straight_to_closed(db, event):
    back = CLOSES + timedelta(hours=3)
    # Whichever sweep runs first, the event ends closed, with one entry and no invented opening.
    assert jobs.open_due_registrations(back) == 0
    assert jobs.close_due_registrations(back) == 1
    assert jobs.open_due_registrations(back) == 0
    assert jobs.close_due_registrations(back) == 0
    assert phase(db, event) == RegistrationPhase.CLOSED
    entries = audit(db, event)
    assert [e.action for e in entries] == ["registration.closed"]
    assert entries[0].details["from"] == "scheduled"


def test_edited_times_are_followed(db, event):
    jobs.open_due_registrations(OPENS)
    jobs.close_due_registrations(CLOSES)
    assert phase(db, event) == RegistrationPhase.CLOSED
    # The organizer extends the deadline: the window opens again, once.
    later = CLOSES + timedelta(days=1)
    db.session.execute(sa.update(Event).where(Event.id == event.id).values(registration_closes_at=later))
    db.session.commit()
    assert jobs.open_due_registrations(CLOSES + timedelta(hours=1)) == 1
    assert jobs.open_due_registrations(CLOSES + timedelta(hours=1)) == 0
    reopened = audit(db, event, "registration.opened")[-1]
    assert reopened.details["from"] == "closed"
    # ... and then postpones the opening: back to scheduled.
    db.session.execute(sa.update(Event).where(Event.id == event.id)
                       .values(registration_opens_at=CLOSES + timedelta(hours=5)))
    db.session.commit()
    assert jobs.open_due_registrations(CLOSES + timedelta(hours=2)) == 1
    assert phase(db, event) == RegistrationPhase.SCHEDULED
    assert audit(db, event)[-1].action == "registration.rescheduled"


def test_an_archived_event_is_closed(db, factory, org):
    archived = factory.event(org, status="archived", registration_opens_at=OPENS, registration_closes_at=CLOSES)
    assert jobs.close_due_registrations(NOW) == 1
    assert phase(db, archived) == RegistrationPhase.CLOSED


def test_one_broken_event_does_not_stop_the_others(db, factory, org, monkeypatch):
    events = [factory.event(org, title=f"沙龙{i}", status="published", registration_opens_at=OPENS,
                            registration_closes_at=CLOSES) for i in range(3)]
    broken = events[1].id
    real = jobs.record_audit

    def failing(**kwargs):
        if kwargs["obj"].id == broken:
            raise RuntimeError("a broken row")
        return real(**kwargs)

    monkeypatch.setattr(jobs, "record_audit", failing)
    assert jobs.open_due_registrations(OPENS) == 2
    assert [phase(db, e) for e in events] == [RegistrationPhase.OPEN, RegistrationPhase.SCHEDULED,
                                             RegistrationPhase.OPEN]
    assert audit(db, events[1]) == []  # nothing half-saved: no phase change without its entry
    monkeypatch.setattr(jobs, "record_audit", real)
    assert jobs.open_due_registrations(OPENS) == 1  # the next run catches it up
    assert phase(db, events[1]) == RegistrationPhase.OPEN


def _signup(event, i):
    reg, _key = services.register_participant(
        event, services.SignupData(name=f"参会者{i}", phone=f"1390000{i:04d}", unit="厦门信息集团"), now=NOW,
        ignore_window=True)
    return reg


def test_waiting_lists_are_promoted_when_seats_free_up(db, factory, org):
    event = factory.event(org, status="published", capacity=2)
    regs = [_signup(event, i) for i in range(5)]
    db.session.commit()
    assert [r.status for r in regs].count(RegistrationState.WAITLISTED) == 3
    assert jobs.promote_waitlists(NOW) == 0  # full: nothing to do
    db.session.execute(sa.update(Event).where(Event.id == event.id).values(capacity=4))
    db.session.commit()
    assert jobs.promote_waitlists(NOW) == 2
    assert jobs.promote_waitlists(NOW) == 0
    db.session.expire_all()
    statuses = [db.session.get(Registration, r.id).status for r in regs]
    assert statuses == [RegistrationState.APPROVED] * 4 + [RegistrationState.WAITLISTED]
    assert db.session.get(Event, event.id).seats_taken == 4


def _together(app, count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released at once, each in its own app context (own session)."""
    from extensions import db

    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                results[i] = work(i)
            except Exception as error:  # noqa: BLE001 - reported by the assertions
                results[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_two_schedulers_at_once_open_and_close_each_window_once(app, db, factory, org):
    """Even without the sweep lock (the sweep functions called directly from two threads), the conditional
    UPDATEs let each transition happen, and be logged, once."""
    events = [factory.event(org, title=f"论坛{i}", status="published", registration_opens_at=OPENS,
                            registration_closes_at=CLOSES) for i in range(12)]
    opened = _together(app, 2, lambda i: jobs.open_due_registrations(OPENS))
    assert not [r for r in opened if isinstance(r, Exception)], opened
    assert sum(opened) == 12
    closed = _together(app, 2, lambda i: jobs.close_due_registrations(CLOSES))
    assert sum(closed) == 12
    db.session.expire_all()
    for e in events:
        assert [a.action for a in audit(db, e)] == ["registration.opened", "registration.closed"]


def test_two_schedulers_at_once_promote_each_waiting_sign_up_once(app, db, factory, org):
    """Each seat goes to one sign-up, oldest first (registration.services.promote_waitlist locks the event's row
    before it picks a candidate, so a concurrent promoter never skips the oldest one)."""
    events = []
    for n in range(8):
        event = factory.event(org, title=f"沙龙{n}", status="published", capacity=1)
        for i in range(6):
            _signup(event, n * 10 + i)
        events.append(event)
    db.session.execute(sa.update(Event).where(Event.organization_id == org.id).values(capacity=4))
    db.session.commit()
    results = _together(app, 4, lambda i: jobs.promote_waitlists(NOW))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 8 * 3  # three free seats in each event
    db.session.expire_all()
    for event in events:
        assert db.session.get(Event, event.id).seats_taken == 4
        statuses = list(db.session.scalars(
            sa.select(Registration.status).where(Registration.event_id == event.id).order_by(Registration.id)))
        assert statuses == [RegistrationState.APPROVED] * 4 + [RegistrationState.WAITLISTED] * 2
