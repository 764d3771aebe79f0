"""The lock chain of a competition (issue 7): round locks, review (复核), decryption (解密), provisional results (公示)
and the final snapshot with its revisions. The rules live in ``judging.process``.

- ``JudgingProcess``: one row per competition that follows the strict process (严格评审流程) — or once did: ``strict``
  false keeps the simple mode. ``stage`` moves forward only, by conditional UPDATE (``… WHERE stage = :expected``):
  scoring → review → reviewed → decrypted → provisional → final. The review's seed and the drawn composition are
  kept (``review_seed``, ``review_sample``), so anyone can redo the draw.
- ``RoundLockEvent``: each lock and unlock of a round, with who, when and (unlock) why. The round's own state
  (``competition_rounds.state``) is what scoring checks.
- ``ReviewItem``: one submitted score (judge × criterion × round) of an entrant in the review: the value it had
  when drawn, then confirmed or corrected by a supervisor (the correction is a ``ScoreChange``).
- ``Decryption``: the two-person action: the encryption judge starts it, a supervisor (another person) confirms.
- ``ResultSnapshot``: the final results (scores, totals, ranks, awards), revision 1 at finalisation and one more
  revision per later change, with its reason. Rows never change: an ORM guard refuses an UPDATE and so does a
  database trigger (not DELETE: deleting a competition deletes its snapshots, and tests empty tables that way).
"""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.types import ScaledDecimal, UTCDateTime, enum_column, utcnow
from extensions import db
from judging.models import VALUE_PLACES

DEFAULT_APPEAL_HOURS = 2


class ProcessStage(str, enum.Enum):
    SCORING = "scoring"  # judges score; the chief judge locks each round
    REVIEW = "review"  # 复核: the sample is drawn, supervisors check it against the sheets
    REVIEWED = "reviewed"  # every review item confirmed or corrected
    DECRYPTED = "decrypted"  # 解密: names and units released (to organizers; to the public with publication)
    PROVISIONAL = "provisional"  # 公示: published as provisional, the appeal deadline runs
    FINAL = "final"  # the snapshot is stored; later changes are revisions


STAGE_ORDER = [ProcessStage.SCORING, ProcessStage.REVIEW, ProcessStage.REVIEWED, ProcessStage.DECRYPTED,
               ProcessStage.PROVISIONAL, ProcessStage.FINAL]


class ReviewPhase(str, enum.Enum):
    TOP = "top"  # the entrant is in the top band (receives an award tier)
    SAMPLE = "sample"  # drawn at random among the others
    FULL = "full"  # added when the sample's error rate required a full review


class ReviewState(str, enum.Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"


class DecryptionState(str, enum.Enum):
    PENDING = "pending"  # started by the encryption judge, waiting for the supervisor
    DONE = "done"
    WITHDRAWN = "withdrawn"


class JudgingProcess(db.Model):
    __tablename__ = "judging_processes"

    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"),
                                                primary_key=True)
    strict: Mapped[bool] = mapped_column(default=True)
    stage: Mapped[ProcessStage] = mapped_column(enum_column(ProcessStage), default=ProcessStage.SCORING)
    appeal_hours: Mapped[int] = mapped_column(default=DEFAULT_APPEAL_HOURS)
    review_seed: Mapped[str] = mapped_column(sa.String(64), default="")
    # {"top": [entrant ids], "sample": [entrant ids], "others": n, "sample_size": k, "rule": "..."}
    review_sample: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    review_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_started_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    full_review: Mapped[bool] = mapped_column(default=False)
    full_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sample_items: Mapped[int | None] = mapped_column()  # items of the sample when it was complete
    sample_errors: Mapped[int | None] = mapped_column()  # of which corrected
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decrypted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provisional_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provisional_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    appeal_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    final_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.CheckConstraint("appeal_hours >= 1 AND appeal_hours <= 720", name="appeal_hours_range"),)


class RoundLockEvent(db.Model):
    __tablename__ = "judging_round_locks"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(sa.String(10))  # lock | unlock
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (sa.CheckConstraint("action IN ('lock', 'unlock')", name="lock_action_known"),)


class ReviewItem(db.Model):
    __tablename__ = "judging_review_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    score_id: Mapped[int] = mapped_column(sa.ForeignKey("scores.id", ondelete="RESTRICT"))
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"), index=True)
    phase: Mapped[ReviewPhase] = mapped_column(enum_column(ReviewPhase))
    state: Mapped[ReviewState] = mapped_column(enum_column(ReviewState), default=ReviewState.PENDING)
    recorded_value: Mapped[Decimal] = mapped_column(ScaledDecimal(VALUE_PLACES))  # the score when drawn
    checked_value: Mapped[Decimal | None] = mapped_column(ScaledDecimal(VALUE_PLACES))  # what the sheet says
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    score_change_id: Mapped[int | None] = mapped_column(sa.ForeignKey("score_changes.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.UniqueConstraint("competition_id", "score_id"),)


class Decryption(db.Model):
    __tablename__ = "judging_decryptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    state: Mapped[DecryptionState] = mapped_column(enum_column(DecryptionState), default=DecryptionState.PENDING)
    started_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id <> started_by_id", name="two_people"),
    )


class ResultSnapshot(db.Model):
    __tablename__ = "judging_result_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column()
    data: Mapped[dict] = mapped_column(sa.JSON)  # {"boards": […], "scores": […], "version": n}
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # revision 1: "", later: why it changed
    changes: Mapped[list] = mapped_column(sa.JSON, default=list)  # the corrections this revision applied
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("competition_id", "revision"),
        sa.CheckConstraint("revision >= 1", name="revision_positive"),
    )


class SnapshotImmutable(Exception):
    pass


@sa.event.listens_for(ResultSnapshot, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    raise SnapshotImmutable("result snapshots never change: store a new revision")


# The database refuses an UPDATE too (whoever sends it). Created with the table (tests, create_all) and by the
# migration; the names are shared with it.
SNAPSHOT_TRIGGER = "judging_result_snapshots_no_update"
SNAPSHOT_FUNCTION = "judging_result_snapshots_immutable"
PG_FUNCTION_SQL = (f"CREATE OR REPLACE FUNCTION {SNAPSHOT_FUNCTION}() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'result snapshots never change: store a new revision'; END $$ LANGUAGE plpgsql")
PG_TRIGGER_SQL = (f"CREATE TRIGGER {SNAPSHOT_TRIGGER} BEFORE UPDATE ON judging_result_snapshots "
                  f"FOR EACH ROW EXECUTE FUNCTION {SNAPSHOT_FUNCTION}()")
SQLITE_TRIGGER_SQL = (f"CREATE TRIGGER {SNAPSHOT_TRIGGER} BEFORE UPDATE ON judging_result_snapshots BEGIN "
                      "SELECT RAISE(ABORT, 'result snapshots never change: store a new revision'); END")

_table = ResultSnapshot.__table__
sa.event.listen(_table, "after_create", sa.DDL(PG_FUNCTION_SQL).execute_if(dialect="postgresql"))
sa.event.listen(_table, "after_create", sa.DDL(PG_TRIGGER_SQL).execute_if(dialect="postgresql"))
sa.event.listen(_table, "after_create", sa.DDL(SQLITE_TRIGGER_SQL).execute_if(dialect="sqlite"))
