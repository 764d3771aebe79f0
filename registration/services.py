"""Sign-up use cases: register, cancel, approve, reject, promote from the waiting list.

They flush but never commit; the caller commits once. Capacity is taken through ``registration.capacity``
(atomic conditional updates); duplicates are refused by unique constraints, turned into ``duplicate`` errors.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from core.errors import DomainError
from events.models import Event, EventSession, EventState
from events.schedule import RegistrationWindow, registration_window
from extensions import db
from registration import capacity
from registration.models import (
    ACTIVE,
    MemberRole,
    Registration,
    RegistrationChange,
    RegistrationKind,
    RegistrationSession,
    RegistrationSettings,
    RegistrationState,
    TeamMember,
)


class RegistrationError(DomainError):
    pass


@dataclass
class MemberData:
    role: MemberRole
    name: str
    phone: str | None = None
    id_number: str | None = None


@dataclass
class SignupData:
    """What a participant submitted, already parsed and normalized by the form."""

    name: str  # the person (individual) or the leader (team)
    phone: str
    unit: str = ""
    email: str | None = None
    job_title: str | None = None
    id_kind: str | None = None
    id_number: str | None = None
    group_name: str | None = None
    team_name: str | None = None
    members: list[MemberData] = field(default_factory=list)  # team: members and coaches, leader excluded
    session_ids: list[int] = field(default_factory=list)
    answers: dict = field(default_factory=dict)
    source: str = "web"


def hash_manage_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def get_settings(event: Event) -> RegistrationSettings:
    settings = db.session.get(RegistrationSettings, event.id)
    if settings is None:
        settings = RegistrationSettings(event_id=event.id)
        settings.kind = RegistrationKind.INDIVIDUAL
        settings.team_min_members, settings.team_max_members, settings.team_max_coaches = 1, 5, 2
        settings.groups = []
        settings.ask_id_number = settings.ask_email = settings.ask_job_title = False
        settings.allow_session_choice = bool(event.sessions)
    return settings


def _log(registration: Registration, action: str, *, now: datetime, actor=None, **details) -> None:
    registration.history.append(
        RegistrationChange(at=now, actor_id=getattr(actor, "id", None), action=action,
                           details={k: v for k, v in details.items() if v is not None})
    )


def check_window(event: Event, now: datetime) -> None:
    if event.status != EventState.PUBLISHED:
        raise RegistrationError("not_open", _("This event does not take sign-ups."), status=409)
    window = registration_window(now, event.registration_opens_at, event.registration_closes_at, event.ends_at)
    if window == RegistrationWindow.NOT_OPEN_YET:
        raise RegistrationError("not_open_yet", _("Registration has not opened yet."), status=409)
    if window == RegistrationWindow.CLOSED:
        raise RegistrationError("closed", _("Registration is closed."), status=409)


def find_active_by_phone(event_id: int, phone: str) -> Registration | None:
    reg = db.session.scalar(
        sa.select(Registration).where(Registration.event_id == event_id, Registration.dedupe_phone == phone)
    )
    if reg is not None:
        return reg
    member = db.session.scalar(
        sa.select(TeamMember).where(TeamMember.event_id == event_id, TeamMember.dedupe_phone == phone)
    )
    return member.registration if member is not None else None


def _validate_team(settings: RegistrationSettings, data: SignupData) -> None:
    players = 1 + sum(1 for m in data.members if m.role == MemberRole.MEMBER)
    coaches = sum(1 for m in data.members if m.role == MemberRole.COACH)
    if not (data.team_name or "").strip():
        raise RegistrationError("team_name_required", _("Enter the team name."), status=422, field="team_name")
    if players < settings.team_min_members or players > settings.team_max_members:
        raise RegistrationError(
            "team_size",
            _("A team has %(min)d to %(max)d members, the leader included.",
              min=settings.team_min_members, max=settings.team_max_members),
            status=422, field="members",
        )
    if coaches > settings.team_max_coaches:
        raise RegistrationError("too_many_coaches", _("At most %(n)d coaches.", n=settings.team_max_coaches),
                                status=422, field="members")
    phones = [data.phone] + [m.phone for m in data.members if m.phone and m.role != MemberRole.COACH]
    if len(phones) != len(set(phones)):
        raise RegistrationError("member_twice", _("The same phone number appears twice in the team."),
                                status=422, field="members")


def register_participant(event: Event, data: SignupData, *, now: datetime, actor=None,
                         ignore_window: bool = False) -> tuple[Registration, str]:
    """Sign up; return the registration and the secret manage key (shown once, in the manage link)."""
    if not ignore_window:
        check_window(event, now)
    settings = get_settings(event)
    team = settings.kind == RegistrationKind.TEAM
    if team:
        _validate_team(settings, data)
    if settings.groups and data.group_name not in settings.groups:
        raise RegistrationError("group_required", _("Choose a group."), status=422, field="group_name")
    session_ids = sorted(set(data.session_ids))
    if session_ids:
        known = {s.id for s in event.sessions}
        if not set(session_ids) <= known:
            raise RegistrationError("unknown_session", _("Choose sessions of this event."), status=422, field="sessions")

    member_phones = [m.phone for m in data.members if m.phone and m.role != MemberRole.COACH]
    for phone in [data.phone, *member_phones]:
        if find_active_by_phone(event.id, phone) is not None:
            raise RegistrationError(
                "duplicate", _("Phone number %(phone)s is already signed up for this event.", phone=phone),
                status=409, field="phone",
            )

    key = secrets.token_urlsafe(18)
    registration = Registration(
        event_id=event.id,
        kind=RegistrationKind.TEAM if team else RegistrationKind.INDIVIDUAL,
        status=RegistrationState.WAITLISTED,
        name=(data.team_name if team else data.name).strip(),
        contact_name=data.name.strip(),
        phone=data.phone,
        email=data.email or None,
        unit=(data.unit or "").strip(),
        job_title=data.job_title or None,
        id_kind=data.id_kind if data.id_number else None,
        id_number=data.id_number or None,
        group_name=data.group_name or None,
        answers=data.answers or {},
        source=data.source,
        dedupe_phone=data.phone,
        dedupe_id_number=data.id_number or None,
        manage_key_hash=hash_manage_key(key),
        created_at=now,
        updated_at=now,
    )
    if team:
        registration.members = [TeamMember(event_id=event.id, role=MemberRole.LEADER, name=data.name.strip(),
                                           phone=data.phone, id_number=data.id_number, position=0)] + [
            TeamMember(event_id=event.id, role=m.role, name=m.name.strip(), phone=m.phone, id_number=m.id_number,
                       position=i + 1, dedupe_phone=m.phone if m.role != MemberRole.COACH else None)
            for i, m in enumerate(data.members)
        ]
    db.session.add(registration)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent sign-up with the same phone or ID won the race; caller rolls back
        raise RegistrationError(
            "duplicate", _("This phone or ID number is already signed up for this event."), status=409, field="phone"
        ) from None

    if capacity.take_event_seat(event.id):
        for session_id in session_ids:
            if not capacity.take_session_seat(session_id):
                title = next(s.title for s in event.sessions if s.id == session_id)
                raise RegistrationError(
                    "session_full", _("“%(title)s” is full. Choose another session.", title=title),
                    status=409, field="sessions",
                )
        registration.holds_seat = True
        registration.status = RegistrationState.PENDING if event.requires_approval else RegistrationState.APPROVED
        registration.sessions = [RegistrationSession(session_id=s, holds_seat=True) for s in session_ids]
    else:
        registration.sessions = [RegistrationSession(session_id=s, holds_seat=False) for s in session_ids]
    if registration.status == RegistrationState.APPROVED:
        registration.decided_at = now
    _log(registration, "created", now=now, actor=actor, status=registration.status.value, source=data.source)
    db.session.flush()
    return registration, key


def _release_seats(registration: Registration) -> None:
    if registration.holds_seat:
        capacity.release_event_seat(registration.event_id)
        registration.holds_seat = False
    for choice in registration.sessions:
        if choice.holds_seat:
            capacity.release_session_seat(choice.session_id)
            choice.holds_seat = False


def _deactivate(registration: Registration) -> None:
    registration.dedupe_phone = None
    registration.dedupe_id_number = None
    for member in registration.members:
        member.dedupe_phone = None


def cancel_registration(registration: Registration, *, now: datetime, actor=None, reason: str | None = None) -> list[Registration]:
    """Cancel (by the participant or an organizer); return who was promoted from the waiting list."""
    if registration.status not in ACTIVE:
        raise RegistrationError("not_active", _("This sign-up is no longer active."), status=409)
    held = registration.holds_seat
    _release_seats(registration)
    _deactivate(registration)
    registration.status = RegistrationState.CANCELLED
    registration.updated_at = now
    registration.reason = reason or registration.reason
    _log(registration, "cancelled", now=now, actor=actor, reason=reason)
    db.session.flush()
    return promote_waitlist(registration.event, now=now) if held else []


def approve_registration(registration: Registration, *, now: datetime, actor) -> Registration:
    if registration.status == RegistrationState.APPROVED:
        return registration
    if registration.status == RegistrationState.WAITLISTED:
        if not capacity.take_event_seat(registration.event_id):
            raise RegistrationError("full", _("No seat is free. Free a seat first or raise the capacity."), status=409)
        registration.holds_seat = True
    elif registration.status != RegistrationState.PENDING:
        raise RegistrationError("not_active", _("Only pending or waitlisted sign-ups can be approved."), status=409)
    registration.status = RegistrationState.APPROVED
    registration.decided_at = now
    registration.decided_by_id = actor.id
    registration.updated_at = now
    _log(registration, "approved", now=now, actor=actor)
    db.session.flush()
    return registration


def reject_registration(registration: Registration, *, reason: str, now: datetime, actor) -> list[Registration]:
    reason = (reason or "").strip()
    if not reason:
        raise RegistrationError("reason_required", _("Give a reason for the rejection."), status=422, field="reason")
    if registration.status not in ACTIVE:
        raise RegistrationError("not_active", _("This sign-up is no longer active."), status=409)
    held = registration.holds_seat
    _release_seats(registration)
    _deactivate(registration)
    registration.status = RegistrationState.REJECTED
    registration.reason = reason[:2000]
    registration.decided_at = now
    registration.decided_by_id = actor.id
    registration.updated_at = now
    _log(registration, "rejected", now=now, actor=actor, reason=reason[:2000])
    db.session.flush()
    return promote_waitlist(registration.event, now=now) if held else []


def promote_waitlist(event: Event, *, now: datetime, limit: int = 1000) -> list[Registration]:
    """Move waitlisted sign-ups up, oldest first, while seats are free. Idempotent: safe to call any time."""
    promoted: list[Registration] = []
    query = (
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.status == RegistrationState.WAITLISTED)
        .order_by(Registration.id)
        .limit(1)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    for _ in range(limit):
        candidate = db.session.scalar(query)
        if candidate is None or not capacity.take_event_seat(event.id):
            break
        candidate.holds_seat = True
        for choice in candidate.sessions:
            choice.holds_seat = capacity.take_session_seat(choice.session_id)
        candidate.status = RegistrationState.PENDING if event.requires_approval else RegistrationState.APPROVED
        if candidate.status == RegistrationState.APPROVED:
            candidate.decided_at = now
        candidate.updated_at = now
        _log(candidate, "promoted", now=now, status=candidate.status.value)
        db.session.flush()
        promoted.append(candidate)
    return promoted


def find_by_manage_key(key: str) -> Registration | None:
    if not key or len(key) > 64:
        return None
    return db.session.scalar(sa.select(Registration).where(Registration.manage_key_hash == hash_manage_key(key)))


def waitlist_position(registration: Registration) -> int | None:
    if registration.status != RegistrationState.WAITLISTED:
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationState.WAITLISTED,
            Registration.id < registration.id,
        )
    )
    return (ahead or 0) + 1


def count_by_status(event_id: int) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Registration.status, sa.func.count(Registration.id))
        .where(Registration.event_id == event_id)
        .group_by(Registration.status)
    ).all()
    counts = {state.value: 0 for state in RegistrationState}
    counts.update({status.value: n for status, n in rows})
    return counts


def find_session(event: Event, session_id: int) -> EventSession | None:
    return next((s for s in event.sessions if s.id == session_id), None)
