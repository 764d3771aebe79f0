from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from core.database import run_write
from core.templating import format_local, timezone_label
from core.types import utcnow
from events.models import Event, EventState
from events.schedule import RegistrationWindow, registration_window
from extensions import db, limiter
from registration import services
from registration.forms import PHONE_MESSAGES, PhoneField, SignupForm, required
from registration.identity import parse_phone
from registration.models import ACTIVE, MemberRole, Registration, RegistrationKind, RegistrationState
from registration.ticket_pdf import (DEFAULT_FONT_PATH, FONT_PACKAGE, TicketContent, TicketFontError, TicketLabels,
                                     render_ticket_pdf)
from registration.tickets import qr_png, ticket_token

bp = Blueprint("registration", __name__)


def _signup_rate_limit() -> str:
    return current_app.config.get("SIGNUP_RATE_LIMIT", "60 per minute")


def _public_event(event_id: int) -> Event:
    """A published event; its organizers may also open the form of a draft, to preview it."""
    from accounts.permissions import can_manage_event

    event = db.session.get(Event, event_id)
    if event is None or not (event.is_public or can_manage_event(current_user, event)):
        abort(404)
    return event


# C0 control characters (but tab and line breaks) and DEL: nobody types them, PostgreSQL refuses NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_form() -> MultiDict:
    """The posted form without control characters, for WTForms and the team rows."""
    return MultiDict([(key, _CONTROL.sub("", value)) for key, value in request.form.items(multi=True)])


def _team_rows(settings) -> dict[str, int]:
    return {"members": max(settings.team_max_members - 1, 0), "coaches": settings.team_max_coaches}


def _read_team(settings, formdata=None,
               rows: dict[str, int] | None = None) -> tuple[list[services.MemberData], list[str]]:
    """Team members and coaches from the form's numbered rows; blank rows are skipped."""
    members: list[services.MemberData] = []
    errors: list[str] = []
    formdata = request.form if formdata is None else formdata
    rows = rows or _team_rows(settings)
    for role, prefix, count in ((MemberRole.MEMBER, "member", rows["members"]), (MemberRole.COACH, "coach", rows["coaches"])):
        for i in range(count):
            name = _CONTROL.sub("", formdata.get(f"{prefix}_name_{i}") or "").strip()[:60]
            raw_phone = _CONTROL.sub("", formdata.get(f"{prefix}_phone_{i}") or "").strip()[:30]
            if not name and not raw_phone:
                continue
            if not name:
                errors.append(_("Row %(n)d: enter the name.", n=i + 1))
                continue
            phone = None
            if raw_phone or role == MemberRole.MEMBER:
                try:
                    phone = parse_phone(raw_phone)
                except ValueError as error:
                    errors.append(f"{name}: {PHONE_MESSAGES.get(str(error), PHONE_MESSAGES['invalid_phone'])}")
                    continue
            members.append(services.MemberData(role=role, name=name, phone=phone))
    return members, errors


def _custom_answers(event: Event):
    """The custom questions' answers from the posted form, checked (registration.fields.validate_answers)."""
    from registration.fields import validate_answers

    raw = {}
    for f in services.list_fields(event.id):
        name = f"f_{f.key}"
        raw[f.key] = request.form.getlist(name) if f.kind == "multi_choice" else request.form.get(name, "")[:5000]
    result = validate_answers(services.list_field_specs(event), raw)
    g.custom_errors = {key: services.answer_message(code) for key, code in result.errors.items()}
    return result


def _custom_context(event: Event, values: dict | None = None) -> dict:
    return {
        "custom_fields": services.list_fields(event.id),
        "custom_errors": getattr(g, "custom_errors", {}),
        "custom_values": values or {},
        "option_seats": services.option_seats(event.id),
    }


@bp.route("/e/<int:event_id>/register", methods=["GET", "POST"])
@limiter.limit(_signup_rate_limit, methods=["POST"])
def signup(event_id: int):
    event = _public_event(event_id)
    settings = services.get_settings(event)
    form = SignupForm(formdata=_clean_form() if request.method == "POST" else None).configure(settings, event)
    window = registration_window(utcnow(), event.registration_opens_at, event.registration_closes_at, event.ends_at)
    team_errors: list[str] = []
    duplicate = False
    status = 200
    if request.method == "POST":
        if window != RegistrationWindow.OPEN or event.status.value != "published":
            return render_template("registration/closed.html", event=event, window=window), 409
        members, team_errors = _read_team(settings) if settings.kind == RegistrationKind.TEAM else ([], [])
        if form.website.data:  # the honeypot: a person never sees this field
            abort(400)
        custom = _custom_answers(event)
        if form.validate_on_submit() and not team_errors and not custom.errors:
            data = services.SignupData(
                name=form.name.data, phone=form.phone.data, unit=form.unit.data,
                email=getattr(form, "email", None) and form.email.data,
                job_title=getattr(form, "job_title", None) and form.job_title.data,
                id_kind=getattr(form, "id_kind", None) and form.id_kind.data,
                id_number=getattr(form, "id_number", None) and form.id_number.data,
                group_name=getattr(form, "group_name", None) and form.group_name.data,
                team_name=getattr(form, "team_name", None) and form.team_name.data,
                members=members,
                session_ids=list(getattr(form, "sessions", None) and form.sessions.data or []),
                answers={**custom.answers, **({"note": form.note.data} if form.note.data else {})},
            )

            def work():
                fresh = db.session.get(Event, event_id)
                registration, key = services.register_participant(fresh, data, now=utcnow())
                db.session.commit()
                return registration, key

            try:
                _registration, key = run_write(db.session, work)
            except services.RegistrationError as error:
                db.session.rollback()
                if error.code in ("not_open", "not_open_yet", "closed"):
                    return render_template("registration/closed.html", event=event, window=window), 409
                if error.field and error.field.startswith("f_"):
                    g.custom_errors = {**getattr(g, "custom_errors", {}), error.field[2:]: error.message}
                target = getattr(form, error.field, None) if error.field in ("phone", "group_name", "team_name", "sessions") else None
                if target is not None:
                    target.errors = list(target.errors) + [error.message]
                else:
                    team_errors.append(error.message)
                duplicate = error.code == "duplicate"  # the page links to "find my sign-up"
                status = error.status
            else:
                return redirect(url_for("registration.manage", key=key))
        else:
            status = 422
    elif window != RegistrationWindow.OPEN:
        return render_template("registration/closed.html", event=event, window=window), 200
    return render_template(
        "registration/signup.html", event=event, form=form, settings=settings, rows=_team_rows(settings),
        team_errors=team_errors, seats_left=None if event.capacity is None else max(event.capacity - event.seats_taken, 0),
        duplicate=duplicate, **_custom_context(event),
    ), status


def _registration_by_key(key: str) -> Registration:
    registration = services.find_by_manage_key(key)
    if registration is None:
        abort(404)
    return registration


@bp.route("/r/<key>")
def manage(key: str):
    registration = _registration_by_key(key)
    return _private(make_response(render_template(
        "registration/manage.html", registration=registration, event=registration.event, key=key,
        position=services.waitlist_position(registration),
        token=ticket_token(registration) if registration.status == RegistrationState.APPROVED else None,
        edit_blocked=_edit_blocked(registration),
    )))


@bp.route("/r/<key>/ticket.png")
def ticket_png(key: str):
    registration = _registration_by_key(key)
    if registration.status != RegistrationState.APPROVED:
        abort(404)
    response = make_response(qr_png(ticket_token(registration)))
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "private, no-store"
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="ticket-{registration.id}.png"'
    return response


@bp.route("/r/<key>/cancel", methods=["POST"])
def cancel(key: str):
    registration = _registration_by_key(key)
    perform(lambda: services.cancel_registration(db.session.get(Registration, registration.id), now=utcnow()),
            success=_("Your sign-up has been cancelled."))
    return redirect(url_for("registration.manage", key=key))


def perform(action, *, success: str) -> bool:
    """Run one sign-up use case as a write unit of work and commit; flash the outcome. False when refused."""

    def work():
        action()
        db.session.commit()

    try:
        run_write(db.session, work)
    except services.RegistrationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return False
    flash(success, "success")
    return True



# ---------------------------------------------------------------- the ticket as a PDF


def _event_when(event: Event) -> str:
    """“2026-12-12 08:30 – 16:30 (Beijing time)”: the event's times in its own time zone."""
    start = format_local(event.starts_at, event.timezone)
    day = format_local(event.starts_at, event.timezone, "date")
    same_day = day == format_local(event.ends_at, event.timezone, "date")
    end = format_local(event.ends_at, event.timezone, "time" if same_day else "medium")
    return f"{start} – {end} ({timezone_label(event.timezone)})"


def _ticket_content(registration: Registration, token: str) -> TicketContent:
    event = registration.event
    details: list[tuple[str, str]] = []
    if registration.unit:
        details.append((_("Unit"), registration.unit))
    if registration.kind == RegistrationKind.TEAM:
        details.append((_("Team"), registration.name))
    if registration.group_name:
        details.append((_("Group"), registration.group_name))
    for role, label in ((MemberRole.MEMBER, _("Members")), (MemberRole.COACH, _("Coaches"))):
        names = [m.name for m in sorted(registration.members, key=lambda m: m.position) if m.role == role]
        if names:
            details.append((label, "、".join(names)))
    return TicketContent(
        event_title=event.title, when=_event_when(event), venue=event.venue or "", holder=registration.contact_name,
        token=token, qr_png=qr_png(token), details=details, organization=event.organization.name,
        labels=TicketLabels(heading=_("Admission ticket"), time=_("Time"), venue=_("Venue"),
                            token=_("Ticket code"), instructions=_("Show this code at the entrance.")),
    )


@bp.route("/r/<key>/ticket.pdf")
def ticket_pdf(key: str):
    registration = _registration_by_key(key)
    if registration.status != RegistrationState.APPROVED:
        abort(404)
    font_path = current_app.config.get("TICKET_PDF_FONT") or DEFAULT_FONT_PATH
    try:
        pdf = render_ticket_pdf(_ticket_content(registration, ticket_token(registration)), font_path=font_path)
    except TicketFontError as error:
        current_app.logger.error("PDF ticket: font %s is %s; install the %s package or set TICKET_PDF_FONT",
                                 error.path, error.reason, FONT_PACKAGE)
        message = _("The PDF ticket cannot be made right now: the server lacks the Chinese font it needs. "
                    "The QR code on your sign-up page works as your ticket. (For the administrator: install the "
                    "%(package)s package, or set TICKET_PDF_FONT to a TrueType font file.)", package=FONT_PACKAGE)
        return render_template("errors/generic.html", status=503, message=message), 503
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="ticket-{registration.id}.pdf"'
    return _private(response)


def _private(response):
    """Pages and files behind a "manage my sign-up" link: never cached by others, never leak the link."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# ---------------------------------------------------------------- change my sign-up


def _edit_blocked(registration: Registration) -> str | None:
    """Why this sign-up cannot be changed now, or None."""
    if registration.status == RegistrationState.CANCELLED:
        return _("This sign-up has been cancelled, so it can no longer be changed.")
    if registration.status not in ACTIVE:
        return _("This sign-up was not approved, so it can no longer be changed.")
    event = registration.event
    window = registration_window(utcnow(), event.registration_opens_at, event.registration_closes_at, event.ends_at)
    if event.status != EventState.PUBLISHED or window != RegistrationWindow.OPEN:
        return _("Registration is closed, so sign-ups can no longer be changed. Please contact the organizer.")
    return None


def _edit_rows(settings, registration: Registration) -> dict[str, int]:
    """Enough rows for the team as it is, even if the organizer lowered the limits since."""
    rows = _team_rows(settings)
    members = sum(1 for m in registration.members if m.role == MemberRole.MEMBER)
    coaches = sum(1 for m in registration.members if m.role == MemberRole.COACH)
    return {"members": max(rows["members"], members), "coaches": max(rows["coaches"], coaches)}


def _edit_values(registration: Registration) -> dict[str, str]:
    """The team rows' current values, named like the form's inputs."""
    values: dict[str, str] = {}
    for role, prefix in ((MemberRole.MEMBER, "member"), (MemberRole.COACH, "coach")):
        people = [m for m in sorted(registration.members, key=lambda m: m.position) if m.role == role]
        for i, person in enumerate(people):
            values[f"{prefix}_name_{i}"] = person.name
            values[f"{prefix}_phone_{i}"] = person.phone or ""
    return values


def _edit_form(settings, event: Event, registration: Registration, formdata) -> SignupForm:
    data = None if formdata is not None else {
        "name": registration.contact_name, "phone": registration.phone, "unit": registration.unit,
        "email": registration.email, "job_title": registration.job_title, "group_name": registration.group_name,
        "team_name": registration.name if registration.kind == RegistrationKind.TEAM else None,
    }
    form = SignupForm(formdata=formdata, data=data).configure(settings, event)
    for name in ("id_kind", "id_number", "sessions", "note", "website"):  # not changed here
        if getattr(form, name, None) is not None:
            del form[name]
    return form


@bp.route("/r/<key>/edit", methods=["GET", "POST"])
@limiter.limit(_signup_rate_limit, methods=["POST"])
def edit(key: str):
    registration = _registration_by_key(key)
    event = registration.event
    settings = services.get_settings(event)
    context = {"registration": registration, "event": event, "key": key, "settings": settings}
    blocked = _edit_blocked(registration)
    if blocked:
        page = render_template("registration/edit.html", blocked=blocked, form=None, **context)
        return _private(make_response(page, 409 if request.method == "POST" else 200))
    team = registration.kind == RegistrationKind.TEAM
    rows = _edit_rows(settings, registration)
    team_errors: list[str] = []
    status = 200
    if request.method == "POST":
        formdata = _clean_form()
        values = formdata
        form = _edit_form(settings, event, registration, formdata)
        members, team_errors = _read_team(settings, formdata, rows) if team else ([], [])
        if form.validate_on_submit() and not team_errors:
            data = services.SignupData(
                name=form.name.data, phone=form.phone.data, unit=form.unit.data,
                email=form.email.data if form.email else None,
                job_title=form.job_title.data if form.job_title else None,
                group_name=form.group_name.data if form.group_name else None,
                team_name=form.team_name.data if form.team_name else None,
                members=members,
            )

            def work():
                fresh = db.session.get(Registration, registration.id)
                changed = services.update_registration(fresh, data, now=utcnow())
                db.session.commit()
                return changed

            try:
                changed = run_write(db.session, work)
            except services.RegistrationError as error:
                db.session.rollback()
                if error.code in ("not_open", "not_open_yet", "closed", "not_active"):
                    page = render_template("registration/edit.html", blocked=error.message, form=None, **context)
                    return _private(make_response(page, 409))
                target = getattr(form, error.field, None) if error.field in ("phone", "group_name", "team_name") \
                    else None
                if target is not None:
                    target.errors = list(target.errors) + [error.message]
                else:
                    team_errors.append(error.message)
                status = error.status
            else:
                if changed:
                    flash(_("Your changes have been saved."), "success")
                else:
                    flash(_("Nothing was changed."), "info")
                return redirect(url_for("registration.manage", key=key))
        else:
            status = 422
    else:
        form = _edit_form(settings, event, registration, None)
        values = _edit_values(registration)
    page = render_template("registration/edit.html", blocked=None, form=form, rows=rows, values=values,
                           team_errors=team_errors, **context)
    return _private(make_response(page, status))


# ---------------------------------------------------------------- find my sign-up (a lost link)


def _find_rate_limit() -> str:
    return current_app.config.get("FIND_RATE_LIMIT", "10 per minute")


class SignupFindForm(FlaskForm):
    name = StringField(_l("Full name"), description=_l("For a team: the team leader's name."),
                       validators=[DataRequired(required), Length(max=60, message=_l("At most 60 characters."))])
    phone = PhoneField(_l("Mobile phone"), validators=[Length(max=30, message=_l("At most 30 characters."))])


@bp.route("/e/<int:event_id>/find", methods=["GET", "POST"])
@limiter.limit(_find_rate_limit, methods=["POST"])
def find(event_id: int):
    """Phone and name of an active sign-up → a new private link. A miss says only “no matching sign-up”, never
    whether the phone number is signed up (rate-limited, so names cannot be guessed at speed)."""
    event = _public_event(event_id)
    form = SignupFindForm(formdata=_clean_form() if request.method == "POST" else None)
    not_found = False
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            def work():
                registration = services.find_for_recovery(event.id, form.phone.data, form.name.data)
                if registration is None:
                    return None
                new_key = services.reissue_manage_key(registration, now=utcnow())
                db.session.commit()
                return new_key

            key = run_write(db.session, work)
            if key is not None:
                flash(_("Here is your sign-up. Bookmark this page: it has a new private address, and the old link "
                        "no longer works."), "success")
                return redirect(url_for("registration.manage", key=key))
            not_found = True
        else:
            status = 422
    return render_template("registration/find.html", event=event, form=form, not_found=not_found), status


# Organizer pages register their routes on the same blueprint.
from registration import field_views, organizer_views  # noqa: E402,F401
from registration import checkin_views  # noqa: E402,F401
from registration import badge_views  # noqa: E402,F401
