"""Sign-up use cases called directly: seats, waiting list, approval, remarks."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from events.models import Event, EventSession
from registration import services
from registration.models import RegistrationState
from tests.conftest import NOW


def _signup(event, i, **extra):
    reg, _key = services.register_participant(
        event, services.SignupData(name=f"参会者{i}", phone=f"1390000{i:04d}", unit="厦门信息集团", **extra), now=NOW)
    return reg


@pytest.fixture()
def organizer(factory):
    org = factory.organization()
    return org, factory.user(organization=org, role="organizer")


def test_remarks_are_kept_with_the_answers(db, factory, organizer):
    org, _actor = organizer
    event = factory.event(org, status="published")
    reg = _signup(event, 1, answers={"note": "  需要无障碍通道  "})
    db.session.commit()
    assert reg.answers == {"note": "需要无障碍通道"}


def test_cancel_promotes_the_oldest_waitlisted_and_keeps_counts_right(db, factory, organizer):
    org, _actor = organizer
    event = factory.event(org, status="published", capacity=2)
    first, second, third, fourth = (_signup(event, i) for i in range(4))
    assert [r.status for r in (first, second, third, fourth)] == [
        RegistrationState.APPROVED, RegistrationState.APPROVED, RegistrationState.WAITLISTED, RegistrationState.WAITLISTED]
    assert services.waitlist_position(fourth) == 2
    promoted = services.cancel_registration(first, now=NOW)
    db.session.commit()
    assert promoted == [third]
    assert third.status == RegistrationState.APPROVED and third.holds_seat
    assert services.waitlist_position(fourth) == 1
    assert [h.action for h in third.history] == ["created", "promoted"]
    db.session.expire_all()
    assert db.session.get(Event, event.id).seats_taken == 2
    # the cancelled person may sign up again (the phone is free once the sign-up is no longer active)
    again = _signup(event, 0)
    assert again.status == RegistrationState.WAITLISTED


def test_reject_needs_a_reason_and_frees_the_seat(db, factory, organizer):
    org, actor = organizer
    event = factory.event(org, status="published", capacity=1, requires_approval=True)
    pending, waiting = _signup(event, 1), _signup(event, 2)
    assert (pending.status, waiting.status) == (RegistrationState.PENDING, RegistrationState.WAITLISTED)
    with pytest.raises(services.RegistrationError) as error:
        services.reject_registration(pending, reason="  ", now=NOW, actor=actor)
    assert error.value.code == "reason_required"
    services.reject_registration(pending, reason="非会员单位", now=NOW, actor=actor)
    db.session.commit()
    assert pending.status == RegistrationState.REJECTED and pending.reason == "非会员单位"
    assert waiting.status == RegistrationState.PENDING  # promoted into a held seat, still to be approved


def test_approving_a_waitlisted_sign_up_takes_its_session_seats_too(db, factory, organizer):
    org, actor = organizer
    event = factory.event(org, status="published", capacity=1, sessions=1)
    session = db.session.scalar(sa.select(EventSession).where(EventSession.event_id == event.id))
    _signup(event, 1, session_ids=[session.id])
    waiting = _signup(event, 2, session_ids=[session.id])
    assert waiting.status == RegistrationState.WAITLISTED
    event.capacity = 2
    db.session.commit()
    services.approve_registration(waiting, now=NOW, actor=actor)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(EventSession, session.id).seats_taken == 2
    assert db.session.get(Event, event.id).seats_taken == 2


def test_approving_when_full_is_refused(db, factory, organizer):
    org, actor = organizer
    event = factory.event(org, status="published", capacity=1)
    _signup(event, 1)
    waiting = _signup(event, 2)
    with pytest.raises(services.RegistrationError) as error:
        services.approve_registration(waiting, now=NOW, actor=actor)
    assert error.value.code == "full"


@pytest.mark.parametrize("status, opens_hours, closes_hours, code", [
    ("draft", -1, 1, "not_open"),
    ("published", 1, 2, "not_open_yet"),
    ("published", -2, -1, "closed"),
])
def test_the_window_and_state_are_checked(db, factory, organizer, status, opens_hours, closes_hours, code):
    from datetime import timedelta

    org, _actor = organizer
    event = factory.event(org, status=status, registration_opens_at=NOW + timedelta(hours=opens_hours),
                          registration_closes_at=NOW + timedelta(hours=closes_hours))
    with pytest.raises(services.RegistrationError) as error:
        _signup(event, 1)
    assert error.value.code == code
