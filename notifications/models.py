"""The outbox (every message to a participant, sent or not), per-event message templates and reminder settings."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.types import UTCDateTime, enum_column, utcnow
from extensions import db


class MessageKind(str, enum.Enum):
    SIGNUP_RECEIVED = "signup_received"  # 报名已收到 (pending, approved at once, or waitlisted)
    APPROVED = "approved"  # 审核通过
    REJECTED = "rejected"  # 未通过, with the organizer's reason
    PROMOTED = "promoted"  # 候补转正
    REMINDER = "reminder"  # 活动提醒, N hours before the start
    CERTIFICATE_READY = "certificate_ready"  # 证书可下载 (used by the certificates issue)
    BULK = "bulk"  # written by an organizer for many sign-ups at once


# Kinds whose text is a template the organizer may edit (a bulk message is written each time).
TEMPLATE_KINDS = (
    MessageKind.SIGNUP_RECEIVED,
    MessageKind.APPROVED,
    MessageKind.REJECTED,
    MessageKind.PROMOTED,
    MessageKind.REMINDER,
    MessageKind.CERTIFICATE_READY,
)


class MessageState(str, enum.Enum):
    QUEUED = "queued"  # waiting for its next_attempt_at
    SENDING = "sending"  # claimed by one sender (lease_owner) until lease_expires_at
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # gave up after the last attempt, or the server refused it for good
    KEPT = "kept"  # no mail server configured: kept in the outbox for the organizer to read
    NO_ADDRESS = "no_address"  # the participant gave no e-mail address


class Message(db.Model):
    """One message to one participant, in the outbox. Only the sender's claim and outcome change a row.

    ``dedupe_key`` is unique: "reg:<registration id>:<kind>" (once per sign-up and kind), or
    "bulk:<task id>:<registration id>" for a bulk message. Queuing inserts with ON CONFLICT DO NOTHING, so a sweep
    run twice, or by two schedulers, queues a reminder once.
    """

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))  # ix_messages_event_state
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind, length=30))
    channel: Mapped[str] = mapped_column(sa.String(20), default="email")
    recipient: Mapped[str | None] = mapped_column(sa.String(254))
    recipient_name: Mapped[str] = mapped_column(sa.String(100), default="")
    language: Mapped[str] = mapped_column(sa.String(10))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[MessageState] = mapped_column(enum_column(MessageState))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    dedupe_key: Mapped[str] = mapped_column(sa.String(120), unique=True)

    registration = relationship("Registration")

    __table_args__ = (
        sa.Index("ix_messages_event_state", "event_id", "state", "id"),
        sa.Index("ix_messages_due", "state", "next_attempt_at"),
    )


class MessageTemplate(db.Model):
    """An event's own text for one kind of message in one language; without a row the built-in default is used."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind, length=30))
    language: Mapped[str] = mapped_column(sa.String(10))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (sa.UniqueConstraint("event_id", "kind", "language"),)


class ReminderSetting(db.Model):
    """Whether an event's approved sign-ups get a reminder, and how many hours before the start."""

    __tablename__ = "reminder_settings"

    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    hours_before: Mapped[int] = mapped_column(default=24)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (sa.CheckConstraint("hours_before >= 1", name="hours_before_positive"),)
