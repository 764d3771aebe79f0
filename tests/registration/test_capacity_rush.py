"""Capacity under a rush: many concurrent sign-ups, real threads and connections, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from collections import Counter

import sqlalchemy as sa

from core.database import run_write
from events.models import Event, EventSession
from registration.models import Registration, RegistrationState
from registration.services import RegistrationError, SignupData, register_participant
from tests.conftest import NOW

RUSH = 50


def _rush(app, event_id: int, n: int, session_ids=()) -> Counter:
    from extensions import db

    outcomes: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def one(i: int) -> None:
        with app.app_context():
            barrier.wait()

            def work():
                event = db.session.get(Event, event_id)
                reg, _key = register_participant(
                    event,
                    SignupData(name=f"参会者{i}", phone=f"139{i:08d}", unit="厦门城市职业学院",
                               session_ids=list(session_ids)),
                    now=NOW,
                )
                db.session.commit()
                return reg.status.value

            try:
                result = run_write(db.session, work)
            except RegistrationError as error:
                db.session.rollback()
                result = "refused:" + error.code
            except Exception as error:  # noqa: BLE001 - counted as a failure below
                db.session.rollback()
                result = "error:" + type(error).__name__ + ":" + str(error)[:200]
            finally:
                db.session.remove()
            with lock:
                outcomes[result] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return outcomes


def test_fifty_concurrent_signups_never_overbook_twenty_seats(app, db, factory):
    org = factory.organization()
    event = factory.event(org, status="published", capacity=20)
    outcomes = _rush(app, event.id, RUSH)

    assert not [k for k in outcomes if k.startswith("error")], outcomes
    assert outcomes["approved"] == 20, outcomes
    assert outcomes["waitlisted"] == RUSH - 20, outcomes
    db.session.rollback()  # end the test session's snapshot: see what the threads committed
    statuses = Counter(db.session.scalars(sa.select(Registration.status).where(Registration.event_id == event.id)))
    assert statuses[RegistrationState.APPROVED] == 20
    assert statuses[RegistrationState.WAITLISTED] == RUSH - 20
    assert db.session.get(Event, event.id).seats_taken == 20


def test_rush_under_approval_holds_twenty_pending(app, db, factory):
    org = factory.organization()
    event = factory.event(org, status="published", capacity=20, requires_approval=True)
    outcomes = _rush(app, event.id, RUSH)
    assert outcomes == Counter({"pending": 20, "waitlisted": RUSH - 20}), outcomes


def test_last_seat_of_a_session_goes_to_exactly_one(app, db, factory):
    org = factory.organization()
    event = factory.event(org, status="published", sessions=1)
    session = db.session.scalar(sa.select(EventSession).where(EventSession.event_id == event.id))
    session.capacity = 5
    session.seats_taken = 4
    db.session.commit()
    outcomes = _rush(app, event.id, 30, session_ids=[session.id])

    assert outcomes == Counter({"approved": 1, "refused:session_full": 29}), outcomes
    db.session.rollback()  # end the test session's snapshot: see what the threads committed
    assert db.session.get(EventSession, session.id).seats_taken == 5
    assert db.session.scalar(sa.select(sa.func.count(Registration.id)).where(Registration.event_id == event.id)) == 1
