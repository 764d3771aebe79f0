"""Scores from judges' tablets over the JSON API (SPEC "JSON API (version 1)"): ``PUT /api/v1/scores``, the judge's
sheet for a round and submitting an entrant. Routes register on the ``api`` blueprint (Bearer token, or the session
cookie with the CSRF header on writes; see ``api.views``).

Each handler validates the JSON (400 for a body that is not a JSON object, 413 when too big, 422 for a bad field),
runs one unit of work through ``core.database.run_write`` and answers; errors are ``{"error": {"code", "message"}}``
with the statuses listed in ``judging.services``. Nothing here names an entrant: entrants are ids and codes.
"""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from api.checkins import MAX_ID, NONCE, _json_object
from api.views import bp
from core.database import run_write
from core.errors import DomainError
from core.types import utcnow
from extensions import db
from judging import services
from judging.services import JudgingError

CONFLICT_RETRIES = 3
MAX_VALUE_TEXT = 40


def _error(error: DomainError):
    response = jsonify(services.error_body(error))
    response.status_code = error.status
    return response


def _invalid(field: str, message: str) -> JudgingError:
    return JudgingError("invalid", message, status=422, field=field)


def _required_id(data: dict, name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise _invalid(name, _("%(field)s must be a positive whole number.", field=name))
    return value


def _nonce(data: dict) -> str:
    nonce = data.get("nonce")
    if not isinstance(nonce, str) or not NONCE.fullmatch(nonce):
        raise _invalid("nonce", _("nonce must be 1 to 64 printable ASCII characters, new for every change."))
    return nonce


def _value(data: dict):
    """The score as sent: a JSON number, a string as typed ("7.5", "７.５"), or null for a blank."""
    if "value" not in data:
        raise _invalid("value", _("Send the value (null for a blank)."))
    value = data["value"]
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and len(value) <= MAX_VALUE_TEXT:
        return value
    raise JudgingError("not_a_number", _("Enter a number."), status=422, field="value")


def _write(work):
    """Run a unit of work; when a concurrent request with the same nonce won the race (its ScoreRequest row made
    ours fail), roll back and run it again: the second run replays the winner's answer."""
    for attempt in range(CONFLICT_RETRIES):
        try:
            return run_write(db.session, work)
        except IntegrityError:
            db.session.rollback()
            if attempt == CONFLICT_RETRIES - 1:
                raise JudgingError("busy", _("Many changes at once; please try again."), status=409) from None
    raise AssertionError("unreachable")


def _answer(outcome: services.ScoreOutcome):
    response = jsonify(outcome.body)
    response.status_code = outcome.status
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.put("/scores")
@login_required
def put_score():
    """``{"entrant_id", "criterion_id", "round_id", "value", "nonce", "note"?}`` → ``200 {"status": "draft",
    "score": {…}, "entrant": {"id", "code", "state", "scored", "required"}}``."""
    try:
        data = _json_object()
        round_id, entrant_id, criterion_id = (_required_id(data, name)
                                              for name in ("round_id", "entrant_id", "criterion_id"))
        value = _value(data)
        note = services.clean_note(data.get("note"))
        nonce = _nonce(data)
    except DomainError as error:
        return _error(error)
    now = utcnow()

    def work():
        outcome = services.save_draft(current_user, round_id=round_id, entrant_id=entrant_id,
                                      criterion_id=criterion_id, value=value, note=note, nonce=nonce, now=now)
        db.session.commit()
        return outcome

    try:
        return _answer(_write(work))
    except DomainError as error:
        db.session.rollback()
        return _error(error)


@bp.get("/judging/rounds/<int:round_id>/sheet")
@login_required
def judge_sheet(round_id: int):
    """What the tablet needs: the judge's entrants by code, the criteria of their share and their values."""
    try:
        sheet = services.judge_sheet(current_user, round_id, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        return _error(error)
    response = jsonify(sheet)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/judging/rounds/<int:round_id>/entrants/<int:entrant_id>/submit")
@login_required
def submit_entrant(round_id: int, entrant_id: int):
    """``{"nonce"}`` → ``200 {"status": "submitted", "entrant": {…}, "submitted_at"}``."""
    try:
        services.judge_seat(current_user, round_id)  # 404 / 403 before looking at the body
        nonce = _nonce(_json_object())
    except DomainError as error:
        db.session.rollback()
        return _error(error)
    now = utcnow()

    def work():
        outcome = services.submit_entrant(current_user, round_id=round_id, entrant_id=entrant_id, nonce=nonce, now=now)
        db.session.commit()
        return outcome

    try:
        return _answer(_write(work))
    except DomainError as error:
        db.session.rollback()
        return _error(error)
