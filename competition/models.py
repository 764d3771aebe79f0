"""Competition set-up: 赛项, 组别, 轮次, entrants with their sealed draw codes, roll call (检录) and rubrics.

Identity is sealed: an entrant's name, unit, members, coaches and phone live in ``entrants``; the anonymous codes
judges see live in ``draw_codes`` (stage 1: station number 工位号, stage 2: result code 二次加密). A judge-facing
query selects ``DrawCode.code`` by entrant id and never needs to touch ``entrants``' personal columns.

Ids are stable: a rubric is edited in place (its ``version`` counts the changes) and locked once scoring starts,
so a score can point at a criterion id and the rubric version it was entered against.
"""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.types import ScaledDecimal, UTCDateTime, enum_column, utcnow
from events.models import Event
from extensions import db


class Rounding(str, enum.Enum):
    """The same values as ``judging.values.Rounding`` (the aggregation's precision)."""

    HALF_UP = "half_up"  # 四舍五入 (default)
    UP = "up"  # away from zero
    DOWN = "down"  # toward zero (truncate)


class AggregationMethod(str, enum.Enum):
    """The same values as ``judging.aggregation.Method``."""

    MEAN = "mean"
    TRIMMED_MEAN = "trimmed_mean"  # 去掉一个最高分和一个最低分 (when the panel has at least trim_threshold judges)
    TWO_CLOSEST = "two_closest"  # mean of the two closest (panels of 3)
    MEDIAN = "median"


class Normalization(str, enum.Enum):
    """Off, or one of ``judging.aggregation.NormalizationMethod``; always shown beside the raw result."""

    OFF = "off"
    Z_SCORE = "z_score"
    MEDIAN_MAD = "median_mad"


class RoundState(str, enum.Enum):
    SETUP = "setup"  # being prepared: rubric, entrants and draw may change
    SCORING = "scoring"  # judges are scoring: the rubric is locked, the draw can no longer be redone
    LOCKED = "locked"  # scores are final for this round


class CriterionKind(str, enum.Enum):
    MEASUREMENT = "measurement"  # 客观: entered once (full mark, zero or a value)
    JUDGEMENT = "judgement"  # 主观: scored by each judge of the panel


class EntrantSource(str, enum.Enum):
    REGISTRATION = "registration"  # from an approved sign-up of the event
    IMPORT = "import"  # from the competition workbook
    MANUAL = "manual"  # typed in by an organizer


class RollCallSource(str, enum.Enum):
    SCAN = "scan"  # the ticket's QR code scanned
    MANUAL = "manual"  # ticked on the list


STATION_STAGE = 1  # 一次加密: station / work number (工位号、赛位号)
RESULT_STAGE = 2  # 二次加密: the result code mapped from the station number
STAGES = (STATION_STAGE, RESULT_STAGE)


def default_award_rules() -> dict:
    """SPEC's default: 一等奖 10%, 二等奖 20%, 三等奖 30% of the ranked entrants of a group, counts rounded half-up."""
    return {
        "basis": "share",
        "rounding": "half_up",
        "tiers": [{"name": "一等奖", "value": "10"}, {"name": "二等奖", "value": "20"}, {"name": "三等奖", "value": "30"}],
    }


class Competition(db.Model):
    """赛项: one contest inside an event; organization-scoped through the event."""

    __tablename__ = "competitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    # Precision of combined scores and totals: decimal places and the rounding rule.
    places: Mapped[int] = mapped_column(default=2)
    rounding: Mapped[Rounding] = mapped_column(enum_column(Rounding), default=Rounding.HALF_UP)
    # How a panel's scores for one criterion combine.
    aggregation: Mapped[AggregationMethod] = mapped_column(
        enum_column(AggregationMethod), default=AggregationMethod.TRIMMED_MEAN
    )
    trim_threshold: Mapped[int] = mapped_column(default=5)  # trimmed mean only with at least this many judges
    normalization: Mapped[Normalization] = mapped_column(enum_column(Normalization), default=Normalization.OFF)
    normalization_min_scores: Mapped[int] = mapped_column(default=5)  # per judge, below it normalization refuses
    # {"basis": "share" | "count" | "threshold", "rounding": "half_up" | "up" | "down",
    #  "tiers": [{"name": "一等奖", "value": "10"}, ...]} — values are decimal strings.
    award_rules: Mapped[dict] = mapped_column(sa.JSON, default=default_award_rules)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    event: Mapped[Event] = relationship()
    groups: Mapped[list[Group]] = relationship(
        back_populates="competition", cascade="all, delete-orphan", order_by="(Group.position, Group.id)"
    )
    rounds: Mapped[list[Round]] = relationship(
        back_populates="competition", cascade="all, delete-orphan", order_by="(Round.position, Round.id)"
    )

    __table_args__ = (
        sa.UniqueConstraint("event_id", "title"),
        sa.CheckConstraint("places >= 0 AND places <= 4", name="places_range"),
        sa.CheckConstraint("trim_threshold >= 3", name="trim_threshold_min"),
        sa.CheckConstraint("normalization_min_scores >= 2", name="normalization_min_scores_min"),
    )

    @property
    def organization_id(self) -> int:
        return self.event.organization_id

    def __repr__(self) -> str:
        return f"<Competition {self.id} {self.title}>"


class Group(db.Model):
    """组别: a ranking bracket (中职组, 高职组, 企业组). Entrants rank only within their group."""

    __tablename__ = "competition_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    position: Mapped[int] = mapped_column(default=0)

    competition: Mapped[Competition] = relationship(back_populates="groups")

    __table_args__ = (sa.UniqueConstraint("competition_id", "name"),)


class Round(db.Model):
    """轮次 (初赛 / 复赛 / 决赛): a stage with its own rubric and roll call."""

    __tablename__ = "competition_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    position: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Whether this round's scores count toward the final result, and with which weight (%); a round that does not
    # carry scores forward only decides who goes on.
    carries_scores_forward: Mapped[bool] = mapped_column(default=False)
    weight: Mapped[Decimal | None] = mapped_column(ScaledDecimal(4))
    state: Mapped[RoundState] = mapped_column(enum_column(RoundState), default=RoundState.SETUP)
    scoring_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    competition: Mapped[Competition] = relationship(back_populates="rounds")

    __table_args__ = (
        sa.UniqueConstraint("competition_id", "name"),
        sa.CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at >= starts_at", name="ends_after_starts"),
    )


class Entrant(db.Model):
    """参赛者 / 参赛队: a person or team in one competition. Personal data stays here; codes live in DrawCode."""

    __tablename__ = "entrants"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competition_groups.id", ondelete="RESTRICT"), index=True)
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    is_team: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(sa.String(100))  # the person, or the team's name
    unit: Mapped[str] = mapped_column(sa.String(200), default="")
    members: Mapped[list] = mapped_column(sa.JSON, default=list)  # names, leader first
    coaches: Mapped[list] = mapped_column(sa.JSON, default=list)  # names of 指导教师
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    source: Mapped[EntrantSource] = mapped_column(enum_column(EntrantSource), default=EntrantSource.MANUAL)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    competition: Mapped[Competition] = relationship()
    group: Mapped[Group | None] = relationship()

    __table_args__ = (
        # A sign-up enters a competition once (NULLs, for imported entrants, never collide).
        sa.UniqueConstraint("competition_id", "registration_id"),
    )


class DrawCode(db.Model):
    """An entrant's anonymous code for one stage of the draw (抽签): the sealed identity mapping."""

    __tablename__ = "draw_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"))
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"), index=True)
    stage: Mapped[int] = mapped_column()
    code: Mapped[str] = mapped_column(sa.String(20))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("competition_id", "stage", "code"),
        sa.UniqueConstraint("entrant_id", "stage"),
        sa.CheckConstraint("stage IN (1, 2)", name="stage_known"),
    )


class Draw(db.Model):
    """The last draw of one stage of a competition: its format, when and by whom (each draw is also audited)."""

    __tablename__ = "competition_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"))
    stage: Mapped[int] = mapped_column()
    prefix: Mapped[str] = mapped_column(sa.String(8), default="")
    width: Mapped[int] = mapped_column()
    entrants: Mapped[int] = mapped_column()  # how many codes the draw gave
    times: Mapped[int] = mapped_column(default=1)  # 1 for the first draw, then each redo adds one
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    drawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.UniqueConstraint("competition_id", "stage"),
        sa.CheckConstraint("stage IN (1, 2)", name="stage_known"),
    )


class RollCall(db.Model):
    """检录: whether an entrant is present for a round. Only entrants present are scored."""

    __tablename__ = "roll_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), index=True)
    present: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[RollCallSource] = mapped_column(enum_column(RollCallSource), default=RollCallSource.MANUAL)

    __table_args__ = (sa.UniqueConstraint("entrant_id", "round_id"),)


class Rubric(db.Model):
    """评分标准 of one round. Edited in place (``version`` counts changes) until locked when scoring starts."""

    __tablename__ = "rubrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), unique=True)
    version: Mapped[int] = mapped_column(default=1)
    locked: Mapped[bool] = mapped_column(default=False)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    round: Mapped[Round] = relationship()
    modules: Mapped[list[Module]] = relationship(
        back_populates="rubric", cascade="all, delete-orphan", order_by="(Module.position, Module.id)"
    )


class Module(db.Model):
    """模块 (A, B …) of a rubric, with an optional weight in percent (theory 30% + practice 70%)."""

    __tablename__ = "rubric_modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[int] = mapped_column(sa.ForeignKey("rubrics.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(10))
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    weight: Mapped[Decimal | None] = mapped_column(ScaledDecimal(4))
    position: Mapped[int] = mapped_column(default=0)

    rubric: Mapped[Rubric] = relationship(back_populates="modules")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="module", cascade="all, delete-orphan", order_by="(Criterion.position, Criterion.id)"
    )

    __table_args__ = (sa.UniqueConstraint("rubric_id", "code"),)


class Criterion(db.Model):
    """评分项 (A1, A2 …): maximum and step; measurement (客观, optionally full mark or zero) or judgement (主观),
    the latter optionally on a 0–3 ladder with a descriptor per level (marks = level / 3 × maximum)."""

    __tablename__ = "rubric_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[int] = mapped_column(sa.ForeignKey("rubrics.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_modules.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    maximum: Mapped[Decimal] = mapped_column(ScaledDecimal(4))
    step: Mapped[Decimal] = mapped_column(ScaledDecimal(4))
    kind: Mapped[CriterionKind] = mapped_column(enum_column(CriterionKind))
    # A measurement criterion marked all or nothing: only 0 or the maximum (满分或零分).
    full_or_zero: Mapped[bool] = mapped_column(default=False)
    ladder: Mapped[bool] = mapped_column(default=False)
    levels: Mapped[list] = mapped_column(sa.JSON, default=list)  # 4 descriptors, level 0 to 3, when ladder is on
    position: Mapped[int] = mapped_column(default=0)

    module: Mapped[Module] = relationship(back_populates="criteria")

    __table_args__ = (
        sa.UniqueConstraint("rubric_id", "code"),
        sa.CheckConstraint("maximum > 0", name="maximum_positive"),
        sa.CheckConstraint("step > 0", name="step_positive"),
    )
