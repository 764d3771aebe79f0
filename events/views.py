from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.permissions import (
    can_manage_event,
    can_see_event_admin,
    organization_ids_visible_to,
    organizations_managed_by,
    roles_for_event,
)
from core.timezones import local_to_utc, utc_to_local
from core.types import utcnow
from events import services
from events.forms import ConfirmForm, EventForm, SessionForm
from events.models import Event, EventKind, EventSession, HostRole
from events.schedule import registration_window
from extensions import db

bp = Blueprint("events", __name__, url_prefix="/manage")
public_bp = Blueprint("public_events", __name__)


# ---------------------------------------------------------------- loading and access


def get_event_for_staff(event_id: int) -> Event:
    """Any role in the event: 404 for everyone else, so other organizations cannot learn it exists."""
    event = db.session.get(Event, event_id)
    if event is None or not can_see_event_admin(current_user, event):
        abort(404)
    return event


def get_managed_event(event_id: int) -> Event:
    event = get_event_for_staff(event_id)
    if not can_manage_event(current_user, event):
        abort(403)
    return event


def get_managed_session(event_id: int, session_id: int) -> EventSession:
    event = get_managed_event(event_id)
    session = db.session.get(EventSession, session_id)
    if session is None or session.event_id != event.id:
        abort(404)
    return session


# ---------------------------------------------------------------- form <-> data


def _event_data(form: EventForm) -> services.EventData:
    tz = form.timezone.data
    return services.EventData(
        kind=EventKind(form.kind.data),
        title=form.title.data,
        description=form.description.data or "",
        venue=form.venue.data or "",
        starts_at=local_to_utc(form.starts_at.data, tz),
        ends_at=local_to_utc(form.ends_at.data, tz),
        timezone=tz,
        capacity=form.capacity.data,
        registration_opens_at=local_to_utc(form.registration_opens_at.data, tz),
        registration_closes_at=local_to_utc(form.registration_closes_at.data, tz),
        requires_approval=bool(form.requires_approval.data),
        hosts=form.host_lists(),
    )


def _fill_event_form(form: EventForm, event: Event) -> None:
    tz = event.timezone
    form.kind.data = event.kind.value
    form.title.data = event.title
    form.description.data = event.description
    form.venue.data = event.venue
    form.timezone.data = tz
    form.starts_at.data = utc_to_local(event.starts_at, tz)
    form.ends_at.data = utc_to_local(event.ends_at, tz)
    form.capacity.data = event.capacity
    form.registration_opens_at.data = utc_to_local(event.registration_opens_at, tz)
    form.registration_closes_at.data = utc_to_local(event.registration_closes_at, tz)
    form.requires_approval.data = event.requires_approval
    form.hosts.data = "\n".join(event.host_names(HostRole.HOST))
    form.organizers.data = "\n".join(event.host_names(HostRole.ORGANIZER))
    form.co_organizers.data = "\n".join(event.host_names(HostRole.CO_ORGANIZER))


def _session_data(form: SessionForm, tz: str) -> services.SessionData:
    return services.SessionData(
        title=form.title.data,
        starts_at=local_to_utc(form.starts_at.data, tz),
        ends_at=local_to_utc(form.ends_at.data, tz),
        room=form.room.data or "",
        capacity=form.capacity.data,
    )


def _attach_error(form, error: services.EventError) -> int:
    """Show a service error next to its field (or as a message); return the status the page answers with."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")
    return error.status


def _form_status(form, error_status: int | None) -> int:
    return error_status or (422 if form.errors else 200)


# ---------------------------------------------------------------- organizer pages


@bp.route("/")
@login_required
def dashboard():
    events = services.list_events_for_organizations(organization_ids_visible_to(current_user))
    visible = [e for e in events if can_see_event_admin(current_user, e)]
    return render_template(
        "events/dashboard.html",
        events=visible,
        can_create=bool(organizations_managed_by(current_user)),
        manageable={e.id for e in visible if can_manage_event(current_user, e)},
    )


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def create_event():
    organizations = organizations_managed_by(current_user)
    if not organizations:
        abort(403)
    form = EventForm()
    form.organization_id.choices = [(o.id, o.name) for o in organizations]
    if not form.is_submitted():
        form.timezone.data = form.timezone.data or "Asia/Shanghai"
    error_status = None
    if form.validate_on_submit():
        organization = next(o for o in organizations if o.id == form.organization_id.data)
        try:
            event = services.create_event(organization, _event_data(form), actor=current_user, now=utcnow())
        except services.EventError as error:
            db.session.rollback()
            error_status = _attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The event has been created as a draft. Add its sessions, then publish it."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/form.html", form=form, event=None), _form_status(form, error_status)


@bp.route("/events/<int:event_id>")
@login_required
def detail(event_id: int):
    event = get_event_for_staff(event_id)
    return render_template(
        "events/detail.html",
        event=event,
        can_manage=can_manage_event(current_user, event),
        roles=roles_for_event(current_user, event),
        confirm_form=ConfirmForm(),
        window=registration_window(utcnow(), event.registration_opens_at, event.registration_closes_at, event.ends_at),
    )


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit_event(event_id: int):
    event = get_managed_event(event_id)
    form = EventForm()
    form.organization_id.choices = [(event.organization_id, event.organization.name)]
    if not form.is_submitted():
        _fill_event_form(form, event)
        form.organization_id.data = event.organization_id
    else:
        form.organization_id.data = event.organization_id
    error_status = None
    if form.validate_on_submit():
        try:
            services.update_event(event, _event_data(form), actor=current_user, now=utcnow())
        except services.EventError as error:
            db.session.rollback()
            error_status = _attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/form.html", form=form, event=event), _form_status(form, error_status)


def _state_action(event_id: int, action, success: str):
    event = get_managed_event(event_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        action(event, actor=current_user, now=utcnow())
    except services.EventError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for("events.detail", event_id=event.id))


@bp.route("/events/<int:event_id>/publish", methods=["POST"])
@login_required
def publish_event(event_id: int):
    return _state_action(event_id, services.publish_event, _("The event is published; its public page is live."))


@bp.route("/events/<int:event_id>/unpublish", methods=["POST"])
@login_required
def unpublish_event(event_id: int):
    return _state_action(event_id, services.unpublish_event, _("The event is back to draft; its public page is hidden."))


@bp.route("/events/<int:event_id>/archive", methods=["POST"])
@login_required
def archive_event(event_id: int):
    return _state_action(event_id, services.archive_event, _("The event is archived. It stays readable but can no longer change."))


@bp.route("/events/<int:event_id>/sessions/new", methods=["GET", "POST"])
@login_required
def create_session(event_id: int):
    event = get_managed_event(event_id)
    form = SessionForm()
    if not form.is_submitted():
        form.starts_at.data = utc_to_local(event.starts_at, event.timezone)
        form.ends_at.data = utc_to_local(event.ends_at, event.timezone)
    error_status = None
    if form.validate_on_submit():
        try:
            services.add_session(event, _session_data(form, event.timezone), actor=current_user, now=utcnow())
        except services.EventError as error:
            db.session.rollback()
            error_status = _attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Session added."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/session_form.html", form=form, event=event, session=None), _form_status(form, error_status)


@bp.route("/events/<int:event_id>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit_session(event_id: int, session_id: int):
    session = get_managed_session(event_id, session_id)
    event = session.event
    form = SessionForm(obj=None)
    if not form.is_submitted():
        form.title.data = session.title
        form.room.data = session.room
        form.capacity.data = session.capacity
        form.starts_at.data = utc_to_local(session.starts_at, event.timezone)
        form.ends_at.data = utc_to_local(session.ends_at, event.timezone)
    error_status = None
    if form.validate_on_submit():
        try:
            services.update_session(session, _session_data(form, event.timezone), actor=current_user, now=utcnow())
        except services.EventError as error:
            db.session.rollback()
            error_status = _attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/session_form.html", form=form, event=event, session=session), _form_status(form, error_status)


@bp.route("/events/<int:event_id>/sessions/<int:session_id>/delete", methods=["POST"])
@login_required
def delete_session(event_id: int, session_id: int):
    session = get_managed_session(event_id, session_id)
    event_id = session.event_id
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.delete_session(session, actor=current_user, now=utcnow())
    except services.EventError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Session deleted."), "success")
    return redirect(url_for("events.detail", event_id=event_id))


# ---------------------------------------------------------------- public pages


@public_bp.route("/")
def index():
    return render_template("events/index.html", events=services.list_public_events(now=utcnow()))


@public_bp.route("/e/<int:event_id>")
def public_page(event_id: int):
    event = db.session.get(Event, event_id)
    if event is None or not event.is_public:
        abort(404)
    return render_template(
        "events/public.html",
        event=event,
        window=registration_window(utcnow(), event.registration_opens_at, event.registration_closes_at, event.ends_at),
    )
