"""The organizer's pages: outbox, message, retries, template editor with preview, reminder, message to many."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.types import utcnow
from notifications import jobs
from notifications.models import Message, MessageKind, MessageState, MessageTemplate, ReminderSetting
from tasks.models import BackgroundTask
from tests.conftest import NOW, csrf_token
from tests.notifications.conftest import signup
from tests.notifications.smtp_server import free_port


@pytest.fixture(autouse=True)
def _english_pages(client):
    """These tests read the pages' English texts (the catalogs translate them; tests/core/test_i18n.py checks that)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_outbox_shows_an_unreachable_servers_queued_messages_with_attempts(app, db, login_as, event, organizer):
    _org, actor = organizer
    signup(event, 1, email="lin@example.org", name="林一鸣")
    signup(event, 2, name="陈二")
    db.session.commit()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_DEFAULT_SENDER="noreply@saihui.test")
    try:
        assert jobs.send_due_messages(NOW) == 1
        client = login_as(actor)
        page = text(client.get(f"/manage/events/{event.id}/messages"))
    finally:
        app.config.update(MAIL_SERVER="", MAIL_PORT=0, MAIL_DEFAULT_SENDER="")
    assert "林一鸣" in page and "lin@example.org" in page
    assert "139****0001" in page and "13900000001" not in page  # phones masked in the list
    assert "Attempt 1 failed; next at 10:01" in page  # NOW + 1 minute, in Beijing time
    assert 'data-count="queued">1<' in page and 'data-count="no_address">1<' in page
    message = db.session.scalar(sa.select(Message).where(Message.recipient == "lin@example.org"))
    detail = text(client.get(f"/manage/events/{event.id}/messages/{message.id}"))
    assert "cannot connect to 127.0.0.1" in detail and "林一鸣" in detail and event.title in detail


def test_failed_messages_are_flagged_and_can_be_sent_again(db, login_as, event, organizer):
    _org, actor = organizer
    signup(event, 1, email="lin@example.org")
    db.session.commit()
    db.session.execute(sa.update(Message).values(state=MessageState.FAILED, attempts=8, next_attempt_at=None,
                                                 last_error="550 no such user"))
    db.session.commit()
    message_id = db.session.scalar(sa.select(Message.id))
    client = login_as(actor)
    outbox = f"/manage/events/{event.id}/messages"
    page = text(client.get(outbox))
    assert "alert-danger" in page and f"{outbox}/retry-failed" in page
    failed_only = text(client.get(outbox + "?state=failed"))
    assert "lin@example.org" in failed_only
    response = client.post(f"{outbox}/{message_id}/retry", data={"csrf_token": csrf_token(client, outbox)})
    assert response.status_code == 302
    db.session.expire_all()
    message = db.session.get(Message, message_id)
    assert message.state == MessageState.QUEUED and message.next_attempt_at <= utcnow()
    # a second retry is refused with a message, not an error page
    response = client.post(f"{outbox}/{message_id}/retry", data={"csrf_token": csrf_token(client, outbox)},
                           follow_redirects=True)
    assert response.status_code == 200 and "Only failed or kept messages" in text(response)


def test_the_template_editor_refuses_a_bad_placeholder_previews_saves_and_resets(db, login_as, event, organizer):
    _org, actor = organizer
    client = login_as(actor)
    path = f"/manage/events/{event.id}/messages/templates/approved/zh_Hans"
    page = text(client.get(path))
    assert "{event}" in page and ("Zhang San" in page or "张三" in page)  # the built-in text and its preview

    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "subject": "通过：{evnt}", "body": "{name}，您好",
                                       "action": "save"})
    assert response.status_code == 422
    assert "{evnt}" in text(response) and "{name}" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(MessageTemplate.id))) == 0

    response = client.post(path, data={"csrf_token": token, "subject": "审核通过：{event}",
                                       "body": "{name}，您好！{event} 于 {starts_at} 举行。", "action": "preview"})
    assert response.status_code == 200
    assert f"{event.title} 于 2026-12-12 08:30 (" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(MessageTemplate.id))) == 0  # a preview saves nothing

    response = client.post(path, data={"csrf_token": token, "subject": "审核通过：{event}",
                                       "body": "{name}，您好！", "action": "save"})
    assert response.status_code == 302
    row = db.session.scalar(sa.select(MessageTemplate))
    assert (row.kind, row.language, row.subject) == (MessageKind.APPROVED, "zh_Hans", "审核通过：{event}")
    listing = text(client.get(f"/manage/events/{event.id}/messages/templates"))
    assert "Edited" in listing or "已编辑" in listing

    response = client.post(path + "/reset", data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(MessageTemplate.id))) == 0
    assert client.get(f"/manage/events/{event.id}/messages/templates/bulk/zh_Hans").status_code == 404
    assert client.get(f"/manage/events/{event.id}/messages/templates/approved/fr").status_code == 404


def test_the_reminder_form_refuses_a_time_in_the_past(db, login_as, factory, organizer):
    org, actor = organizer
    soon = utcnow().replace(microsecond=0) + timedelta(hours=3)
    event = factory.event(org, status="published", starts_at=soon)
    client = login_as(actor)
    path = f"/manage/events/{event.id}/messages/reminder"
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "enabled": "y", "hours_before": "24"})
    assert response.status_code == 422
    assert "has already passed" in text(response) and "at most 2 hours" in text(response)
    assert db.session.get(ReminderSetting, event.id) is None
    response = client.post(path, data={"csrf_token": token, "enabled": "y", "hours_before": "abc"})
    assert response.status_code == 422
    response = client.post(path, data={"csrf_token": token, "enabled": "y", "hours_before": "2"})
    assert response.status_code == 302
    setting = db.session.get(ReminderSetting, event.id)
    assert (setting.enabled, setting.hours_before) == (True, 2)


def test_a_message_to_many_starts_a_task_and_shows_its_progress(db, login_as, event, organizer):
    _org, actor = organizer
    for i in range(3):
        signup(event, i, email=f"p{i}@example.org")  # capacity 2: the third is waitlisted
    db.session.commit()
    client = login_as(actor)
    path = f"/manage/events/{event.id}/messages/bulk"
    page = text(client.get(path))
    assert "139****0000" in page and "13900000000" not in page
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "audience": "approved", "subject": "通知：{evnt}",
                                       "body": "正文"})
    assert response.status_code == 422 and "{evnt}" in text(response)
    response = client.post(path, data={"csrf_token": token, "audience": "pending", "subject": "通知",
                                       "body": "正文"})
    assert response.status_code == 422 and "Nobody would receive" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(BackgroundTask.id))) == 0
    response = client.post(path, data={"csrf_token": token, "audience": "approved", "subject": "会场变更：{event}",
                                       "body": "{name}，您好：会场改在 3 号厅。"})
    assert response.status_code == 302
    task = db.session.scalar(sa.select(BackgroundTask))
    assert response.headers["Location"].endswith(f"/manage/tasks/{task.id}")
    assert task.params["audience"] == "approved" and task.kind == "notifications.bulk_message"
    progress = client.get(f"/manage/tasks/{task.id}")
    assert progress.status_code == 200
    # a second click on the same message goes to the running task instead of starting another
    response = client.post(path, data={"csrf_token": token, "audience": "approved", "subject": "会场变更：{event}",
                                       "body": "{name}，您好：会场改在 3 号厅。"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/manage/tasks/{task.id}")
    assert db.session.scalar(sa.select(sa.func.count(BackgroundTask.id))) == 1


def test_the_event_page_links_to_the_messages(login_as, event, organizer):
    _org, actor = organizer
    client = login_as(actor)
    assert f"/manage/events/{event.id}/messages" in client.get(f"/manage/events/{event.id}").get_data(as_text=True)


def test_kept_messages_are_sent_once_a_mail_server_is_configured(app, db, login_as, event, organizer, smtp):
    _org, actor = organizer
    signup(event, 1, email="lin@example.org")
    signup(event, 2, email="chen@example.org")
    db.session.commit()
    app.config["MAIL_SERVER"] = ""
    assert jobs.send_due_messages(NOW) == 2  # kept: no server yet
    app.config["MAIL_SERVER"] = "127.0.0.1"  # the administrator configures one
    client = login_as(actor)
    outbox = f"/manage/events/{event.id}/messages"
    page = text(client.get(outbox))
    assert "2 messages were kept" in page
    response = client.post(f"{outbox}/retry-failed", data={"csrf_token": csrf_token(client, outbox), "state": "kept"})
    assert response.status_code == 302
    assert jobs.send_due_messages(utcnow()) == 2
    assert sorted(m["to"][0] for m in smtp.messages) == ["chen@example.org", "lin@example.org"]
