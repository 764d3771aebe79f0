"""Walk-ins (现场报名): a person without a sign-up arrives at the door; the staff signs them up and checks them in
in one step.

The walk-in goes through the same rules as any sign-up (``registration.services.register_participant``): the
event's and the chosen session's capacity are taken with the same atomic conditional updates, a phone already
signed up is refused. What differs:

- the registration window is ignored (the door is after the deadline) but the event must be published and not
  archived;
- the custom questions of the sign-up form are skipped (the door is no place for a questionnaire; the organizer
  may complete the sign-up later), and the sign-up is marked ``source="walk_in"``;
- a sign-up that would need approval is approved by the staff member at once (logged with their name);
- no free seat: refused (``full``), nothing is saved — a walk-in never goes on the waiting list;
- a team event does not take walk-ins (a team's members cannot be typed in at the door).

The scanner's nonce makes the request idempotent, as for scans: the answer is stored under the nonce, and the same
nonce again (the phone resending after a lost answer) returns it without signing anybody up twice.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from events.models import Event, EventState
from extensions import db
from registration import checkin
from registration.checkin import CheckinError, CheckinOutcome
from registration.identity import parse_email, parse_phone
from registration.models import CheckInSource, RegistrationKind, RegistrationState, ScanRequest
from registration.services import (
    RegistrationError,
    SignupData,
    approve_registration,
    find_active_by_phone,
    get_settings,
    register_participant,
)

NAME_MAX = 60
UNIT_MAX = 200


@dataclass(frozen=True)
class WalkIn:
    """What the staff typed at the door (already trimmed)."""

    name: str
    phone: str
    unit: str = ""
    email: str = ""
    group_name: str | None = None
    session_id: int | None = None


def _invalid(field: str, message: str) -> CheckinError:
    return CheckinError("invalid", message, status=422, record=False, field=field)


def validate_walk_in(event: Event, walk_in: WalkIn) -> SignupData:
    """The sign-up data for ``walk_in``, or ``CheckinError`` (422) naming the first field that is wrong."""
    name = " ".join(walk_in.name.split())
    if not name:
        raise _invalid("name", _("Enter the name."))
    if len(name) > NAME_MAX:
        raise _invalid("name", _("The name is too long (at most %(n)d characters).", n=NAME_MAX))
    try:
        phone = parse_phone(walk_in.phone)
    except ValueError:
        raise _invalid("phone", _("Enter a valid mobile number, e.g. 13800138000 or +852 9123 4567.")) from None
    unit = " ".join(walk_in.unit.split())
    if len(unit) > UNIT_MAX:
        raise _invalid("unit", _("The unit is too long (at most %(n)d characters).", n=UNIT_MAX))
    email = None
    if walk_in.email.strip():
        try:
            email = parse_email(walk_in.email)
        except ValueError:
            raise _invalid("email", _("Enter a valid e-mail address, or leave it empty.")) from None
    settings = get_settings(event)
    if settings.kind == RegistrationKind.TEAM:
        raise CheckinError("team_event", _("Teams cannot sign up at the door: use the sign-up page."),
                           status=409, record=False)
    group = walk_in.group_name or None
    if settings.groups and group not in settings.groups:
        raise _invalid("group", _("Choose a group."))
    return SignupData(name=name, phone=phone, unit=unit, email=email, group_name=group,
                      session_ids=[walk_in.session_id] if walk_in.session_id else [], source="walk_in")


def request_hash(event_id: int, data: SignupData, session_id: int | None) -> str:
    """What a walk-in asked for; the same nonce must come with the same person."""
    asked = ["walk_in", event_id, data.name, data.phone, session_id]
    return hashlib.sha256(json.dumps(asked, ensure_ascii=True).encode("ascii")).hexdigest()


def _check_door_open(event: Event) -> None:
    if event.status == EventState.ARCHIVED:
        raise CheckinError("archived", _("This event is archived: nothing can change any more."), status=409,
                           record=False)
    if event.status != EventState.PUBLISHED:
        raise CheckinError("not_open", _("This event is not published: it takes no sign-ups."), status=409,
                           record=False)


def _already_signed_up(event: Event, phone: str) -> CheckinError:
    holder = find_active_by_phone(event.id, phone)
    details = {}
    message = _("This phone number is already signed up for this event.")
    if holder is not None:
        details = {"registration": checkin.registration_json(holder), "status": holder.status.value}
        if holder.status == RegistrationState.APPROVED:
            message = _("%(name)s is already signed up: check them in from the list.", name=holder.name)
    return CheckinError("duplicate", message, status=409, record=False, field="phone", details=details)


def register_walk_in(event: Event, walk_in: WalkIn, *, nonce: str | None, actor, now: datetime) -> CheckinOutcome:
    """Sign up ``walk_in`` at ``event`` and check them in (at ``walk_in.session_id``, or the event). Flushes; the
    caller commits, or rolls back on ``CheckinError`` / ``IntegrityError`` (a concurrent duplicate: run it again,
    it then answers ``duplicate``)."""
    data = validate_walk_in(event, walk_in)
    asked = request_hash(event.id, data, walk_in.session_id)
    replayed = checkin.replay(event, nonce, asked)
    if replayed is not None:
        return replayed
    _check_door_open(event)
    session = checkin.find_event_session(event, walk_in.session_id)  # unknown_session: 422
    if find_active_by_phone(event.id, data.phone) is not None:
        raise _already_signed_up(event, data.phone)
    try:
        registration, _key = register_participant(event, data, now=now, actor=actor, ignore_window=True, specs=[])
    except RegistrationError as error:
        if error.code == "duplicate":  # a concurrent walk-in with this phone won; the session must roll back
            raise IntegrityError("walk-in", None, Exception("duplicate phone")) from error
        raise CheckinError(error.code, error.message, status=error.status, record=False, field=error.field) from None
    if registration.status == RegistrationState.WAITLISTED:
        raise CheckinError("full", _("The event is full: there is no seat for a walk-in."), status=409, record=False)
    if registration.status == RegistrationState.PENDING:
        approve_registration(registration, now=now, actor=actor)
    outcome = checkin.check_in_registration(event, registration.id, session_id=session.id if session else None,
                                            actor=actor, now=now, source=CheckInSource.WALK_IN)
    outcome = CheckinOutcome(201, {**outcome.body, "result": "registered"}, check_in=outcome.check_in)
    if nonce:
        db.session.add(ScanRequest(nonce=nonce, event_id=event.id, actor_id=getattr(actor, "id", None),
                                   request_hash=asked, status_code=outcome.status, response=outcome.body,
                                   created_at=now))
        db.session.flush()
    return outcome
