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

from core.database import unit_of_work_cache
from core.errors import DomainError
from events.models import Event, EventSession, EventState
from events.schedule import RegistrationWindow, registration_window
from extensions import db
from registration import capacity
from registration.fields import CHOICE_KINDS, FieldKind, FieldSpec, Option, chosen_options, validate_answers
from registration.models import (
    ACTIVE,
    OptionCounter,
    RegistrationField,
    RegistrationOptionSeat,
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
    cache = unit_of_work_cache(db.session)
    if ("settings", event.id) in cache:
        return cache[("settings", event.id)]
    settings = cache[("settings", event.id)] = _load_settings(event)
    return settings


def _load_settings(event: Event) -> RegistrationSettings:
    settings = db.session.get(RegistrationSettings, event.id)
    if settings is None:
        settings = RegistrationSettings(event_id=event.id)
        settings.kind = RegistrationKind.INDIVIDUAL
        settings.team_min_members, settings.team_max_members, settings.team_max_coaches = 1, 5, 2
        settings.groups = []
        settings.ask_id_number = settings.ask_email = settings.ask_job_title = False
        settings.allow_session_choice = bool(event.sessions)
    return settings


def save_settings(event: Event, *, kind: RegistrationKind, team_min_members: int, team_max_members: int,
                  team_max_coaches: int, groups: list[str], ask_id_number: bool, ask_email: bool, ask_job_title: bool,
                  allow_session_choice: bool, actor, now: datetime) -> RegistrationSettings:
    from core.models import record_audit

    settings = get_settings(event)
    active = db.session.scalar(
        sa.select(sa.func.count(Registration.id)).where(Registration.event_id == event.id, Registration.status.in_(ACTIVE))
    )
    if active and kind != settings.kind:
        raise RegistrationError("kind_locked", _("People have already signed up: individual or team can no longer change."),
                                status=409, field="kind")
    if team_max_members < team_min_members:
        raise RegistrationError("team_size", _("The largest team cannot be smaller than the smallest."), status=422,
                                field="team_max_members")
    settings.kind = kind
    settings.team_min_members, settings.team_max_members, settings.team_max_coaches = (
        team_min_members, team_max_members, team_max_coaches)
    settings.groups = list(groups)
    settings.ask_id_number, settings.ask_email, settings.ask_job_title = ask_id_number, ask_email, ask_job_title
    settings.allow_session_choice = allow_session_choice
    db.session.add(settings)
    db.session.flush()
    unit_of_work_cache(db.session)[("settings", event.id)] = settings
    record_audit(actor=actor, organization_id=event.organization_id, action="registration.settings", obj=event, now=now)
    return settings


def _notify(registration: Registration, kind: str, *, now: datetime) -> None:
    """Queue the participant's message of ``kind`` in the outbox; the scheduler sends it later, never the request."""
    from notifications.services import queue_registration_message

    queue_registration_message(registration, kind, now=now)


def _current_language() -> str:
    """The page's language (zh_Hans, zh_Hant, en): messages to the participant are written in it."""
    from flask import current_app
    from flask_babel import get_locale

    locale = str(get_locale() or "")
    return locale if locale in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


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


def find_active_by_phone(event_id: int, phone: str, *, teams: bool = True) -> Registration | None:
    """The active sign-up holding ``phone``: as its contact or (``teams``) as a member of a team."""
    reg = db.session.scalar(
        sa.select(Registration).where(Registration.event_id == event_id, Registration.dedupe_phone == phone)
    )
    if reg is not None or not teams:
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


def _validate_team_and_group(settings: RegistrationSettings, data: SignupData, team: bool) -> None:
    if team:
        _validate_team(settings, data)
    if settings.groups and data.group_name not in settings.groups:
        raise RegistrationError("group_required", _("Choose a group."), status=422, field="group_name")


def _refuse_taken_phones(event_id: int, data: SignupData, team: bool, own: Registration | None = None) -> None:
    """The contact's and (for a team) the members' phones must not be in another active sign-up of the event."""
    member_phones = [m.phone for m in data.members if m.phone and m.role != MemberRole.COACH] if team else []
    for phone in [data.phone, *member_phones]:
        holder = find_active_by_phone(event_id, phone, teams=team)
        if holder is not None and (own is None or holder.id != own.id):
            raise RegistrationError(
                "duplicate", _("Phone number %(phone)s is already signed up for this event.", phone=phone),
                status=409, field="phone",
            )


def register_participant(event: Event, data: SignupData, *, now: datetime, actor=None,
                         ignore_window: bool = False, specs: list[FieldSpec] | None = None) -> tuple[Registration, str]:
    """Sign up; return the registration and the secret manage key (shown once, in the manage link).

    ``specs`` (the event's custom questions) may be passed in by a caller that signs up many people at once.
    """
    if not ignore_window:
        check_window(event, now)
    settings = get_settings(event)
    team = settings.kind == RegistrationKind.TEAM
    _validate_team_and_group(settings, data, team)
    session_ids = sorted(set(data.session_ids))
    if session_ids:
        known = {s.id for s in event.sessions}
        if not set(session_ids) <= known:
            raise RegistrationError("unknown_session", _("Choose sessions of this event."), status=422, field="sessions")

    specs = list_field_specs(event) if specs is None else specs
    note = str((data.answers or {}).get("note") or "").strip()[:500]
    checked = validate_answers(specs, data.answers or {})
    if checked.errors:
        key, code = next(iter(checked.errors.items()))
        raise RegistrationError("invalid_answer", answer_message(code), status=422, field=f"f_{key}")
    data.answers = {**checked.answers, **({"note": note} if note else {})}

    _refuse_taken_phones(event.id, data, team)

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
        language=_current_language(),
        dedupe_phone=data.phone,
        dedupe_id_number=data.id_number or None,
        manage_key_hash=hash_manage_key(key),
        created_at=now,
        updated_at=now,
        members=[],
        sessions=[],
        history=[],
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
        _take_option_seats(event, registration, specs)
        registration.holds_seat = True
        registration.status = RegistrationState.PENDING if event.requires_approval else RegistrationState.APPROVED
        registration.sessions = [RegistrationSession(session_id=s, holds_seat=True) for s in session_ids]
    else:
        registration.sessions = [RegistrationSession(session_id=s, holds_seat=False) for s in session_ids]
    if registration.status == RegistrationState.APPROVED:
        registration.decided_at = now
    _log(registration, "created", now=now, actor=actor, status=registration.status.value, source=data.source)
    db.session.flush()
    _notify(registration, "signup_received", now=now)
    return registration, key


def _take_option_seats(event: Event, registration: Registration, specs: list[FieldSpec]) -> None:
    """Take a seat of every chosen option that has its own capacity, or refuse the sign-up (caller rolls back)."""
    wanted = [(spec, value) for spec in specs if spec.kind in CHOICE_KINDS
              for value in chosen_options(spec, registration.answers)
              if any(o.value == value and o.capacity is not None for o in spec.options)]
    if not wanted:
        return
    counters = {(c.field_key, c.option_value): c.id for c in _option_counters(event.id)}
    for spec, value in wanted:
        counter_id = counters.get((spec.key, value))
        if counter_id is None or not capacity.take_option_seat(counter_id):
            raise RegistrationError("option_full", _("“%(option)s” is full. Choose another option.", option=value),
                                    status=409, field=f"f_{spec.key}")
        db.session.add(RegistrationOptionSeat(registration_id=registration.id, counter_id=counter_id))


def _option_counters(event_id: int):
    return db.session.execute(
        sa.select(OptionCounter.id, RegistrationField.key.label("field_key"), OptionCounter.option_value)
        .join(RegistrationField, RegistrationField.id == OptionCounter.field_id)
        .where(RegistrationField.event_id == event_id)
    ).all()


def _release_seats(registration: Registration) -> None:
    held_options = list(db.session.scalars(
        sa.select(RegistrationOptionSeat).where(RegistrationOptionSeat.registration_id == registration.id)
    ))
    for seat in held_options:
        capacity.release_option_seat(seat.counter_id)
        db.session.delete(seat)
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
        _take_waitlisted_extras(registration.event, registration)
    elif registration.status != RegistrationState.PENDING:
        raise RegistrationError("not_active", _("Only pending or waitlisted sign-ups can be approved."), status=409)
    registration.status = RegistrationState.APPROVED
    registration.decided_at = now
    registration.decided_by_id = actor.id
    registration.updated_at = now
    _log(registration, "approved", now=now, actor=actor)
    db.session.flush()
    _notify(registration, "approved", now=now)
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
    _notify(registration, "rejected", now=now)
    return promote_waitlist(registration.event, now=now) if held else []


def promote_waitlist(event: Event, *, now: datetime, limit: int = 1000) -> list[Registration]:
    """Move waitlisted sign-ups up, oldest first, while seats are free. Idempotent: safe to call any time.

    Concurrent callers (a cancellation, the scheduler's sweep) are serialized per event: the event's row is
    locked first (on PostgreSQL a row lock; on SQLite this first write takes the write lock), so two promoters never
    pick the same candidate, nor skip the oldest one that the other is about to find no seat for."""
    promoted: list[Registration] = []
    db.session.execute(
        sa.update(Event).where(Event.id == event.id).values(seats_taken=Event.seats_taken)
        .execution_options(synchronize_session=False)
    )
    query = (
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.status == RegistrationState.WAITLISTED)
        .order_by(Registration.id)
        .limit(1)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # waits for a change to that sign-up in progress (e.g. a rejection)
    for _attempt in range(limit):
        candidate = db.session.scalar(query)
        if candidate is None or not capacity.take_event_seat(event.id):
            break
        candidate.holds_seat = True
        _take_waitlisted_extras(event, candidate)
        candidate.status = RegistrationState.PENDING if event.requires_approval else RegistrationState.APPROVED
        if candidate.status == RegistrationState.APPROVED:
            candidate.decided_at = now
        candidate.updated_at = now
        _log(candidate, "promoted", now=now, status=candidate.status.value)
        db.session.flush()
        _notify(candidate, "promoted", now=now)
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


# ---------------------------------------------------------------- the form builder


def answer_message(code: str) -> str:
    return {
        "required": _("This field is required."),
        "too_long": _("This answer is too long."),
        "unknown_option": _("Choose one of the options."),
        "not_a_number": _("Enter a number."),
        "not_a_date": _("Enter a date like 2026-05-20."),
        "invalid_phone": _("Enter a valid mobile number, e.g. 13800138000 or +852 9123 4567."),
        "phone_required": _("Enter a mobile phone number."),
        "invalid_email": _("Enter a valid e-mail address."),
        "id_format": _("A resident ID number has 17 digits and a final digit or X."),
        "id_birth_date": _("The birth date inside this ID number is not valid."),
        "id_checksum": _("This ID number's check digit is wrong; please check every digit."),
        "id_required": _("Enter the ID number."),
        "control_characters": _("This answer contains characters that cannot be saved."),
    }.get(code, _("This answer is not valid."))


def definition_message(code: str) -> str:
    return {
        "duplicate_key": _("Two questions have the same key."),
        "options_required": _("A choice question needs at least one option."),
        "duplicate_option": _("An option appears twice."),
        "condition_field": _("A question can only depend on an earlier choice question."),
        "condition_value": _("Choose one of that question's options as the condition."),
    }.get(code, code)


def _spec(field_row: RegistrationField) -> FieldSpec:
    return FieldSpec(
        key=field_row.key, kind=FieldKind(field_row.kind), label=field_row.label, required=field_row.required,
        options=tuple(Option(o["value"], o.get("label") or o["value"], o.get("capacity")) for o in field_row.options or []),
        condition_key=field_row.condition_key, condition_value=field_row.condition_value, personal=field_row.personal,
    )


def list_fields(event_id: int) -> list[RegistrationField]:
    cache = unit_of_work_cache(db.session)
    if ("fields", event_id) not in cache:
        cache[("fields", event_id)] = list(db.session.scalars(
            sa.select(RegistrationField).where(RegistrationField.event_id == event_id)
            .order_by(RegistrationField.position, RegistrationField.id)
        ))
    return list(cache[("fields", event_id)])


def _forget_fields(event_id: int) -> None:
    unit_of_work_cache(db.session).pop(("fields", event_id), None)


def list_field_specs(event: Event) -> list[FieldSpec]:
    return [_spec(f) for f in list_fields(event.id)]


@dataclass
class FieldData:
    kind: FieldKind
    label: str
    help_text: str = ""
    required: bool = False
    personal: bool = False
    options: list[Option] = field(default_factory=list)
    condition_key: str | None = None
    condition_value: str | None = None


def _check_definitions(event: Event, rows: list[RegistrationField]) -> None:
    problems = validate_definitions_for(rows)
    if problems:
        _key, code = problems[0]
        raise RegistrationError(code, definition_message(code), status=422,
                                field="condition_key" if code.startswith("condition") else "options")


def validate_definitions_for(rows: list[RegistrationField]):
    from registration.fields import validate_definitions

    return validate_definitions([_spec(r) for r in rows])


def _apply_field(row: RegistrationField, data: FieldData) -> None:
    row.kind = data.kind.value
    row.label = data.label.strip()[:200]
    row.help_text = (data.help_text or "").strip()[:500]
    row.required = data.required
    row.personal = data.personal
    row.options = [{"value": o.value, "label": o.label, "capacity": o.capacity} for o in data.options] \
        if data.kind in CHOICE_KINDS else []
    row.condition_key = data.condition_key or None
    row.condition_value = (data.condition_value or None) if data.condition_key else None


def _sync_counters(row: RegistrationField) -> None:
    """One counter per option with a capacity; a capacity below the seats already taken is refused."""
    existing = {c.option_value: c for c in db.session.scalars(
        sa.select(OptionCounter).where(OptionCounter.field_id == row.id))}
    for option in row.options:
        counter = existing.pop(option["value"], None)
        if option.get("capacity") is None:
            if counter is not None and counter.seats_taken == 0:
                db.session.delete(counter)
            elif counter is not None:
                counter.capacity = None
            continue
        if counter is None:
            db.session.add(OptionCounter(field_id=row.id, option_value=option["value"], capacity=option["capacity"]))
        else:
            if option["capacity"] < counter.seats_taken:
                raise RegistrationError(
                    "capacity_below_taken",
                    _("“%(option)s” already has %(n)d sign-ups; its capacity cannot be lower.",
                      option=option["value"], n=counter.seats_taken),
                    status=409, field="options",
                )
            counter.capacity = option["capacity"]
    for counter in existing.values():  # options removed from the question
        if counter.seats_taken:
            raise RegistrationError("option_in_use",
                                    _("“%(option)s” has sign-ups and cannot be removed.", option=counter.option_value),
                                    status=409, field="options")
        db.session.delete(counter)


def add_field(event: Event, data: FieldData, *, actor, now: datetime) -> RegistrationField:
    from core.models import record_audit

    _forget_fields(event.id)
    rows = list_fields(event.id)
    position = (rows[-1].position + 1) if rows else 0
    row = RegistrationField(event_id=event.id, key=f"q{secrets.token_hex(3)}", position=position)
    _apply_field(row, data)
    _check_definitions(event, rows + [row])
    db.session.add(row)
    db.session.flush()
    _forget_fields(event.id)
    _sync_counters(row)
    db.session.flush()
    record_audit(actor=actor, organization_id=event.organization_id, action="registration.field_add", obj=row, now=now)
    return row


def update_field(row: RegistrationField, data: FieldData, *, actor, now: datetime) -> RegistrationField:
    from core.models import record_audit

    event = db.session.get(Event, row.event_id)
    if data.condition_key == row.key:
        raise RegistrationError("condition_field", definition_message("condition_field"), status=422, field="condition_key")
    _apply_field(row, data)
    _forget_fields(event.id)
    _check_definitions(event, list_fields(event.id))
    _sync_counters(row)
    db.session.flush()
    record_audit(actor=actor, organization_id=event.organization_id, action="registration.field_edit", obj=row, now=now)
    return row


def delete_field(row: RegistrationField, *, actor, now: datetime) -> None:
    from core.models import record_audit

    event = db.session.get(Event, row.event_id)
    dependants = [f.label for f in list_fields(event.id) if f.condition_key == row.key]
    if dependants:
        raise RegistrationError("has_dependants",
                                _("“%(label)s” depends on this question; change it first.", label=dependants[0]),
                                status=409)
    if db.session.scalar(sa.select(sa.func.count()).select_from(RegistrationOptionSeat)
                         .join(OptionCounter, OptionCounter.id == RegistrationOptionSeat.counter_id)
                         .where(OptionCounter.field_id == row.id)):
        raise RegistrationError("option_in_use", _("Sign-ups hold seats of this question's options; it cannot be deleted."),
                                status=409)
    record_audit(actor=actor, organization_id=event.organization_id, action="registration.field_delete", obj=row,
                 now=now, label=row.label)
    db.session.delete(row)
    db.session.flush()
    _forget_fields(event.id)


def move_field(row: RegistrationField, direction: int) -> None:
    """Swap with the neighbour above (-1) or below (+1), unless that breaks a condition's order."""
    _forget_fields(row.event_id)
    rows = list_fields(row.event_id)
    index = next(i for i, r in enumerate(rows) if r.id == row.id)
    other = index + direction
    if not 0 <= other < len(rows):
        return
    rows[index], rows[other] = rows[other], rows[index]
    if validate_definitions_for(rows):
        raise RegistrationError("condition_order", _("A question must stay below the question it depends on."), status=409)
    for position, r in enumerate(rows):
        r.position = position
    db.session.flush()


def option_seats(event_id: int) -> dict[tuple[str, str], tuple[int | None, int]]:
    """(field key, option) → (capacity, taken), for showing seats left on the form."""
    rows = db.session.execute(
        sa.select(RegistrationField.key, OptionCounter.option_value, OptionCounter.capacity, OptionCounter.seats_taken)
        .join(RegistrationField, RegistrationField.id == OptionCounter.field_id)
        .where(RegistrationField.event_id == event_id)
    ).all()
    return {(k, v): (c, t) for k, v, c, t in rows}


def _take_waitlisted_extras(event: Event, registration: Registration) -> None:
    """A waitlisted sign-up that gets an event seat also takes the session and option seats still free."""
    for choice in registration.sessions:
        if not choice.holds_seat:
            choice.holds_seat = capacity.take_session_seat(choice.session_id)
    _take_free_option_seats(event, registration)


def _take_free_option_seats(event: Event, registration: Registration) -> None:
    """On promotion from the waiting list: take the option seats that are still free (best effort)."""
    specs = list_field_specs(event)
    counters = {(c.field_key, c.option_value): c.id for c in _option_counters(event.id)}
    for spec in specs:
        for value in chosen_options(spec, registration.answers):
            counter_id = counters.get((spec.key, value))
            if counter_id is not None and capacity.take_option_seat(counter_id):
                db.session.add(RegistrationOptionSeat(registration_id=registration.id, counter_id=counter_id))


# ---------------------------------------------------------------- participants: edit a sign-up, find a lost link


def _same_name(a: str, b: str) -> bool:
    """Names compare without spaces, full-width forms or case: "张 三" is "张三", "Ｌｉ Ｌｅｉ" is "li lei"."""
    import unicodedata

    def key(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text or "").split()).casefold()

    return bool(key(a)) and key(a) == key(b)


def update_registration(registration: Registration, data: SignupData, *, now: datetime, actor=None) -> list[str]:
    """The participant changes their own sign-up while registration is open; return the changed fields' names.

    Editable: the name (the leader's for a team), the team name, the phone (only to a number not signed up by
    anyone else), unit, e-mail and job title (when the event asks for them), the group, the members and coaches.
    Not editable: the ID number, the sessions and the status. Nothing changed: nothing is recorded.
    """
    if registration.status not in ACTIVE:
        raise RegistrationError("not_active", _("This sign-up is no longer active, so it cannot be changed."),
                                status=409)
    event = registration.event
    check_window(event, now)
    settings = get_settings(event)
    team = registration.kind == RegistrationKind.TEAM
    _validate_team_and_group(settings, data, team)
    _refuse_taken_phones(event.id, data, team, own=registration)

    wanted = {
        "name": data.name.strip(),
        "team_name": (data.team_name or "").strip() if team else None,
        "phone": data.phone,
        "unit": (data.unit or "").strip(),
        "email": (data.email or None) if settings.ask_email else registration.email,
        "job_title": (data.job_title or None) if settings.ask_job_title else registration.job_title,
        "group_name": (data.group_name or None) if settings.groups else registration.group_name,
    }
    current = {
        "name": registration.contact_name,
        "team_name": registration.name if team else None,
        "phone": registration.phone,
        "unit": registration.unit,
        "email": registration.email,
        "job_title": registration.job_title,
        "group_name": registration.group_name,
    }
    changed = [name for name in wanted if wanted[name] != current[name]]
    old_members = [(m.role.value, m.name, m.phone)
                   for m in sorted(registration.members, key=lambda m: m.position) if m.role != MemberRole.LEADER]
    new_members = [(m.role.value, m.name.strip(), m.phone) for m in data.members] if team else old_members
    old_members.sort(key=lambda m: m[0])  # stable: by role, then in the order on the form
    new_members.sort(key=lambda m: m[0])
    if new_members != old_members:
        changed.append("members")
    if not changed:
        return []

    registration.contact_name = wanted["name"]
    registration.name = wanted["team_name"] if team else wanted["name"]
    registration.phone = registration.dedupe_phone = wanted["phone"]
    registration.unit = wanted["unit"]
    registration.email = wanted["email"]
    registration.job_title = wanted["job_title"]
    registration.group_name = wanted["group_name"]
    registration.updated_at = now
    if team:
        leader = next((m for m in registration.members if m.role == MemberRole.LEADER), None)
        if leader is not None:
            leader.name, leader.phone = wanted["name"], wanted["phone"]
        if "members" in changed:
            # Free the old rows' phones first: the new rows may reuse them, and a flush inserts before it deletes.
            for member in registration.members:
                member.dedupe_phone = None
            db.session.flush()
            registration.members = ([leader] if leader is not None else []) + [
                TeamMember(event_id=event.id, role=m.role, name=m.name.strip(), phone=m.phone, id_number=m.id_number,
                           position=i + 1, dedupe_phone=m.phone if m.role != MemberRole.COACH else None)
                for i, m in enumerate(data.members)
            ]
    _log(registration, "edited", now=now, actor=actor, fields=changed)
    try:
        db.session.flush()
    except IntegrityError:  # someone signed up with that phone a moment ago; caller rolls back
        raise RegistrationError(
            "duplicate", _("This phone number is already signed up for this event."), status=409, field="phone"
        ) from None
    return changed


def find_for_recovery(event_id: int, phone: str, name: str) -> Registration | None:
    """The active sign-up whose contact (a team's leader) has this phone and this name; None otherwise."""
    registration = db.session.scalar(
        sa.select(Registration).where(Registration.event_id == event_id, Registration.dedupe_phone == phone)
    )
    if registration is None or not _same_name(registration.contact_name, name):
        return None
    return registration


def reissue_manage_key(registration: Registration, *, now: datetime, actor=None) -> str:
    """Give the sign-up a new "manage my sign-up" link and return its secret; the old link stops working."""
    if registration.status not in ACTIVE:
        raise RegistrationError("not_active", _("This sign-up is no longer active."), status=409)
    key = secrets.token_urlsafe(18)
    registration.manage_key_hash = hash_manage_key(key)
    registration.updated_at = now
    _log(registration, "link_reissued", now=now, actor=actor)
    db.session.flush()
    return key
