from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.database import run_write
from core.types import utcnow
from events.models import Event
from events.schedule import RegistrationWindow, registration_window
from events.views import get_managed_event
from extensions import db, limiter
from registration import services
from registration.forms import PHONE_MESSAGES, RejectForm, SignupForm
from registration.identity import parse_phone
from registration.models import MemberRole, Registration, RegistrationKind, RegistrationState
from registration.tickets import qr_png, ticket_token

bp = Blueprint("registration", __name__)

MAX_PAGE = 200


def _signup_rate_limit() -> str:
    return current_app.config.get("SIGNUP_RATE_LIMIT", "60 per minute")


def _public_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or not event.is_public:
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
        if form.validate_on_submit() and not team_errors:
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
                answers={"note": form.note.data} if form.note.data else {},
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


# ---------------------------------------------------------------- organizer pages


@bp.route("/manage/events/<int:event_id>/registrations")
@login_required
def organizer_list(event_id: int):
    event = get_managed_event(event_id)
    status = request.args.get("status", "")
    q = (request.args.get("q") or "").strip()[:100]
    query = sa.select(Registration).where(Registration.event_id == event.id)
    if status in {s.value for s in RegistrationState}:
        query = query.where(Registration.status == RegistrationState(status))
    if q:
        like = f"%{q}%"
        query = query.where(sa.or_(Registration.name.ilike(like), Registration.contact_name.ilike(like),
                                   Registration.unit.ilike(like), Registration.phone.like(f"%{q}")))
    registrations = list(db.session.scalars(query.order_by(Registration.id).limit(MAX_PAGE)))
    return render_template(
        "registration/list.html", event=event, registrations=registrations, counts=services.count_by_status(event.id),
        status=status, q=q, reject_form=RejectForm(), limit=MAX_PAGE,
    )


def _managed_registration(event_id: int, registration_id: int) -> Registration:
    event = get_managed_event(event_id)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        abort(404)
    return registration


@bp.route("/manage/events/<int:event_id>/registrations/<int:registration_id>")
@login_required
def organizer_detail(event_id: int, registration_id: int):
    registration = _managed_registration(event_id, registration_id)
    return render_template("registration/detail.html", registration=registration, event=registration.event,
                           reject_form=RejectForm(), position=services.waitlist_position(registration))


@bp.route("/manage/events/<int:event_id>/registrations/<int:registration_id>/approve", methods=["POST"])
@login_required
def approve(event_id: int, registration_id: int):
    registration = _managed_registration(event_id, registration_id)  # CSRF is checked for every POST

    def work():
        services.approve_registration(db.session.get(Registration, registration.id), now=utcnow(), actor=current_user)
        db.session.commit()

    try:
        run_write(db.session, work)
    except services.RegistrationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("Approved."), "success")
    return redirect(request.referrer if _same_site(request.referrer) else url_for("registration.organizer_list", event_id=event_id))


@bp.route("/manage/events/<int:event_id>/registrations/<int:registration_id>/reject", methods=["POST"])
@login_required
def reject(event_id: int, registration_id: int):
    registration = _managed_registration(event_id, registration_id)
    form = RejectForm()
    if not form.validate_on_submit():
        flash(form.reason.errors[0] if form.reason.errors else _("Give a reason for the rejection."), "error")
        return redirect(url_for("registration.organizer_detail", event_id=event_id, registration_id=registration_id))

    def work():
        services.reject_registration(db.session.get(Registration, registration.id), reason=form.reason.data,
                                     now=utcnow(), actor=current_user)
        db.session.commit()

    try:
        run_write(db.session, work)
    except services.RegistrationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("Rejected; the participant can see the reason."), "success")
    return redirect(url_for("registration.organizer_detail", event_id=event_id, registration_id=registration_id))


def _same_site(url: str | None) -> bool:
    from urllib.parse import urlsplit

    if not url:
        return False
    parts = urlsplit(url)
    return parts.netloc == request.host and parts.path.startswith("/manage/")
