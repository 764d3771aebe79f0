"""The chief judge's desk (裁判长工作台): use cases. Pure computations are in ``judging.desk``.

Who: the competition's chief judge (a ``JudgeProfile`` with role ``chief`` and a judging role in the event) and the
event's organizers (``can_use_desk``). What they see names entrants by their CODE only (the code judges see); judges
are named (the chief judge knows the panel).

Actions (each re-authenticated by the view, audited, refused with a ``JudgingError`` and nothing changed):

==================  ======  ========================================================================================
code                status  when
==================  ======  ========================================================================================
locked              409     the round is locked: the chief judge must unlock the round first (H3's lock chain)
reason_required     422     unlock / re-score without a reason; keep / close without a note
not_submitted       409     unlock: the score is not submitted (already unlocked, or never submitted)
already_submitted   409     paper sheet: the judge's scores of this entrant are submitted already
not_assigned        403     paper sheet: the entrant is not assigned to that judge
no_flag             409     re-score / keep: the criterion's spread is within the threshold (nothing to resolve)
flag_handled        409     re-score / keep: another chief judge acted on the flag meanwhile (state changed)
request_closed      409     close: the re-score request is no longer open
==================  ======  ========================================================================================

**Unlock → correct.** ``unlock_score`` turns one submitted score back into a draft by a conditional UPDATE (``…
WHERE state = 'submitted'``) and logs a ``ScoreChange`` of kind ``unlock`` with the reason; the judge's tablet shows
the reason on that criterion. When the judge submits the entrant again, ``record_resubmission`` (called by
``judging.services.submit_entrant``) logs a ``correction`` with the value at the unlock as old value, the new one,
the judge and the unlock's reason. So the trail reads: unlocked by the chief judge (why) → corrected by the judge
(old → new).

**Re-score.** ``ask_rescore`` reopens every submitted score of that entrant and criterion (kind ``rescore``), stores
the request and marks the flag ``rescore``; when the last asked judge re-submits, the request is ``done`` and the
flag ``resolved / rescored``. ``keep_flag`` resolves a flag with a note (closing an open request);
``close_rescore`` closes a request with a note. Flag rows are unique per (round, entrant, criterion) and change
only by conditional UPDATEs on their state: of two chief judges acting at once, one gets ``flag_handled``.

**Paper sheet.** ``enter_paper_sheet``: the chief judge types in every criterion of the judge's share for one
entrant; the scores are saved as submitted with ``source = paper`` and ``updated_by`` the chief judge, each with a
``ScoreChange`` of kind ``on_behalf`` naming the judge (``on_behalf_of_id``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from accounts.models import User
from accounts.permissions import JUDGING_ROLES, can_manage_event, roles_for_event
from competition.draw import codes_by_entrant
from competition.models import Competition, Criterion, Entrant, RollCall, Round, RoundState
from extensions import db
from judging import desk
from judging import services as js
from judging.desk_models import (
    DeskSettings,
    DisagreementFlag,
    FlagResolution,
    FlagState,
    RescoreRequest,
    RescoreRequestJudge,
    RescoreState,
)
from judging.models import (
    Assignment,
    JudgeProfile,
    JudgeRole,
    Panel,
    PanelJudgeCriterion,
    PanelJudge,
    Score,
    ScoreChange,
    ScoreChangeKind,
    ScoreSource,
    ScoreState,
)
from judging.services import JudgingError

NOTE_MAX = 1000
REOPEN_KINDS = (ScoreChangeKind.UNLOCK, ScoreChangeKind.RESCORE)


# ---------------------------------------------------------------- access and settings


def is_chief_judge(user, competition: Competition) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    profile = js.judge_profile(competition, user.id)
    return (profile is not None and profile.role == JudgeRole.CHIEF
            and bool(roles_for_event(user, competition.event) & JUDGING_ROLES))


def can_use_desk(user, competition: Competition) -> bool:
    return can_manage_event(user, competition.event) or is_chief_judge(user, competition)


def desk_competitions(user) -> list[Competition]:
    """Competitions whose desk ``user`` opens as chief judge (for the judge's start page)."""
    profiles = db.session.scalars(sa.select(JudgeProfile).where(JudgeProfile.user_id == user.id,
                                                                JudgeProfile.role == JudgeRole.CHIEF))
    found = [db.session.get(Competition, p.competition_id) for p in profiles]
    return [c for c in found if is_chief_judge(user, c)]


def thresholds_for(competition: Competition) -> desk.Thresholds:
    row = db.session.get(DeskSettings, competition.id)
    if row is None:
        return desk.Thresholds()
    return desk.Thresholds(ladder_levels=row.ladder_levels, spread_share=row.spread_share,
                           outlier_share=row.outlier_share, outlier_min_entrants=row.outlier_min_entrants)


def _number(text, field_name: str, low: Decimal, high: Decimal) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except Exception:  # noqa: BLE001 - decimal.InvalidOperation and friends
        value = None
    if value is None or not value.is_finite() or value < low or value > high or value != value.quantize(Decimal("0.01")):
        raise JudgingError("invalid_threshold", _("Enter a number from %(low)s to %(high)s with at most 2 decimal "
                                                  "places.", low=js.plain(low), high=js.plain(high)),
                           status=422, field=field_name)
    return value


def update_settings(competition: Competition, *, ladder_levels, spread_percent, outlier_percent,
                    outlier_min_entrants, actor, now: datetime) -> desk.Thresholds:
    """Thresholds from the form: levels (0–3), percentages of the maximum (0–100) and a count (1–999)."""
    levels = _number(ladder_levels, "ladder_levels", Decimal(0), Decimal(3))
    spread = _number(spread_percent, "spread_percent", Decimal(0), Decimal(100)) / 100
    outlier = _number(outlier_percent, "outlier_percent", Decimal(0), Decimal(100)) / 100
    try:
        minimum = int(str(outlier_min_entrants).strip())
    except ValueError:
        minimum = 0
    if not 1 <= minimum <= 999:
        raise JudgingError("invalid_threshold", _("Enter a whole number from 1 to 999."), status=422,
                           field="outlier_min_entrants")
    if spread != spread.quantize(Decimal("0.01")) or outlier != outlier.quantize(Decimal("0.01")):
        raise JudgingError("invalid_threshold", _("Use whole percentages."), status=422, field="spread_percent")
    row = db.session.get(DeskSettings, competition.id)
    if row is None:
        row = DeskSettings(competition_id=competition.id)
    row.ladder_levels, row.spread_share, row.outlier_share = levels, spread, outlier
    row.outlier_min_entrants, row.updated_at, row.updated_by_id = minimum, now, getattr(actor, "id", None)
    db.session.add(row)
    js._audit(actor, competition, "desk.settings", now, obj=competition, ladder_levels=js.plain(levels),
              spread_share=js.plain(spread), outlier_share=js.plain(outlier), outlier_min_entrants=minimum)
    db.session.flush()
    return thresholds_for(competition)


# ---------------------------------------------------------------- what the desk shows


def round_codes(round_: Round) -> dict[int, str]:
    """entrant id -> the code the round's judges see (never a name)."""
    competition = db.session.get(Competition, round_.competition_id)
    return codes_by_entrant(competition, js.round_settings(round_).code_stage)


def _latest_changes(score_ids) -> dict[int, ScoreChange]:
    ids = sorted(set(score_ids))
    if not ids:
        return {}
    latest = (sa.select(ScoreChange.score_id, sa.func.max(ScoreChange.id).label("last"))
              .where(ScoreChange.score_id.in_(ids)).group_by(ScoreChange.score_id).subquery())
    rows = db.session.scalars(sa.select(ScoreChange).join(latest, latest.c.last == ScoreChange.id))
    return {c.score_id: c for c in rows}


def _shares(round_: Round) -> tuple[dict[tuple[int, int], set[int]], dict[tuple[int, int], int], list[Criterion]]:
    """(judge id, entrant id) -> criteria ids of the judge's share; -> panel id; the round's criteria."""
    criteria = js.round_criteria(round_)
    all_ids = {c.id for c in criteria}
    rows = db.session.execute(
        sa.select(Assignment.judge_id, Assignment.entrant_id, Assignment.panel_id, PanelJudgeCriterion.criterion_id)
        .join(PanelJudge, PanelJudge.id == Assignment.panel_judge_id)
        .outerjoin(PanelJudgeCriterion, PanelJudgeCriterion.panel_judge_id == PanelJudge.id)
        .where(Assignment.round_id == round_.id)).all()
    shares: dict[tuple[int, int], set[int]] = {}
    panels: dict[tuple[int, int], int] = {}
    for judge_id, entrant_id, panel_id, criterion_id in rows:
        share = shares.setdefault((judge_id, entrant_id), set())
        panels[(judge_id, entrant_id)] = panel_id
        if criterion_id is not None:
            share.add(criterion_id)
    for key, share in shares.items():
        if not share:
            share.update(all_ids)
        share &= all_ids
    return shares, panels, criteria


@dataclass
class PanelView:
    panel: Panel
    judges: list[User]
    entrant_ids: list[int]
    progress: desk.Progress


@dataclass
class FlagView:
    flag: desk.SpreadFlag
    criterion: Criterion
    code: str
    stored: DisagreementFlag | None
    request: RescoreRequest | None

    @property
    def status(self) -> str:
        if self.stored is None:
            return "open"
        if self.stored.state == FlagState.RESCORE:
            return "rescore"
        return self.stored.resolution.value if self.stored.resolution else "open"


@dataclass
class DeskOverview:
    round: Round
    competition: Competition
    thresholds: desk.Thresholds
    codes: dict[int, str]
    judges: dict[int, User]
    criteria: dict[int, Criterion]
    panels: list[PanelView]
    flags: list[FlagView]
    resolved_flags: list[DisagreementFlag]
    outliers: list[desk.JudgeDeviation]
    requests: list[RescoreRequest]
    values: dict = field(default_factory=dict)  # entrant -> criterion -> judge -> value (submitted)


def submitted_values(round_: Round) -> dict[int, dict[int, dict[int, Decimal]]]:
    values: dict[int, dict[int, dict[int, Decimal]]] = {}
    rows = db.session.execute(sa.select(Score.entrant_id, Score.criterion_id, Score.judge_id, Score.value).where(
        Score.round_id == round_.id, Score.state == ScoreState.SUBMITTED, Score.value.is_not(None))
        .order_by(Score.entrant_id, Score.criterion_id, Score.judge_id))
    for entrant_id, criterion_id, judge_id, value in rows:
        values.setdefault(entrant_id, {}).setdefault(criterion_id, {})[judge_id] = Decimal(value)
    return values


def criterion_infos(criteria) -> dict[int, desk.CriterionInfo]:
    return {c.id: desk.CriterionInfo(key=c.id, maximum=Decimal(c.maximum), ladder=bool(c.ladder)) for c in criteria}


def desk_overview(round_: Round) -> DeskOverview:
    competition = db.session.get(Competition, round_.competition_id)
    thresholds = thresholds_for(competition)
    codes = round_codes(round_)
    shares, panel_of, criteria = _shares(round_)
    by_id = {c.id: c for c in criteria}
    scores = list(db.session.scalars(sa.select(Score).where(Score.round_id == round_.id)))
    latest = _latest_changes(s.id for s in scores if s.state == ScoreState.DRAFT)
    slots: dict[tuple[int, int], list[Score]] = {}
    for score in scores:
        slots.setdefault((score.judge_id, score.entrant_id), []).append(score)
    panels = list(db.session.scalars(sa.select(Panel).where(Panel.round_id == round_.id).order_by(Panel.name, Panel.id)))
    judge_ids = {j for j, _e in shares}
    judges = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(judge_ids or {0})))}
    views = []
    for panel in panels:
        members = [m.profile.user_id for m in panel.judges]
        rows = []
        for (judge_id, entrant_id), share in shares.items():
            if panel_of[(judge_id, entrant_id)] != panel.id:
                continue
            mine = [s for s in slots.get((judge_id, entrant_id), []) if s.criterion_id in share]
            rows.append(desk.SlotRow(
                judge=judge_id, entrant=entrant_id, required=len(share),
                filled=sum(1 for s in mine if s.value is not None),
                submitted=sum(1 for s in mine if s.state == ScoreState.SUBMITTED),
                last_change=max((s.updated_at for s in mine), default=None),
                reopened=any(s.id in latest and latest[s.id].new_state == ScoreState.DRAFT for s in mine)))
        entrant_ids = sorted({r.entrant for r in rows}, key=lambda e: js.natural_key(codes.get(e, "")))
        progress = desk.compute_progress(rows, judges=[m for m in members if m in judge_ids], entrants=entrant_ids)
        views.append(PanelView(panel=panel, judges=[judges[j] for j in progress.judges if j in judges],
                               entrant_ids=progress.entrants, progress=progress))
    values = submitted_values(round_)
    infos = criterion_infos(criteria)
    spread = desk.spread_flags(values, infos, thresholds)
    stored = {(f.entrant_id, f.criterion_id): f for f in db.session.scalars(
        sa.select(DisagreementFlag).where(DisagreementFlag.round_id == round_.id))}
    requests = {r.id: r for r in db.session.scalars(sa.select(RescoreRequest).where(
        RescoreRequest.round_id == round_.id).order_by(RescoreRequest.id))}
    flags = []
    for flag in spread:
        row = stored.get((flag.entrant, flag.criterion))
        flags.append(FlagView(flag=flag, criterion=by_id[flag.criterion], code=codes.get(flag.entrant, "?"),
                              stored=row, request=requests.get(row.rescore_request_id) if row else None))
    order = {c.id: i for i, c in enumerate(criteria)}
    flags.sort(key=lambda f: (f.status not in ("open", "rescored"), js.natural_key(f.code), order[f.criterion.id]))
    for key, row in stored.items():  # asked to re-score: the scores are drafts, the flag stays on the desk
        if row.state == FlagState.RESCORE and key not in {(f.flag.entrant, f.flag.criterion) for f in flags}:
            criterion = by_id.get(row.criterion_id)
            if criterion is None:
                continue
            info = infos[criterion.id]
            held = desk.SpreadFlag(entrant=row.entrant_id, criterion=row.criterion_id,
                                   values=values.get(row.entrant_id, {}).get(row.criterion_id, {}), spread=row.spread,
                                   limit=desk.spread_limit(info, thresholds), ladder=info.ladder)
            flags.append(FlagView(flag=held, criterion=criterion, code=codes.get(row.entrant_id, "?"), stored=row,
                                  request=requests.get(row.rescore_request_id)))
    flagged_keys = {(f.flag.entrant, f.flag.criterion) for f in flags}
    resolved = [row for key, row in stored.items() if key not in flagged_keys]
    outliers = desk.outlier_judges(values, infos, thresholds)
    return DeskOverview(round=round_, competition=competition, thresholds=thresholds, codes=codes, judges=judges,
                        criteria=by_id, panels=views, flags=flags, resolved_flags=resolved, outliers=outliers,
                        requests=[r for r in requests.values() if r.state == RescoreState.OPEN], values=values)


def progress_json(overview: DeskOverview, *, now: datetime) -> dict:
    """What the desk page polls: per panel the cells (judge × entrant) and the counts; the flags' keys."""
    panels = []
    for view in overview.panels:
        progress = view.progress
        panels.append({
            "id": view.panel.id,
            "judges": [{"id": j, "submitted": p.submitted, "assigned": p.assigned, "behind": p.behind,
                        "last_change": js._iso(p.last_change)} for j, p in progress.by_judge.items()],
            "entrants": [{"id": e, "code": overview.codes.get(e, "?"), "submitted": p.submitted, "judges": p.judges,
                          "waiting_on": p.waiting_on} for e, p in progress.by_entrant.items()],
            "cells": [{"judge": j, "entrant": e, "state": c.state.value, "filled": c.filled, "required": c.required,
                       "reopened": c.reopened, "last_change": js._iso(c.last_change)}
                      for (j, e), c in progress.cells.items()],
            "submitted": progress.submitted, "slots": progress.slots,
        })
    body = {
        "round": {"id": overview.round.id, "state": overview.round.state.value},
        "panels": panels,
        "flags": sorted(f"{f.flag.entrant}:{f.flag.criterion}:{f.status}" for f in overview.flags),
        "requests": sorted(r.id for r in overview.requests),
        "generated_at": js._iso(now),
    }
    body["signature"] = signature(body)
    return body


def signature(progress: dict) -> str:
    """What, when it changes, asks the desk page to be reloaded: the flags with their status and the open requests
    (the matrix itself is updated in place)."""
    return "|".join([",".join(progress["flags"]), ",".join(str(r) for r in progress["requests"]),
                     progress["round"]["state"]])


@dataclass
class TrailEntry:
    change: ScoreChange
    score: Score
    criterion: Criterion
    judge: User | None
    by: User | None
    on_behalf_of: User | None


def score_trail(round_: Round, entrant_id: int) -> list[TrailEntry]:
    """Every logged change of the entrant's scores in the round, oldest first."""
    rows = db.session.execute(sa.select(ScoreChange, Score).join(Score, Score.id == ScoreChange.score_id).where(
        Score.round_id == round_.id, Score.entrant_id == entrant_id).order_by(ScoreChange.changed_at, ScoreChange.id)).all()
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(
        {c.changed_by_id for c, _s in rows} | {c.on_behalf_of_id for c, _s in rows} | {s.judge_id for _c, s in rows}
        or {0})))}
    criteria = {c.id: c for c in js.round_criteria(round_)}
    return [TrailEntry(change=c, score=s, criterion=criteria[s.criterion_id], judge=users.get(s.judge_id),
                       by=users.get(c.changed_by_id), on_behalf_of=users.get(c.on_behalf_of_id)) for c, s in rows]


@dataclass
class EntrantSheet:
    """One entrant on the desk: per judge of the round, their share and scores (for unlock and paper sheets)."""

    round: Round
    entrant_id: int
    code: str
    criteria: list[Criterion]
    judges: list[tuple[User, set[int], dict[int, Score]]]  # judge, share, criterion id -> score
    reopened: dict[int, ScoreChange]  # score id -> the unlock / re-score it waits on
    trail: list[TrailEntry]


def entrant_sheet(round_: Round, entrant_id: int) -> EntrantSheet:
    shares, _panels, criteria = _shares(round_)
    codes = round_codes(round_)
    if entrant_id not in codes or not any(e == entrant_id for _j, e in shares):
        raise JudgingError("not_found", _("The page or item was not found."), status=404)
    scores = list(db.session.scalars(sa.select(Score).where(Score.round_id == round_.id,
                                                            Score.entrant_id == entrant_id)))
    judge_ids = sorted(j for j, e in shares if e == entrant_id)
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(judge_ids)))}
    judges = []
    for judge_id in sorted(judge_ids, key=lambda j: (users[j].name, j)):
        mine = {s.criterion_id: s for s in scores if s.judge_id == judge_id}
        judges.append((users[judge_id], shares[(judge_id, entrant_id)], mine))
    latest = _latest_changes(s.id for s in scores if s.state == ScoreState.DRAFT)
    reopened = {sid: c for sid, c in latest.items() if c.new_state == ScoreState.DRAFT and c.kind in REOPEN_KINDS}
    return EntrantSheet(round=round_, entrant_id=entrant_id, code=codes[entrant_id], criteria=criteria,
                        judges=judges, reopened=reopened, trail=score_trail(round_, entrant_id))


# ---------------------------------------------------------------- checks


def check_round_open(round_: Round) -> None:
    state = db.session.scalar(sa.select(Round.state).where(Round.id == round_.id))
    if state == RoundState.LOCKED:
        raise JudgingError("locked", _("This round is locked: the chief judge must unlock the round first."),
                           status=409)


def clean_text(text: str | None, *, field_name: str, message: str) -> str:
    value = (text or "").strip()
    if not value:
        raise JudgingError("reason_required", message, status=422, field=field_name)
    if len(value) > NOTE_MAX:
        raise JudgingError("too_long", _("Too long: at most %(n)d characters.", n=NOTE_MAX), status=422,
                           field=field_name)
    return value


def _competition(round_: Round) -> Competition:
    return db.session.get(Competition, round_.competition_id)


# ---------------------------------------------------------------- unlock, and the judge's re-submission


def unlock_score(score: Score, *, actor, reason: str, now: datetime) -> ScoreChange:
    """Give one submitted score back to its judge, with the reason (see the module's text)."""
    round_ = db.session.get(Round, score.round_id)
    reason = clean_text(reason, field_name="reason", message=_("Write why the score is unlocked; nothing was changed."))
    check_round_open(round_)
    value = db.session.scalar(sa.update(Score).where(Score.id == score.id, Score.state == ScoreState.SUBMITTED)
                              .values(state=ScoreState.DRAFT, submitted_at=None, updated_at=now,
                                      updated_by_id=getattr(actor, "id", None))
                              .returning(Score.value).execution_options(synchronize_session=False))
    if value is None:
        raise JudgingError("not_submitted", _("This score is not submitted (it may have been unlocked already)."),
                           status=409)
    change = ScoreChange(score_id=score.id, old_value=value, new_value=value, old_state=ScoreState.SUBMITTED,
                         new_state=ScoreState.DRAFT, changed_by_id=getattr(actor, "id", None), changed_at=now,
                         reason=reason, kind=ScoreChangeKind.UNLOCK)
    db.session.add(change)
    js._audit(actor, _competition(round_), "desk.unlock", now, obj=score, judge_id=score.judge_id,
              entrant_id=score.entrant_id, criterion_id=score.criterion_id, value=js.plain(value), reason=reason)
    db.session.flush()
    db.session.refresh(score)
    return change


def record_resubmission(round_: Round, judge, entrant_id: int, criterion_ids, *, now: datetime) -> int:
    """After a judge submitted an entrant (``judging.services.submit_entrant``): each of those scores that had been
    unlocked or re-opened for a re-score gets a ``correction`` (old value at the reopening, new value, the reason);
    re-score requests waiting on this judge record the re-submission and close when nobody is left. Returns the
    corrections logged."""
    scores = list(db.session.scalars(sa.select(Score).where(
        Score.round_id == round_.id, Score.judge_id == judge.id, Score.entrant_id == entrant_id,
        Score.criterion_id.in_(sorted(criterion_ids) or [0]), Score.state == ScoreState.SUBMITTED)
        .execution_options(populate_existing=True)))
    latest = _latest_changes(s.id for s in scores)
    logged = 0
    competition = _competition(round_)
    for score in scores:
        opened = latest.get(score.id)
        if opened is None or opened.new_state != ScoreState.DRAFT:
            continue
        db.session.add(ScoreChange(score_id=score.id, old_value=opened.old_value, new_value=score.value,
                                   old_state=ScoreState.DRAFT, new_state=ScoreState.SUBMITTED,
                                   changed_by_id=judge.id, changed_at=now, reason=opened.reason,
                                   kind=ScoreChangeKind.CORRECTION))
        logged += 1
        js._audit(judge, competition, "desk.corrected", now, obj=score, entrant_id=entrant_id,
                  criterion_id=score.criterion_id, old=js.plain(opened.old_value), new=js.plain(score.value),
                  after=opened.kind.value)
        if opened.kind == ScoreChangeKind.RESCORE:
            _resubmitted_for_rescore(score, now)
    if logged:
        db.session.flush()
    return logged


def _resubmitted_for_rescore(score: Score, now: datetime) -> None:
    asked = db.session.execute(
        sa.select(RescoreRequestJudge.id, RescoreRequest.id).join(RescoreRequest,
                                                                  RescoreRequest.id == RescoreRequestJudge.request_id)
        .where(RescoreRequestJudge.score_id == score.id, RescoreRequestJudge.resubmitted_at.is_(None),
               RescoreRequest.state == RescoreState.OPEN)).all()
    for asked_id, request_id in asked:
        db.session.execute(sa.update(RescoreRequestJudge).where(RescoreRequestJudge.id == asked_id,
                                                                RescoreRequestJudge.resubmitted_at.is_(None))
                           .values(resubmitted_at=now))
        waiting = db.session.scalar(sa.select(sa.func.count(RescoreRequestJudge.id)).where(
            RescoreRequestJudge.request_id == request_id, RescoreRequestJudge.resubmitted_at.is_(None)))
        if waiting:
            continue
        done = db.session.execute(sa.update(RescoreRequest).where(RescoreRequest.id == request_id,
                                                                  RescoreRequest.state == RescoreState.OPEN)
                                  .values(state=RescoreState.DONE, closed_at=now))
        if done.rowcount == 1:
            db.session.execute(sa.update(DisagreementFlag).where(
                DisagreementFlag.rescore_request_id == request_id, DisagreementFlag.state == FlagState.RESCORE)
                .values(state=FlagState.RESOLVED, resolution=FlagResolution.RESCORED, updated_at=now))


# ---------------------------------------------------------------- the paper sheet, typed in for a judge


def enter_paper_sheet(round_: Round, judge_id: int, entrant_id: int, values: dict[int, str], *, actor,
                      now: datetime) -> list[Score]:
    """Every criterion of ``judge_id``'s share of the entrant, from their paper sheet, saved as submitted."""
    check_round_open(round_)
    shares, _panels, criteria = _shares(round_)
    share = shares.get((judge_id, entrant_id))
    if share is None:
        raise JudgingError("not_assigned", _("This entrant is not assigned to this judge."), status=403)
    judge = db.session.get(User, judge_id)
    competition = _competition(round_)
    profile = js.judge_profile(competition, judge_id)
    entrant = db.session.get(Entrant, entrant_id)
    if profile is None or js.planner.conflict_reasons(js.judge_identity(profile), js.entrant_identity(entrant)):
        raise JudgingError("conflict", _("This judge may not score this entrant (conflict of interest, 回避)."),
                           status=403)
    if js.round_settings(round_).requires_roll_call and not db.session.scalar(
            sa.select(RollCall.present).where(RollCall.round_id == round_.id, RollCall.entrant_id == entrant_id)):
        raise JudgingError("absent", _("This entrant has not been checked in at roll call (检录) for this round."),
                           status=409)
    by_id = {c.id: c for c in criteria}
    numbers, problems = {}, {}
    for criterion_id in sorted(share, key=lambda c: [x.id for x in criteria].index(c)):
        criterion = by_id[criterion_id]
        try:
            numbers[criterion_id] = js.validate_value(js.criterion_spec(criterion, competition),
                                                      values.get(criterion_id))
        except js.ValueProblem as problem:
            problems[criterion_id] = js.value_problem_error(problem, criterion).message
    if problems:
        error = JudgingError("invalid_sheet", _("Check the marked values; nothing was saved."), status=422,
                             details={"problems": {str(k): v for k, v in problems.items()}})
        raise error
    if round_.state == RoundState.SETUP:
        from competition.services import CompetitionError, start_scoring

        try:
            start_scoring(round_, actor=actor, now=now)
        except CompetitionError as error:
            if error.code != "already_started":
                raise JudgingError("not_ready", _("Scoring cannot start yet: %(reason)s", reason=error.message),
                                   status=409) from None
    rubric_version = db.session.scalar(sa.select(js.Rubric.version).where(js.Rubric.round_id == round_.id))
    saved = []
    for criterion_id, number in numbers.items():
        old = db.session.execute(sa.select(Score.id, Score.value).where(
            Score.round_id == round_.id, Score.judge_id == judge_id, Score.entrant_id == entrant_id,
            Score.criterion_id == criterion_id)).first()
        statement = js._insert(Score).values(
            round_id=round_.id, judge_id=judge_id, entrant_id=entrant_id, criterion_id=criterion_id, value=number,
            note="", state=ScoreState.SUBMITTED, source=ScoreSource.PAPER, rubric_version=rubric_version,
            created_at=now, updated_at=now, submitted_at=now, updated_by_id=getattr(actor, "id", None))
        score_id = db.session.execute(statement.on_conflict_do_update(
            index_elements=["judge_id", "entrant_id", "criterion_id", "round_id"],
            set_={"value": statement.excluded.value, "state": statement.excluded.state,
                  "source": statement.excluded.source, "updated_at": statement.excluded.updated_at,
                  "submitted_at": statement.excluded.submitted_at, "updated_by_id": statement.excluded.updated_by_id},
            where=Score.state == ScoreState.DRAFT).returning(Score.id)).scalar()
        if score_id is None:
            raise JudgingError("already_submitted", _("%(judge)s has already submitted scores for this entrant.",
                                                      judge=judge.name), status=409)
        db.session.add(ScoreChange(score_id=score_id, old_value=old.value if old else None, new_value=number,
                                   old_state=ScoreState.DRAFT, new_state=ScoreState.SUBMITTED,
                                   changed_by_id=getattr(actor, "id", None), changed_at=now,
                                   reason=_("Paper score sheet entered by the chief judge"),
                                   kind=ScoreChangeKind.ON_BEHALF, on_behalf_of_id=judge_id))
        saved.append(score_id)
    js._audit(actor, competition, "desk.paper_sheet", now, obj=round_, judge_id=judge_id, entrant_id=entrant_id,
              criteria=len(saved))
    db.session.flush()
    return list(db.session.scalars(sa.select(Score).where(Score.id.in_(saved))
                                   .execution_options(populate_existing=True)))


# ---------------------------------------------------------------- disagreements


def _current_flag(round_: Round, entrant_id: int, criterion_id: int) -> desk.SpreadFlag:
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.id not in {c.id for c in js.round_criteria(round_)}:
        raise JudgingError("not_found", _("The page or item was not found."), status=404)
    values = submitted_values(round_)
    found = desk.spread_flags({entrant_id: {criterion_id: values.get(entrant_id, {}).get(criterion_id, {})}},
                              criterion_infos([criterion]), thresholds_for(_competition(round_)))
    if not found:
        held = db.session.scalar(sa.select(DisagreementFlag).where(
            DisagreementFlag.round_id == round_.id, DisagreementFlag.entrant_id == entrant_id,
            DisagreementFlag.criterion_id == criterion_id, DisagreementFlag.state == FlagState.RESCORE))
        if held is not None:  # the panel is re-scoring: its scores are drafts, the flag stands until they are back
            info = criterion_infos([criterion])[criterion_id]
            return desk.SpreadFlag(entrant=entrant_id, criterion=criterion_id, values={}, spread=held.spread,
                                   limit=desk.spread_limit(info, thresholds_for(_competition(round_))),
                                   ladder=info.ladder)
        raise JudgingError("no_flag", _("The judges' scores of this criterion are within the threshold: there is "
                                        "no disagreement to resolve."), status=409)
    return found[0]


def _claim_flag(round_: Round, flag: desk.SpreadFlag, *, allowed: tuple, values: dict, actor,
                now: datetime) -> DisagreementFlag:
    """Take the flag's row for this action: insert it (no row yet) or move it by a conditional UPDATE from one of
    the ``allowed`` (state, resolution) pairs. Another chief judge's action in between: ``flag_handled``."""
    row = db.session.scalar(sa.select(DisagreementFlag).where(
        DisagreementFlag.round_id == round_.id, DisagreementFlag.entrant_id == flag.entrant,
        DisagreementFlag.criterion_id == flag.criterion))
    common = {"spread": flag.spread, "updated_by_id": getattr(actor, "id", None), "updated_at": now, **values}
    if row is None:
        if (None, None) not in allowed:
            raise _handled()
        row = DisagreementFlag(round_id=round_.id, entrant_id=flag.entrant, criterion_id=flag.criterion, **common)
        db.session.add(row)
        db.session.flush()  # a concurrent insert fails here on the unique constraint (the view retries: handled)
        return row
    conditions = [sa.and_(DisagreementFlag.state == s, DisagreementFlag.resolution.is_(None) if r is None
                          else DisagreementFlag.resolution == r) for s, r in allowed if s is not None]
    if not conditions:
        raise _handled()
    result = db.session.execute(sa.update(DisagreementFlag).where(DisagreementFlag.id == row.id, sa.or_(*conditions))
                                .values(**common).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise _handled()
    db.session.refresh(row)
    return row


def _handled() -> JudgingError:
    return JudgingError("flag_handled", _("This disagreement has already been handled; reload the page."),
                        status=409)


def ask_rescore(round_: Round, entrant_id: int, criterion_id: int, *, reason: str, actor,
                now: datetime) -> RescoreRequest:
    """Ask the panel to score this criterion of this entrant again (see the module's text)."""
    reason = clean_text(reason, field_name="reason", message=_("Write why the panel should re-score; nothing was "
                                                               "changed."))
    check_round_open(round_)
    flag = _current_flag(round_, entrant_id, criterion_id)
    request = RescoreRequest(round_id=round_.id, entrant_id=entrant_id, criterion_id=criterion_id, reason=reason,
                             state=RescoreState.OPEN, asked_by_id=getattr(actor, "id", None), asked_at=now,
                             close_note="")
    db.session.add(request)
    db.session.flush()
    _claim_flag(round_, flag, allowed=((None, None), (FlagState.RESOLVED, FlagResolution.RESCORED)),
                values={"state": FlagState.RESCORE, "resolution": None, "note": "", "rescore_request_id": request.id},
                actor=actor, now=now)
    scores = list(db.session.scalars(sa.select(Score).where(
        Score.round_id == round_.id, Score.entrant_id == entrant_id, Score.criterion_id == criterion_id,
        Score.judge_id.in_(sorted(flag.values)), Score.state == ScoreState.SUBMITTED)))
    for score in scores:
        result = db.session.execute(sa.update(Score).where(Score.id == score.id, Score.state == ScoreState.SUBMITTED)
                                    .values(state=ScoreState.DRAFT, submitted_at=None, updated_at=now,
                                            updated_by_id=getattr(actor, "id", None))
                                    .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise _handled()
        db.session.add(ScoreChange(score_id=score.id, old_value=score.value, new_value=score.value,
                                   old_state=ScoreState.SUBMITTED, new_state=ScoreState.DRAFT,
                                   changed_by_id=getattr(actor, "id", None), changed_at=now, reason=reason,
                                   kind=ScoreChangeKind.RESCORE))
        db.session.add(RescoreRequestJudge(request_id=request.id, judge_id=score.judge_id, score_id=score.id))
    js._audit(actor, _competition(round_), "desk.rescore", now, obj=request, entrant_id=entrant_id,
              criterion_id=criterion_id, judges=len(scores), spread=js.plain(flag.spread), reason=reason)
    db.session.flush()
    return request


def keep_flag(round_: Round, entrant_id: int, criterion_id: int, *, note: str, actor, now: datetime) -> DisagreementFlag:
    """Resolve a flag keeping the scores as they are, with the chief judge's note (an open re-score request of it is
    closed with the same note; its judges' drafts stay drafts to be submitted)."""
    note = clean_text(note, field_name="note", message=_("Write a note on why the scores stay; nothing was changed."))
    check_round_open(round_)
    flag = _current_flag(round_, entrant_id, criterion_id)
    row = _claim_flag(round_, flag, allowed=((None, None), (FlagState.RESCORE, None),
                                             (FlagState.RESOLVED, FlagResolution.RESCORED)),
                      values={"state": FlagState.RESOLVED, "resolution": FlagResolution.KEPT, "note": note},
                      actor=actor, now=now)
    if row.rescore_request_id:
        db.session.execute(sa.update(RescoreRequest).where(RescoreRequest.id == row.rescore_request_id,
                                                           RescoreRequest.state == RescoreState.OPEN)
                           .values(state=RescoreState.CLOSED, closed_at=now, closed_by_id=getattr(actor, "id", None),
                                   close_note=note))
    js._audit(actor, _competition(round_), "desk.keep", now, obj=row, entrant_id=entrant_id,
              criterion_id=criterion_id, spread=js.plain(flag.spread), note=note)
    db.session.flush()
    return row


def close_rescore(request: RescoreRequest, *, note: str, actor, now: datetime) -> RescoreRequest:
    """Close an open re-score request with a note (e.g. a judge who left; the chief judge types their sheet)."""
    note = clean_text(note, field_name="note", message=_("Write a note on why the request is closed; nothing was "
                                                         "changed."))
    round_ = db.session.get(Round, request.round_id)
    check_round_open(round_)
    result = db.session.execute(sa.update(RescoreRequest).where(RescoreRequest.id == request.id,
                                                                RescoreRequest.state == RescoreState.OPEN)
                                .values(state=RescoreState.CLOSED, closed_at=now,
                                        closed_by_id=getattr(actor, "id", None), close_note=note))
    if result.rowcount != 1:
        raise JudgingError("request_closed", _("This re-score request is no longer open."), status=409)
    db.session.execute(sa.update(DisagreementFlag).where(DisagreementFlag.rescore_request_id == request.id,
                                                         DisagreementFlag.state == FlagState.RESCORE)
                       .values(state=FlagState.RESOLVED, resolution=FlagResolution.KEPT, note=note, updated_at=now,
                               updated_by_id=getattr(actor, "id", None)))
    js._audit(actor, _competition(round_), "desk.rescore_close", now, obj=request, note=note)
    db.session.flush()
    db.session.refresh(request)
    return request


# ---------------------------------------------------------------- for the judge's tablet


def reopened_for_judge(round_id: int, judge_id: int) -> dict[int, list[dict]]:
    """entrant id -> the judge's scores the chief judge gave back (criterion, kind, reason, when). Codes only: the
    tablet already knows the entrant by id and code."""
    drafts = dict(db.session.execute(sa.select(Score.id, Score.entrant_id).where(
        Score.round_id == round_id, Score.judge_id == judge_id, Score.state == ScoreState.DRAFT)).all())
    found: dict[int, list[dict]] = {}
    for score_id, change in _latest_changes(drafts).items():
        if change.new_state != ScoreState.DRAFT or change.kind not in REOPEN_KINDS:
            continue
        criterion_id = db.session.scalar(sa.select(Score.criterion_id).where(Score.id == score_id))
        found.setdefault(drafts[score_id], []).append({
            "criterion_id": criterion_id, "kind": change.kind.value, "reason": change.reason,
            "at": js._iso(change.changed_at)})
    for items in found.values():
        items.sort(key=lambda item: item["criterion_id"])
    return found
