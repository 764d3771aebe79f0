"""Messages to participants: render a template in their language, queue it in the outbox, send it by SMTP.

Nothing is ever sent inside a request. Use cases queue a ``Message`` row (in the caller's unit of work: a sign-up
that rolls back takes its message with it); the scheduler's sweep ``notifications.send_due_messages`` claims due
messages one by one with a conditional UPDATE (queued → sending, with a lease), sends them and records the outcome.
Without ``MAIL_SERVER`` a message is *kept* in the outbox (and logged) for the organizer to read; a failed attempt
is retried with backoff and, after ``MAIL_MAX_ATTEMPTS``, marked *failed* — visible on the outbox page, where an
organizer may retry it.

Use cases here flush but never commit, except the delivery functions (``deliver_due``), which commit each step
themselves because they talk to a mail server between database writes.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from core.errors import DomainError
from core.models import record_audit
from core.templating import format_local, timezone_label
from events.models import Event
from extensions import db
from notifications import rules, texts
from notifications.mailer import Mailer, MailSettings, MessageFailure, PermanentFailure, ServerFailure
from notifications.models import (
    TEMPLATE_KINDS,
    Message,
    MessageKind,
    MessageState,
    MessageTemplate,
    ReminderSetting,
)

log = logging.getLogger(__name__)

SUBJECT_LIMIT = 200
BODY_LIMIT = 10_000
SENDING_LEASE = timedelta(minutes=5)  # longer than a few SMTP timeouts; an expired lease is taken over


class NotificationError(DomainError):
    pass


def languages() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def message_language(language: str | None) -> str:
    return language if language in languages() else current_app.config["BABEL_DEFAULT_LOCALE"]


# ---------------------------------------------------------------- templates


@dataclass(frozen=True)
class TemplateText:
    subject: str
    body: str
    edited: bool  # the event's own text (False: the built-in default)


def default_template(kind: MessageKind, language: str) -> TemplateText:
    with force_locale(message_language(language)):
        subject, body = texts.default_text(kind)
    return TemplateText(subject, body, edited=False)


def get_template(event: Event, kind: MessageKind, language: str) -> TemplateText:
    row = db.session.scalar(sa.select(MessageTemplate).where(
        MessageTemplate.event_id == event.id, MessageTemplate.kind == kind, MessageTemplate.language == language))
    if row is not None:
        return TemplateText(row.subject, row.body, edited=True)
    return default_template(kind, language)


def edited_templates(event: Event) -> set[tuple[str, str]]:
    """(kind, language) pairs the event has its own text for."""
    rows = db.session.execute(sa.select(MessageTemplate.kind, MessageTemplate.language)
                              .where(MessageTemplate.event_id == event.id)).all()
    return {(kind.value, language) for kind, language in rows}


def problem_message(problem: rules.Problem, known) -> str:
    if problem.code == "unknown":
        return _("Unknown placeholder %(placeholder)s. You can use: %(known)s.", placeholder=problem.text,
                 known=" ".join("{%s}" % name for name in texts.PLACEHOLDERS if name in known))
    if problem.code == "unclosed":
        return _("A “{” is not closed near “%(text)s”. Write {{ for a brace itself.", text=problem.text)
    return _("A “}” has no opening “{” near “%(text)s”. Write }} for a brace itself.", text=problem.text)


def check_template_text(subject: str, body: str, known) -> tuple[str, str]:
    """The cleaned subject and body, or a NotificationError naming the field and the first problem."""
    subject = (subject or "").strip()
    body = (body or "").replace("\r\n", "\n").strip()
    if not subject:
        raise NotificationError("subject_required", _("Enter a subject."), status=422, field="subject")
    if "\n" in subject or "\r" in subject:
        raise NotificationError("subject_one_line", _("The subject must be a single line."), status=422,
                                field="subject")
    if len(subject) > SUBJECT_LIMIT:
        raise NotificationError("subject_too_long", _("The subject has at most %(n)d characters.", n=SUBJECT_LIMIT),
                                status=422, field="subject")
    if not body:
        raise NotificationError("body_required", _("Enter the text of the message."), status=422, field="body")
    if len(body) > BODY_LIMIT:
        raise NotificationError("body_too_long", _("The text has at most %(n)d characters.", n=BODY_LIMIT),
                                status=422, field="body")
    for field, text in (("subject", subject), ("body", body)):
        problems = rules.template_problems(text, known)
        if problems:
            raise NotificationError("bad_placeholder", problem_message(problems[0], known), status=422, field=field)
    return subject, body


def save_template(event: Event, kind: MessageKind, language: str, *, subject: str, body: str, actor,
                  now: datetime) -> MessageTemplate:
    if kind not in TEMPLATE_KINDS or language not in languages():
        raise NotificationError("unknown_template", _("There is no such message template."), status=404)
    subject, body = check_template_text(subject, body, texts.placeholders_for(kind))
    row = db.session.scalar(sa.select(MessageTemplate).where(
        MessageTemplate.event_id == event.id, MessageTemplate.kind == kind, MessageTemplate.language == language))
    if row is None:
        row = MessageTemplate(event_id=event.id, kind=kind, language=language)
        db.session.add(row)
    row.subject, row.body = subject, body
    row.updated_at = now
    row.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    record_audit(actor=actor, organization_id=event.organization_id, action="notifications.template_save", obj=event,
                 now=now, kind=kind.value, language=language)
    return row


def reset_template(event: Event, kind: MessageKind, language: str, *, actor, now: datetime) -> bool:
    """Forget the event's own text: the built-in default applies again. True when there was one."""
    deleted = db.session.execute(sa.delete(MessageTemplate).where(
        MessageTemplate.event_id == event.id, MessageTemplate.kind == kind, MessageTemplate.language == language,
    )).rowcount
    if deleted:
        record_audit(actor=actor, organization_id=event.organization_id, action="notifications.template_reset",
                     obj=event, now=now, kind=kind.value, language=language)
    return bool(deleted)


# ---------------------------------------------------------------- rendering


def public_url(endpoint: str, **values) -> str:
    """An absolute address on BASE_URL, also outside a request (sweeps and tasks run without one)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def placeholder_values(event: Event, registration, language: str, extra: dict | None = None) -> dict[str, str]:
    """Values of every placeholder for ``registration`` (anything with the Registration's attributes), rendered in
    ``language``. ``extra`` adds or overrides values (e.g. {"link": <certificate address>})."""
    from registration.services import waitlist_position

    status = getattr(registration.status, "value", registration.status)
    position = waitlist_position(registration) if status == "waitlisted" and getattr(registration, "id", None) else None
    with force_locale(message_language(language)):
        starts_at = f"{format_local(event.starts_at, event.timezone)} ({timezone_label(event.timezone)})"
        values = {
            "name": registration.contact_name,
            "team": registration.name if getattr(registration.kind, "value", registration.kind) == "team" else "",
            "event": event.title,
            "starts_at": starts_at,
            "place": event.venue or "",
            "organization": event.organization.name,
            "status": texts.status_text(status, position),
            "link": public_url("registration.find", event_id=event.id),
            "reason": registration.reason or "",
        }
    values.update({k: str(v) for k, v in (extra or {}).items() if k in texts.PLACEHOLDERS})
    return values


def render(template: TemplateText | tuple[str, str], values: dict[str, str]) -> tuple[str, str]:
    subject, body = (template.subject, template.body) if isinstance(template, TemplateText) else template
    return rules.single_line(rules.substitute(subject, values), SUBJECT_LIMIT), rules.substitute(body, values)


# ---------------------------------------------------------------- queuing


def _insert_message(**row) -> int | None:
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING; the new id, or None when that message was queued before.

    No savepoint and no exception: a second queuing of the same message (a sweep run twice, two schedulers, two
    organizers approving at once) simply inserts nothing, and the caller's unit of work goes on.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    statement = (insert(Message).values(**row).on_conflict_do_nothing(index_elements=["dedupe_key"])
                 .returning(Message.id))
    return db.session.execute(statement).scalar()


def queue_message(event: Event, registration, kind: MessageKind, template: TemplateText | tuple[str, str], *,
                  dedupe_key: str, now: datetime, extra: dict | None = None, actor=None) -> Message | None:
    """Render ``template`` for ``registration`` in its language and put it in the outbox (queued, or no_address
    when the participant gave no e-mail). None when a message with ``dedupe_key`` exists already."""
    language = message_language(registration.language)
    subject, body = render(template, placeholder_values(event, registration, language, extra))
    recipient = (registration.email or "").strip() or None
    message_id = _insert_message(
        organization_id=event.organization_id, event_id=event.id, registration_id=registration.id, kind=kind,
        channel="email", recipient=recipient, recipient_name=(registration.contact_name or "")[:100],
        language=language, subject=subject, body=body,
        state=MessageState.QUEUED if recipient else MessageState.NO_ADDRESS, attempts=0,
        next_attempt_at=now if recipient else None, created_at=now, updated_at=now,
        created_by_id=getattr(actor, "id", None), dedupe_key=dedupe_key[:120],
    )
    return db.session.get(Message, message_id) if message_id is not None else None


def queue_registration_message(registration, kind: str | MessageKind, *, now: datetime, extra: dict | None = None,
                               occasion: str | None = None) -> Message | None:
    """Queue the event's message of ``kind`` for ``registration``, in the participant's language; at most once per
    sign-up and kind (and ``occasion``, e.g. a certificate's number, for kinds that may recur). Never sends.

    Returns the queued message, or None when it had been queued already.
    """
    kind = MessageKind(kind)
    if kind not in TEMPLATE_KINDS:
        raise ValueError(f"{kind} is not a template kind")
    event = registration.event
    template = get_template(event, kind, message_language(registration.language))
    key = f"reg:{registration.id}:{kind.value}" + (f":{occasion}" if occasion else "")
    return queue_message(event, registration, kind, template, dedupe_key=key, now=now, extra=extra)


# ---------------------------------------------------------------- sending


def mail_settings() -> MailSettings | None:
    return MailSettings.from_config(current_app.config)


def _claim(message_id: int, now: datetime, owner: str) -> bool:
    """queued (and due) → sending, or take over a 'sending' whose lease expired (its sender stopped). One winner."""
    claimed = db.session.execute(
        sa.update(Message)
        .where(Message.id == message_id, sa.or_(
            sa.and_(Message.state == MessageState.QUEUED, Message.next_attempt_at <= now),
            sa.and_(Message.state == MessageState.SENDING, Message.lease_expires_at < now),
        ))
        .values(state=MessageState.SENDING, lease_owner=owner, lease_expires_at=now + SENDING_LEASE,
                attempts=Message.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _finish(message_id: int, owner: str, now: datetime, **values) -> bool:
    """Record the outcome, only if this sender still holds the message."""
    done = db.session.execute(
        sa.update(Message)
        .where(Message.id == message_id, Message.state == MessageState.SENDING, Message.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return done == 1


def _record_failure(message: Message, owner: str, now: datetime, error: str, *, permanent: bool = False) -> MessageState:
    max_attempts = int(current_app.config.get("MAIL_MAX_ATTEMPTS", 8))
    attempts = message.attempts
    if permanent or attempts >= max_attempts:
        _finish(message.id, owner, now, state=MessageState.FAILED, last_error=error[:2000], next_attempt_at=None)
        log.warning("message %s to %s failed for good after %d attempt(s): %s", message.id, message.recipient,
                    attempts, error)
        return MessageState.FAILED
    retry_at = now + rules.retry_delay(attempts)
    _finish(message.id, owner, now, state=MessageState.QUEUED, last_error=error[:2000], next_attempt_at=retry_at)
    log.warning("message %s to %s not sent (attempt %d), retry at %s: %s", message.id, message.recipient, attempts,
                retry_at.isoformat(), error)
    return MessageState.QUEUED


def send_message(message: Message, now: datetime, *, mailer: Mailer | None = None, owner: str | None = None
                 ) -> MessageState:
    """Send one message that this sender has claimed (state 'sending', ``owner`` holding it), record the outcome and
    commit. Without MAIL_SERVER the message is kept in the outbox and a log line says so.

    A ``ServerFailure`` (the server cannot be reached, refuses the login …) is re-raised after recording the attempt,
    so that the caller stops talking to that server for this round.
    """
    owner = owner or message.lease_owner
    settings = mail_settings()
    if settings is None:
        _finish(message.id, owner, now, state=MessageState.KEPT, next_attempt_at=None,
                last_error=None)
        # A warning, so that it shows without any logging set-up: nothing may be dropped silently.
        log.warning("MAIL_SERVER is not set: message %s (%s) to %s is kept in the outbox, not sent: %s",
                 message.id, message.kind.value, message.recipient, message.subject)
        return MessageState.KEPT
    own_mailer = mailer is None
    mailer = mailer or Mailer(settings)
    try:
        mailer.send(recipient=message.recipient, recipient_name=message.recipient_name, subject=message.subject,
                    body=message.body, message_id=message.id)
    except PermanentFailure as error:
        return _record_failure(message, owner, now, str(error), permanent=True)
    except MessageFailure as error:
        return _record_failure(message, owner, now, str(error))
    except ServerFailure as error:
        _record_failure(message, owner, now, str(error))
        raise
    finally:
        if own_mailer:
            mailer.close()
    _finish(message.id, owner, now, state=MessageState.SENT, sent_at=now, next_attempt_at=None, last_error=None)
    log.info("message %s (%s) sent to %s", message.id, message.kind.value, message.recipient)
    return MessageState.SENT


def due_message_ids(now: datetime, limit: int) -> list[int]:
    return list(db.session.scalars(
        sa.select(Message.id).where(sa.or_(
            sa.and_(Message.state == MessageState.QUEUED, Message.next_attempt_at <= now),
            sa.and_(Message.state == MessageState.SENDING, Message.lease_expires_at < now),
        )).order_by(Message.next_attempt_at, Message.id).limit(limit)
    ))


def deliver_due(now: datetime, *, limit: int = 200, owner: str | None = None) -> int:
    """Send (or keep) the messages that are due; return how many were handled. Commits after each message.

    Two senders at once (two schedulers) each claim a message with a conditional UPDATE: only one of them wins it,
    so no mail goes out twice. When the server cannot be reached, the rest of this round's messages get the same
    failed attempt (and their backoff) without waiting for a timeout each.
    """
    owner = owner or f"sender-{uuid.uuid4().hex[:12]}"
    ids = due_message_ids(now, limit)
    db.session.commit()
    if not ids:
        return 0
    settings = mail_settings()
    mailer = Mailer(settings) if settings is not None else None
    handled = 0
    server_error: str | None = None
    try:
        for message_id in ids:
            if not _claim(message_id, now, owner):
                continue  # another sender has it
            message = db.session.get(Message, message_id, populate_existing=True)
            handled += 1
            if server_error is not None:
                _record_failure(message, owner, now, server_error)
                continue
            try:
                send_message(message, now, mailer=mailer, owner=owner)
            except ServerFailure as error:
                server_error = str(error)
    finally:
        if mailer is not None:
            mailer.close()
    return handled


# ---------------------------------------------------------------- the outbox


def retry_message(message: Message, *, now: datetime, actor) -> None:
    """Queue a failed or kept message (or one without an address, once the sign-up has one) to be sent now."""
    values = {"state": MessageState.QUEUED, "next_attempt_at": now, "updated_at": now}
    allowed = [MessageState.FAILED, MessageState.KEPT]
    if message.state == MessageState.NO_ADDRESS:
        email = (message.registration.email or "").strip() if message.registration is not None else ""
        if not email:
            raise NotificationError("no_address", _("This sign-up still has no e-mail address."), status=409)
        values["recipient"] = email
        allowed = [MessageState.NO_ADDRESS]
    changed = db.session.execute(
        sa.update(Message).where(Message.id == message.id, Message.state.in_(allowed)).values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise NotificationError("not_retryable", _("Only failed or kept messages can be sent again."), status=409)
    record_audit(actor=actor, organization_id=message.organization_id, action="notifications.retry", obj=message,
                 now=now)
    db.session.refresh(message)


def retry_failed(event: Event, *, now: datetime, actor, state: MessageState = MessageState.FAILED) -> int:
    """Queue every failed (or every kept) message of the event again; return how many."""
    if state not in (MessageState.FAILED, MessageState.KEPT):
        raise ValueError(state)
    changed = db.session.execute(
        sa.update(Message).where(Message.event_id == event.id, Message.state == state)
        .values(state=MessageState.QUEUED, next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        record_audit(actor=actor, organization_id=event.organization_id, action="notifications.retry_all",
                     obj=event, now=now, count=changed, state=state.value)
    return changed


def count_by_state(event_id: int) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Message.state, sa.func.count(Message.id)).where(Message.event_id == event_id).group_by(Message.state)
    ).all()
    counts = {state.value: 0 for state in MessageState}
    counts.update({state.value: n for state, n in rows})
    return counts


# ---------------------------------------------------------------- reminders


def get_reminder_setting(event: Event) -> ReminderSetting:
    setting = db.session.get(ReminderSetting, event.id)
    if setting is None:
        setting = ReminderSetting(event_id=event.id, enabled=False, hours_before=24)
    return setting


def reminder_message(code: str, event: Event, now: datetime, hours_before: int) -> str:
    if code == "hours_range":
        return _("Choose between 1 and %(n)d hours before the start.", n=rules.MAX_REMINDER_HOURS)
    if code == "started":
        return _("The event has already started: a reminder can no longer be sent.")
    latest = rules.latest_possible_hours(now, event.starts_at)
    when = format_local(rules.reminder_time(event.starts_at, hours_before), event.timezone)
    if latest < 1:
        return _("The reminder time %(time)s has already passed, and the event starts in less than an hour.",
                 time=when)
    return _("The reminder time %(time)s has already passed. Choose at most %(n)d hours before the start.",
             time=when, n=latest)


def save_reminder_setting(event: Event, *, enabled: bool, hours_before: int, actor, now: datetime) -> ReminderSetting:
    """Switch the reminder on or off. A reminder time that has passed (or an event that started) is refused."""
    hours_before = int(hours_before)
    if not 1 <= hours_before <= rules.MAX_REMINDER_HOURS:
        raise NotificationError("hours_range", reminder_message("hours_range", event, now, hours_before),
                                status=422, field="hours_before")
    if enabled:
        code = rules.reminder_problem(now, event.starts_at, hours_before)
        if code is not None:
            raise NotificationError(f"reminder_{code}", reminder_message(code, event, now, hours_before),
                                    status=422, field="hours_before")
    setting = db.session.get(ReminderSetting, event.id)
    if setting is None:
        setting = ReminderSetting(event_id=event.id)
        db.session.add(setting)
    setting.enabled = enabled
    setting.hours_before = hours_before
    setting.updated_at = now
    setting.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    record_audit(actor=actor, organization_id=event.organization_id, action="notifications.reminder", obj=event,
                 now=now, enabled=enabled, hours_before=hours_before)
    return setting


def queue_reminders(event: Event, hours_before: int, now: datetime, *, limit: int = 500) -> int:
    """Queue the reminder of each approved sign-up of ``event`` that has none yet; return how many were queued."""
    from registration.models import Registration, RegistrationState

    if not rules.reminder_due(now, event.starts_at, hours_before):
        return 0
    has_reminder = sa.select(Message.id).where(Message.registration_id == Registration.id,
                                               Message.kind == MessageKind.REMINDER)
    registrations = list(db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id,
                                      Registration.status == RegistrationState.APPROVED,
                                      ~has_reminder.exists())
        .order_by(Registration.id).limit(limit)
    ))
    template = {}
    queued = 0
    for registration in registrations:
        language = message_language(registration.language)
        if language not in template:
            template[language] = get_template(event, MessageKind.REMINDER, language)
        if queue_message(event, registration, MessageKind.REMINDER, template[language],
                         dedupe_key=f"reg:{registration.id}:reminder", now=now) is not None:
            queued += 1
    return queued


# ---------------------------------------------------------------- messages to many (a background task)

AUDIENCES = ("approved", "waitlisted", "pending", "selected")
BULK_KIND = "notifications.bulk_message"


def audience_query(event_id: int, audience: str, ids: list[int] | None = None):
    """The sign-ups a bulk message goes to: by status, or the selected active ones."""
    from registration.models import ACTIVE, Registration, RegistrationState

    query = sa.select(Registration).where(Registration.event_id == event_id)
    if audience == "selected":
        return query.where(Registration.id.in_(ids or []), Registration.status.in_(ACTIVE))
    return query.where(Registration.status == RegistrationState(audience))


def start_bulk_message(event: Event, *, audience: str, ids: list[int] | None, subject: str, body: str, actor,
                       now: datetime):
    """Check the message and start the background task that queues it for every sign-up of the audience."""
    from tasks.services import start_task

    if audience not in AUDIENCES:
        raise NotificationError("audience", _("Choose who receives the message."), status=422, field="audience")
    subject, body = check_template_text(subject, body, texts.COMMON_PLACEHOLDERS)
    ids = sorted({int(i) for i in ids or []}) if audience == "selected" else []
    count = db.session.scalar(sa.select(sa.func.count()).select_from(
        audience_query(event.id, audience, ids).subquery()))
    if not count:
        raise NotificationError("no_recipients", _("Nobody would receive this message: the chosen group is empty."),
                                status=422, field="audience" if audience != "selected" else "ids")
    task = start_task(BULK_KIND, event=event, actor=actor,
                      params={"audience": audience, "ids": ids, "subject": subject, "body": body}, now=now)
    record_audit(actor=actor, organization_id=event.organization_id, action="notifications.bulk", obj=event, now=now,
                 audience=audience, count=count, task_id=task.id)
    return task
