"""Sending: SMTP when configured, kept (and logged) without it, retried with backoff, failed visibly, never twice."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from notifications import jobs, services
from notifications.models import Message, MessageState
from tests.conftest import NOW
from tests.notifications.conftest import signup
from tests.notifications.smtp_server import SMTPTestServer, free_port


def all_messages(db):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Message).order_by(Message.id)))


def test_due_messages_are_sent_once_by_smtp(db, factory, event, smtp):
    a = signup(event, 1, email="lin@example.org", name="林一鸣")
    signup(event, 2, email="chen@example.org", language="en", name="Chen")
    signup(event, 3)  # no address: not sent, not counted
    db.session.commit()
    assert jobs.send_due_messages(NOW) == 2
    assert jobs.send_due_messages(NOW + timedelta(minutes=1)) == 0  # twice: nothing more
    assert sorted(m["to"][0] for m in smtp.messages) == ["chen@example.org", "lin@example.org"]
    first = next(m for m in smtp.messages if m["to"] == ["lin@example.org"])
    assert first["from"] == "noreply@saihui.test"
    assert "林一鸣" in str(first["email"]["To"]) and event.title in first["subject"]
    assert "林一鸣" in first["body"] and first["email"]["Message-ID"]
    states = [(m.state, m.attempts, m.sent_at) for m in all_messages(db)]
    assert states == [(MessageState.SENT, 1, NOW), (MessageState.SENT, 1, NOW), (MessageState.NO_ADDRESS, 0, None)]
    assert a.id == all_messages(db)[0].registration_id


def test_without_mail_server_messages_are_kept_and_logged(db, event, caplog):
    signup(event, 1, email="lin@example.org")
    db.session.commit()
    with caplog.at_level(logging.WARNING, logger="notifications.services"):
        assert jobs.send_due_messages(NOW) == 1
    [message] = all_messages(db)
    assert message.state == MessageState.KEPT and message.sent_at is None
    assert any("MAIL_SERVER is not set" in r.getMessage() and f"message {message.id}" in r.getMessage()
               for r in caplog.records)
    assert jobs.send_due_messages(NOW + timedelta(minutes=5)) == 0  # kept stays kept


def test_an_unreachable_server_leaves_messages_queued_with_backoff_then_failed(app, db, event, caplog):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_DEFAULT_SENDER="noreply@saihui.test",
                      MAIL_MAX_ATTEMPTS=3)
    try:
        signup(event, 1, email="lin@example.org")
        signup(event, 2, email="chen@example.org")
        db.session.commit()
        with caplog.at_level(logging.WARNING, logger="notifications.services"):
            assert jobs.send_due_messages(NOW) == 2  # the second one is not even tried: the server is down
        for message in all_messages(db):
            assert (message.state, message.attempts) == (MessageState.QUEUED, 1)
            assert message.next_attempt_at == NOW + timedelta(minutes=1)
            assert "cannot connect to 127.0.0.1" in message.last_error
        assert "retry at" in caplog.text
        assert jobs.send_due_messages(NOW + timedelta(seconds=30)) == 0  # not due yet
        assert jobs.send_due_messages(NOW + timedelta(minutes=1)) == 2
        assert {m.next_attempt_at for m in all_messages(db)} == {NOW + timedelta(minutes=6)}
        assert jobs.send_due_messages(NOW + timedelta(minutes=6)) == 2
        assert [(m.state, m.attempts, m.next_attempt_at) for m in all_messages(db)] == [
            (MessageState.FAILED, 3, None), (MessageState.FAILED, 3, None)]
        assert jobs.send_due_messages(NOW + timedelta(hours=5)) == 0
    finally:
        app.config.update(MAIL_SERVER="", MAIL_PORT=0, MAIL_DEFAULT_SENDER="", MAIL_MAX_ATTEMPTS=8)


def test_a_refused_recipient_fails_at_once_and_a_busy_one_is_retried(db, event, smtp):
    signup(event, 1, email="refuse@example.org")
    signup(event, 2, email="later@example.org")
    signup(event, 3, email="ok@example.org")
    db.session.commit()
    assert jobs.send_due_messages(NOW) == 3
    refused, busy, ok = all_messages(db)
    assert (refused.state, refused.attempts) == (MessageState.FAILED, 1) and "550" in refused.last_error
    assert (busy.state, busy.next_attempt_at) == (MessageState.QUEUED, NOW + timedelta(minutes=1))
    assert "450" in busy.last_error
    assert ok.state == MessageState.SENT and [m["to"] for m in smtp.messages] == [["ok@example.org"]]


def test_a_sender_that_stopped_mid_send_is_taken_over_after_its_lease(db, event, smtp):
    signup(event, 1, email="lin@example.org")
    db.session.commit()
    [message] = all_messages(db)
    assert services._claim(message.id, NOW, "crashed-sender")  # it claimed, then died before sending
    assert jobs.send_due_messages(NOW + timedelta(minutes=1)) == 0  # its lease still holds
    assert jobs.send_due_messages(NOW + services.SENDING_LEASE + timedelta(seconds=1)) == 1
    [message] = all_messages(db)
    assert (message.state, message.attempts) == (MessageState.SENT, 2)
    assert len(smtp.messages) == 1


def test_two_senders_at_once_send_each_message_once(app, db, event):
    """Two schedulers' sweeps run at the same moment on separate connections: every mail goes out once."""
    server = SMTPTestServer(delay=0.02).start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_DEFAULT_SENDER="noreply@saihui.test")
    try:
        event.capacity = None
        db.session.commit()
        for i in range(30):
            signup(event, i, email=f"p{i}@example.org")
        db.session.commit()
        db.session.remove()
        handled: list[int] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def sender():
            with app.app_context():
                try:
                    barrier.wait()
                    handled.append(services.deliver_due(NOW))
                except BaseException as error:  # noqa: BLE001
                    errors.append(error)
                finally:
                    from extensions import db as _db

                    _db.session.remove()

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert sum(handled) == 30
        recipients = [m["to"][0] for m in server.messages]
        assert sorted(recipients) == sorted(f"p{i}@example.org" for i in range(30))  # each exactly once
        assert {(m.state, m.attempts) for m in all_messages(db)} == {(MessageState.SENT, 1)}
    finally:
        app.config.update(MAIL_SERVER="", MAIL_PORT=0, MAIL_DEFAULT_SENDER="")
        server.stop()


def test_retry_requeues_failed_and_kept_messages(db, event, organizer):
    _org, actor = organizer
    signup(event, 1, email="lin@example.org")
    registration = signup(event, 2)
    db.session.commit()
    jobs.send_due_messages(NOW)  # no MAIL_SERVER: kept
    kept, no_address = all_messages(db)
    services.retry_message(kept, now=NOW + timedelta(hours=1), actor=actor)
    db.session.commit()
    assert (kept.state, kept.next_attempt_at) == (MessageState.QUEUED, NOW + timedelta(hours=1))
    with pytest.raises(services.NotificationError) as error:
        services.retry_message(kept, now=NOW, actor=actor)  # queued already
    assert error.value.code == "not_retryable"
    with pytest.raises(services.NotificationError) as error:
        services.retry_message(no_address, now=NOW, actor=actor)
    assert error.value.code == "no_address"
    db.session.rollback()
    registration = db.session.merge(registration)
    registration.email = "later-added@example.org"
    db.session.commit()
    services.retry_message(db.session.get(Message, no_address.id), now=NOW, actor=actor)
    db.session.commit()
    no_address = db.session.get(Message, no_address.id)
    assert (no_address.state, no_address.recipient) == (MessageState.QUEUED, "later-added@example.org")


def test_retry_failed_requeues_all_failed_messages_of_the_event(db, event, organizer):
    _org, actor = organizer
    for i in range(2):
        signup(event, i, email=f"p{i}@example.org")
    db.session.commit()
    db.session.execute(sa.update(Message).values(state=MessageState.FAILED, attempts=8, next_attempt_at=None))
    db.session.commit()
    assert services.retry_failed(event, now=NOW, actor=actor) == 2
    db.session.commit()
    assert {(m.state, m.next_attempt_at) for m in all_messages(db)} == {(MessageState.QUEUED, NOW)}
    assert services.retry_failed(event, now=NOW, actor=actor) == 0
