"""Organizer pages of an event's messages: the outbox, a message, retries, templates, the reminder, bulk messages.

Organizers and admins of the event only (``get_managed_event``: 404 for other organizations, 403 for check-in
staff and judges).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from core.database import run_write
from core.i18n import LANGUAGE_NAMES
from core.types import utcnow
from events.models import Event
from events.views import get_managed_event
from extensions import db
from notifications import rules, services, texts
from notifications.forms import BulkMessageForm, ReminderForm, TemplateForm
from notifications.models import TEMPLATE_KINDS, Message, MessageKind, MessageState

bp = Blueprint("notifications", __name__, url_prefix="/manage/events/<int:event_id>/messages")

MAX_PAGE = 200
MAX_SELECTION = 500


# ---------------------------------------------------------------- the outbox


@dataclass
class OutboxFilters:
    state: str = ""
    kind: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args) -> OutboxFilters:
        state, kind = args.get("state", ""), args.get("kind", "")
        return cls(
            state=state if state in {s.value for s in MessageState} else "",
            kind=kind if kind in {k.value for k in MessageKind} else "",
            q=(args.get("q") or "").strip()[:100],
        )

    def apply(self, query):
        if self.state:
            query = query.where(Message.state == MessageState(self.state))
        if self.kind:
            query = query.where(Message.kind == MessageKind(self.kind))
        if self.q:
            like = f"%{self.q}%"
            query = query.where(sa.or_(Message.recipient_name.ilike(like), Message.recipient.ilike(like),
                                       Message.subject.ilike(like)))
        return query

    def args(self, **changes) -> dict:
        values = {"state": self.state, "kind": self.kind, "q": self.q}
        values.update(changes)
        return {k: v for k, v in values.items() if v}


@bp.route("")
@login_required
def outbox(event_id: int):
    event = get_managed_event(event_id)
    filters = OutboxFilters.from_args(request.args)
    query = filters.apply(sa.select(Message).where(Message.event_id == event.id))
    messages = list(db.session.scalars(
        query.options(selectinload(Message.registration)).order_by(Message.id.desc()).limit(MAX_PAGE)))
    return render_template(
        "notifications/outbox.html", event=event, messages=messages, counts=services.count_by_state(event.id),
        filters=filters, kind_names=texts.kind_names(), message_states=texts.state_names(), limit=MAX_PAGE,
        mail_configured=services.mail_settings() is not None,
    )


def _event_message(event_id: int, message_id: int) -> tuple[Event, Message]:
    event = get_managed_event(event_id)
    message = db.session.get(Message, message_id)
    if message is None or message.event_id != event.id:
        abort(404)
    return event, message


@bp.route("/<int:message_id>")
@login_required
def message_detail(event_id: int, message_id: int):
    event, message = _event_message(event_id, message_id)
    return render_template(
        "notifications/message.html", event=event, message=message, kind_names=texts.kind_names(),
        message_states=texts.state_names(), language_names=LANGUAGE_NAMES,
        mail_configured=services.mail_settings() is not None,
    )


@bp.route("/<int:message_id>/retry", methods=["POST"])
@login_required
def retry(event_id: int, message_id: int):
    event, message = _event_message(event_id, message_id)

    def work():
        fresh = db.session.get(Message, message.id)
        services.retry_message(fresh, now=utcnow(), actor=current_user)
        db.session.commit()

    try:
        run_write(db.session, work)
    except services.NotificationError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        flash(_("The message is queued and will be sent within a minute."), "success")
    return redirect(url_for("notifications.message_detail", event_id=event.id, message_id=message.id))


@bp.route("/retry-failed", methods=["POST"])
@login_required
def retry_failed(event_id: int):
    """Queue again every failed message (or, with state=kept, every kept one) of the event."""
    event = get_managed_event(event_id)
    state = MessageState.KEPT if request.form.get("state") == "kept" else MessageState.FAILED

    def work():
        count = services.retry_failed(db.session.get(Event, event.id), now=utcnow(), actor=current_user, state=state)
        db.session.commit()
        return count

    count = run_write(db.session, work)
    if count:
        flash(ngettext("%(num)d message is queued again.", "%(num)d messages are queued again.", count), "success")
    else:
        flash(_("There is no message to send again."), "info")
    return redirect(url_for("notifications.outbox", event_id=event.id))


# ---------------------------------------------------------------- templates


def _language_names() -> dict[str, str]:
    return {code: LANGUAGE_NAMES.get(code, code) for code in services.languages()}


@bp.route("/templates")
@login_required
def templates(event_id: int):
    event = get_managed_event(event_id)
    return render_template(
        "notifications/templates.html", event=event, kinds=TEMPLATE_KINDS, kind_names=texts.kind_names(),
        languages=_language_names(), edited=services.edited_templates(event),
    )


def _template_kind(kind: str, language: str) -> MessageKind:
    try:
        message_kind = MessageKind(kind)
    except ValueError:
        abort(404)
    if message_kind not in TEMPLATE_KINDS or language not in services.languages():
        abort(404)
    return message_kind


def sample_registration(language: str):
    """A made-up approved sign-up for previews, named in ``language``."""
    with force_locale(services.message_language(language)):
        return SimpleNamespace(
            id=None, contact_name=_("Zhang San"), name=_("Zhang San"), kind="individual", status="approved",
            reason=_("All places for your unit are taken."), language=language, email="zhangsan@example.org",
        )


def _preview(event: Event, kind: MessageKind, language: str, subject: str, body: str) -> tuple[str, str]:
    values = services.placeholder_values(event, sample_registration(language), language)
    return services.render((subject, body), values)


@bp.route("/templates/<kind>/<language>", methods=["GET", "POST"])
@login_required
def edit_template(event_id: int, kind: str, language: str):
    event = get_managed_event(event_id)
    message_kind = _template_kind(kind, language)
    current = services.get_template(event, message_kind, language)
    form = TemplateForm()
    if request.method == "GET":
        form.subject.data, form.body.data = current.subject, current.body
    status = 200
    preview = None
    if request.method == "POST":
        action = request.form.get("action", "save")
        if form.validate_on_submit():
            try:
                subject, body = services.check_template_text(form.subject.data, form.body.data,
                                                             texts.placeholders_for(message_kind))
            except services.NotificationError as error:
                getattr(form, error.field).errors = [error.message]
                status = 422
            else:
                if action == "preview":
                    preview = _preview(event, message_kind, language, subject, body)
                else:
                    def work():
                        services.save_template(db.session.get(Event, event.id), message_kind, language,
                                               subject=subject, body=body, actor=current_user, now=utcnow())
                        db.session.commit()

                    run_write(db.session, work)
                    flash(_("The template is saved. New messages of this kind use it."), "success")
                    return redirect(url_for("notifications.edit_template", event_id=event.id, kind=kind,
                                            language=language))
        else:
            status = 422
    if preview is None and status == 200:
        preview = _preview(event, message_kind, language, current.subject, current.body)
    return render_template(
        "notifications/template_form.html", event=event, form=form, kind=message_kind, language=language,
        kind_names=texts.kind_names(), languages=_language_names(), edited=current.edited, preview=preview,
        placeholders={name: texts.PLACEHOLDERS[name] for name in texts.PLACEHOLDERS
                      if name in texts.placeholders_for(message_kind)},
    ), status


@bp.route("/templates/<kind>/<language>/reset", methods=["POST"])
@login_required
def reset_template(event_id: int, kind: str, language: str):
    event = get_managed_event(event_id)
    message_kind = _template_kind(kind, language)

    def work():
        done = services.reset_template(db.session.get(Event, event.id), message_kind, language, actor=current_user,
                                       now=utcnow())
        db.session.commit()
        return done

    if run_write(db.session, work):
        flash(_("The built-in text applies again."), "success")
    return redirect(url_for("notifications.edit_template", event_id=event.id, kind=kind, language=language))


# ---------------------------------------------------------------- the reminder


@bp.route("/reminder", methods=["GET", "POST"])
@login_required
def reminder(event_id: int):
    event = get_managed_event(event_id)
    setting = services.get_reminder_setting(event)
    form = ReminderForm(obj=setting if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            def work():
                services.save_reminder_setting(db.session.get(Event, event.id), enabled=bool(form.enabled.data),
                                               hours_before=form.hours_before.data, actor=current_user, now=utcnow())
                db.session.commit()

            try:
                run_write(db.session, work)
            except services.NotificationError as error:
                db.session.rollback()
                form.hours_before.errors = list(form.hours_before.errors) + [error.message]
                status = 422
            else:
                flash(_("The reminder is saved."), "success")
                return redirect(url_for("notifications.reminder", event_id=event.id))
        else:
            status = 422
    hours = form.hours_before.data if isinstance(form.hours_before.data, int) else setting.hours_before
    remind_at = rules.reminder_time(event.starts_at, hours) if 1 <= hours <= rules.MAX_REMINDER_HOURS else None
    return render_template(
        "notifications/reminder.html", event=event, form=form, setting=setting, remind_at=remind_at,
        now=utcnow(), reminders_queued=_reminders_queued(event.id),
    ), status


def _reminders_queued(event_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(Message.id)).where(
        Message.event_id == event_id, Message.kind == MessageKind.REMINDER)) or 0


# ---------------------------------------------------------------- a message to many


def _selectable(event: Event):
    from registration.models import ACTIVE, Registration

    return list(db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id, Registration.status.in_(ACTIVE))
        .order_by(Registration.id).limit(MAX_SELECTION)
    ))


@bp.route("/bulk", methods=["GET", "POST"])
@login_required
def bulk_message(event_id: int):
    from tasks.services import active_task

    event = get_managed_event(event_id)
    form = BulkMessageForm()
    selected: set[int] = set()
    status = 200
    if request.method == "POST":
        selected = {int(value) for value in request.form.getlist("ids") if value.isdigit()}
        if form.validate_on_submit():
            running = active_task(event.id, services.BULK_KIND)
            if running is not None and running.params.get("subject") == form.subject.data.strip() \
                    and running.params.get("audience") == form.audience.data:
                flash(_("This message is already being queued."), "info")
                return redirect(url_for("tasks.task_detail", task_id=running.id))

            def work():
                task = services.start_bulk_message(
                    db.session.get(Event, event.id), audience=form.audience.data, ids=sorted(selected),
                    subject=form.subject.data, body=form.body.data, actor=current_user, now=utcnow())
                db.session.commit()
                return task.id

            try:
                task_id = run_write(db.session, work)
            except services.NotificationError as error:
                db.session.rollback()
                target = getattr(form, error.field, None) if error.field else None
                if target is not None:
                    target.errors = list(target.errors) + [error.message]
                else:
                    flash(error.message, "warning")
                status = 422
            else:
                flash(_("The message is being queued for every recipient; the outbox shows each one."), "success")
                return redirect(url_for("tasks.task_detail", task_id=task_id))
        else:
            status = 422
    counts = _audience_counts(event.id)
    return render_template(
        "notifications/bulk.html", event=event, form=form, registrations=_selectable(event), selected=selected,
        counts=counts, placeholders={n: texts.PLACEHOLDERS[n] for n in texts.PLACEHOLDERS
                                     if n in texts.COMMON_PLACEHOLDERS},
        limit=MAX_SELECTION,
    ), status


def _audience_counts(event_id: int) -> dict[str, int]:
    from registration.services import count_by_status

    return count_by_status(event_id)

