"""Message templates: built-in texts in each language, an event's own text, safe placeholders, preview values."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from notifications import rules, services, texts
from notifications.models import TEMPLATE_KINDS, MessageKind, MessageTemplate
from tests.conftest import NOW
from tests.notifications.conftest import signup

LANGUAGES = ("zh_Hans", "zh_Hant", "en")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", TEMPLATE_KINDS)
def test_every_built_in_text_is_a_valid_template_in_every_language(app, kind, language):
    """Also guards the translations: a catalog that mangles a placeholder fails here."""
    with app.app_context():
        template = services.default_template(kind, language)
        known = texts.placeholders_for(kind)
        assert template.subject and template.body and not template.edited
        assert rules.template_problems(template.subject, known) == []
        assert rules.template_problems(template.body, known) == []


@pytest.mark.parametrize("language, zone, status", [
    ("zh_Hans", "北京时间", "received, waiting for the organizer's approval"),
    ("zh_Hant", "北京時間", "received, waiting for the organizer's approval"),
    ("en", "Beijing time", "received, waiting for the organizer's approval"),
])
def test_a_message_renders_in_the_participants_language(db, factory, organizer, language, zone, status):
    org, _actor = organizer
    event = factory.event(org, status="published", requires_approval=True, venue="厦门国际会议中心")
    registration = signup(event, 1, email="lin@example.org", language=language, name="林一鸣")
    db.session.commit()
    assert registration.language == language
    [message] = registration_messages(registration)
    assert message.language == language
    assert message.kind == MessageKind.SIGNUP_RECEIVED
    # 2026-12-12 00:30 UTC is 08:30 in Beijing; the zone is named in the participant's language
    assert f"2026-12-12 08:30 ({zone})" in message.body
    assert "林一鸣" in message.body and "海峡两岸信息化论坛" in message.subject
    assert "厦门国际会议中心" in message.body and org.name in message.body
    assert f"http://testserver/e/{event.id}/find" in message.body
    with force_locale(language):
        assert texts.status_text("pending") in message.body
    assert "{" not in message.body and "}" not in message.subject


def registration_messages(registration):
    from extensions import db
    from notifications.models import Message

    return list(db.session.scalars(sa.select(Message).where(Message.registration_id == registration.id)
                                   .order_by(Message.id)))


def test_an_events_own_text_replaces_the_built_in_one_in_its_language_only(db, factory, organizer):
    org, actor = organizer
    event = factory.event(org, status="published")
    services.save_template(event, MessageKind.SIGNUP_RECEIVED, "zh_Hant", subject="報名成功：{event}",
                           body="{name} 您好，{{重要}}：請準時出席 {starts_at}。", actor=actor, now=NOW)
    db.session.commit()
    hant = signup(event, 1, email="a@example.org", language="zh_Hant", name="陳大文")
    en = signup(event, 2, email="b@example.org", language="en", name="Li Lei")
    db.session.commit()
    [hant_message] = registration_messages(hant)
    [en_message] = registration_messages(en)
    assert hant_message.subject == f"報名成功：{event.title}"
    assert hant_message.body == "陳大文 您好，{重要}：請準時出席 2026-12-12 08:30 (北京時間)。"
    assert en_message.subject == services.render(services.default_template(MessageKind.SIGNUP_RECEIVED, "en"),
                                                 {"event": event.title})[0]
    assert services.edited_templates(event) == {("signup_received", "zh_Hant")}
    # reset: the built-in text applies again
    assert services.reset_template(event, MessageKind.SIGNUP_RECEIVED, "zh_Hant", actor=actor, now=NOW)
    db.session.commit()
    assert not services.get_template(event, MessageKind.SIGNUP_RECEIVED, "zh_Hant").edited
    assert not services.reset_template(event, MessageKind.SIGNUP_RECEIVED, "zh_Hant", actor=actor, now=NOW)


@pytest.mark.parametrize("subject, body, field, code, words", [
    ("报名成功：{evnt}", "您好", "subject", "bad_placeholder", "{evnt}"),
    ("报名成功", "{name}，您好。原因：{reason}", "body", "bad_placeholder", "{reason}"),  # only rejections have one
    ("报名成功", "{name，您好", "body", "bad_placeholder", "{name，您好"),
    ("报名成功", "您好}", "body", "bad_placeholder", "您好}"),
    ("", "您好", "subject", "subject_required", ""),
    ("报名\n成功", "您好", "subject", "subject_one_line", ""),
    ("报名成功", "   ", "body", "body_required", ""),
    ("长" * 201, "您好", "subject", "subject_too_long", ""),
    ("报名成功", "长" * 10_001, "body", "body_too_long", ""),
])
def test_a_bad_template_is_refused_with_a_clear_message_and_nothing_saved(db, factory, organizer, subject, body,
                                                                          field, code, words):
    org, actor = organizer
    event = factory.event(org, status="published")
    with pytest.raises(services.NotificationError) as error:
        services.save_template(event, MessageKind.APPROVED, "zh_Hans", subject=subject, body=body, actor=actor,
                               now=NOW)
    assert (error.value.code, error.value.field, error.value.status) == (code, field, 422)
    assert words in error.value.message
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(MessageTemplate.id))) == 0


def test_unknown_placeholder_message_lists_the_ones_to_use(app):
    with app.test_request_context():
        message = services.problem_message(rules.Problem("unknown", "{nmae}"), texts.COMMON_PLACEHOLDERS)
    assert "{nmae}" in message and "{name}" in message and "{reason}" not in message


def test_a_rejection_may_use_the_reason(db, factory, organizer):
    org, actor = organizer
    event = factory.event(org, status="published", requires_approval=True)
    services.save_template(event, MessageKind.REJECTED, "zh_Hans", subject="未通过：{event}",
                           body="{name}：很遗憾，原因是 {reason}", actor=actor, now=NOW)
    registration = signup(event, 1, email="c@example.org")
    from registration import services as registration_services

    registration_services.reject_registration(registration, reason="名额已满", now=NOW, actor=actor)
    db.session.commit()
    assert registration_messages(registration)[-1].body == "参会者1：很遗憾，原因是 名额已满"


def test_a_value_with_braces_or_line_breaks_stays_harmless(db, factory, organizer):
    org, actor = organizer
    event = factory.event(org, status="published", title="论坛 {name}\r\nBcc: x@example.org")
    registration = signup(event, 1, email="d@example.org", name="{event}")
    db.session.commit()
    [message] = registration_messages(registration)
    assert "\n" not in message.subject and "\r" not in message.subject
    assert "{event}" in message.body  # the name, as typed, not replaced again
