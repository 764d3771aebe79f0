"""Results of a competition (issue 8): the results state, its change log, tie decisions, award overrides,
completion times and the ranking history. The numbers themselves (totals, ranks, awards) are never stored: they are
computed from the submitted scores by ``competition.results`` and cached per process by ``version``.

- ``CompetitionResults``: one row per competition. ``version`` counts every change that can move the board (a score
  submitted, changed or reopened, an entrant or setting changed, a state change); it is bumped in the same
  transaction as the change (``competition.results.touch``), so screens served by any app server see it through the
  database. ``state_version`` counts only changes of what the public may see (publish, freeze, …). The state:
  ``published`` (before that the public sees nothing, or codes only: ``before_publish``), ``final`` (provisional
  until then; the chief judge's desk will set it later), ``frozen_at`` (封榜: the public sees ``frozen_board``, the
  public board as it was at freeze time, while scoring goes on). The organizer's ranking settings live here too:
  the tie-break chain and how it ends, an overall list beside the groups, whether ties at an award boundary lift,
  the rest tier (优秀奖) and the medal-table points.
- ``ResultChange``: one row per version bump: what changed (the audit action), for which entrant when it was one
  entrant's scores, and the ``scope`` the cache uses to recompute only what is needed.
- ``TieDecision``: a tie the chain left (same total, same earlier tie-break values) ordered by drawing lots (the
  seed is kept, so anyone can redo the draw) or by the chief judge's decision (with the reason).
- ``AwardOverride``: an entrant's award set by hand, with the reason (also in the audit trail).
- ``CompletionTime``: an entrant's completion time in a round, for the tie-break "shorter completion time".
- ``RankBaseline`` and ``RankMove``: the ranking history. The boards' ranks as last recorded (one row per board);
  each recompute that changes a rank or total records the moves (old → new) under the new version, and the changes
  (``ResultChange``) between the two versions are what moved them.
"""
from __future__ import annotations

import enum
import secrets
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.types import ScaledDecimal, UTCDateTime, enum_column, utcnow
from extensions import db


class BeforePublish(str, enum.Enum):
    """What the public sees before the organizer publishes the results."""

    NOTHING = "nothing"
    CODES = "codes"  # ranks, codes and totals, no names or units (identities still sealed)


class ChainEnd(str, enum.Enum):
    """How a tie that the tie-break chain leaves is settled."""

    SHARED = "shared"  # 并列: the entrants share the rank
    LOTS = "lots"  # drawing lots (recorded with its seed)
    CHIEF = "chief"  # the chief judge's decision (recorded with its reason)


class DecisionMethod(str, enum.Enum):
    LOTS = "lots"
    CHIEF = "chief"


def new_cache_token() -> str:
    return secrets.token_hex(8)


def default_points() -> list:
    return ["4", "3", "2", "1"]


class CompetitionResults(db.Model):
    __tablename__ = "competition_results"

    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"),
                                                primary_key=True)
    # A random token: process caches key on it, so a competition made again with the same id never hits an old cache.
    cache_token: Mapped[str] = mapped_column(sa.String(16), default=new_cache_token)
    version: Mapped[int] = mapped_column(default=1)
    state_version: Mapped[int] = mapped_column(default=1)
    published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    before_publish: Mapped[BeforePublish] = mapped_column(enum_column(BeforePublish), default=BeforePublish.NOTHING)
    final: Mapped[bool] = mapped_column(default=False)
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    frozen_version: Mapped[int | None] = mapped_column()
    frozen_board: Mapped[dict | None] = mapped_column(sa.JSON)
    # Ranking settings. tiebreaks: ["module:B", "judgement", "time", …] in the order the rules list them.
    tiebreaks: Mapped[list] = mapped_column(sa.JSON, default=list)
    chain_end: Mapped[ChainEnd] = mapped_column(enum_column(ChainEnd), default=ChainEnd.SHARED)
    overall: Mapped[bool] = mapped_column(default=False)  # an overall list beside the groups' lists
    lift_ties: Mapped[bool] = mapped_column(default=True)  # a tie across an award cut-off lifts all tied entrants
    rest_tier: Mapped[str] = mapped_column(sa.String(30), default="")  # e.g. 优秀奖 for every other ranked entrant
    points: Mapped[list] = mapped_column(sa.JSON, default=default_points)  # medal-table points per tier, best first
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.CheckConstraint("version >= 1 AND state_version >= 1", name="versions_positive"),)


class ResultChange(db.Model):
    __tablename__ = "result_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(sa.String(64))
    # full: reload everything; entrant: reload this entrant's scores; rank: re-rank only; state: nothing to compute
    scope: Mapped[str] = mapped_column(sa.String(10))
    entrant_id: Mapped[int | None] = mapped_column()  # no foreign key: the log outlives a deleted entrant
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    __table_args__ = (sa.UniqueConstraint("competition_id", "version"),)


class TieDecision(db.Model):
    __tablename__ = "result_tie_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    board: Mapped[str] = mapped_column(sa.String(20))  # "g<group id>", "all", "ungrouped", "overall"
    tie_key: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the total and the tied entrants' ids
    total: Mapped[str] = mapped_column(sa.String(40))
    entrant_ids: Mapped[list] = mapped_column(sa.JSON)  # the tied entrants, sorted
    method: Mapped[DecisionMethod] = mapped_column(enum_column(DecisionMethod))
    order: Mapped[list] = mapped_column(sa.JSON)  # entrant ids, best first
    seed: Mapped[str] = mapped_column(sa.String(64), default="")  # lots: the seed of the draw
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # chief: why
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (sa.UniqueConstraint("competition_id", "board", "tie_key"),)


class AwardOverride(db.Model):
    __tablename__ = "result_award_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"), unique=True)
    tier: Mapped[str] = mapped_column(sa.String(30))  # "" = no award
    reason: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class CompletionTime(db.Model):
    __tablename__ = "result_completion_times"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"))
    seconds: Mapped[Decimal] = mapped_column(ScaledDecimal(3))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.UniqueConstraint("entrant_id", "round_id"),
        sa.CheckConstraint("seconds >= 0", name="seconds_not_negative"),
    )


class RankBaseline(db.Model):
    """The last recorded board, one row per board ({entrant id: [rank or null, total or null]}); the row of board ""
    holds the version the history was recorded up to."""

    __tablename__ = "result_rank_baselines"

    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"),
                                                primary_key=True)
    board: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    version: Mapped[int] = mapped_column()
    ranks: Mapped[dict] = mapped_column(sa.JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class RankMove(db.Model):
    __tablename__ = "result_rank_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"))
    from_version: Mapped[int] = mapped_column()
    version: Mapped[int] = mapped_column()
    board: Mapped[str] = mapped_column(sa.String(20))
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"))
    old_rank: Mapped[int | None] = mapped_column()
    new_rank: Mapped[int | None] = mapped_column()
    old_total: Mapped[str | None] = mapped_column(sa.String(40))
    new_total: Mapped[str | None] = mapped_column(sa.String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (sa.Index("ix_result_rank_moves_competition_version", "competition_id", "version"),)
