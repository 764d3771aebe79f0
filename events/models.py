from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Organization
from core.types import UTCDateTime, enum_column, utcnow
from extensions import db


class EventKind(str, enum.Enum):
    FORUM = "forum"  # 论坛
    SALON = "salon"  # 沙龙
    SEMINAR = "seminar"  # 研讨会
    TRAINING = "training"  # 培训
    COMPETITION = "competition"  # 竞赛
    CEREMONY = "ceremony"  # 颁奖/年会


class EventState(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class RegistrationPhase(str, enum.Enum):
    """Where an event's sign-up window stands, as the scheduler last moved it (registration/jobs.py).

    Stored so that each opening and closing happens, and is logged, exactly once. The sign-up page does not rely on
    it: it checks the window's times itself (registration.services.check_window), so a late scheduler changes
    nothing for participants.
    """

    SCHEDULED = "scheduled"  # not open yet (or the event is still a draft)
    OPEN = "open"
    CLOSED = "closed"


class HostRole(str, enum.Enum):
    HOST = "host"  # 主办
    ORGANIZER = "organizer"  # 承办
    CO_ORGANIZER = "co_organizer"  # 协办


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    venue: Mapped[str] = mapped_column(sa.String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Shanghai")
    capacity: Mapped[int | None] = mapped_column()
    # Seats held by pending and approved sign-ups; changed only by an atomic conditional UPDATE
    # (registration.capacity), never by reading and writing back.
    seats_taken: Mapped[int] = mapped_column(default=0, server_default="0")
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Changed only by the scheduler's conditional UPDATEs (registration/jobs.py), never by a form.
    registration_phase: Mapped[RegistrationPhase] = mapped_column(
        enum_column(RegistrationPhase), default=RegistrationPhase.SCHEDULED, server_default="scheduled", index=True
    )
    requires_approval: Mapped[bool] = mapped_column(default=False)
    status: Mapped[EventState] = mapped_column(enum_column(EventState), default=EventState.DRAFT, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    organization: Mapped[Organization] = relationship(lazy="joined")
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by="(EventSession.starts_at, EventSession.position, EventSession.id)",
    )
    hosts: Mapped[list[EventHost]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="(EventHost.role, EventHost.position)"
    )

    __table_args__ = (
        sa.CheckConstraint("ends_at >= starts_at", name="ends_after_starts"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
    )

    @property
    def is_public(self) -> bool:
        return self.status in (EventState.PUBLISHED, EventState.ARCHIVED)

    def host_names(self, role: HostRole) -> list[str]:
        return [h.name for h in self.hosts if h.role == role]

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title}>"


class EventHost(db.Model):
    """A name printed as 主办 (host), 承办 (organizer) or 协办 (co-organizer) on pages and certificates."""

    __tablename__ = "event_hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    role: Mapped[HostRole] = mapped_column(enum_column(HostRole))
    name: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="hosts")


class EventSession(db.Model):
    """分会场 / 场次: a part of an event with its own time, room, capacity and check-in."""

    __tablename__ = "event_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    room: Mapped[str] = mapped_column(sa.String(200), default="")
    capacity: Mapped[int | None] = mapped_column()
    seats_taken: Mapped[int] = mapped_column(default=0, server_default="0")
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="sessions")

    __table_args__ = (
        sa.CheckConstraint("ends_at >= starts_at", name="ends_after_starts"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
    )
