"""The lock chain of a competition (issue 7): each step in order, each logged with who and when.

1. **Round lock** (chief judge or organizer): a round in scoring becomes ``locked`` by one conditional UPDATE
   (``… WHERE state = 'scoring'``); scores no longer change (``judging.services`` refuses with ``locked``). An unlock
   is logged with its reason, and is possible only before the review starts. A round with drafts left is not locked.
2. **Review (复核)** (started by the chief judge or an organizer once every round is locked): the system draws the
   sample — every ranked entrant in the top band (an award tier, not the rest tier such as 优秀奖), plus
   ``ceil(15 %)`` of the other ranked entrants drawn with ``random.Random(seed).sample`` from their sorted ids; the
   seed and the composition are stored. Review items are the submitted scores (judge × criterion) of the sampled
   entrants in the counted rounds. Supervisors (监督) confirm each against the sheet or correct it (through
   ``judging.services.change_submitted_score``, kind ``review``, with the reason). When the sample is done, an
   error rate (corrected items / items) **above** 5 % (6 % does, 5 % does not) adds every other entrant's scores
   (full review). The review is complete when no item is pending.
3. **Decryption (解密)**: the encryption judge (加密裁判) starts it with their password, a supervisor — another
   person — confirms with theirs. Refused before the review is complete. Names and units are released only now.
4. **Provisional (公示)** (chief judge or organizer): the results are published with names; the appeal deadline is
   ``appeal_hours`` (default 2) after publication.
5. **Final**: refused before the deadline and while appeals are open (``appeals.services.open_appeal_count``);
   stores snapshot revision 1 (scores, totals, ranks, awards). Later changes: :func:`revise_final` applies
   corrections through the audited score path and stores revision n+1 with its reason; old revisions remain and no
   snapshot row ever changes (ORM guard and database trigger, ``judging.process_models``).

**Who.** Organizers of the event may run the chief judge's steps (lock, unlock, start the review, publish, finalise,
revise) — they answer for the event and often are the chief judge's office — but the checks that need independence
are never theirs: review confirmations only by supervisors, decryption only by the encryption judge plus a
supervisor. Arbitrators (仲裁) may store revisions (the arbitration group's decision is final). A step by the wrong
role is refused (403, ``wrong_role``), nothing changes.

**Strict or simple.** A competition follows this chain when its ``JudgingProcess.strict`` is set (new competitions
made on the organizer's page are strict by default); otherwise the simple mode of issue 8 stays (publish and mark
final directly). Round locks work in both.

**Concurrency.** Every step first takes the competition's process row (a no-op UPDATE: a row lock on PostgreSQL,
the write lock on SQLite) and moves the stage by conditional UPDATE, so two chiefs pressing "lock" or "publish" at
once give one change and one audit entry; the other is told it happened already.

Services flush, never commit; they take the actor and ``now``; refusals raise ``ProcessError``.
"""
from __future__ import annotations

import contextvars
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from competition.models import Competition, Criterion, Entrant, Round, RoundState
from competition.permissions import can_manage_competition
from core.errors import DomainError
from core.models import record_audit
from core.types import utcnow
from extensions import db
from judging.models import JudgeProfile, JudgeRole, Score, ScoreState
from judging.process_models import (
    STAGE_ORDER,
    Decryption,
    DecryptionState,
    JudgingProcess,
    ProcessStage,
    ResultSnapshot,
    ReviewItem,
    ReviewPhase,
    ReviewState,
    RoundLockEvent,
)

SAMPLE_PERCENT = 15  # at least this share of the other entrants is reviewed
ERROR_PERCENT = 5  # an error rate above this forces a full review
MAX_APPEAL_HOURS = 720
MAX_REASON = 1000


_REVISING: contextvars.ContextVar[int | None] = contextvars.ContextVar("judging_process_revising", default=None)


class ProcessError(DomainError):
    """A refused step of the chain: ``code`` for machines, ``message`` for people."""


# ================================================================ pure rules


def sample_size(others: int) -> int:
    """ceil(15 % of the others), in integers: 1 of 1–6, 2 of 7–13, 3 of 14–20 …"""
    return (SAMPLE_PERCENT * others + 99) // 100


def draw_sample(others, seed: str) -> list[int]:
    """The others drawn for review: the same seed and the same entrants always give the same sample."""
    pool = sorted(others)
    return sorted(random.Random(seed).sample(pool, sample_size(len(pool))))


def needs_full_review(errors: int, items: int) -> bool:
    """More than 5 % of the sample's items corrected (6 % forces it, exactly 5 % does not)."""
    return items > 0 and errors * 100 > ERROR_PERCENT * items


def stage_at_least(stage: ProcessStage, other: ProcessStage) -> bool:
    return STAGE_ORDER.index(stage) >= STAGE_ORDER.index(other)


# ================================================================ reading the state (also the contract for H4)


def get_process(competition: Competition) -> JudgingProcess | None:
    return db.session.get(JudgingProcess, competition.id)


def is_strict(competition: Competition) -> bool:
    process = get_process(competition)
    return bool(process and process.strict)


def stage(competition: Competition) -> ProcessStage | None:
    """The stage of a strict competition; None in the simple mode."""
    process = get_process(competition)
    return process.stage if process and process.strict else None


def is_decrypted(competition: Competition) -> bool:
    current = stage(competition)
    return current is not None and stage_at_least(current, ProcessStage.DECRYPTED)


def results_are_provisional(competition: Competition) -> bool:
    """Published as provisional (公示) and not final. Simple mode: published and not marked final."""
    if is_strict(competition):
        return stage(competition) == ProcessStage.PROVISIONAL
    from competition.results import get_state

    state = get_state(competition.id)
    return bool(state and state.published and not state.final)


def appeal_deadline(competition: Competition) -> datetime | None:
    """When appeals close: only while the results of a strict competition are provisional; None otherwise."""
    process = get_process(competition)
    if process is None or not process.strict or process.stage != ProcessStage.PROVISIONAL:
        return None
    return process.appeal_deadline


def is_final(competition: Competition) -> bool:
    if is_strict(competition):
        return stage(competition) == ProcessStage.FINAL
    from competition.results import results_final

    return results_final(competition)


def latest_snapshot(competition: Competition) -> ResultSnapshot | None:
    return db.session.scalar(sa.select(ResultSnapshot).where(ResultSnapshot.competition_id == competition.id)
                             .order_by(ResultSnapshot.revision.desc()).limit(1))


def snapshots(competition: Competition) -> list[ResultSnapshot]:
    return list(db.session.scalars(sa.select(ResultSnapshot).where(ResultSnapshot.competition_id == competition.id)
                                   .order_by(ResultSnapshot.revision)))


def final_board(competition_id: int) -> dict | None:
    """The public board of a strict competition's final results: the latest snapshot revision's boards (what
    ``competition.results.public_view`` shows once final). None when there is none."""
    process = db.session.get(JudgingProcess, competition_id)
    if process is None or not process.strict or process.stage != ProcessStage.FINAL:
        return None
    data = db.session.scalar(sa.select(ResultSnapshot.data).where(ResultSnapshot.competition_id == competition_id)
                             .order_by(ResultSnapshot.revision.desc()).limit(1))
    return {"version": data.get("version"), "boards": data.get("boards", [])} if data else None


# ================================================================ roles


ORGANIZER = "organizer"
STEP_ROLES = {
    "lock": {JudgeRole.CHIEF.value, ORGANIZER},
    "unlock": {JudgeRole.CHIEF.value, ORGANIZER},
    "start_review": {JudgeRole.CHIEF.value, ORGANIZER},
    "review": {JudgeRole.SUPERVISOR.value},
    "decrypt_start": {JudgeRole.ENCRYPTOR.value},
    "decrypt_confirm": {JudgeRole.SUPERVISOR.value},
    "decrypt_withdraw": {JudgeRole.ENCRYPTOR.value, JudgeRole.CHIEF.value, ORGANIZER},
    "publish": {JudgeRole.CHIEF.value, ORGANIZER},
    "finalize": {JudgeRole.CHIEF.value, ORGANIZER},
    "revise": {JudgeRole.CHIEF.value, ORGANIZER, JudgeRole.ARBITRATOR.value},
    "settings": {JudgeRole.CHIEF.value, ORGANIZER},
    "strict": {ORGANIZER},
}


def _wrong_role_message(step: str) -> str:
    messages = {
        "lock": lambda: _("Only the chief judge or an organizer locks a round."),
        "unlock": lambda: _("Only the chief judge or an organizer unlocks a round."),
        "start_review": lambda: _("Only the chief judge or an organizer starts the review."),
        "review": lambda: _("Only a supervisor (监督) confirms or corrects review items."),
        "decrypt_start": lambda: _("Only the encryption judge (加密裁判) starts the decryption."),
        "decrypt_confirm": lambda: _("Only a supervisor (监督) confirms the decryption."),
        "decrypt_withdraw": lambda: _("Only the encryption judge, the chief judge or an organizer withdraws a "
                                      "decryption."),
        "publish": lambda: _("Only the chief judge or an organizer publishes the provisional results."),
        "finalize": lambda: _("Only the chief judge or an organizer makes the results final."),
        "revise": lambda: _("Only the chief judge, an arbitrator or an organizer stores a revision of the final "
                            "results."),
        "settings": lambda: _("Only the chief judge or an organizer changes the appeal period."),
        "strict": lambda: _("Only an organizer turns the strict process on or off."),
    }
    return messages[step]()


def actor_roles(user, competition: Competition) -> set[str]:
    """What ``user`` is in this competition's chain: "organizer" and/or their judge role."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    roles = set()
    if can_manage_competition(user, competition):
        roles.add(ORGANIZER)
    role = db.session.scalar(sa.select(JudgeProfile.role).where(JudgeProfile.competition_id == competition.id,
                                                                JudgeProfile.user_id == user.id))
    if role is not None:
        roles.add(JudgeRole(role).value)
    return roles


def may(user, competition: Competition, step: str) -> bool:
    return bool(actor_roles(user, competition) & STEP_ROLES[step])


def require(user, competition: Competition, step: str) -> None:
    if not may(user, competition, step):
        raise ProcessError("wrong_role", _wrong_role_message(step), status=403)


def _confirm_password(user, password: str | None, *, now: datetime) -> None:
    """Decryption is done again with the password (re-authentication, ``accounts.reauth``): a wrong password raises
    its ``ReauthError`` (the view keeps the failure record with ``keep_failure``)."""
    from accounts.reauth import confirm_password

    confirm_password(user, password, now=now)


# ================================================================ helpers


def _audit(actor, competition: Competition, action: str, now: datetime, obj=None, **details) -> None:
    record_audit(actor=actor, organization_id=competition.event.organization_id, action=action,
                 obj=obj if obj is not None else competition, now=now, competition_id=competition.id, **details)


def _insert(model):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if not reason:
        raise ProcessError("reason_required", _("Give the reason."), status=422, field="reason")
    if len(reason) > MAX_REASON:
        raise ProcessError("too_long", _("Too long: at most %(n)d characters.", n=MAX_REASON), status=422,
                           field="reason")
    return reason


def ensure_process(competition: Competition, *, strict: bool = False) -> JudgingProcess:
    """The competition's process row (made with ``strict`` if missing). Flushes."""
    db.session.execute(_insert(JudgingProcess.__table__).values(
        competition_id=competition.id, strict=strict, stage=ProcessStage.SCORING.value, appeal_hours=2,
        review_seed="", review_sample={}, full_review=False, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["competition_id"]))
    process = db.session.get(JudgingProcess, competition.id)
    db.session.refresh(process)
    return process


def _hold(competition: Competition) -> JudgingProcess:
    """Take the competition's process row (serializes the steps of one competition) and read it fresh."""
    ensure_process(competition)
    db.session.execute(sa.update(JudgingProcess).where(JudgingProcess.competition_id == competition.id)
                       .values(updated_at=JudgingProcess.updated_at).execution_options(synchronize_session=False))
    process = db.session.get(JudgingProcess, competition.id)
    db.session.refresh(process)
    return process


def _advance(competition: Competition, current: ProcessStage, new: ProcessStage, now: datetime, **values) -> bool:
    result = db.session.execute(sa.update(JudgingProcess).where(
        JudgingProcess.competition_id == competition.id, JudgingProcess.stage == current)
        .values(stage=new, updated_at=now, **values).execution_options(synchronize_session=False))
    process = db.session.get(JudgingProcess, competition.id)
    if process is not None:
        db.session.refresh(process)
    return result.rowcount == 1


def _require_strict(process: JudgingProcess) -> None:
    if not process.strict:
        raise ProcessError("not_strict", _("This competition does not follow the strict process (严格评审流程)."),
                           status=409)


def _stage_error(process: JudgingProcess, needed: ProcessStage) -> ProcessError:
    """Why a step that needs ``needed`` cannot run in the process's stage."""
    current = process.stage
    if current != needed and stage_at_least(current, needed):  # the chain is past this step
        if needed == ProcessStage.SCORING:
            return ProcessError("review_started", _("The review has started: rounds no longer lock or unlock."),
                                status=409)
        return ProcessError("already_done", _("This step is done already."), status=409)
    messages = {  # the chain has not reached this step yet
        ProcessStage.REVIEW: lambda: _("Start the review first."),
        ProcessStage.REVIEWED: lambda: _("Decryption comes after every round is locked and the review is "
                                         "complete."),
        ProcessStage.DECRYPTED: lambda: _("The provisional results are published only after decryption."),
        ProcessStage.PROVISIONAL: lambda: _("Publish the provisional results first."),
        ProcessStage.FINAL: lambda: _("The results are not final yet."),
    }
    return ProcessError("out_of_order", messages[needed](), status=409)


def _need(process: JudgingProcess, needed: ProcessStage) -> None:
    _require_strict(process)
    if process.stage != needed:
        raise _stage_error(process, needed)


# ================================================================ settings


def set_strict(competition: Competition, strict: bool, *, actor, now: datetime, check_role: bool = True) -> None:
    """Turn the strict process on or off: only while nothing of the chain happened and nothing is published."""
    if check_role:
        require(actor, competition, "strict")
    from competition.results import get_state

    process = _hold(competition)
    if process.strict == strict:
        return
    if process.stage != ProcessStage.SCORING:
        raise ProcessError("chain_started", _("The review has started: the process no longer changes."), status=409)
    state = get_state(competition.id)
    if strict and state is not None and (state.published or state.final):
        raise ProcessError("published", _("The results are published already: unpublish them first."), status=409)
    db.session.execute(sa.update(JudgingProcess).where(JudgingProcess.competition_id == competition.id)
                       .values(strict=strict, updated_at=now).execution_options(synchronize_session=False))
    db.session.refresh(process)
    _audit(actor, competition, "judging.process_strict", now, strict=strict)
    db.session.flush()


def set_appeal_hours(competition: Competition, hours, *, actor, now: datetime) -> None:
    require(actor, competition, "settings")
    try:
        value = int(str(hours).strip())
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= MAX_APPEAL_HOURS:
        raise ProcessError("appeal_hours", _("Enter a whole number of hours from 1 to %(n)d.", n=MAX_APPEAL_HOURS),
                           status=422, field="appeal_hours")
    process = _hold(competition)
    if stage_at_least(process.stage, ProcessStage.PROVISIONAL):
        raise ProcessError("published", _("The provisional results are published: the appeal period no longer "
                                          "changes."), status=409)
    db.session.execute(sa.update(JudgingProcess).where(JudgingProcess.competition_id == competition.id)
                       .values(appeal_hours=value, updated_at=now).execution_options(synchronize_session=False))
    db.session.refresh(process)
    _audit(actor, competition, "judging.appeal_hours", now, hours=value)
    db.session.flush()


# ================================================================ 1. round locks


def lock_round(round_: Round, *, actor, now: datetime) -> RoundLockEvent:
    competition = db.session.get(Competition, round_.competition_id)
    require(actor, competition, "lock")
    process = _hold(competition)
    if process.strict and process.stage != ProcessStage.SCORING:
        raise _stage_error(process, ProcessStage.SCORING)
    result = db.session.execute(sa.update(Round).where(Round.id == round_.id, Round.state == RoundState.SCORING)
                                .values(state=RoundState.LOCKED).execution_options(synchronize_session=False))
    db.session.refresh(round_)
    if result.rowcount != 1:
        if round_.state == RoundState.LOCKED:
            raise ProcessError("already_locked", _("This round is locked already."), status=409)
        raise ProcessError("not_started", _("Scoring has not started in this round: there is nothing to lock."),
                           status=409)
    drafts = db.session.scalar(sa.select(sa.func.count()).select_from(Score).where(
        Score.round_id == round_.id, Score.state == ScoreState.DRAFT))
    if drafts:
        raise ProcessError("drafts", _("%(n)d scores of this round are saved but not submitted: the judges submit "
                                       "them (or the chief judge clears them) before the round is locked.", n=drafts),
                           status=409)
    partial = _partly_scored(round_)
    if partial:
        raise ProcessError("incomplete", _("%(n)d entrants are scored by some of their judges but not by all "
                                           "(see the chief judge's desk): their scores are completed before the "
                                           "round is locked.", n=partial), status=409)
    flags = open_flags(round_)
    if flags:
        raise ProcessError("open_flags", _("%(n)d disagreement flags are still open: %(flags)s. On the chief judge's "
                                           "desk, ask the panel to re-score them or keep the scores with a note "
                                           "before the round is locked.", n=len(flags), flags=flag_list_text(flags)),
                           status=409)
    event = RoundLockEvent(competition_id=competition.id, round_id=round_.id, action="lock", reason="",
                           actor_id=getattr(actor, "id", None), at=now)
    db.session.add(event)
    _audit(actor, competition, "judging.round_lock", now, obj=round_, round=round_.name)
    db.session.flush()
    return event


def _partly_scored(round_: Round) -> int:
    """Entrants some of whose assigned judges have submitted all their criteria and others not (an entrant nobody
    scored, e.g. absent, does not count): locking would rank them on fewer judges without anyone noticing."""
    from judging.desk_services import desk_overview

    count = 0
    for panel in desk_overview(round_).panels:
        for entrant in panel.progress.by_entrant.values():
            if 0 < entrant.submitted < entrant.judges:
                count += 1
    return count


@dataclass
class OpenFlag:
    entrant_id: int
    code: str  # the code the round's judges see, never a name
    criterion_code: str
    criterion_name: str
    status: str  # "open" (nobody acted) or "rescore" (the panel was asked and has not re-submitted)


def open_flags(round_: Round) -> list[OpenFlag]:
    """The round's disagreement flags (``judging.desk``) the chief judge has not handled: neither re-scored by the
    panel nor kept with a note. A round with such flags is not locked. In the desk's order (code, criterion)."""
    from judging.desk_services import desk_overview

    return [OpenFlag(f.flag.entrant, f.code, f.criterion.code, f.criterion.name, f.status)
            for f in desk_overview(round_).flags if f.status in ("open", "rescore")]


def flag_list_text(flags: list[OpenFlag]) -> str:
    return "、".join(f"{f.code} · {f.criterion_code} {f.criterion_name}".strip() for f in flags)


def unlock_round(round_: Round, reason: str | None, *, actor, now: datetime) -> RoundLockEvent:
    competition = db.session.get(Competition, round_.competition_id)
    require(actor, competition, "unlock")
    reason = _reason(reason)
    process = _hold(competition)
    if process.strict and process.stage != ProcessStage.SCORING:
        raise _stage_error(process, ProcessStage.SCORING)
    if is_final(competition):
        raise ProcessError("final", _("The results are final: changes are revisions of the final results."),
                           status=409)
    result = db.session.execute(sa.update(Round).where(Round.id == round_.id, Round.state == RoundState.LOCKED)
                                .values(state=RoundState.SCORING).execution_options(synchronize_session=False))
    db.session.refresh(round_)
    if result.rowcount != 1:
        raise ProcessError("not_locked", _("This round is not locked."), status=409)
    event = RoundLockEvent(competition_id=competition.id, round_id=round_.id, action="unlock", reason=reason,
                           actor_id=getattr(actor, "id", None), at=now)
    db.session.add(event)
    _audit(actor, competition, "judging.round_unlock", now, obj=round_, round=round_.name, reason=reason)
    db.session.flush()
    return event


def lock_events(competition: Competition) -> list[RoundLockEvent]:
    return list(db.session.scalars(sa.select(RoundLockEvent).where(RoundLockEvent.competition_id == competition.id)
                                   .order_by(RoundLockEvent.at, RoundLockEvent.id)))


# ================================================================ 2. review (复核)


@dataclass
class SampleDraw:
    top: list[int]  # entrant ids in the top band
    others: list[int]  # the other ranked entrants
    sample: list[int]  # drawn from the others
    seed: str


def compose_sample(competition: Competition, seed: str, *, now: datetime | None = None) -> SampleDraw:
    """Who the review covers, from the standings: the top band (an award tier other than the rest tier) and a
    seeded sample of the other ranked entrants."""
    from competition import results

    computed = results.standings(competition, now=now)
    rest = (results.get_state(competition.id).rest_tier if results.get_state(competition.id) else "") or ""
    top: set[int] = set()
    ranked: set[int] = set()
    for board in computed.boards:
        if board.key == "overall":
            continue
        for line in board.lines:
            if line.rank is None:
                continue
            ranked.add(line.entrant.id)
            if line.award and line.award != rest:
                top.add(line.entrant.id)
    others = sorted(ranked - top)
    return SampleDraw(sorted(top), others, draw_sample(others, seed), seed)


def _counted_round_ids(competition: Competition) -> list[int]:
    from competition import results

    inputs = results.standings(competition).inputs
    return [r.id for r in inputs.counted] or [r.id for r in inputs.rounds]


def _add_items(competition: Competition, entrant_ids, phase: ReviewPhase) -> int:
    ids = sorted(set(entrant_ids))
    if not ids:
        return 0
    round_ids = _counted_round_ids(competition)
    taken = set(db.session.scalars(sa.select(ReviewItem.score_id).where(ReviewItem.competition_id == competition.id)))
    rows = [{"competition_id": competition.id, "score_id": sid, "entrant_id": eid, "phase": phase.value,
             "state": ReviewState.PENDING.value, "recorded_value": value, "reason": ""}
            for sid, eid, value in db.session.execute(
                sa.select(Score.id, Score.entrant_id, Score.value).where(
                    Score.round_id.in_(round_ids), Score.entrant_id.in_(ids), Score.state == ScoreState.SUBMITTED)
                .order_by(Score.entrant_id, Score.id))
            if sid not in taken]
    if rows:
        db.session.execute(sa.insert(ReviewItem), rows)
    return len(rows)


def start_review(competition: Competition, *, actor, now: datetime, seed: str | None = None) -> SampleDraw:
    require(actor, competition, "start_review")
    process = _hold(competition)
    _require_strict(process)
    if process.stage != ProcessStage.SCORING:
        raise ProcessError("already_done", _("The review has started already."), status=409)
    rounds = list(db.session.scalars(sa.select(Round).where(Round.competition_id == competition.id)
                                     .order_by(Round.position, Round.id)))
    open_rounds = [r.name for r in rounds if r.state != RoundState.LOCKED]
    if not rounds or open_rounds:
        raise ProcessError("rounds_open", _("Lock every round before the review: %(rounds)s.",
                                            rounds="、".join(open_rounds) or _("no rounds")), status=409)
    seed = seed or secrets.token_hex(16)
    drawn = compose_sample(competition, seed, now=now)
    added = _add_items(competition, drawn.top, ReviewPhase.TOP) + _add_items(competition, drawn.sample,
                                                                             ReviewPhase.SAMPLE)
    if not added:
        raise ProcessError("nothing_to_review", _("No entrant is ranked yet: there is nothing to review."),
                           status=409)
    sample = {"top": drawn.top, "sample": drawn.sample, "others": len(drawn.others),
              "sample_size": len(drawn.sample), "percent": SAMPLE_PERCENT}
    if not _advance(competition, ProcessStage.SCORING, ProcessStage.REVIEW, now, review_seed=seed,
                    review_sample=sample, review_started_at=now, review_started_by_id=getattr(actor, "id", None)):
        raise ProcessError("already_done", _("This step is done already."), status=409)
    _audit(actor, competition, "judging.review_start", now, seed=seed, top=len(drawn.top),
           sampled=len(drawn.sample), others=len(drawn.others), items=added)
    db.session.flush()
    return drawn


def reviewers(competition: Competition) -> list[tuple[int, int]]:
    """Who checked the review items: (user id, items confirmed or corrected), the most first."""
    rows = db.session.execute(sa.select(ReviewItem.decided_by_id, sa.func.count()).where(
        ReviewItem.competition_id == competition.id, ReviewItem.decided_by_id.is_not(None))
        .group_by(ReviewItem.decided_by_id)).all()
    return sorted(((user_id, n) for user_id, n in rows), key=lambda row: (-row[1], row[0]))


def review_items(competition: Competition) -> list[ReviewItem]:
    return list(db.session.scalars(sa.select(ReviewItem).where(ReviewItem.competition_id == competition.id)
                                   .order_by(ReviewItem.entrant_id, ReviewItem.id)))


@dataclass
class ReviewCounts:
    items: int
    pending: int
    confirmed: int
    corrected: int
    sample_items: int  # top band and sample
    sample_errors: int

    @property
    def sample_error_percent(self) -> Decimal | None:
        if not self.sample_items:
            return None
        return (Decimal(self.sample_errors) * 100 / Decimal(self.sample_items)).quantize(Decimal("0.1"))


def review_counts(competition: Competition) -> ReviewCounts:
    rows = db.session.execute(sa.select(ReviewItem.phase, ReviewItem.state, sa.func.count()).where(
        ReviewItem.competition_id == competition.id).group_by(ReviewItem.phase, ReviewItem.state)).all()
    counts = {"items": 0, "pending": 0, "confirmed": 0, "corrected": 0, "sample_items": 0, "sample_errors": 0}
    for phase, state, n in rows:
        phase, state = ReviewPhase(phase), ReviewState(state)
        counts["items"] += n
        counts[state.value] += n
        if phase != ReviewPhase.FULL:
            counts["sample_items"] += n
            if state == ReviewState.CORRECTED:
                counts["sample_errors"] += n
    return ReviewCounts(**counts)


def _parse_checked(score: Score, value) -> Decimal:
    from judging import services as js
    from judging.values import ValueProblem, validate_value

    criterion = db.session.get(Criterion, score.criterion_id)
    round_ = db.session.get(Round, score.round_id)
    competition = db.session.get(Competition, round_.competition_id)
    try:
        return validate_value(js.criterion_spec(criterion, competition), value)
    except ValueProblem as problem:
        error = js.value_problem_error(problem, criterion)
        raise ProcessError(error.code, error.message, status=422, field="value") from None


def decide_item(item: ReviewItem, *, value=None, reason: str | None = None, actor, now: datetime) -> ReviewItem:
    """A supervisor's check of one item against the sheet: ``value`` None or equal to the score confirms it; another
    value corrects the score (with ``reason``) through the audited score path."""
    from judging import services as js

    competition = db.session.get(Competition, item.competition_id)
    require(actor, competition, "review")
    process = _hold(competition)
    _need(process, ProcessStage.REVIEW)
    db.session.refresh(item)
    if item.state != ReviewState.PENDING:
        raise ProcessError("already_decided", _("This item was checked already."), status=409)
    score = db.session.get(Score, item.score_id)
    db.session.refresh(score)
    checked = score.value if value is None or str(value).strip() == "" else _parse_checked(score, value)
    change_id = None
    if checked == score.value:
        new_state, text = ReviewState.CONFIRMED, (reason or "").strip()[:MAX_REASON]
    else:
        text = _reason(reason)
        try:
            change = js.change_submitted_score(score, checked, actor=actor, reason=text, now=now, kind="review")
        except js.JudgingError as error:
            raise ProcessError(error.code, error.message, status=error.status, field=error.field) from None
        change_id, new_state = change.id, ReviewState.CORRECTED
    result = db.session.execute(sa.update(ReviewItem).where(ReviewItem.id == item.id,
                                                            ReviewItem.state == ReviewState.PENDING)
                                .values(state=new_state, checked_value=checked, reason=text, score_change_id=change_id,
                                        decided_by_id=getattr(actor, "id", None), decided_at=now)
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ProcessError("already_decided", _("This item was checked already."), status=409)
    db.session.refresh(item)
    _audit(actor, competition, "judging.review_item", now, obj=item, state=new_state.value, score_id=score.id,
           entrant_id=item.entrant_id)
    _after_decision(competition, process, actor=actor, now=now)
    db.session.flush()
    return item


def _after_decision(competition: Competition, process: JudgingProcess, *, actor, now: datetime) -> None:
    """When no item is pending: decide on the full review (once, after the sample), or complete the review."""
    counts = review_counts(competition)
    if counts.pending:
        return
    if not process.full_review and process.sample_items is None:
        full = needs_full_review(counts.sample_errors, counts.sample_items)
        db.session.execute(sa.update(JudgingProcess).where(JudgingProcess.competition_id == competition.id)
                           .values(sample_items=counts.sample_items, sample_errors=counts.sample_errors,
                                   full_review=full, full_review_at=now if full else None, updated_at=now)
                           .execution_options(synchronize_session=False))
        db.session.refresh(process)
        if full:
            sampled = set(db.session.scalars(sa.select(ReviewItem.entrant_id).where(
                ReviewItem.competition_id == competition.id)))
            everyone = set(db.session.scalars(sa.select(Entrant.id).where(Entrant.competition_id == competition.id)))
            added = _add_items(competition, everyone - sampled, ReviewPhase.FULL)
            _audit(actor, competition, "judging.full_review", now, items=counts.sample_items,
                   errors=counts.sample_errors, added=added)
            if added:
                return
    if _advance(competition, ProcessStage.REVIEW, ProcessStage.REVIEWED, now, reviewed_at=now):
        _audit(actor, competition, "judging.review_complete", now, items=counts.items, corrected=counts.corrected)


# ================================================================ 3. decryption (解密)


def pending_decryption(competition: Competition) -> Decryption | None:
    return db.session.scalar(sa.select(Decryption).where(Decryption.competition_id == competition.id,
                                                         Decryption.state == DecryptionState.PENDING)
                             .order_by(Decryption.id.desc()).limit(1))


def decryptions(competition: Competition) -> list[Decryption]:
    return list(db.session.scalars(sa.select(Decryption).where(Decryption.competition_id == competition.id)
                                   .order_by(Decryption.id)))


def start_decryption(competition: Competition, password: str | None, *, actor, now: datetime) -> Decryption:
    require(actor, competition, "decrypt_start")
    _confirm_password(actor, password, now=now)
    process = _hold(competition)
    _need(process, ProcessStage.REVIEWED)
    if pending_decryption(competition) is not None:
        raise ProcessError("pending", _("A decryption is already waiting for a supervisor's confirmation."),
                           status=409)
    decryption = Decryption(competition_id=competition.id, state=DecryptionState.PENDING, started_by_id=actor.id,
                            started_at=now)
    db.session.add(decryption)
    db.session.flush()
    _audit(actor, competition, "judging.decrypt_start", now, obj=decryption)
    db.session.flush()
    return decryption


def confirm_decryption(decryption: Decryption, password: str | None, *, actor, now: datetime) -> Decryption:
    competition = db.session.get(Competition, decryption.competition_id)
    if getattr(actor, "id", None) == decryption.started_by_id:
        raise ProcessError("same_person", _("Decryption needs two different people: a supervisor other than the "
                                            "person who started it confirms it."), status=403)
    require(actor, competition, "decrypt_confirm")
    _confirm_password(actor, password, now=now)
    process = _hold(competition)
    _need(process, ProcessStage.REVIEWED)
    result = db.session.execute(sa.update(Decryption).where(Decryption.id == decryption.id,
                                                            Decryption.state == DecryptionState.PENDING)
                                .values(state=DecryptionState.DONE, confirmed_by_id=actor.id, confirmed_at=now)
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ProcessError("not_pending", _("This decryption is no longer waiting for confirmation."), status=409)
    db.session.refresh(decryption)
    if not _advance(competition, ProcessStage.REVIEWED, ProcessStage.DECRYPTED, now, decrypted_at=now):
        raise ProcessError("already_done", _("This step is done already."), status=409)
    _audit(actor, competition, "judging.decrypt", now, obj=decryption, started_by=decryption.started_by_id,
           confirmed_by=actor.id)
    db.session.flush()
    return decryption


def withdraw_decryption(decryption: Decryption, *, actor, now: datetime) -> None:
    competition = db.session.get(Competition, decryption.competition_id)
    require(actor, competition, "decrypt_withdraw")
    result = db.session.execute(sa.update(Decryption).where(Decryption.id == decryption.id,
                                                            Decryption.state == DecryptionState.PENDING)
                                .values(state=DecryptionState.WITHDRAWN, withdrawn_by_id=actor.id, withdrawn_at=now)
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ProcessError("not_pending", _("This decryption is no longer waiting for confirmation."), status=409)
    db.session.refresh(decryption)
    _audit(actor, competition, "judging.decrypt_withdraw", now, obj=decryption)
    db.session.flush()


# ================================================================ 4. provisional (公示)


def publish_provisional(competition: Competition, *, actor, now: datetime) -> datetime:
    """Publish the results with names as provisional; returns the appeal deadline."""
    from competition import results

    require(actor, competition, "publish")
    process = _hold(competition)
    _need(process, ProcessStage.DECRYPTED)
    deadline = now + timedelta(hours=process.appeal_hours)
    if not _advance(competition, ProcessStage.DECRYPTED, ProcessStage.PROVISIONAL, now, provisional_at=now,
                    provisional_by_id=getattr(actor, "id", None), appeal_deadline=deadline):
        raise ProcessError("already_done", _("This step is done already."), status=409)
    state = results.ensure_state(competition)
    if not state.published:
        results.publish(competition, actor=actor, now=now, via_process=True)
    _audit(actor, competition, "judging.provisional", now, deadline=deadline.isoformat(),
           hours=process.appeal_hours)
    db.session.flush()
    return deadline


# ================================================================ 5. final and revisions


def _open_appeal_count(competition: Competition) -> int:
    try:
        from appeals.services import open_appeal_count
    except ModuleNotFoundError as error:  # the appeals package is not installed: no appeal can be open
        if error.name and error.name.startswith("appeals"):
            return 0
        raise
    return int(open_appeal_count(competition))


def snapshot_data(competition: Competition, *, now: datetime) -> dict:
    """Scores, totals, ranks and awards as they are now (language-independent; entrant ids kept for the record)."""
    from competition import results

    computed = results.standings(competition, now=now)
    shown = results.snapshot(computed)
    boards = [{k: v for k, v in board.items() if not k.startswith("_")} for board in shown["boards"]]
    round_ids = [r.id for r in computed.inputs.rounds]
    codes = {c.id: c.code for c in computed.inputs.criteria.values()}
    scores = [{"score_id": sid, "entrant_id": eid, "round_id": rid, "judge_id": jid,
               "criterion": codes.get(cid, str(cid)), "value": format(Decimal(value), "f")}
              for sid, eid, rid, jid, cid, value in db.session.execute(
                  sa.select(Score.id, Score.entrant_id, Score.round_id, Score.judge_id, Score.criterion_id, Score.value)
                  .where(Score.round_id.in_(round_ids or [0]), Score.state == ScoreState.SUBMITTED)
                  .order_by(Score.entrant_id, Score.round_id, Score.criterion_id, Score.judge_id))]
    return {"version": computed.version, "boards": boards, "scores": scores}


def _store_snapshot(competition: Competition, revision: int, *, reason: str, changes: list, actor,
                    now: datetime) -> ResultSnapshot:
    snap = ResultSnapshot(competition_id=competition.id, revision=revision, data=snapshot_data(competition, now=now),
                          reason=reason, changes=changes, created_by_id=getattr(actor, "id", None), created_at=now)
    db.session.add(snap)
    db.session.flush()
    return snap


def finalize(competition: Competition, *, actor, now: datetime) -> ResultSnapshot:
    from competition import results

    require(actor, competition, "finalize")
    process = _hold(competition)
    _need(process, ProcessStage.PROVISIONAL)
    if process.appeal_deadline is not None and now < process.appeal_deadline:
        raise ProcessError("appeal_period", _("Appeals are open until %(deadline)s: the results become final only "
                                              "after that.", deadline=local_text(process.appeal_deadline)),
                           status=409)
    open_appeals = _open_appeal_count(competition)
    if open_appeals:
        raise ProcessError("open_appeals", _("%(n)d appeals are still open: the arbitration group decides them "
                                             "first.", n=open_appeals), status=409)
    if not _advance(competition, ProcessStage.PROVISIONAL, ProcessStage.FINAL, now, final_at=now,
                    final_by_id=getattr(actor, "id", None)):
        raise ProcessError("already_done", _("This step is done already."), status=409)
    snap = _store_snapshot(competition, 1, reason="", changes=[], actor=actor, now=now)
    results.mark_final(competition, actor=actor, now=now, via_process=True)
    _audit(actor, competition, "judging.final", now, obj=snap, revision=1)
    db.session.flush()
    return snap


@dataclass
class Correction:
    score_id: int
    value: str


def revise_final(competition: Competition, reason: str | None, *, actor, now: datetime,
                 corrections: list[Correction] | tuple = ()) -> ResultSnapshot:
    """A later change to the final results: each correction through the audited score path (kind ``revision``),
    then the results as they are now stored as the next revision with the reason. The old revisions remain."""
    require(actor, competition, "revise")
    reason = _reason(reason)
    process = _hold(competition)
    _need(process, ProcessStage.FINAL)
    round_ids = set(db.session.scalars(sa.select(Round.id).where(Round.competition_id == competition.id)))
    applied = []
    token = _REVISING.set(competition.id)  # lets change_submitted_score apply kind "revision" here, and only here
    try:
        applied = _apply_corrections(competition, corrections, round_ids, reason, actor=actor, now=now)
    finally:
        _REVISING.reset(token)
    latest = db.session.scalar(sa.select(sa.func.max(ResultSnapshot.revision)).where(
        ResultSnapshot.competition_id == competition.id)) or 0
    snap = _store_snapshot(competition, latest + 1, reason=reason, changes=applied, actor=actor, now=now)
    _audit(actor, competition, "judging.revision", now, obj=snap, revision=snap.revision, reason=reason,
           corrections=len(applied))
    db.session.flush()
    return snap


def _apply_corrections(competition: Competition, corrections, round_ids: set[int], reason: str, *, actor,
                       now: datetime) -> list[dict]:
    from judging import services as js

    applied = []
    for correction in corrections:
        score = db.session.get(Score, int(correction.score_id))
        if score is None or score.round_id not in round_ids:
            raise ProcessError("unknown_score", _("There is no such score in this competition."), status=404)
        try:
            change = js.change_submitted_score(score, correction.value, actor=actor, reason=reason, now=now,
                                               kind="revision")
        except js.JudgingError as error:
            raise ProcessError(error.code, error.message, status=error.status, field=error.field) from None
        applied.append({"score_id": score.id, "old": js.plain(change.old_value), "new": js.plain(change.new_value),
                        "change_id": change.id})
    return applied


def check_correction(competition: Competition, kind: str) -> None:
    """Called by ``judging.services.change_submitted_score`` for a correction that bypasses the round lock: a review
    correction only while the review runs, an appeal's while the results are provisional (公示), a revision only on
    final results (through :func:`revise_final`)."""
    current = stage(competition)
    needed = {"review": ProcessStage.REVIEW, "appeal": ProcessStage.PROVISIONAL, "revision": ProcessStage.FINAL}.get(kind)
    if needed is None or current != needed or (kind == "revision" and _REVISING.get() != competition.id):
        raise ProcessError("wrong_stage", _("A locked score changes only through the review or a revision of the "
                                            "final results."), status=409)


# ================================================================ the chain as pages show it


def local_text(value: datetime | None) -> str:
    """A time for messages: the app's display timezone (Asia/Shanghai), minutes."""
    if value is None:
        return ""
    try:
        from zoneinfo import ZoneInfo

        value = value.astimezone(ZoneInfo("Asia/Shanghai"))
    except Exception:  # pragma: no cover - zoneinfo data missing
        pass
    return value.strftime("%Y-%m-%d %H:%M")


@dataclass
class Step:
    key: str
    state: str  # done | current | waiting
    who: list[int]
    at: datetime | None
    reviewers: list[tuple[int, int]] = ()  # review step: (supervisor's user id, items they checked), most first


def chain(competition: Competition) -> list[Step]:
    """The five steps with their state and who did them when (for the process page)."""
    process = get_process(competition)
    current = process.stage if process and process.strict else ProcessStage.SCORING
    rounds = list(db.session.scalars(sa.select(Round).where(Round.competition_id == competition.id)))
    locks = lock_events(competition)
    last_lock = [e for e in locks if e.action == "lock"]
    all_locked = bool(rounds) and all(r.state == RoundState.LOCKED for r in rounds)
    done = {s: stage_at_least(current, s) and current != s for s in STAGE_ORDER}
    decryption = next((d for d in reversed(decryptions(competition)) if d.state == DecryptionState.DONE), None)

    def state(is_done: bool, is_current: bool) -> str:
        return "done" if is_done else ("current" if is_current else "waiting")

    steps = [
        Step("lock", state(all_locked, current == ProcessStage.SCORING), sorted({e.actor_id for e in last_lock
                                                                                   if e.actor_id}),
             last_lock[-1].at if last_lock else None),
        Step("review", state(done[ProcessStage.REVIEW] or stage_at_least(current, ProcessStage.REVIEWED),
                             current == ProcessStage.REVIEW),
             [process.review_started_by_id] if process and process.review_started_by_id else [],
             process.reviewed_at if process else None, reviewers(competition)),
        Step("decrypt", state(stage_at_least(current, ProcessStage.DECRYPTED), current == ProcessStage.REVIEWED),
             [decryption.started_by_id, decryption.confirmed_by_id] if decryption else [],
             decryption.confirmed_at if decryption else None),
        Step("provisional", state(stage_at_least(current, ProcessStage.PROVISIONAL),
                                  current == ProcessStage.DECRYPTED),
             [process.provisional_by_id] if process and process.provisional_by_id else [],
             process.provisional_at if process else None),
        Step("final", state(current == ProcessStage.FINAL, current == ProcessStage.PROVISIONAL),
             [process.final_by_id] if process and process.final_by_id else [],
             process.final_at if process else None),
    ]
    return steps
