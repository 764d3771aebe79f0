"""What the chief judge's desk stores (裁判长工作台). Flags themselves are computed from the scores
(``judging.desk``); stored is what the chief judge did about them.

- ``DeskSettings``: a competition's thresholds (none saved: the defaults of ``judging.desk.Thresholds``).
- ``DisagreementFlag``: the chief judge acted on a spread flag of one entrant and criterion in one round: asked the
  panel to re-score (``state = rescore``) or resolved it (``state = resolved`` with ``resolution`` ``rescored`` —
  every asked judge re-submitted — or ``kept``, with the chief judge's note). One row per (round, entrant,
  criterion); every change is a conditional UPDATE on its state, so two chief judges cannot both resolve it.
- ``RescoreRequest``: "please score this criterion of this entrant again", with the reason; the panel's submitted
  scores were given back as drafts. ``open`` until every asked judge re-submitted (``done``) or the chief judge
  closed it with a note (``closed``). ``RescoreRequestJudge``: one asked judge and when they re-submitted.
"""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.types import ScaledDecimal, UTCDateTime, enum_column
from extensions import db


class FlagState(str, enum.Enum):
    RESCORE = "rescore"  # the panel was asked to re-score; waiting for them
    RESOLVED = "resolved"


class FlagResolution(str, enum.Enum):
    RESCORED = "rescored"  # every asked judge re-submitted
    KEPT = "kept"  # the chief judge kept the scores, with a note


class RescoreState(str, enum.Enum):
    OPEN = "open"
    DONE = "done"  # every asked judge re-submitted
    CLOSED = "closed"  # closed by the chief judge with a note


class DeskSettings(db.Model):
    __tablename__ = "desk_settings"

    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"),
                                                primary_key=True)
    ladder_levels: Mapped[Decimal] = mapped_column(ScaledDecimal(2))
    spread_share: Mapped[Decimal] = mapped_column(ScaledDecimal(2))
    outlier_share: Mapped[Decimal] = mapped_column(ScaledDecimal(2))
    outlier_min_entrants: Mapped[int] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class RescoreRequest(db.Model):
    __tablename__ = "rescore_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), index=True)
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_criteria.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[RescoreState] = mapped_column(enum_column(RescoreState), default=RescoreState.OPEN)
    asked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_note: Mapped[str] = mapped_column(sa.Text, default="")

    judges: Mapped[list[RescoreRequestJudge]] = relationship(order_by="RescoreRequestJudge.id",
                                                             cascade="all, delete-orphan")


class RescoreRequestJudge(db.Model):
    __tablename__ = "rescore_request_judges"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("rescore_requests.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    score_id: Mapped[int] = mapped_column(sa.ForeignKey("scores.id", ondelete="CASCADE"), index=True)
    resubmitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.UniqueConstraint("request_id", "judge_id"),)


class DisagreementFlag(db.Model):
    __tablename__ = "disagreement_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"))
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_criteria.id", ondelete="CASCADE"))
    spread: Mapped[Decimal] = mapped_column(ScaledDecimal(4))  # the spread when the chief judge last acted
    state: Mapped[FlagState] = mapped_column(enum_column(FlagState))
    resolution: Mapped[FlagResolution | None] = mapped_column(enum_column(FlagResolution))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    rescore_request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rescore_requests.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("round_id", "entrant_id", "criterion_id"),
        sa.CheckConstraint("state <> 'resolved' OR resolution IS NOT NULL", name="resolved_has_resolution"),
    )
