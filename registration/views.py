from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.database import run_write
from core.types import utcnow
from events.models import Event
from events.schedule import RegistrationWindow, registration_window
from extensions import db, limiter
from registration import services
from registration.forms import PHONE_MESSAGES, SignupForm
from registration.identity import parse_phone
from registration.models import MemberRole, Registration, RegistrationKind, RegistrationState
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


def _team_rows(settings) -> dict[str, int]:
    return {"members": max(settings.team_max_members - 1, 0), "coaches": settings.team_max_coaches}


def _read_team(settings) -> tuple[list[services.MemberData], list[str]]:
    """Team members and coaches from the form's numbered rows; blank rows are skipped."""
    members: list[services.MemberData] = []
    errors: list[str] = []
    rows = _team_rows(settings)
    for role, prefix, count in ((MemberRole.MEMBER, "member", rows["members"]), (MemberRole.COACH, "coach", rows["coaches"])):
        for i in range(count):
            name = (request.form.get(f"{prefix}_name_{i}") or "").strip()[:60]
            raw_phone = (request.form.get(f"{prefix}_phone_{i}") or "").strip()[:30]
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
    form = SignupForm().configure(settings, event)
    window = registration_window(utcnow(), event.registration_opens_at, event.registration_closes_at, event.ends_at)
    team_errors: list[str] = []
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
                if error.code == "duplicate":
                    flash(_("You have already signed up. Use the link in your confirmation, or find your sign-up below."), "warning")
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
        **_custom_context(event),
    ), status


def _registration_by_key(key: str) -> Registration:
    registration = services.find_by_manage_key(key)
    if registration is None:
        abort(404)
    return registration


@bp.route("/r/<key>")
def manage(key: str):
    registration = _registration_by_key(key)
    response = make_response(render_template(
        "registration/manage.html", registration=registration, event=registration.event, key=key,
        position=services.waitlist_position(registration),
        token=ticket_token(registration) if registration.status == RegistrationState.APPROVED else None,
    ))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is the key: never leak it
    return response


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

    def work():
        fresh = db.session.get(Registration, registration.id)
        services.cancel_registration(fresh, now=utcnow())
        db.session.commit()

    try:
        run_write(db.session, work)
    except services.RegistrationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("Your sign-up has been cancelled."), "success")
    return redirect(url_for("registration.manage", key=key))




# Organizer pages register their routes on the same blueprint.
from registration import field_views, organizer_views  # noqa: E402,F401
