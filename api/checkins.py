"""Check-in at the door over the JSON API (SPEC "JSON API (version 1)"): the scanner's POST, undo, search, and the
roster a phone keeps for working offline. Routes register on the ``api`` blueprint (Bearer token, or the session
cookie with the CSRF header on writes; see ``api.views``).

Each handler loads the event, checks access (no role in its organization: 404; a role without check-in: 403),
validates the JSON, runs one unit of work through ``core.database.run_write`` and answers. Bad input is a 400/413/422
JSON error, never a 500. The check-in rules, status codes and the idempotency by nonce are in
``registration.checkin``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import abort, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from accounts.permissions import can_check_in, can_see_event_admin
from api.views import bp, iso
from core.database import run_write
from core.masking import mask_phone
from core.types import utcnow
from events.models import Event
from extensions import db
from registration import checkin
from registration.checkin import CheckinError, RosterEntry
from registration.models import CheckInSource, MemberRole

MAX_BODY = 16 * 1024  # a scan is a few hundred bytes
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
NONCE = re.compile(rf"[\x21-\x7e]{{1,{checkin.NONCE_MAX}}}")  # printable ASCII, no spaces: a UUID, base64…
CONFLICT_RETRIES = 3


_EVENT_BY_ID = sa.select(Event).where(Event.id == sa.bindparam("event_id"))  # built once: see registration.checkin


def _event_for_checkin(event_id: int) -> Event:
    event = db.session.scalar(_EVENT_BY_ID, {"event_id": event_id})
    if event is None or not can_see_event_admin(current_user, event):
        abort(404)
    if not can_check_in(current_user, event):
        abort(403)
    return event


def _error(error: CheckinError):
    response = jsonify(checkin.error_body(error))
    response.status_code = error.status
    return response


def _invalid(field: str, message: str, status: int = 422) -> CheckinError:
    return CheckinError("invalid" if status == 422 else "bad_request", message, status=status, record=False,
                        field=field)


def _json_object() -> dict:
    """The request's JSON object; 400 when it is not one (bad JSON, an array, nested too deep), 413 when too big."""
    if (request.content_length or 0) > MAX_BODY:
        abort(413)  # answered as JSON by core.http
    raw = request.get_data(cache=True)  # without a length (chunked): read up to the app's MAX_CONTENT_LENGTH
    if len(raw) > MAX_BODY:
        abort(413)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise _invalid("body", _("The request body is not valid JSON."), status=400) from None
    if not isinstance(data, dict):
        raise _invalid("body", _("Send a JSON object."), status=400)
    return data


def _optional_id(data: dict, name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise _invalid(name, _("%(field)s must be a positive whole number or null.", field=name))
    return value


def _scanned_at(data: dict) -> datetime | None:
    value = data.get("scanned_at")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise _invalid("scanned_at", _("scanned_at must be an ISO 8601 time with its offset, or null."))
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _invalid("scanned_at", _("scanned_at must be an ISO 8601 time with its offset, or null.")) from None
    if parsed.tzinfo is None:
        raise CheckinError("invalid_scanned_at", _("The scan time must include its time zone."), status=422,
                           record=False, field="scanned_at")
    return parsed


@dataclass(frozen=True)
class Scan:
    token: str | None
    registration_id: int | None
    session_id: int | None
    nonce: str
    scanned_at: datetime | None

    @property
    def source(self) -> CheckInSource:
        return CheckInSource.SCAN if self.token is not None else CheckInSource.MANUAL


def _read_scan() -> Scan:
    """``{"token", "session_id", "nonce", "scanned_at"}``; instead of ``token``, ``registration_id`` checks in a
    sign-up found on the list by hand."""
    data = _json_object()
    token = data.get("token")
    registration_id = _optional_id(data, "registration_id")
    if token is not None and not isinstance(token, str):
        raise _invalid("token", _("token must be the text of the QR code."))
    if (token is None) == (registration_id is None):
        raise _invalid("token", _("Send the ticket's token (or, for a check-in by hand, registration_id)."))
    nonce = data.get("nonce")
    if not isinstance(nonce, str) or not NONCE.fullmatch(nonce):
        raise _invalid("nonce", _("nonce must be 1 to 64 printable ASCII characters, new for every scan."))
    return Scan(token=token, registration_id=registration_id, session_id=_optional_id(data, "session_id"),
                nonce=nonce, scanned_at=_scanned_at(data))


def _write(work):
    """Run a unit of work; when a concurrent request won a race or the scan's nonce was used before (a unique
    constraint refused our row), roll back and run it again: it then reads the winner's rows, or (a scan looks its
    nonce up when run again) the nonce's stored answer (see registration.checkin)."""
    for attempt in range(CONFLICT_RETRIES):
        try:
            return run_write(db.session, work)
        except IntegrityError:
            db.session.rollback()
            if attempt == CONFLICT_RETRIES - 1:
                raise CheckinError("busy", _("Many scans at once; please try again."), status=409,
                                   record=False) from None
    raise AssertionError("unreachable")


def _refused(event_id: int, error: CheckinError, scan: Scan, now: datetime):
    """The answer to a refused scan (its unit of work rolled back), in a new unit of work: the first answer when the
    same request came before with this nonce, else the refusal, kept when it is a failed scan."""

    def work():
        event = db.session.get(Event, event_id)
        replayed = checkin.handle_refusal(
            event, error, token=scan.token, registration_id=scan.registration_id, session_id=scan.session_id,
            nonce=scan.nonce, actor=current_user, now=now, source=scan.source)
        db.session.commit()
        return replayed

    try:
        replayed = run_write(db.session, work)
    except IntegrityError:  # a concurrent request with the same nonce recorded the same failure
        db.session.rollback()
        return _error(error)
    except CheckinError as reused:  # the nonce came before with another request
        db.session.rollback()
        return _error(reused)
    return _error(error) if replayed is None else _answer(replayed)


def _answer(outcome: checkin.CheckinOutcome):
    response = jsonify(outcome.body)
    response.status_code = outcome.status
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/events/<int:event_id>/checkins")
@login_required
def create_checkin(event_id: int):
    """A scan. The first try skips the look-up of the nonce (nearly every nonce is new; a used one fails on its
    unique constraint and the retry looks it up), and a refusal looks it up before it is kept: the answer is the
    same as with the look-up first, for one query less."""
    _event = _event_for_checkin(event_id)  # kept: the unit of work below finds it in the session
    try:
        scan = _read_scan()
    except CheckinError as error:
        return _error(error)
    now = utcnow()

    runs = []

    def work():
        retry = bool(runs)  # run again after a conflict (or an SQLite lock): look the nonce up first
        runs.append(retry)
        fresh = db.session.get(Event, event_id)
        if scan.token is not None:
            outcome = checkin.check_in(fresh, scan.token, session_id=scan.session_id, nonce=scan.nonce,
                                       scanned_at=scan.scanned_at, actor=current_user, now=now, source=scan.source,
                                       check_replay=retry)
        else:
            outcome = checkin.check_in_registration(fresh, scan.registration_id, session_id=scan.session_id,
                                                    nonce=scan.nonce, scanned_at=scan.scanned_at, actor=current_user,
                                                    now=now, source=scan.source, check_replay=retry)
        db.session.commit()
        return outcome

    try:
        outcome = _write(work)
    except CheckinError as error:
        db.session.rollback()
        return _refused(event_id, error, scan, now)
    return _answer(outcome)


@bp.post("/events/<int:event_id>/checkins/undo")
@login_required
def undo_checkin(event_id: int):
    """Undo the caller's last check-in at the event (or at ``session_id``): ``{"session_id": null}``."""
    _event_for_checkin(event_id)
    try:
        session_id = _optional_id(_json_object(), "session_id")
    except CheckinError as error:
        return _error(error)
    now = utcnow()

    def work():
        undone = checkin.undo_last_check_in(db.session.get(Event, event_id), actor=current_user,
                                            session_id=session_id, now=now)
        body = {"undone": {"registration": checkin.registration_json(undone.registration),
                           "checked_in_at": iso(undone.checked_in_at), "session_id": undone.session_id}}
        db.session.commit()
        return body

    try:
        body = _write(work)
    except CheckinError as error:
        db.session.rollback()
        return _error(error)
    return jsonify(body)


def _entry_json(entry: RosterEntry) -> dict:
    registration = entry.registration
    return {
        "id": registration.id,
        "token_id": registration.id,  # the registration id a ticket's token carries
        "name": registration.name,
        "unit": registration.unit,
        "contact_name": registration.contact_name,
        "group": registration.group_name,
        "phone": mask_phone(registration.phone),
        "members": [m.name for m in registration.members if m.role != MemberRole.LEADER],
        "checked_in": {str(key): iso(row.checked_in_at) for key, row in sorted(entry.check_ins.items())},
    }


@bp.get("/events/<int:event_id>/checkins/roster")
@login_required
def checkin_roster(event_id: int):
    """The approved sign-ups and their check-ins, for the phone's offline list (keys of ``checked_in``: "0" for
    the event, a session's id for a session)."""
    event = _event_for_checkin(event_id)
    entries = checkin.list_roster(event)
    return jsonify({
        "event": {"id": event.id, "title": event.title, "timezone": event.timezone},
        "sessions": [{"id": s.id, "title": s.title, "starts_at": iso(s.starts_at), "room": s.room}
                     for s in event.sessions],
        "generated_at": iso(utcnow()),
        "registrations": [_entry_json(e) for e in entries],
    })


@bp.get("/events/<int:event_id>/checkins/search")
@login_required
def search_checkin(event_id: int):
    """Approved sign-ups by name, unit, team member or phone tail (``?q=``), for a check-in by hand."""
    event = _event_for_checkin(event_id)
    entries = checkin.search_registrations(event, request.args.get("q", ""), limit=20)
    return jsonify({"registrations": [_entry_json(e) for e in entries]})
