"""Appeals (申诉) against a competition's provisional results, decided by the arbitration group (监督仲裁组).

- ``Appeal``: one written appeal for one entrant of a competition: who filed it (the team leader through the
  sign-up's manage link, or an organizer on their behalf, recorded), the reason, an optional attachment (stored under
  the instance folder by a random name), and the decision. ``state`` moves once, ``open`` → ``upheld`` / ``rejected``,
  by a conditional UPDATE (``… WHERE state = 'open'``): the decision is final and never edited. ``number`` counts the
  competition's appeals (申诉 #1, #2 …); ``slot`` counts the entrant's, and the unique ``(entrant_id, slot)`` stops a
  second appeal where the rules allow one even when two are filed at the same moment.
- ``AppealCorrection``: a score the arbitration group re-checked for an upheld appeal, with the value before and
  after. The correction itself went through ``judging.services.change_submitted_score`` (a ``ScoreChange`` row,
  the audited path); this row ties it to the appeal.
- ``AppealSettings``: per competition, how many appeals one entrant may file (default one).
"""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.types import ScaledDecimal, UTCDateTime, enum_column, utcnow
from extensions import db

REASON_MIN = 10
REASON_MAX = 4000
DECISION_MAX = 4000
DEFAULT_APPEALS_PER_ENTRANT = 1
MAX_APPEALS_PER_ENTRANT = 5


class AppealState(str, enum.Enum):
    OPEN = "open"  # filed, waiting for the arbitration group
    UPHELD = "upheld"  # 申诉成立: scores re-checked and corrected through the audited path
    REJECTED = "rejected"  # 申诉不成立 / 驳回: with the reason


class AppealChannel(str, enum.Enum):
    PARTICIPANT = "participant"  # the team leader, through the sign-up's manage link
    ORGANIZER = "organizer"  # an organizer filed it on the entrant's behalf


class Appeal(db.Model):
    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    number: Mapped[int] = mapped_column()  # 申诉 #n within the competition
    slot: Mapped[int] = mapped_column()  # the entrant's 1st, 2nd … appeal in this competition
    state: Mapped[AppealState] = mapped_column(enum_column(AppealState), default=AppealState.OPEN)
    channel: Mapped[AppealChannel] = mapped_column(enum_column(AppealChannel))
    appellant_name: Mapped[str] = mapped_column(sa.String(100))  # the team leader / person, as signed up
    reason: Mapped[str] = mapped_column(sa.Text)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    filed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))  # organizer
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the deadline in force when it was filed
    attachment_name: Mapped[str | None] = mapped_column(sa.String(200))  # the file's name as uploaded
    attachment_file: Mapped[str | None] = mapped_column(sa.String(80))  # random name under the instance folder
    attachment_type: Mapped[str | None] = mapped_column(sa.String(40))  # from the file's magic bytes
    attachment_size: Mapped[int | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(sa.Text, default="")  # the arbitration group's written decision

    corrections: Mapped[list[AppealCorrection]] = relationship(
        back_populates="appeal", cascade="all, delete-orphan", order_by="AppealCorrection.id"
    )

    __table_args__ = (
        sa.UniqueConstraint("competition_id", "number"),
        sa.UniqueConstraint("entrant_id", "slot"),
        sa.CheckConstraint("slot >= 1", name="slot_positive"),
        sa.CheckConstraint("(state = 'open') = (decided_at IS NULL)", name="decided_when_closed"),
    )

    @property
    def is_open(self) -> bool:
        return self.state == AppealState.OPEN


class AppealCorrection(db.Model):
    __tablename__ = "appeal_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    score_id: Mapped[int] = mapped_column(sa.ForeignKey("scores.id", ondelete="RESTRICT"), index=True)
    score_change_id: Mapped[int | None] = mapped_column(sa.ForeignKey("score_changes.id", ondelete="RESTRICT"))
    old_value: Mapped[Decimal | None] = mapped_column(ScaledDecimal(4))
    new_value: Mapped[Decimal | None] = mapped_column(ScaledDecimal(4))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    appeal: Mapped[Appeal] = relationship(back_populates="corrections")

    __table_args__ = (sa.UniqueConstraint("appeal_id", "score_id"),)


class AppealSettings(db.Model):
    __tablename__ = "appeal_settings"

    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"),
                                                primary_key=True)
    appeals_per_entrant: Mapped[int] = mapped_column(default=DEFAULT_APPEALS_PER_ENTRANT)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.CheckConstraint(f"appeals_per_entrant >= 1 AND appeals_per_entrant <= {MAX_APPEALS_PER_ENTRANT}",
                           name="appeals_per_entrant_range"),
    )
