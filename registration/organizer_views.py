"""Organizer pages of sign-ups: the list with counts and filters, a sign-up's detail, approve, reject, settings."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.database import run_write
from core.types import utcnow
from events.views import get_managed_event
from extensions import db
from registration import services
from registration.forms import RegistrationSettingsForm, RejectForm
from registration.models import Registration, RegistrationKind, RegistrationState
from registration.views import bp

MAX_PAGE = 200


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


@bp.route("/manage/events/<int:event_id>/registration-settings", methods=["GET", "POST"])
@login_required
def settings(event_id: int):
    event = get_managed_event(event_id)
    current = services.get_settings(event)
    form = RegistrationSettingsForm()
    if not form.is_submitted():
        form.kind.data = current.kind.value
        form.team_min_members.data = current.team_min_members
        form.team_max_members.data = current.team_max_members
        form.team_max_coaches.data = current.team_max_coaches
        form.groups.data = "\n".join(current.groups or [])
        form.ask_id_number.data = current.ask_id_number
        form.ask_email.data = current.ask_email
        form.ask_job_title.data = current.ask_job_title
        form.allow_session_choice.data = current.allow_session_choice
    if form.validate_on_submit():
        try:
            services.save_settings(
                event, kind=RegistrationKind(form.kind.data), team_min_members=form.team_min_members.data,
                team_max_members=form.team_max_members.data, team_max_coaches=form.team_max_coaches.data,
                groups=form.group_list(), ask_id_number=form.ask_id_number.data, ask_email=form.ask_email.data,
                ask_job_title=form.ask_job_title.data, allow_session_choice=form.allow_session_choice.data,
                actor=current_user, now=utcnow(),
            )
        except services.RegistrationError as error:
            db.session.rollback()
            getattr(form, error.field or "kind").errors = [error.message]
        else:
            db.session.commit()
            flash(_("Sign-up settings saved."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("registration/settings.html", event=event, form=form), 422 if form.errors else 200
