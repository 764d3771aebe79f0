"""Check-in (签到) use cases: scan a ticket, check someone in by hand, undo, search the list, the phone's roster.

Every entry point (the scanner's JSON API, staff pages) calls these. They flush but never commit; the time, the
actor and the scanner's nonce are parameters.

**No double check-in, by the database.** A check-in is a ``CheckIn`` row; the unique constraint on
(registration_id, active_key) refuses a second standing check-in of the same sign-up at the same place (the event,
key 0, or one session, key = its id). On PostgreSQL the sign-up's row is locked (SELECT … FOR UPDATE, which reads its
standing check-in in the same statement), so two gates scanning the same ticket are served one after the other; the
second may still read "not in yet" from its statement's snapshot, and its insert then fails on the constraint.
SQLite has no row locks: both may read "not in yet", with the same end. Either way a conflict surfaces as
``IntegrityError`` (or, on SQLite, a lock error that ``core.database.run_write`` retries): the caller rolls back the
whole unit of work and runs it once more; the second run reads the winner and answers ``already_checked_in``.
(SAVEPOINTs do not work on SQLite here, see ``core.database``.)

**Idempotent scans.** A scan carries a client nonce. Its answer (status and JSON body) is stored in a
``ScanRequest`` under that nonce (unique), in the same transaction as the check-in; the same nonce again returns the
stored answer exactly and changes nothing, even if the check-in was undone since. A nonce sent again with another
ticket or for another event is refused (``nonce_reused``). The scanner's API skips the look-up of the nonce on a
first try (``check_replay=False``: one query less for the new nonce of nearly every scan) and lets the unique nonce
catch a used one; see ``check_in``.

**Failed scans are data.** A refused scan raises ``CheckinError`` with ``record=True``. Its unit of work is rolled
back, so the caller then calls ``record_scan_failure`` in a new one: a ``ScanFailure`` row with the precise reason
(``malformed`` / ``forged`` / ``unknown_key`` / ``wrong_event`` / ``not_found`` / ``not_approved`` /
``wrong_session``), and the error answer stored under the nonce so that a retry gets the same error.

Error codes and statuses (the API returns them as ``{"error": {"code", "message", …}}``):

====================  ======  ====================================================================  =========
code                  status  when                                                                  recorded
====================  ======  ====================================================================  =========
invalid_token         400     malformed, altered, forged, or signed with a key this server lacks     yes
wrong_event           409     a genuine ticket of another event (the ticket is fine, the door not)   yes
not_found             404     a genuine ticket of this event whose sign-up does not exist            yes
not_approved          409     the sign-up is pending, waitlisted, rejected or cancelled              yes
wrong_session         409     the sign-up chose sessions, and not this one                           yes
unknown_session       422     ``session_id`` is not a session of this event                          no
invalid_scanned_at    422     ``scanned_at`` has no time zone, lies in the future or > 30 days back   no
nonce_reused          409     the nonce was used before for another ticket or event                  no
archived              409     the event is archived: nothing changes any more                        no
nothing_to_undo       409     undo, but there is no standing check-in to take back                   no
====================  ======  ====================================================================  =========
"""
from __future__ import annotations

import hashlib
import json
import logging
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import make_transient_to_detached, selectinload

from core.errors import DomainError
from events.models import Event, EventSession, EventState
from extensions import db
from registration.models import (
    CheckIn,
    CheckInSource,
    Registration,
    RegistrationState,
    ScanFailure,
    ScanRequest,
    TeamMember,
)
from registration.tokens import TokenError, parse_ticket

logger = logging.getLogger(__name__)

EVENT_KEY = 0  # session_key of a check-in to the event itself (no session)
MAX_CLOCK_AHEAD = timedelta(minutes=5)  # a scanner's clock may run this far ahead of the server's
MAX_QUEUE_AGE = timedelta(days=30)  # a scan queued offline longer than this is refused (a phone with a wrong clock)
TOKEN_KEPT = 200  # characters of a failed scan's payload kept in ScanFailure
NONCE_MAX = 64


class CheckinError(DomainError):
    """A refused check-in. ``reason`` is the precise cause kept with a recorded failure (e.g. ``forged`` behind
    ``invalid_token``); ``record`` says whether it is a failed scan to keep; ``details`` are added to the JSON error."""

    def __init__(self, code: str, message: str, *, status: int, reason: str | None = None, record: bool = True,
                 registration_id: int | None = None, details: dict | None = None, field: str | None = None):
        super().__init__(code, message, status=status, field=field)
        self.reason = reason or code
        self.record = record
        self.registration_id = registration_id
        self.details = details or {}


@dataclass
class CheckinOutcome:
    """The answer to a scan: HTTP-like ``status`` and the JSON ``body`` (see ``answer_body``). ``replayed``: the
    stored answer of an earlier request with the same nonce (then ``status`` may be an error's)."""

    status: int
    body: dict
    replayed: bool = False
    check_in: CheckIn | None = None  # the check-in that stands (new, or the first one); None when replayed

    @property
    def result(self) -> str | None:
        return self.body.get("result")


@dataclass
class RosterEntry:
    """An approved sign-up and its standing check-ins by place (session_key → CheckIn)."""

    registration: Registration
    check_ins: dict[int, CheckIn] = field(default_factory=dict)


# ---------------------------------------------------------------- answers


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def registration_json(registration: Registration) -> dict:
    return {
        "id": registration.id,
        "name": registration.name,
        "unit": registration.unit,
        "kind": registration.kind.value,
        "contact_name": registration.contact_name,
        "group": registration.group_name,
    }


def answer_body(result: str, check_in: CheckIn, session: EventSession | None, *, actor=None) -> dict:
    """The JSON answer of a scan (SPEC: result, registration {id, name, unit}, checked_in_at; more may be added).
    ``actor``: who recorded ``check_in``, when the caller has them at hand (a check-in not yet flushed)."""
    actor = actor if actor is not None else check_in.actor
    return {
        "result": result,
        "registration": registration_json(check_in.registration),
        "checked_in_at": _iso(check_in.checked_in_at),
        "checked_in_by": getattr(actor, "name", None),
        "session": {"id": session.id, "title": session.title} if session is not None else None,
    }


def error_body(error: DomainError) -> dict:
    body = {"code": error.code, "message": error.message}
    if getattr(error, "field", None):
        body["field"] = error.field
    body.update(getattr(error, "details", {}) or {})
    return {"error": body}


def _state_text(state: RegistrationState) -> str:
    return {
        RegistrationState.PENDING: _("waiting for approval"),
        RegistrationState.WAITLISTED: _("on the waiting list"),
        RegistrationState.REJECTED: _("rejected"),
        RegistrationState.CANCELLED: _("cancelled"),
        RegistrationState.APPROVED: _("approved"),
    }[state]


# ---------------------------------------------------------------- checks


def _check_open(event: Event) -> None:
    if event.status == EventState.ARCHIVED:
        raise CheckinError("archived", _("This event is archived; check-in is closed."), status=409, record=False)


def find_event_session(event: Event, session_id: int | None) -> EventSession | None:
    """The session of this event with that id; None for the event itself; ``unknown_session`` otherwise."""
    if session_id is None:
        return None
    session = db.session.get(EventSession, session_id)
    if session is None or session.event_id != event.id:
        raise CheckinError("unknown_session", _("Choose a session of this event."), status=422, record=False,
                           field="session_id")
    return session


def _checked_in_at(scanned_at: datetime | None, now: datetime) -> datetime:
    """The scan's own time for a scan queued offline; refused without a time zone or in the future."""
    if scanned_at is None:
        return now
    if scanned_at.tzinfo is None or scanned_at.utcoffset() is None:
        raise CheckinError("invalid_scanned_at", _("The scan time must include its time zone."), status=422,
                           record=False, field="scanned_at")
    if scanned_at > now + MAX_CLOCK_AHEAD:
        raise CheckinError("invalid_scanned_at", _("The scan time lies in the future; check the phone's clock."),
                           status=422, record=False, field="scanned_at")
    if scanned_at < now - MAX_QUEUE_AGE:
        raise CheckinError("invalid_scanned_at", _("The scan time is too long ago; check the phone's clock."),
                           status=422, record=False, field="scanned_at")
    return min(scanned_at, now).astimezone(timezone.utc)


def printable(text: str) -> str:
    """``text`` with control characters, NULs and lone surrogates replaced (PostgreSQL refuses some of them)."""
    return "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in text)


def request_hash(event_id: int, *, token: str | None = None, registration_id: int | None = None,
                 session_id: int | None = None) -> str:
    """What a request asked for; a nonce used again must come with the same question."""
    what = ["token", token] if token is not None else ["registration", registration_id]
    return hashlib.sha256(json.dumps([event_id, *what, session_id]).encode("ascii")).hexdigest()


_SCAN_REQUEST_BY_NONCE = sa.select(ScanRequest).where(ScanRequest.nonce == sa.bindparam("nonce"))


def _replay(event: Event, nonce: str | None, asked: str) -> CheckinOutcome | None:
    if not nonce:
        return None
    stored = db.session.scalar(_SCAN_REQUEST_BY_NONCE, {"nonce": nonce})
    if stored is None:
        return None
    if stored.event_id != event.id or stored.request_hash != asked:
        raise CheckinError("nonce_reused", _("This scan's nonce was already used for another request."), status=409,
                           record=False)
    return CheckinOutcome(status=stored.status_code, body=stored.response, replayed=True)


replay = _replay  # for other door use cases with nonces (registration.walkin)


# ---------------------------------------------------------------- check in


def check_in(event: Event, token: str, *, session_id: int | None = None, nonce: str | None = None,
             scanned_at: datetime | None = None, actor, now: datetime, source: CheckInSource = CheckInSource.SCAN,
             keys: dict[int, bytes] | None = None, check_replay: bool = True) -> CheckinOutcome:
    """Check in the holder of a scanned ticket at ``event`` (or one of its sessions).

    Returns the outcome (``ok`` or ``already_checked_in``, or the stored answer of the same nonce); raises
    ``CheckinError``. ``keys``: the ticket keys (default: this app's, ``registration.tickets.ticket_keys``).
    May raise ``IntegrityError`` when a concurrent request won: roll back and call again (see the module docs).

    The ticket's signature is checked before the database is asked anything about it. ``check_replay=False``
    skips the look-up of the nonce, for a caller that calls first without it (the scanner's API: almost every
    nonce is new): a used nonce then surfaces as ``IntegrityError`` (the nonce is unique), and a refusal may be a
    retry's; the caller rolls back and asks again with ``check_replay=True``, which answers as if it had looked
    first.
    """
    asked = request_hash(event.id, token=token, session_id=session_id)
    try:
        _check_open(event)
        session = find_event_session(event, session_id)
        checked_in_at = _checked_in_at(scanned_at, now)
        claims = _verify_ticket(event, token, keys)
    except CheckinError:
        replayed = _replay(event, nonce, asked) if check_replay else None
        if replayed is not None:  # the stored answer of this very request wins over today's refusal
            return replayed
        raise
    if check_replay:
        replayed = _replay(event, nonce, asked)
        if replayed is not None:
            return replayed
    if claims.event_id != event.id:
        raise CheckinError("wrong_event", _("This ticket is for another event."), status=409,
                           details={"ticket_event_id": claims.event_id})
    return _check_in(event, claims.registration_id, session, checked_in_at=checked_in_at, nonce=nonce,
                     asked=asked, actor=actor, now=now, source=source)


def _verify_ticket(event: Event, token: str, keys: dict[int, bytes] | None):
    """The ticket's claims, its signature checked with the server's keys (no database); ``invalid_token``."""
    if keys is None:
        from registration.tickets import ticket_keys

        keys = ticket_keys()
    try:
        return parse_ticket(token, keys=keys)
    except TokenError as error:
        if error.code == "unknown_key":
            logger.warning("check-in at event %s: a ticket signed with a key this server does not have", event.id)
        raise CheckinError("invalid_token", _("This is not a valid ticket for this event."), status=400,
                           reason=error.code) from None


def check_in_registration(event: Event, registration_id: int, *, session_id: int | None = None,
                          nonce: str | None = None, scanned_at: datetime | None = None, actor, now: datetime,
                          source: CheckInSource = CheckInSource.MANUAL, check_replay: bool = True) -> CheckinOutcome:
    """Check in a sign-up found on the staff's list (no ticket at hand): the same rules as a scan (and the same
    ``check_replay``)."""
    asked = request_hash(event.id, registration_id=registration_id, session_id=session_id)
    if check_replay:
        replayed = _replay(event, nonce, asked)
        if replayed is not None:
            return replayed
    _check_open(event)
    session = find_event_session(event, session_id)
    checked_in_at = _checked_in_at(scanned_at, now)
    return _check_in(event, registration_id, session, checked_in_at=checked_in_at, nonce=nonce, asked=asked,
                     actor=actor, now=now, source=source)


def _lock_registration(registration_id: int, session_key: int) -> tuple[Registration | None, CheckIn | None]:
    """The sign-up, its row locked until the end of the transaction (PostgreSQL; SQLite ignores FOR UPDATE), and
    its standing check-in at the place, in one statement.

    The check-in is read with the statement's snapshot: when a concurrent scan of the same ticket held the lock,
    its check-in may not show here, and the insert that follows then fails on the unique constraint (the caller
    runs the unit of work again, and that run reads the winner's check-in).
    """
    row = db.session.execute(_LOCK_REGISTRATION, {"registration_id": registration_id, "session_key": session_key}).first()
    return (row[0], row[1]) if row is not None else (None, None)


# Built once: a statement made anew on every scan costs as much Python as running it (hot path of the scanner).
_LOCK_REGISTRATION = (
    sa.select(Registration, CheckIn)
    .outerjoin(CheckIn, sa.and_(CheckIn.registration_id == Registration.id,
                                CheckIn.active_key == sa.bindparam("session_key")))
    .where(Registration.id == sa.bindparam("registration_id"))
    .with_for_update(of=Registration)
    .execution_options(populate_existing=True)
)


def _check_in(event: Event, registration_id: int, session: EventSession | None, *, checked_in_at: datetime,
              nonce: str | None, asked: str, actor, now: datetime, source: CheckInSource) -> CheckinOutcome:
    key = session.id if session is not None else EVENT_KEY
    registration, standing = _lock_registration(registration_id, key)
    if registration is None or registration.event_id != event.id:
        raise CheckinError("not_found", _("No sign-up matches this ticket."), status=404)
    if registration.status != RegistrationState.APPROVED:
        raise CheckinError(
            "not_approved",
            _("The sign-up of %(name)s is %(state)s, not approved.", name=registration.name,
              state=_state_text(registration.status)),
            status=409, registration_id=registration.id,
            details={"status": registration.status.value, "registration": registration_json(registration)},
        )
    if session is not None and registration.sessions and session.id not in {s.session_id for s in registration.sessions}:
        raise CheckinError(
            "wrong_session", _("%(name)s did not sign up for “%(title)s”.", name=registration.name, title=session.title),
            status=409, registration_id=registration.id, details={"registration": registration_json(registration)},
        )
    if standing is not None:
        outcome = CheckinOutcome(200, answer_body("already_checked_in", standing, session), check_in=standing)
    else:
        values = {
            "event_id": event.id, "registration_id": registration.id, "session_id": session.id if session else None,
            "session_key": key, "active_key": key, "checked_in_at": checked_in_at, "recorded_at": now,
            "actor_id": getattr(actor, "id", None), "source": source, "nonce": nonce, "undone_at": None,
            "undone_by_id": None,
        }
        # A concurrent winner's check-in makes this fail: IntegrityError, the caller retries.
        check_in_id = db.session.execute(_INSERT_CHECK_IN, values).scalar_one()
        standing = _persistent(CheckIn(id=check_in_id, **values))
        outcome = CheckinOutcome(200, answer_body("ok", standing, session, actor=actor), check_in=standing)
    if nonce:
        # A nonce used before (by a request that skipped the look-up, see check_in): IntegrityError, the caller retries.
        db.session.execute(_INSERT_SCAN_REQUEST, {
            "nonce": nonce, "event_id": event.id, "actor_id": getattr(actor, "id", None), "request_hash": asked,
            "status_code": outcome.status, "response": outcome.body, "created_at": now,
        })
    return outcome


# The two rows of a scan are written with plain INSERTs rather than by a flush of the session: on the scanner's hot
# path the unit of work costs more than the statements themselves.
_INSERT_CHECK_IN = sa.insert(CheckIn.__table__).returning(CheckIn.__table__.c.id)
_INSERT_SCAN_REQUEST = sa.insert(ScanRequest.__table__)


def _persistent(check_in: CheckIn) -> CheckIn:
    """The object of a check-in row just inserted, in the session as if loaded (no query)."""
    make_transient_to_detached(check_in)
    db.session.add(check_in)
    return check_in


def record_scan_failure(event: Event, error: CheckinError, *, token: str | None = None,
                        registration_id: int | None = None, session_id: int | None = None, nonce: str | None = None,
                        actor, now: datetime, source: CheckInSource = CheckInSource.SCAN) -> ScanFailure | None:
    """Keep a refused scan (call it in a new unit of work, after rolling back the failed one). Errors that are not
    failed scans (``record=False``) are not kept. The error answer is stored under the nonce for retries."""
    if not error.record:
        return None
    failure = ScanFailure(
        event_id=event.id, actor_id=getattr(actor, "id", None), session_id=session_id,
        registration_id=error.registration_id, code=error.code, reason=error.reason,
        token=printable(token or (f"#{registration_id}" if registration_id is not None else ""))[:TOKEN_KEPT],
        nonce=nonce, source=source.value, at=now,
    )
    db.session.add(failure)
    if nonce:
        db.session.add(ScanRequest(
            nonce=nonce, event_id=event.id, actor_id=getattr(actor, "id", None),
            request_hash=request_hash(event.id, token=token, registration_id=registration_id, session_id=session_id),
            status_code=error.status, response=error_body(error), created_at=now,
        ))
    db.session.flush()
    return failure


def handle_refusal(event: Event, error: CheckinError, *, token: str | None = None, registration_id: int | None = None,
                   session_id: int | None = None, nonce: str | None = None, actor, now: datetime,
                   source: CheckInSource = CheckInSource.SCAN) -> CheckinOutcome | None:
    """After a refused check-in that did not look its nonce up first (``check_replay=False``), in a new unit of
    work: the stored answer when the same request came before (returned: its first answer wins), ``nonce_reused``
    when the nonce came with another request (raised), else the failure kept (``record_scan_failure``; None)."""
    asked = request_hash(event.id, token=token, registration_id=registration_id, session_id=session_id)
    replayed = _replay(event, nonce, asked)
    if replayed is not None:
        return replayed
    record_scan_failure(event, error, token=token, registration_id=registration_id, session_id=session_id,
                        nonce=nonce, actor=actor, now=now, source=source)
    return None


# ---------------------------------------------------------------- undo


def undo_check_in(check_in: CheckIn, *, actor, now: datetime) -> CheckIn:
    """Take back a check-in (a wrong person scanned): the row stays, marked undone; audited."""
    from core.models import record_audit

    event = db.session.get(Event, check_in.event_id)
    _check_open(event)
    if check_in.active_key is None:
        raise CheckinError("nothing_to_undo", _("This check-in was already undone."), status=409, record=False)
    check_in.active_key = None
    check_in.undone_at = now
    check_in.undone_by_id = getattr(actor, "id", None)
    record_audit(actor=actor, organization_id=event.organization_id, action="checkin.undo", obj=check_in, now=now,
                 registration_id=check_in.registration_id, session_id=check_in.session_id,
                 checked_in_at=_iso(check_in.checked_in_at))
    db.session.flush()
    return check_in


def undo_last_check_in(event: Event, *, actor, session_id: int | None = None, now: datetime) -> CheckIn:
    """Undo the last standing check-in that ``actor`` recorded at this place (the event, or one session)."""
    _check_open(event)
    session = find_event_session(event, session_id)
    key = session.id if session is not None else EVENT_KEY
    last = db.session.scalar(
        sa.select(CheckIn)
        .where(CheckIn.event_id == event.id, CheckIn.session_key == key, CheckIn.active_key.is_not(None),
               CheckIn.actor_id == getattr(actor, "id", None))
        .order_by(CheckIn.id.desc()).limit(1)
        .with_for_update()
    )
    if last is None:
        raise CheckinError("nothing_to_undo", _("You have no check-in here to undo."), status=409, record=False)
    return undo_check_in(last, actor=actor, now=now)


# ---------------------------------------------------------------- lists: manual search, offline roster


def _standing_check_ins(event_id: int, registration_ids: list[int] | None = None) -> dict[int, dict[int, CheckIn]]:
    query = sa.select(CheckIn).where(CheckIn.event_id == event_id, CheckIn.active_key.is_not(None))
    if registration_ids is not None:
        if not registration_ids:
            return {}
        query = query.where(CheckIn.registration_id.in_(registration_ids))
    found: dict[int, dict[int, CheckIn]] = {}
    for row in db.session.scalars(query):
        found.setdefault(row.registration_id, {})[row.session_key] = row
    return found


def list_roster(event: Event) -> list[RosterEntry]:
    """Every approved sign-up of the event with its standing check-ins, by name (the phone's offline list)."""
    registrations = list(db.session.scalars(
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.status == RegistrationState.APPROVED)
        .order_by(Registration.name, Registration.id)
        .options(selectinload(Registration.members))
    ))
    standing = _standing_check_ins(event.id)
    return [RosterEntry(r, standing.get(r.id, {})) for r in registrations]


def normalize_query(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split())[:50]


def search_registrations(event: Event, query: str, *, limit: int = 20) -> list[RosterEntry]:
    """Approved sign-ups whose name, contact, unit or team member's name contains ``query``, or whose phone (or a
    member's) ends with it when it is 3 or more digits: the manual fallback when a ticket will not scan."""
    text = normalize_query(query)
    if not text:
        return []
    needle = text.casefold()
    conditions = [
        sa.func.lower(Registration.name).contains(needle, autoescape=True),
        sa.func.lower(Registration.contact_name).contains(needle, autoescape=True),
        sa.func.lower(Registration.unit).contains(needle, autoescape=True),
        Registration.id.in_(sa.select(TeamMember.registration_id).where(
            TeamMember.event_id == event.id, sa.func.lower(TeamMember.name).contains(needle, autoescape=True))),
    ]
    digits = text.replace(" ", "")
    if digits.isdigit() and len(digits) >= 3:
        conditions.append(Registration.phone.endswith(digits, autoescape=True))
        conditions.append(Registration.id.in_(sa.select(TeamMember.registration_id).where(
            TeamMember.event_id == event.id, TeamMember.phone.endswith(digits, autoescape=True))))
    registrations = list(db.session.scalars(
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.status == RegistrationState.APPROVED,
               sa.or_(*conditions))
        .order_by(Registration.name, Registration.id)
        .limit(limit)
        .options(selectinload(Registration.members))
    ))
    standing = _standing_check_ins(event.id, [r.id for r in registrations])
    return [RosterEntry(r, standing.get(r.id, {})) for r in registrations]


# ---------------------------------------------------------------- the organizers' live view


@dataclass
class PlaceFigures:
    """Check-in figures of one place: the event as a whole (key 0) or one session."""

    key: int
    title: str
    expected: int
    checked_in: int
    rate: int | None
    arrivals: list  # registration.attendance.Bucket, in the event's local time


def live_figures(event: Event, *, whole_event_title: str) -> list[PlaceFigures]:
    """Expected (approved sign-ups; for a session, those who chose it when sign-ups choose sessions), checked in,
    and arrivals per five minutes, for the event and each session. Three queries, whatever the size."""
    from core.timezones import utc_to_local
    from registration.attendance import bucket_arrivals, percent
    from registration.models import RegistrationSession

    approved = sa.select(Registration.id).where(
        Registration.event_id == event.id, Registration.status == RegistrationState.APPROVED)
    expected_total = db.session.scalar(sa.select(sa.func.count()).select_from(approved.subquery())) or 0
    per_session = dict(db.session.execute(
        sa.select(RegistrationSession.session_id, sa.func.count())
        .where(RegistrationSession.registration_id.in_(approved))
        .group_by(RegistrationSession.session_id)
    ).all())
    rows = db.session.execute(
        sa.select(CheckIn.session_key, CheckIn.checked_in_at)
        .where(CheckIn.event_id == event.id, CheckIn.active_key.is_not(None))
    ).all()
    times: dict[int, list] = {}
    for key, at in rows:
        times.setdefault(key, []).append(utc_to_local(at, event.timezone))
    places = [(0, whole_event_title, expected_total)] + [
        (s.id, s.title, per_session.get(s.id, 0) if per_session else expected_total) for s in event.sessions
    ]
    return [
        PlaceFigures(key=key, title=title, expected=expected, checked_in=len(times.get(key, [])),
                     rate=percent(len(times.get(key, [])), expected), arrivals=bucket_arrivals(times.get(key, [])))
        for key, title, expected in places
    ]


def list_not_arrived(event: Event, session_key: int, *, limit: int = 200) -> tuple[list[Registration], int]:
    """Approved sign-ups expected at the place who have not checked in there; the first ``limit`` and the count."""
    from registration.models import RegistrationSession

    arrived = sa.select(CheckIn.registration_id).where(
        CheckIn.event_id == event.id, CheckIn.session_key == session_key, CheckIn.active_key.is_not(None))
    query = sa.select(Registration).where(
        Registration.event_id == event.id, Registration.status == RegistrationState.APPROVED,
        Registration.id.not_in(arrived))
    if session_key:
        chose = sa.select(RegistrationSession.registration_id).where(RegistrationSession.session_id == session_key)
        any_choice = db.session.scalar(
            sa.select(sa.func.count()).select_from(RegistrationSession).join(Registration)
            .where(Registration.event_id == event.id))
        if any_choice:
            query = query.where(Registration.id.in_(chose))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    people = list(db.session.scalars(query.order_by(Registration.unit, Registration.name).limit(limit)))
    return people, total
