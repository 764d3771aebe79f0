"""Walk-ins at the door over the JSON API: ``POST /api/v1/events/<id>/walkins`` signs a person up and checks them
in, in one step (rules in ``registration.walkin``). Same access as check-in: check-in staff, organizers, admins.

Body: ``{"name", "phone", "unit", "email", "group", "session_id", "nonce"}`` → ``201 {"result": "registered",
"registration": {"id", "name", "unit"}, "checked_in_at", …}``. Errors are JSON with a code: ``invalid`` (422,
with ``field``), ``duplicate`` (409, with the existing sign-up when there is one, so the phone can check them in
from the list), ``full`` (409), ``team_event`` (409), ``not_open`` / ``archived`` (409), ``nonce_reused`` (409).
"""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user, login_required

from api.checkins import NONCE, _error, _event_for_checkin, _invalid, _json_object, _optional_id, _write
from api.views import bp
from core.types import utcnow
from events.models import Event
from extensions import db
from registration.checkin import CheckinError
from registration.walkin import WalkIn, register_walk_in

TEXT_MAX = 300  # longer than any field may be; the service checks each field's own limit


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > TEXT_MAX:
        raise _invalid(name, _("%(field)s must be text.", field=name))
    return value.strip()


def _read_walk_in() -> tuple[WalkIn, str]:
    data = _json_object()
    nonce = data.get("nonce")
    if not isinstance(nonce, str) or not NONCE.fullmatch(nonce):
        raise _invalid("nonce", _("nonce must be 1 to 64 printable ASCII characters, new for every scan."))
    walk_in = WalkIn(name=_text(data, "name"), phone=_text(data, "phone"), unit=_text(data, "unit"),
                     email=_text(data, "email"), group_name=_text(data, "group") or None,
                     session_id=_optional_id(data, "session_id"))
    return walk_in, nonce


@bp.post("/events/<int:event_id>/walkins")
@login_required
def create_walk_in(event_id: int):
    _event_for_checkin(event_id)
    try:
        walk_in, nonce = _read_walk_in()
    except CheckinError as error:
        return _error(error)
    now = utcnow()

    def work():
        outcome = register_walk_in(db.session.get(Event, event_id), walk_in, nonce=nonce, actor=current_user,
                                   now=now)
        db.session.commit()
        return outcome

    try:
        outcome = _write(work)
    except CheckinError as error:
        db.session.rollback()
        return _error(error)
    response = jsonify(outcome.body)
    response.status_code = outcome.status
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
