from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from core.types import UTCDateTime, enum_column, utcnow
from events.models import Event
from extensions import db


class RegistrationState(str, enum.Enum):
    PENDING = "pending"  # 待审核: holds a seat, waits for the organizer
    APPROVED = "approved"  # 已通过
    WAITLISTED = "waitlisted"  # 候补
    REJECTED = "rejected"  # 未通过
    CANCELLED = "cancelled"  # 已取消


SEAT_HOLDING = (RegistrationState.PENDING, RegistrationState.APPROVED)
ACTIVE = (RegistrationState.PENDING, RegistrationState.APPROVED, RegistrationState.WAITLISTED)


class RegistrationKind(str, enum.Enum):
    INDIVIDUAL = "individual"
    TEAM = "team"


class MemberRole(str, enum.Enum):
    LEADER = "leader"  # 领队
    MEMBER = "member"  # 队员
    COACH = "coach"  # 指导教师


class RegistrationSettings(db.Model):
    """How an event takes sign-ups: individual or team, team sizes, groups (组别)."""

    __tablename__ = "registration_settings"

    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[RegistrationKind] = mapped_column(enum_column(RegistrationKind), default=RegistrationKind.INDIVIDUAL)
    team_min_members: Mapped[int] = mapped_column(default=1)
    team_max_members: Mapped[int] = mapped_column(default=5)
    team_max_coaches: Mapped[int] = mapped_column(default=2)
    # 组别 offered on the form (e.g. ["中职组", "高职组", "企业组"]); empty: no group question.
    groups: Mapped[list] = mapped_column(sa.JSON, default=list)
    ask_id_number: Mapped[bool] = mapped_column(default=False)
    ask_email: Mapped[bool] = mapped_column(default=False)
    ask_job_title: Mapped[bool] = mapped_column(default=False)
    allow_session_choice: Mapped[bool] = mapped_column(default=False)

    event: Mapped[Event] = relationship()


class Registration(db.Model):
    """One sign-up: a person, or a team (name = team name, the contact is the leader)."""

    __tablename__ = "registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RegistrationKind] = mapped_column(enum_column(RegistrationKind), default=RegistrationKind.INDIVIDUAL)
    status: Mapped[RegistrationState] = mapped_column(enum_column(RegistrationState), index=True)
    holds_seat: Mapped[bool] = mapped_column(default=False)

    name: Mapped[str] = mapped_column(sa.String(100))  # person, or team name
    contact_name: Mapped[str] = mapped_column(sa.String(60))  # the person (or the team leader)
    phone: Mapped[str] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    unit: Mapped[str] = mapped_column(sa.String(200), default="", index=True)
    job_title: Mapped[str | None] = mapped_column(sa.String(100))
    id_kind: Mapped[str | None] = mapped_column(sa.String(20))
    id_number: Mapped[str | None] = mapped_column(sa.String(30))
    group_name: Mapped[str | None] = mapped_column(sa.String(60), index=True)
    answers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    source: Mapped[str] = mapped_column(sa.String(20), default="web")
    # The participant's language at sign-up (zh_Hans, zh_Hant, en): messages to them are written in it.
    language: Mapped[str] = mapped_column(sa.String(10), default="zh_Hans", server_default="zh_Hans")

    # Set while the sign-up is active (pending, approved, waitlisted) and NULL otherwise, so that the unique
    # constraints refuse a second active sign-up with the same phone or ID number (NULLs never collide).
    dedupe_phone: Mapped[str | None] = mapped_column(sa.String(20))
    dedupe_id_number: Mapped[str | None] = mapped_column(sa.String(30))

    # SHA-256 of the secret in the "manage my sign-up" link; the secret itself is never stored.
    manage_key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(sa.Text)

    event: Mapped[Event] = relationship()
    members: Mapped[list[TeamMember]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="TeamMember.position"
    )
    sessions: Mapped[list[RegistrationSession]] = relationship(
        back_populates="registration", cascade="all, delete-orphan"
    )
    history: Mapped[list[RegistrationChange]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="RegistrationChange.id"
    )

    __table_args__ = (
        sa.UniqueConstraint("event_id", "dedupe_phone"),
        sa.UniqueConstraint("event_id", "dedupe_id_number"),
        sa.Index("ix_registrations_event_status", "event_id", "status", "id"),
    )


class TeamMember(db.Model):
    """领队 / 队员 / 指导教师 of a team sign-up. A person (by phone) is in at most one active team per event."""

    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    role: Mapped[MemberRole] = mapped_column(enum_column(MemberRole))
    name: Mapped[str] = mapped_column(sa.String(60))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    id_number: Mapped[str | None] = mapped_column(sa.String(30))
    position: Mapped[int] = mapped_column(default=0)
    dedupe_phone: Mapped[str | None] = mapped_column(sa.String(20))

    registration: Mapped[Registration] = relationship(back_populates="members")

    __table_args__ = (sa.UniqueConstraint("event_id", "dedupe_phone"),)


class RegistrationSession(db.Model):
    """A session (分会场) a sign-up chose; holds one of that session's seats."""

    __tablename__ = "registration_sessions"

    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("event_sessions.id", ondelete="CASCADE"), primary_key=True)
    holds_seat: Mapped[bool] = mapped_column(default=False)

    registration: Mapped[Registration] = relationship(back_populates="sessions")


class RegistrationChange(db.Model):
    """History of a sign-up: who changed what, and when. Only ever added to."""

    __tablename__ = "registration_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(40))
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    registration: Mapped[Registration] = relationship(back_populates="history")


class RegistrationField(db.Model):
    """A custom question on an event's sign-up form (the form builder). Name, phone and unit are always asked."""

    __tablename__ = "registration_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(20))  # registration.fields.FieldKind value
    label: Mapped[str] = mapped_column(sa.String(200))
    help_text: Mapped[str] = mapped_column(sa.String(500), default="")
    required: Mapped[bool] = mapped_column(default=False)
    personal: Mapped[bool] = mapped_column(default=False)
    # [{"value": "...", "label": "...", "capacity": 30 | null}, ...] for choice fields
    options: Mapped[list] = mapped_column(sa.JSON, default=list)
    condition_key: Mapped[str | None] = mapped_column(sa.String(40))
    condition_value: Mapped[str | None] = mapped_column(sa.String(100))
    position: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.UniqueConstraint("event_id", "key"),)


class OptionCounter(db.Model):
    """Seats of one choice option that has its own capacity (e.g. a workshop with 30 seats)."""

    __tablename__ = "option_counters"

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(sa.ForeignKey("registration_fields.id", ondelete="CASCADE"), index=True)
    option_value: Mapped[str] = mapped_column(sa.String(100))
    capacity: Mapped[int | None] = mapped_column()
    seats_taken: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (sa.UniqueConstraint("field_id", "option_value"),)


class RegistrationOptionSeat(db.Model):
    """Which option seats a sign-up holds, so that cancelling releases exactly those."""

    __tablename__ = "registration_option_seats"

    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True)
    counter_id: Mapped[int] = mapped_column(sa.ForeignKey("option_counters.id", ondelete="CASCADE"), primary_key=True)


# ---------------------------------------------------------------- check-in (签到)


class CheckInSource(str, enum.Enum):
    SCAN = "scan"  # a ticket's QR code scanned at the door
    MANUAL = "manual"  # found by name or phone on the staff's list
    WALK_IN = "walk_in"  # signed up at the door
    API = "api"  # another system


class CheckIn(db.Model):
    """An attendee (a sign-up) checked in to the event (session_key 0) or to one of its sessions (分会场).

    Undoing keeps the row (a check-in is never lost) and clears ``active_key``: the unique constraint on
    (registration_id, active_key) refuses a second active check-in for the same place, and NULLs never collide, so
    a person can be checked in again after an undo.
    """

    __tablename__ = "check_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))  # indexed by ix_check_ins_event_place
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event_sessions.id", ondelete="SET NULL"))
    session_key: Mapped[int] = mapped_column()  # the session's id, or 0 for the event itself
    active_key: Mapped[int | None] = mapped_column()  # session_key while the check-in stands, NULL once undone
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when scanned (a queued offline scan: its time)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when the server recorded it
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[CheckInSource] = mapped_column(enum_column(CheckInSource))
    nonce: Mapped[str | None] = mapped_column(sa.String(64))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    registration: Mapped[Registration] = relationship()
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])

    __table_args__ = (
        sa.UniqueConstraint("registration_id", "active_key"),
        sa.Index("ix_check_ins_event_place", "event_id", "session_key", "recorded_at"),
    )


class ScanRequest(db.Model):
    """The answer given to a scanner's request, by its nonce: a retry with the same nonce gets it again."""

    __tablename__ = "scan_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(sa.String(64), unique=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    request_hash: Mapped[str] = mapped_column(sa.String(64))  # what was asked: the same nonce must ask the same
    status_code: Mapped[int] = mapped_column()
    response: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScanFailure(db.Model):
    """A scan that did not check anyone in, and why: forged, unknown key, another event's ticket, not approved…"""

    __tablename__ = "scan_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event_sessions.id", ondelete="SET NULL"))
    registration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("registrations.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(sa.String(40))  # the code the scanner was given (invalid_token, …)
    reason: Mapped[str] = mapped_column(sa.String(40))  # the precise reason (malformed, forged, unknown_key, …)
    token: Mapped[str] = mapped_column(sa.String(200), default="")  # what was scanned, cut to 200 characters
    nonce: Mapped[str | None] = mapped_column(sa.String(64))
    source: Mapped[str] = mapped_column(sa.String(20), default="scan")
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (sa.Index("ix_scan_failures_event_at", "event_id", "at"),)
