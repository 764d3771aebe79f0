"""Judges, panels, assignments and scores (评委、评委组、分配、评分).

- ``JudgeProfile``: a user judging one competition, with the units (单位) they declared for 回避 and the entrants
  they coach. The account itself is an ``accounts.User`` with a ``judge`` (or ``chief_judge``) membership.
- ``JudgeInvitation``: a single-use, expiring link with which a new judge sets their password.
- ``RoundJudging``: the judging settings of a round (does scoring require roll call; which code judges see).
- ``Panel`` (评委组): competition + round + (optional) group; ``PanelJudge`` puts a judge on it, optionally for
  some criteria only (``PanelJudgeCriterion``; none listed = every criterion of the round's rubric).
- ``Assignment``: one judge scores one entrant in one round (unique). Conflicts (回避) are never assigned.
- ``Score``: one judge's value for one entrant, criterion and round (unique); ``value`` NULL is a blank (未评),
  never zero. ``draft`` scores may change (last write wins); ``submitted`` ones only through a logged
  ``ScoreChange`` (old value, new value, who, when, why).
- ``ScoreRequest``: the answer to a tablet's request, by its nonce, so that a resent request is applied once.

Scores point at users, entrants, criteria and rounds with ``ON DELETE RESTRICT``: a submitted score is never lost
by deleting something else (competition services refuse those deletions once scoring has started anyway).
"""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from core.types import ScaledDecimal, UTCDateTime, enum_column, utcnow
from extensions import db

VALUE_PLACES = 4  # scores keep up to four decimal places (the competition's precision is 0 to 4)


class JudgeRole(str, enum.Enum):
    JUDGE = "judge"  # 评委 / 裁判
    CHIEF = "chief"  # 裁判长
    ENCRYPTOR = "encryptor"  # 加密裁判: sees the sealed draw; one of the two people who decrypt
    SUPERVISOR = "supervisor"  # 监督 (监督仲裁组): reviews scores (复核); the second person at decryption
    ARBITRATOR = "arbitrator"  # 仲裁 (监督仲裁组): decides appeals (申诉)


class ScoreState(str, enum.Enum):
    DRAFT = "draft"  # saved, may still change (last write wins)
    SUBMITTED = "submitted"  # the judge submitted the entrant: changes only through ScoreChange


class ScoreSource(str, enum.Enum):
    TABLET = "tablet"  # the tablet page or the scores API
    PAPER = "paper"  # typed in from a paper sheet (workbook sheet 成绩)


class JudgeProfile(db.Model):
    """A judge of one competition: their declared units (回避) and the entrants they coach."""

    __tablename__ = "judge_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[JudgeRole] = mapped_column(enum_column(JudgeRole), default=JudgeRole.JUDGE)
    units: Mapped[list] = mapped_column(sa.JSON, default=list)  # names of units, as declared
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    coached: Mapped[list[JudgeCoachedEntrant]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="JudgeCoachedEntrant.entrant_id"
    )

    __table_args__ = (sa.UniqueConstraint("competition_id", "user_id"),)

    @property
    def coached_entrant_ids(self) -> set[int]:
        return {link.entrant_id for link in self.coached}


class JudgeCoachedEntrant(db.Model):
    """The judge coaches (指导) this entrant: a conflict, whatever the units say."""

    __tablename__ = "judge_coached_entrants"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(sa.ForeignKey("judge_profiles.id", ondelete="CASCADE"), index=True)
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"), index=True)

    profile: Mapped[JudgeProfile] = relationship(back_populates="coached")

    __table_args__ = (sa.UniqueConstraint("profile_id", "entrant_id"),)


class JudgeInvitation(db.Model):
    """A link with which a judge sets their password: signed, expiring, single use (``used_at`` is set by one
    conditional UPDATE). Only a hash of the link's secret is stored."""

    __tablename__ = "judge_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class RoundJudging(db.Model):
    """How a round is judged. Made on first use with the defaults: roll call required, station numbers shown."""

    __tablename__ = "round_judging_settings"

    round_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    # Only entrants marked present at roll call (检录) are scored. Off for rounds judged on submitted works.
    requires_roll_call: Mapped[bool] = mapped_column(default=True)
    # The code judges see: 1 = station number (工位号), 2 = result code (二次加密号).
    code_stage: Mapped[int] = mapped_column(default=1)

    __table_args__ = (sa.CheckConstraint("code_stage IN (1, 2)", name="code_stage_known"),)


class Panel(db.Model):
    """评委组: judges scoring one group (or every group) of a competition in one round."""

    __tablename__ = "judge_panels"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competition_groups.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(60))
    # How many judges of the panel score each entrant; NULL: every judge scores every entrant (minus 回避).
    judges_per_entrant: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    judges: Mapped[list[PanelJudge]] = relationship(
        back_populates="panel", cascade="all, delete-orphan", order_by="(PanelJudge.position, PanelJudge.id)"
    )

    __table_args__ = (
        sa.UniqueConstraint("round_id", "name"),
        sa.CheckConstraint("judges_per_entrant IS NULL OR judges_per_entrant >= 1", name="judges_per_entrant_min"),
    )


class PanelJudge(db.Model):
    """A judge on a panel; ``criteria`` limits their share (e.g. a measuring judge for the 客观 criteria)."""

    __tablename__ = "panel_judges"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(sa.ForeignKey("judge_panels.id", ondelete="CASCADE"), index=True)
    profile_id: Mapped[int] = mapped_column(sa.ForeignKey("judge_profiles.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    panel: Mapped[Panel] = relationship(back_populates="judges")
    profile: Mapped[JudgeProfile] = relationship()
    criteria: Mapped[list[PanelJudgeCriterion]] = relationship(
        cascade="all, delete-orphan", order_by="PanelJudgeCriterion.criterion_id"
    )

    __table_args__ = (sa.UniqueConstraint("panel_id", "profile_id"),)

    @property
    def criterion_ids(self) -> set[int]:
        """The criteria of this judge's share; empty = every criterion of the round."""
        return {link.criterion_id for link in self.criteria}


class PanelJudgeCriterion(db.Model):
    __tablename__ = "panel_judge_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_judge_id: Mapped[int] = mapped_column(sa.ForeignKey("panel_judges.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_criteria.id", ondelete="CASCADE"))

    __table_args__ = (sa.UniqueConstraint("panel_judge_id", "criterion_id"),)


class Assignment(db.Model):
    """One judge scores one entrant in one round (through one panel)."""

    __tablename__ = "judge_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"))
    panel_id: Mapped[int] = mapped_column(sa.ForeignKey("judge_panels.id", ondelete="CASCADE"), index=True)
    panel_judge_id: Mapped[int] = mapped_column(sa.ForeignKey("panel_judges.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    panel_judge: Mapped[PanelJudge] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("round_id", "judge_id", "entrant_id"),
        sa.Index("ix_judge_assignments_judge_round", "judge_id", "round_id"),
    )


class Score(db.Model):
    """One judge's value for one entrant and criterion in one round. ``value`` NULL = blank (未评), not zero; for a
    ladder criterion the value is the level (0–3), see ``judging.values``."""

    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="RESTRICT"))
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="RESTRICT"), index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_criteria.id", ondelete="RESTRICT"), index=True)
    value: Mapped[Decimal | None] = mapped_column(ScaledDecimal(VALUE_PLACES))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    state: Mapped[ScoreState] = mapped_column(enum_column(ScoreState), default=ScoreState.DRAFT)
    source: Mapped[ScoreSource] = mapped_column(enum_column(ScoreSource), default=ScoreSource.TABLET)
    rubric_version: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.UniqueConstraint("judge_id", "entrant_id", "criterion_id", "round_id"),
        sa.Index("ix_scores_round_judge", "round_id", "judge_id"),
        sa.CheckConstraint("state = 'draft' OR value IS NOT NULL", name="submitted_has_value"),
    )


class ScoreChangeKind(str, enum.Enum):
    CORRECTION = "correction"  # a value changed (by the chief judge, or by the judge after an unlock / re-score)
    UNLOCK = "unlock"  # the chief judge gave a submitted score back to the judge (reason required)
    RESCORE = "rescore"  # given back because the chief judge asked the panel to re-score a criterion
    ON_BEHALF = "on_behalf"  # the chief judge typed a paper score sheet in for a judge (``on_behalf_of_id``)
    REVIEW = "review"  # changed at review (复核)
    APPEAL = "appeal"  # changed by an appeal's decision (申诉)
    REVISION = "revision"  # a revision of the final results (judging.process.revise_final)


class ScoreChange(db.Model):
    """A change to a submitted score: old and new value, who, when, why and what kind of change. Append-only: the
    ORM refuses to update or delete a row, and a database trigger (PostgreSQL and SQLite, created with the table
    and by migration a5c4ed01b008) refuses an UPDATE of any recorded field. Only the user references may still be
    set to NULL by their foreign keys when an account is deleted."""

    __tablename__ = "score_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(sa.ForeignKey("scores.id", ondelete="RESTRICT"), index=True)
    old_value: Mapped[Decimal | None] = mapped_column(ScaledDecimal(VALUE_PLACES))
    new_value: Mapped[Decimal | None] = mapped_column(ScaledDecimal(VALUE_PLACES))
    old_state: Mapped[ScoreState] = mapped_column(enum_column(ScoreState))
    new_state: Mapped[ScoreState] = mapped_column(enum_column(ScoreState))
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[ScoreChangeKind] = mapped_column(enum_column(ScoreChangeKind), default=ScoreChangeKind.CORRECTION,
                                                  server_default=ScoreChangeKind.CORRECTION.value)
    # ON_BEHALF: the judge whose paper sheet the chief judge (``changed_by_id``) typed in
    on_behalf_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


SCORE_CHANGE_FIELDS = ("id", "score_id", "old_value", "new_value", "old_state", "new_state", "changed_at", "reason",
                       "kind")


def _refuse_score_change_write(_mapper, _connection, target):
    raise ValueError("score_changes is append-only: a recorded change is never edited or deleted")


sa.event.listen(ScoreChange, "before_update", _refuse_score_change_write)
sa.event.listen(ScoreChange, "before_delete", _refuse_score_change_write)

# The database refuses an UPDATE of a recorded field too (a DELETE is refused by the ORM only: the test suite
# empties tables with DELETE). Same statements in migration a5c4ed01b008.
SCORE_CHANGES_SQLITE_TRIGGER = (
    "CREATE TRIGGER score_changes_append_only BEFORE UPDATE ON score_changes WHEN "
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in SCORE_CHANGE_FIELDS)
    + " BEGIN SELECT RAISE(ABORT, 'score_changes is append-only'); END"
)
SCORE_CHANGES_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION score_changes_append_only() RETURNS trigger AS $$ BEGIN IF "
    + " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in SCORE_CHANGE_FIELDS)
    + " THEN RAISE EXCEPTION 'score_changes is append-only'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
)
SCORE_CHANGES_PG_TRIGGER = (
    "CREATE TRIGGER score_changes_append_only BEFORE UPDATE ON score_changes FOR EACH ROW "
    "EXECUTE FUNCTION score_changes_append_only()"
)
sa.event.listen(ScoreChange.__table__, "after_create",
                sa.DDL(SCORE_CHANGES_SQLITE_TRIGGER).execute_if(dialect="sqlite"))
sa.event.listen(ScoreChange.__table__, "after_create",
                sa.DDL(SCORE_CHANGES_PG_FUNCTION).execute_if(dialect="postgresql"))
sa.event.listen(ScoreChange.__table__, "after_create",
                sa.DDL(SCORE_CHANGES_PG_TRIGGER).execute_if(dialect="postgresql"))


class ScoreRequest(db.Model):
    """The answer given to a tablet's request, by its nonce: a retry with the same nonce gets it again and changes
    nothing. Only answers of requests that changed something (200) are kept; a refused request changed nothing."""

    __tablename__ = "score_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(sa.String(64), unique=True)
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int] = mapped_column()
    response: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
