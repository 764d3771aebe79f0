"""Certificates, their designs per event and kind, and the counters that hand out certificate numbers."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from core.types import UTCDateTime, enum_column, utcnow
from extensions import db


class CertificateKind(str, enum.Enum):
    AWARD = "award"  # 荣誉证书 / 获奖证书: award winners of a competition
    PARTICIPATION = "participation"  # 参会证明: only people who actually checked in
    TRAINING = "training"  # 结业证书: training completion
    APPOINTMENT = "appointment"  # 聘书: judges and experts


class CertificateStatus(str, enum.Enum):
    VALID = "valid"
    REVOKED = "revoked"


class CertificateDesign(db.Model):
    """How one event prints one kind of certificate: a built-in design or an uploaded background, the fields
    (layout.Field, stored as JSON: position in mm, size, alignment, template), the date style, the number format.

    ``version`` goes up with every save (previews are cached by it). ``background`` holds the organizer's image,
    normalized on upload to an RGB JPEG of at most 2480 px (about 210 dpi on A4), loaded only when rendering.
    """

    __tablename__ = "certificate_designs"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    kind: Mapped[CertificateKind] = mapped_column(enum_column(CertificateKind))
    base: Mapped[str] = mapped_column(sa.String(20), default="formal")  # layout.BASES
    orientation: Mapped[str] = mapped_column(sa.String(12), default="landscape")
    # "Print on pre-printed paper": only the fields are printed, moved by the printer's offset (mm).
    preprinted: Mapped[bool] = mapped_column(default=False)
    offset_x: Mapped[float] = mapped_column(sa.Float, default=0.0)
    offset_y: Mapped[float] = mapped_column(sa.Float, default=0.0)
    fields: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    date_style: Mapped[str] = mapped_column(sa.String(10), default="chinese")  # dates.STYLES
    issue_date: Mapped[date | None] = mapped_column(sa.Date)  # printed date; empty: the event's last day
    organizers_text: Mapped[str] = mapped_column(sa.Text, default="")  # {organizers}: one name per line
    number_format: Mapped[str] = mapped_column(sa.String(60))
    number_scope: Mapped[str] = mapped_column(sa.String(10), default="year")  # numbering.SCOPES
    background: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    background_sha: Mapped[str | None] = mapped_column(sa.String(64))
    background_width: Mapped[int | None] = mapped_column()
    background_height: Mapped[int | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    event = relationship("Event")

    __table_args__ = (sa.UniqueConstraint("event_id", "kind"),)


class NumberCounter(db.Model):
    """The last sequence number handed out in one series (organization, scope, format).

    Numbers are taken only with ``UPDATE … SET last_seq = last_seq + n … RETURNING last_seq`` (certificates.services
    .allocate_numbers): the row lock (PostgreSQL) or the write lock (SQLite) makes two batches that issue at the
    same time take different numbers, never the same one.
    """

    __tablename__ = "certificate_number_counters"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"))
    scope_key: Mapped[str] = mapped_column(sa.String(40))  # "event:12" or "year:2026"
    number_format: Mapped[str] = mapped_column(sa.String(60))
    last_seq: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (sa.UniqueConstraint("organization_id", "scope_key", "number_format"),)


class Certificate(db.Model):
    """One issued certificate. What is printed is kept on the row (holder, unit, award …), so that the
    verification page shows exactly what the paper says, and a reissue prints the same number.

    ``holder_key`` names the holder inside the event and kind (``reg:<id>``, ``member:<id>``, ``entrant:<id>``,
    ``user:<id>``, ``name:<hash>``); the unique constraint on (event, kind, holder_key) makes issuing twice
    return the first certificate instead of a second one.
    """

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    kind: Mapped[CertificateKind] = mapped_column(enum_column(CertificateKind))
    holder_key: Mapped[str] = mapped_column(sa.String(80))
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    entrant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entrants.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    holder_name: Mapped[str] = mapped_column(sa.String(100))
    unit: Mapped[str] = mapped_column(sa.String(200), default="")
    members: Mapped[str] = mapped_column(sa.String(300), default="")  # a team's members, 、-separated
    award: Mapped[str] = mapped_column(sa.String(100), default="")  # award tier, or the role of a 聘书
    competition: Mapped[str] = mapped_column(sa.String(200), default="")
    group_name: Mapped[str] = mapped_column(sa.String(60), default="")
    issued_on: Mapped[date] = mapped_column(sa.Date)  # the date printed on it

    number: Mapped[str] = mapped_column(sa.String(100))
    seq: Mapped[int] = mapped_column()
    scope_key: Mapped[str] = mapped_column(sa.String(40))
    number_format: Mapped[str] = mapped_column(sa.String(60))
    verify_code: Mapped[str] = mapped_column(sa.String(16), unique=True)

    status: Mapped[CertificateStatus] = mapped_column(
        enum_column(CertificateStatus), default=CertificateStatus.VALID
    )
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("background_tasks.id", ondelete="SET NULL"))
    revision: Mapped[int] = mapped_column(default=1)  # 1, then +1 for every reissue
    reissued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    revoke_reason: Mapped[str | None] = mapped_column(sa.Text)

    event = relationship("Event")
    organization = relationship("Organization")

    __table_args__ = (
        sa.UniqueConstraint("event_id", "kind", "holder_key"),
        sa.UniqueConstraint("organization_id", "number"),
        sa.Index("ix_certificates_event_kind", "event_id", "kind", "status"),
    )

    @property
    def is_valid(self) -> bool:
        return self.status == CertificateStatus.VALID

    def __repr__(self) -> str:
        return f"<Certificate {self.id} {self.number}>"
