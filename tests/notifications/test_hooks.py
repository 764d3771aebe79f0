"""Each change of a sign-up's state queues exactly one message, in the outbox, never sent in the request."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from notifications import services, texts
from notifications.models import Message, MessageKind, MessageState
from registration import services as registration_services
from registration.models import RegistrationState
from tests.conftest import NOW, csrf_token
from tests.notifications.conftest import signup


def messages_of(db, registration=None, kind=None):
    query = sa.select(Message).order_by(Message.id)
    if registration is not None:
        query = query.where(Message.registration_id == registration.id)
    if kind is not None:
        query = query.where(Message.kind == kind)
    return list(db.session.scalars(query))


@pytest.mark.parametrize("requires_approval, capacity, expected_status", [
    (True, 5, "pending"), (False, 5, "approved"), (False, 0, "waitlisted"),
])
def test_signup_received_says_which_state(db, factory, organizer, requires_approval, capacity, expected_status):
    org, _actor = organizer
    event = factory.event(org, status="published", requires_approval=requires_approval, capacity=capacity)
    registration = signup(event, 1, email="lin@example.org")
    db.session.commit()
    assert registration.status.value == expected_status
    [message] = messages_of(db)
    assert (message.kind, message.state, message.recipient) == (
        MessageKind.SIGNUP_RECEIVED, MessageState.QUEUED, "lin@example.org")
    assert message.attempts == 0 and message.sent_at is None and message.next_attempt_at == NOW
    assert message.organization_id == org.id and message.event_id == event.id
    with force_locale("zh_Hans"):
        expected = texts.status_text(expected_status, 1 if expected_status == "waitlisted" else None)
    assert f"{expected}\n" in message.body


def test_without_an_address_the_message_stays_visible_as_no_address(db, factory, organizer):
    org, _actor = organizer
    event = factory.event(org, status="published")
    signup(event, 1)
    db.session.commit()
    [message] = messages_of(db)
    assert (message.state, message.recipient, message.next_attempt_at) == (MessageState.NO_ADDRESS, None, None)
    assert services.deliver_due(NOW) == 0  # nothing to send


def test_approve_reject_and_promote_each_queue_one_message(db, factory, organizer):
    org, actor = organizer
    event = factory.event(org, status="published", requires_approval=True, capacity=2)
    first, second = signup(event, 1, email="a@example.org"), signup(event, 2, email="b@example.org")
    waiting = signup(event, 3, email="c@example.org")
    db.session.commit()
    assert waiting.status == RegistrationState.WAITLISTED
    assert len(messages_of(db, kind=MessageKind.SIGNUP_RECEIVED)) == 3

    registration_services.approve_registration(first, now=NOW, actor=actor)
    registration_services.approve_registration(first, now=NOW, actor=actor)  # already approved: nothing new
    db.session.commit()
    assert [m.kind for m in messages_of(db, first)] == [MessageKind.SIGNUP_RECEIVED, MessageKind.APPROVED]

    promoted = registration_services.reject_registration(second, reason="单位名额已满", now=NOW, actor=actor)
    db.session.commit()
    assert promoted == [waiting]
    rejected = messages_of(db, second)[-1]
    assert rejected.kind == MessageKind.REJECTED and "单位名额已满" in rejected.body
    promotion = messages_of(db, waiting)[-1]
    assert promotion.kind == MessageKind.PROMOTED
    with force_locale("zh_Hans"):
        assert texts.status_text("pending") in promotion.body  # it still needs the organizer's approval

    registration_services.approve_registration(waiting, now=NOW, actor=actor)
    db.session.commit()
    assert [m.kind for m in messages_of(db, waiting)] == [
        MessageKind.SIGNUP_RECEIVED, MessageKind.PROMOTED, MessageKind.APPROVED]
    assert len(messages_of(db)) == 7  # 3 received, 2 approved, 1 rejected, 1 promoted


def test_a_message_is_queued_once_per_sign_up_and_kind(db, factory, organizer):
    org, _actor = organizer
    event = factory.event(org, status="published")
    registration = signup(event, 1, email="a@example.org")
    db.session.commit()
    assert services.queue_registration_message(registration, "signup_received", now=NOW) is None
    assert services.queue_registration_message(registration, "reminder", now=NOW) is not None
    assert services.queue_registration_message(registration, "reminder", now=NOW) is None
    # a kind that may recur (a second certificate) is told apart by its occasion
    assert services.queue_registration_message(registration, "certificate_ready", now=NOW, occasion="A-001",
                                               extra={"link": "http://testserver/c/A-001"}) is not None
    second = services.queue_registration_message(registration, "certificate_ready", now=NOW, occasion="A-002",
                                                 extra={"link": "http://testserver/c/A-002"})
    db.session.commit()
    assert "http://testserver/c/A-002" in second.body
    assert len(messages_of(db, registration)) == 4
    with pytest.raises(ValueError):
        services.queue_registration_message(registration, "bulk", now=NOW)


def test_a_sign_up_that_fails_leaves_no_message(db, factory, organizer):
    org, _actor = organizer
    event = factory.event(org, status="published")
    signup(event, 1, email="a@example.org")
    db.session.commit()
    with pytest.raises(registration_services.RegistrationError):
        signup(event, 1, email="a@example.org")  # the same phone again
    db.session.rollback()
    assert len(messages_of(db)) == 1


def test_the_sign_up_page_records_the_language_and_only_queues(app, client, db, factory, organizer, smtp):
    """A sign-up in English: the message is in English, queued in the outbox, and nothing is sent by the request
    even though a mail server is configured (the scheduler sends it)."""
    from registration.models import Registration, RegistrationSettings

    org, _actor = organizer
    event = factory.event(org, status="published")
    db.session.add(RegistrationSettings(event_id=event.id, ask_email=True, groups=[]))
    db.session.commit()
    client.set_cookie("saihui_lang", "en")
    path = f"/e/{event.id}/register"
    response = client.post(path, data={
        "csrf_token": csrf_token(client, path), "name": "Li Lei", "phone": "13912345678", "unit": "Xiamen University",
        "email": "lilei@example.org",
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    registration = db.session.scalar(sa.select(Registration))
    assert registration.language == "en"
    [message] = messages_of(db)
    assert (message.language, message.state, message.recipient) == ("en", MessageState.QUEUED, "lilei@example.org")
    assert "Beijing time" in message.body
    assert smtp.messages == []
