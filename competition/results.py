"""Results of a competition: standings per group (and overall), awards, the medal table, the results state
(published, provisional/final, frozen), the version that screens poll, and the ranking history.

From scores to awards
---------------------
1. **Scores.** Only *submitted* scores count (a draft is the judge's business). All submitted scores of the
   competition's counted rounds are read in one query, as scaled integers (no Decimal conversion per row).
2. **Criterion scores.** For each entrant and criterion the slots that must be filled are the judges assigned to
   the entrant in that round whose share includes the criterion (``judging`` panels and assignments). A criterion
   with an empty slot is incomplete; otherwise the panel's values combine by the competition's method (mean,
   trimmed mean from ``trim_threshold`` judges, two closest, median) exactly as ``judging.aggregation.combine``
   does, in integers, and the result is rounded once to the competition's precision. A ladder criterion's levels
   combine first and become marks (level / 3 × maximum) exactly, then round: every method commutes with that
   scaling, and no 28-digit intermediate can tip a result over a rounding boundary.
3. **Totals.** ``judging.aggregation.compute_total`` (module subtotals; weighted modules out of 100) per round, and
   ``combine_rounds`` over the counted rounds: the rounds whose scores carry forward, plus always the last round;
   one counted round gives its total as it is, several need weights adding up to 100.
4. **Ranks.** ``competition.ranking.rank_entries`` per board — one per group (entrants rank only within their
   group), "ungrouped" for entrants without a group, "all" when the competition has no groups, and an "overall"
   list beside them when the organizer wants one — with the organizer's tie-break chain
   (:data:`TIEBREAK_KINDS`: a module's subtotal, a criterion, the judgement or measurement total, the completion
   time). The chain ends in shared ranks (并列), drawn lots or the chief judge's decision: a recorded
   :class:`~competition.result_models.TieDecision` for exactly that tie (same board, total and entrants) becomes a
   last tie-break. A decision for a tie that no longer exists is kept but unused (listed as stale).
5. **Awards.** ``competition.awards.assign_awards`` per board (not on the overall list: there each entrant shows
   their group's award) with the competition's scheme, the organizer's ``lift_ties`` and rest tier, then manual
   overrides (with their reasons). Unresolved ties across a cut-off are warnings. The medal table counts each
   unit's tiers over all boards and ranks units by points.

Version and cache
-----------------
``CompetitionResults.version`` is bumped, in the same transaction, by every change that can move the board: every
audit entry that names a competition (a score submitted, changed or reopened; an entrant, the draw, a panel, a
setting changed; a results action) bumps it through a ``before_flush`` listener, and ``touch`` can be called
directly. Each bump is logged (``ResultChange``) with a *scope*: ``entrant`` (one entrant's scores changed),
``rank`` (ranking settings, decisions, overrides, times), ``state`` (publish, freeze …: nothing to recompute) or
``full``. Each process keeps the computed standings per competition keyed by version (and a random token of the
state row); a read that finds a newer version reads the log since its own version and recomputes only what the
scopes require — one new score reloads that entrant's scores (one small query) and re-ranks — else everything.

Visibility (no leaks)
---------------------
:func:`public_board` is the only thing public pages, the big screen and the public API read. Before publishing it
holds nothing, or ranks/codes/totals without names and units (``before_publish``); after publishing, names and
units too; while frozen, the board stored at freeze time (``frozen_board``) — live scores never reach it.
:func:`public_token` (what screens poll) moves only when what the public sees may have changed.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from operator import itemgetter
from decimal import Decimal, localcontext

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from competition import awards as award_rules
from competition.models import Competition, CriterionKind, DrawCode, Entrant, Group, Module, Round, Rubric
from competition.models import Criterion as CriterionRow
from competition.ranking import Better, RankEntry, TieBreak, rank_entries
from competition.result_models import (
    AwardOverride,
    BeforePublish,
    ChainEnd,
    CompetitionResults,
    CompletionTime,
    DecisionMethod,
    RankBaseline,
    RankMove,
    ResultChange,
    TieDecision,
)
from core.errors import DomainError
from core.models import AuditEntry, record_audit
from core.types import utcnow
from extensions import db
from judging import aggregation
from judging.values import Precision, Rounding

UNITS = 10 ** 4  # scores are stored as whole numbers of 10**-4 (judging.models.VALUE_PLACES)
_PREC = 80
MAX_TIEBREAKS = 6
MAX_REASON = 1000
MAX_TIER = 30
INCREMENTAL_LIMIT = 200  # more changed entrants than this since the cached version: recompute everything
CACHE_SIZE = 32  # competitions kept per process


class ResultsError(DomainError):
    """A refused results action: ``code`` for machines, ``message`` for people, ``field`` for forms."""


def _audit(actor, competition: Competition, action: str, now: datetime, obj=None, **details) -> None:
    record_audit(actor=actor, organization_id=competition.event.organization_id, action=action,
                 obj=obj if obj is not None else competition, now=now, competition_id=competition.id, **details)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _insert(model, dialect: str):
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def decimal_text(value: Decimal | None, places: int) -> str | None:
    """A total as the API and pages show it: a decimal string with the competition's places ("87.50")."""
    if value is None:
        return None
    return format(Decimal(value).quantize(Decimal(1).scaleb(-places)), "f")


# ================================================================ version: touch and the audit listener

# scope of a change by audit action; anything else that names a competition is "full"
ENTRANT_ACTIONS = {"judging.submit", "judging.reopen", "judging.score_change"}
STATE_ACTIONS = {"results.publish", "results.unpublish", "results.freeze", "results.unfreeze", "results.final",
                 "results.provisional", "results.visibility"}
RANK_ACTIONS = {"results.settings", "results.lots", "results.decision", "results.decision_revoke",
                "results.award_override", "results.award_override_clear", "results.times"}
IGNORED_ACTIONS = {"results.export", "results.pdf", "judging.judge_invite", "competition.workbook_export"}
PUBLIC_ACTIONS = STATE_ACTIONS  # may change what the public sees even while it sees a frozen or hidden board


def touch(competition_id: int, *, action: str = "touch", scope: str = "full", entrant_id: int | None = None,
          actor_id: int | None = None, details: dict | None = None, public: bool = False, now: datetime | None = None,
          connection=None) -> int:
    """Bump the competition's results version in the current transaction (creating its results row if needed) and
    log the change; returns the new version. ``public`` also bumps ``state_version`` (what the public sees).

    Called for every audit entry that names a competition (see ``_before_flush``), so services need not call it;
    call it directly for a change that is not audited."""
    connection = connection if connection is not None else db.session.connection()
    dialect = connection.dialect.name
    now = now or utcnow()
    table = CompetitionResults.__table__
    statement = _insert(table, dialect).values(competition_id=competition_id, version=1, state_version=1,
                                               updated_at=now)
    changes = {"version": table.c.version + 1, "updated_at": now}
    if public:
        changes["state_version"] = table.c.state_version + 1
    statement = statement.on_conflict_do_update(index_elements=["competition_id"], set_=changes)
    version = connection.execute(statement.returning(table.c.version)).scalar_one()
    connection.execute(sa.insert(ResultChange.__table__).values(
        competition_id=competition_id, version=version, at=now, action=action[:64], scope=scope,
        entrant_id=entrant_id, actor_id=actor_id, details=details or {}))
    return version


def _classify(session, entry: AuditEntry) -> tuple[str, int | None]:
    action = entry.action
    details = entry.details or {}
    if action in STATE_ACTIONS:
        return "state", None
    if action in RANK_ACTIONS:
        return "rank", None
    if action in ENTRANT_ACTIONS:
        entrant_id = details.get("entrant_id")
        if entrant_id is None and entry.object_type == "Score" and entry.object_id is not None:
            from judging.models import Score

            entrant_id = session.connection().execute(
                sa.select(Score.entrant_id).where(Score.id == entry.object_id)).scalar()
        if isinstance(entrant_id, int):
            return "entrant", entrant_id
    return "full", None


def _before_flush(session, _flush_context, _instances) -> None:
    """Every new audit entry that names a competition bumps that competition's results version, in the same
    transaction (so a rolled-back change leaves the version alone)."""
    for obj in list(session.new):
        if not isinstance(obj, AuditEntry) or getattr(obj, "_results_touched", False):
            continue
        details = obj.details or {}
        competition_id = details.get("competition_id")
        if not isinstance(competition_id, int) or obj.action in IGNORED_ACTIONS or obj.action.startswith("certificate"):
            continue
        obj._results_touched = True
        scope, entrant_id = _classify(session, obj)
        small = {k: v for k, v in details.items() if k != "competition_id" and isinstance(v, (int, str, bool))}
        if obj.object_type == "Score" and obj.object_id is not None:
            small["score_id"] = obj.object_id
        touch(competition_id, action=obj.action, scope=scope, entrant_id=entrant_id, actor_id=obj.actor_id,
              details=small, public=obj.action in PUBLIC_ACTIONS, now=obj.at, connection=session.connection())


sa.event.listen(sa.orm.Session, "before_flush", _before_flush)


# ================================================================ state and settings


def get_state(competition_id: int) -> CompetitionResults | None:
    return db.session.get(CompetitionResults, competition_id)


def ensure_state(competition: Competition) -> CompetitionResults:
    """The competition's results row, made (with the defaults) if missing. Flushes."""
    state = db.session.get(CompetitionResults, competition.id)
    if state is None:
        statement = _insert(CompetitionResults.__table__, _dialect()).values(
            competition_id=competition.id, version=1, state_version=1, updated_at=utcnow()
        ).on_conflict_do_nothing(index_elements=["competition_id"])
        db.session.execute(statement)
        state = db.session.get(CompetitionResults, competition.id)
    return state


def is_identity_released(competition: Competition) -> bool:
    """Whether names and units may be shown to the public: the results are published — and, for a competition
    that follows the strict process (``judging.process``), decrypted (解密) too."""
    state = get_state(competition.id)
    if not (state and state.published):
        return False
    from judging import process

    return not process.is_strict(competition) or process.is_decrypted(competition)


def _strict_refusal(competition: Competition) -> ResultsError | None:
    """Results actions that the strict process (严格评审流程) takes over: publishing and making final go through
    its chain (``judging.process``: locks, review, decryption, 公示, final snapshot)."""
    from judging import process

    if process.is_strict(competition):
        return ResultsError("strict_process", _("This competition follows the strict process: results are published "
                                                "and made final on the judging process page, after the review and "
                                                "the decryption."), status=409)
    return None


def results_final(competition: Competition) -> bool:
    state = get_state(competition.id)
    return bool(state and state.final)


TIEBREAK_KINDS = ("module", "criterion", "judgement", "measurement", "time")


@dataclass(frozen=True)
class TiebreakOption:
    spec: str  # "module:B", "criterion:A1", "judgement", "measurement", "time"
    kind: str
    code: str = ""

    @property
    def better(self) -> Better:
        return Better.LOWER if self.kind == "time" else Better.HIGHER


def parse_tiebreak(spec: str) -> TiebreakOption | None:
    kind, _sep, code = (spec or "").strip().partition(":")
    if kind in ("judgement", "measurement", "time") and not code:
        return TiebreakOption(kind, kind)
    if kind in ("module", "criterion") and code and re.fullmatch(r"[A-Z0-9][A-Z0-9.\-]{0,19}", code):
        return TiebreakOption(f"{kind}:{code}", kind, code)
    return None


def tiebreak_label(spec: str) -> str:
    option = parse_tiebreak(spec)
    if option is None:
        return spec
    if option.kind == "module":
        return _("Module %(code)s subtotal (higher first)", code=option.code)
    if option.kind == "criterion":
        return _("Criterion %(code)s (higher first)", code=option.code)
    if option.kind == "judgement":
        return _("Judgement total (higher first)")
    if option.kind == "measurement":
        return _("Measurement total (higher first)")
    return _("Completion time (shorter first)")


def tiebreak_choices(competition: Competition) -> list[tuple[str, str]]:
    """The tie-breaks this competition's rubrics allow: each module and criterion code, the judgement and
    measurement totals and the completion time."""
    modules = list(dict.fromkeys(db.session.scalars(
        sa.select(Module.code).join(Rubric, Rubric.id == Module.rubric_id).where(Rubric.competition_id == competition.id)
        .order_by(Module.position, Module.id))))
    criteria = list(dict.fromkeys(db.session.scalars(
        sa.select(CriterionRow.code).join(Rubric, Rubric.id == CriterionRow.rubric_id)
        .where(Rubric.competition_id == competition.id).order_by(CriterionRow.position, CriterionRow.id))))
    specs = ([f"module:{code}" for code in modules] + ["judgement", "measurement", "time"]
             + [f"criterion:{code}" for code in criteria])
    return [(spec, tiebreak_label(spec)) for spec in specs]


@dataclass
class SettingsData:
    tiebreaks: list[str] = field(default_factory=list)
    chain_end: ChainEnd = ChainEnd.SHARED
    overall: bool = False
    lift_ties: bool = True
    rest_tier: str = ""
    points: list[str] = field(default_factory=lambda: ["4", "3", "2", "1"])
    before_publish: BeforePublish = BeforePublish.NOTHING


def parse_points(text: str | None) -> list[str]:
    """'4/3/2/1', '4 3 2 1' or '4,3,2,1' → ['4', '3', '2', '1'] (points per tier, best first; rest tier last)."""
    parts = [p for p in re.split(r"[\s/,，、;；]+", (text or "").strip().translate(str.maketrans("０１２３４５６７８９．", "0123456789."))) if p]
    points = []
    for part in parts:
        try:
            number = Decimal(part)
        except ArithmeticError:
            number = None
        if number is None or not number.is_finite() or number < 0 or number > 1000 or \
                -number.normalize().as_tuple().exponent > 2:
            raise ResultsError("points", _("Write the points as numbers from the best tier down, e.g. 4/3/2/1."),
                               status=422, field="points")
        points.append(format(number.normalize(), "f"))
    if len(points) > 10:
        raise ResultsError("points", _("At most %(n)d numbers of points.", n=10), status=422, field="points")
    return points


def update_settings(competition: Competition, data: SettingsData, *, actor, now: datetime) -> CompetitionResults:
    """Save the ranking settings (and what the public sees before publishing). Flushes; refuses bad input."""
    allowed = {spec for spec, _label in tiebreak_choices(competition)}
    chain: list[str] = []
    for spec in data.tiebreaks:
        spec = (spec or "").strip()
        if not spec:
            continue
        if spec not in allowed:
            raise ResultsError("tiebreak_unknown", _("Choose tie-breaks from the list."), status=422, field="tiebreaks")
        if spec in chain:
            raise ResultsError("tiebreak_twice", _("Each tie-break can be used once."), status=422, field="tiebreaks")
        chain.append(spec)
    if len(chain) > MAX_TIEBREAKS:
        raise ResultsError("tiebreak_many", _("At most %(n)d tie-breaks.", n=MAX_TIEBREAKS), status=422,
                           field="tiebreaks")
    rest = (data.rest_tier or "").strip()
    if len(rest) > MAX_TIER:
        raise ResultsError("rest_tier", _("Too long: at most %(n)d characters.", n=MAX_TIER), status=422,
                           field="rest_tier")
    tier_names = [str(t.get("name", "")) for t in (competition.award_rules or {}).get("tiers", [])]
    if rest and rest in tier_names:
        raise ResultsError("rest_tier", _("The tier for everyone else needs a name of its own."), status=422,
                           field="rest_tier")
    points = [str(p) for p in data.points]
    state = ensure_state(competition)
    before = (list(state.tiebreaks or []), state.chain_end, state.overall, state.lift_ties, state.rest_tier,
              list(state.points or []))
    state.tiebreaks = chain
    state.chain_end = ChainEnd(data.chain_end)
    state.overall = bool(data.overall)
    state.lift_ties = bool(data.lift_ties)
    state.rest_tier = rest
    state.points = points
    visibility_changed = state.before_publish != BeforePublish(data.before_publish)
    state.before_publish = BeforePublish(data.before_publish)
    state.updated_at = now
    after = (chain, state.chain_end, state.overall, state.lift_ties, state.rest_tier, points)
    if before != after:
        _audit(actor, competition, "results.settings", now, tiebreaks=",".join(chain) or None,
               chain_end=state.chain_end.value, overall=state.overall, lift_ties=state.lift_ties,
               rest_tier=rest or None, points="/".join(points) or None)
    if visibility_changed:
        _audit(actor, competition, "results.visibility", now, before_publish=state.before_publish.value)
    db.session.flush()
    return state


# ================================================================ loading (set-based)


@dataclass(frozen=True)
class CriterionInfo:
    id: int
    round_id: int
    code: str
    name: str
    module: str
    maximum: Decimal
    kind: CriterionKind
    ladder: bool
    max_units: int  # the maximum in 10**-4


@dataclass
class RoundInfo:
    id: int
    name: str
    position: int
    carries: bool
    weight: Decimal | None
    criteria: list[CriterionInfo]
    rubric: aggregation.Rubric | None  # None: no criteria, or module weights that do not add up
    problem: str | None = None
    module_max: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EntrantInfo:
    id: int
    group_id: int | None
    name: str
    unit: str
    is_team: bool
    position: int
    station: str | None  # stage 1: 工位号
    result_code: str | None  # stage 2: 二次加密号

    @property
    def code(self) -> str:
        """The code shown while identities are sealed: the result code if drawn, else the station number."""
        return self.result_code or self.station or ""


@dataclass(frozen=True)
class GroupInfo:
    id: int
    name: str
    position: int


@dataclass
class Settings:
    tiebreaks: tuple[str, ...] = ()
    chain_end: ChainEnd = ChainEnd.SHARED
    overall: bool = False
    lift_ties: bool = True
    rest_tier: str = ""
    points: tuple[str, ...] = ("4", "3", "2", "1")


@dataclass
class RankInputs:
    """What only ranking needs; reloaded on every ``rank``-scope change."""

    settings: Settings
    times: dict[tuple[int, int], Decimal]  # (entrant, round) -> seconds
    decisions: list[TieDecision]
    overrides: dict[int, AwardOverride]


@dataclass
class Inputs:
    competition_id: int
    title: str
    places: int
    rounding: Rounding
    method: aggregation.Method
    trim_threshold: int
    award_rules: dict
    rounds: list[RoundInfo]  # every round, in order
    counted: list[RoundInfo]  # the rounds whose totals make the result
    scheme: aggregation.RoundScheme | None
    problems: list[tuple[str, dict]]
    groups: list[GroupInfo]
    entrants: dict[int, EntrantInfo]  # in the organizer's order
    # (round, entrant) -> (judges scoring every criterion, {criterion: judges with a share naming it})
    slots: dict[tuple[int, int], tuple[frozenset, dict[int, set]]]
    criteria: dict[int, CriterionInfo]
    rank: RankInputs

    @cached_property
    def round_max(self) -> dict[int, Decimal]:
        return {r.id: r.rubric.maximum for r in self.counted if r.rubric is not None}

    @property
    def precision(self) -> Precision:
        return Precision(self.places, self.rounding)


def _settings_of(state: CompetitionResults | None) -> Settings:
    if state is None:
        return Settings()
    return Settings(tiebreaks=tuple(state.tiebreaks or ()), chain_end=state.chain_end, overall=bool(state.overall),
                    lift_ties=bool(state.lift_ties), rest_tier=state.rest_tier or "",
                    points=tuple(str(p) for p in (state.points or ())))


def _load_rank_inputs(competition_id: int) -> RankInputs:
    state = get_state(competition_id)
    times = {(e, r): s for e, r, s in db.session.execute(
        sa.select(CompletionTime.entrant_id, CompletionTime.round_id, CompletionTime.seconds)
        .where(CompletionTime.competition_id == competition_id))}
    decisions = list(db.session.scalars(sa.select(TieDecision).where(TieDecision.competition_id == competition_id)
                                        .order_by(TieDecision.id)))
    overrides = {o.entrant_id: o for o in db.session.scalars(
        sa.select(AwardOverride).where(AwardOverride.competition_id == competition_id))}
    for row in decisions + list(overrides.values()):
        db.session.expunge(row)  # kept in the process cache: detached, never refreshed from another session
    return RankInputs(_settings_of(state), times, decisions, overrides)


def _round_scheme(counted: list[RoundInfo]) -> tuple[aggregation.RoundScheme | None, list[tuple[str, dict]]]:
    if not counted:
        return None, [("no_rounds", {})]
    if len(counted) == 1:
        return aggregation.RoundScheme(final_round=counted[0].id), []
    weights = {r.id: r.weight for r in counted}
    if any(w is None for w in weights.values()) or sum(weights.values()) != 100:
        names = "、".join(r.name for r in counted)
        return None, [("round_weights", {"rounds": names})]
    return aggregation.RoundScheme(weights=weights), []


def load_inputs(competition: Competition) -> Inputs:
    """Everything the standings need except the scores, in a handful of queries."""
    cid = competition.id
    rounds: list[RoundInfo] = []
    problems: list[tuple[str, dict]] = []
    round_rows = list(db.session.execute(
        sa.select(Round.id, Round.name, Round.position, Round.carries_scores_forward, Round.weight)
        .where(Round.competition_id == cid).order_by(Round.position, Round.id)))
    criteria_rows = db.session.execute(
        sa.select(CriterionRow.id, Rubric.round_id, CriterionRow.code, CriterionRow.name, Module.code, Module.weight,
                  CriterionRow.maximum, CriterionRow.kind, CriterionRow.ladder)
        .join(Module, Module.id == CriterionRow.module_id).join(Rubric, Rubric.id == CriterionRow.rubric_id)
        .where(Rubric.competition_id == cid)
        .order_by(Module.position, Module.id, CriterionRow.position, CriterionRow.id)).all()
    by_round: dict[int, list] = {}
    for row in criteria_rows:
        by_round.setdefault(row[1], []).append(row)
    criteria: dict[int, CriterionInfo] = {}
    for rid, name, position, carries, weight in round_rows:
        infos, weights = [], {}
        for c_id, _rid, code, c_name, module, m_weight, maximum, kind, ladder in by_round.get(rid, []):
            info = CriterionInfo(c_id, rid, code, c_name, module, Decimal(maximum), CriterionKind(kind), bool(ladder),
                                 int(Decimal(maximum) * UNITS))
            infos.append(info)
            criteria[c_id] = info
            weights[module] = m_weight
        rubric, problem = None, None
        if infos:
            module_weights = None
            if any(w is not None for w in weights.values()):
                module_weights = weights if all(w is not None for w in weights.values()) else {}
            try:
                rubric = aggregation.Rubric(
                    tuple(aggregation.RubricCriterion(c.id, c.module, c.maximum, c.kind.value) for c in infos),
                    module_weights)
            except ValueError:
                problem = "module_weights"
        else:
            problem = "no_criteria"
        module_max = {m: rubric.module_maximum(m) for m in rubric.modules} if rubric is not None else {}
        rounds.append(RoundInfo(rid, name, position, bool(carries), weight, infos, rubric, problem, module_max))
    counted = [r for r in rounds if r.carries]
    if rounds and rounds[-1] not in counted:
        counted.append(rounds[-1])
    scheme, scheme_problems = _round_scheme(counted)
    problems.extend(scheme_problems)
    for r in counted:
        if r.problem:
            problems.append((r.problem, {"round": r.name}))
    groups = [GroupInfo(g, n, p) for g, n, p in db.session.execute(
        sa.select(Group.id, Group.name, Group.position).where(Group.competition_id == cid)
        .order_by(Group.position, Group.id))]
    codes: dict[tuple[int, int], str] = {(e, s): c for e, s, c in db.session.execute(
        sa.select(DrawCode.entrant_id, DrawCode.stage, DrawCode.code).where(DrawCode.competition_id == cid))}
    entrants = {}
    for e_id, group_id, name, unit, is_team, position in db.session.execute(
            sa.select(Entrant.id, Entrant.group_id, Entrant.name, Entrant.unit, Entrant.is_team, Entrant.position)
            .where(Entrant.competition_id == cid).order_by(Entrant.position, Entrant.id)):
        entrants[e_id] = EntrantInfo(e_id, group_id, name, unit or "", bool(is_team), position,
                                     codes.get((e_id, 1)), codes.get((e_id, 2)))
    slots = _load_slots([r.id for r in counted], criteria)
    return Inputs(
        competition_id=cid, title=competition.title, places=competition.places, rounding=Rounding(competition.rounding.value),
        method=aggregation.Method(competition.aggregation.value), trim_threshold=competition.trim_threshold,
        award_rules=dict(competition.award_rules or {}), rounds=rounds, counted=counted, scheme=scheme,
        problems=problems, groups=groups, entrants=entrants, slots=slots, criteria=criteria,
        rank=_load_rank_inputs(cid))


def _raw_rows(sql: str) -> list[tuple]:
    """Rows of a plain SELECT through the driver's cursor: no per-row processing (hundreds of thousands of rows).
    ``sql`` is built here from whole numbers only."""
    raw = db.session.connection().connection
    cursor = raw.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def _id_list(ids: Iterable[int]) -> str:
    return ",".join(str(int(i)) for i in sorted(set(ids))) or "0"


def _load_slots(round_ids: list[int], criteria: dict[int, CriterionInfo],
                entrant_ids: Iterable[int] | None = None) -> dict[tuple[int, int], tuple[frozenset, dict[int, set]]]:
    """Who must score what: per (round, entrant) the judges scoring every criterion, and per criterion the judges
    whose share names it (from panels' assignments and judges' shares)."""
    if not round_ids:
        return {}
    where = f"a.round_id IN ({_id_list(round_ids)})"
    if entrant_ids is not None:  # "+round_id": no index on it, so the planner takes the entrant's index
        where = f"a.entrant_id IN ({_id_list(entrant_ids)}) AND +" + where
    rows = _raw_rows("SELECT a.round_id, a.entrant_id, a.judge_id, s.criterion_id FROM judge_assignments a "
                     "LEFT JOIN panel_judge_criteria s ON s.panel_judge_id = a.panel_judge_id "
                     f"WHERE {where}")
    everyone: dict[tuple[int, int], set] = {}
    partial: dict[tuple[int, int], dict[int, set]] = {}
    for round_id, entrant_id, judge_id, criterion in rows:  # one row per assignment, or per criterion of a share
        key = (round_id, entrant_id)
        if criterion is not None:
            if criterion in criteria:
                partial.setdefault(key, {}).setdefault(criterion, set()).add(judge_id)
        else:
            bucket = everyone.get(key)
            if bucket is None:
                everyone[key] = {judge_id}
            else:
                bucket.add(judge_id)
    keys = set(everyone) | set(partial)
    shared: dict[frozenset, frozenset] = {}  # most entrants have the same judges: one set for all of them
    return {key: (shared.setdefault(judges := frozenset(everyone.get(key, ())), judges), partial.get(key, {}))
            for key in keys}


def load_scores(round_ids: list[int], entrant_ids: Iterable[int] | None = None) -> dict[tuple[int, int], dict]:
    """Submitted values as ``{(entrant, criterion): {judge: value in 10**-4}}``: one query, raw integers."""
    from judging.models import ScoreState

    where = f"round_id IN ({_id_list(round_ids)}) AND state = '{ScoreState.SUBMITTED.value}'"
    if entrant_ids is not None:  # "+round_id": no index on it, so the planner takes the entrant's index
        where = f"entrant_id IN ({_id_list(entrant_ids)}) AND +" + where
    scores: dict[tuple[int, int], dict] = {}
    get = scores.get
    for entrant_id, criterion_id, judge_id, value in _raw_rows(
            f"SELECT entrant_id, criterion_id, judge_id, value FROM scores WHERE {where}"):
        key = (entrant_id, criterion_id)
        bucket = get(key)
        if bucket is None:
            scores[key] = {judge_id: value}
        else:
            bucket[judge_id] = value
    return scores


# ================================================================ aggregation (integers; see the module doc)


def combine_units(values: list[int], method: aggregation.Method, trim_min: int) -> tuple[int, int]:
    """A complete panel's values (whole numbers) combined as ``judging.aggregation.combine`` does: the exact result
    as a fraction (numerator, denominator)."""
    n = len(values)
    ordered = sorted(values)
    if method is aggregation.Method.MEDIAN:
        if n % 2:
            return ordered[n // 2], 1
        return ordered[n // 2 - 1] + ordered[n // 2], 2
    if method is aggregation.Method.TRIMMED_MEAN and n >= trim_min:
        return sum(ordered) - ordered[0] - ordered[-1], n - 2
    if method is aggregation.Method.TWO_CLOSEST and n >= 3:
        gaps = [ordered[i + 1] - ordered[i] for i in range(n - 1)]
        smallest = min(gaps)
        pairs = [i for i, gap in enumerate(gaps) if gap == smallest]
        return sum(ordered[i] + ordered[i + 1] for i in pairs), 2 * len(pairs)
    return sum(ordered), n


@dataclass(slots=True)
class EntrantResult:
    entrant_id: int
    total: Decimal | None
    round_totals: dict[int, Decimal | None]  # round id -> the round's total (counted rounds)
    criteria: dict[int, Decimal | None]  # criterion id -> combined, rounded score (counted rounds)
    modules: dict[tuple[int, str], Decimal | None]  # (round, module code) -> subtotal
    missing: tuple[tuple[int, int | None], ...]  # (criterion id, judge id or None: nobody assigned)
    missing_rounds: tuple[int, ...] = ()
    total_text: str | None = None  # the total with the competition's places ("87.50")
    rank_entry: RankEntry | None = field(default=None, compare=False, repr=False)  # kept while no tie-break is used

    @property
    def complete(self) -> bool:
        return self.total is not None


def compute_entrant(inputs: Inputs, entrant_id: int, scores: dict[tuple[int, int], dict]) -> EntrantResult:
    """One entrant's criterion scores, module subtotals, round totals and total from the loaded scores (the
    arithmetic of ``judging.aggregation.compute_total`` and ``combine_rounds``, inlined; the tests check both give
    the same). Call inside ``localcontext(prec=80)`` (``compute_entrants`` does)."""
    precision = inputs.precision
    quantum = precision.quantum
    rounding = precision.rounding.decimal_rounding
    method, trim_min = inputs.method, inputs.trim_threshold
    criteria: dict[int, Decimal | None] = {}
    modules: dict[tuple[int, str], Decimal | None] = {}
    round_totals: dict[int, Decimal | None] = {}
    missing: list[tuple[int, int | None]] = []
    no_slots = (frozenset(), {})
    for round_ in inputs.counted:
        everyone, partial = inputs.slots.get((round_.id, entrant_id), no_slots)
        subtotals: dict[str, Decimal | None] = {}
        for criterion in round_.criteria:
            expected = everyone | partial[criterion.id] if criterion.id in partial else everyone
            given = scores.get((entrant_id, criterion.id))
            score = None
            if not expected:
                missing.append((criterion.id, None))
            elif given is None or given.keys() != expected:
                lacking = sorted(expected - given.keys()) if given else sorted(expected)
                if lacking:
                    missing.extend((criterion.id, judge) for judge in lacking)
                else:  # a value of a judge no longer assigned: not used
                    score = _combined({j: given[j] for j in expected}, criterion, method, trim_min, quantum, rounding)
            else:
                score = _combined(given, criterion, method, trim_min, quantum, rounding)
            criteria[criterion.id] = score
            module = criterion.module
            if score is None:
                subtotals[module] = None
            elif module not in subtotals:
                subtotals[module] = score
            elif subtotals[module] is not None:
                subtotals[module] += score
        for module, value in subtotals.items():
            modules[(round_.id, module)] = value
        if round_.rubric is None or any(value is None for value in subtotals.values()):
            round_totals[round_.id] = None
        elif round_.rubric.module_weights is None:
            round_totals[round_.id] = _positive_zero(sum(subtotals.values(), Decimal(0)).quantize(quantum,
                                                                                                  rounding=rounding))
        else:
            weights = round_.rubric.module_weights
            exact = sum((subtotals[m] / round_.module_max[m] * weights[m] for m in subtotals), Decimal(0))
            round_totals[round_.id] = _positive_zero(exact.quantize(quantum, rounding=rounding))
    scheme = inputs.scheme
    total, missing_rounds = None, ()
    if scheme is None:
        missing_rounds = tuple(r.id for r in inputs.counted)
    else:
        needed = [scheme.final_round] if scheme.weights is None else list(scheme.weights)
        missing_rounds = tuple(r for r in needed if round_totals.get(r) is None)
        if not missing_rounds:
            if scheme.weights is None:
                total = round_totals[scheme.final_round]
            else:
                exact = sum((round_totals[r] / inputs.round_max[r] * w for r, w in scheme.weights.items()), Decimal(0))
                total = _positive_zero(exact.quantize(quantum, rounding=rounding))
    return EntrantResult(entrant_id, total, round_totals, criteria, modules, tuple(missing), missing_rounds,
                         format(total, "f") if total is not None else None)


def _positive_zero(value: Decimal) -> Decimal:
    return value.copy_abs() if value.is_zero() else value


def _combined(given: dict, criterion: CriterionInfo, method, trim_min: int, quantum: Decimal, rounding) -> Decimal:
    numerator, denominator = combine_units(list(given.values()), method, trim_min)
    if criterion.ladder:  # levels combined, then marks = level / 3 × maximum, exactly
        exact = Decimal(numerator * criterion.max_units) / (denominator * 3 * UNITS * UNITS)
    else:
        exact = Decimal(numerator) / (denominator * UNITS)
    return _positive_zero(exact.quantize(quantum, rounding=rounding))


def compute_entrants(inputs: Inputs, scores: dict[tuple[int, int], dict],
                     entrant_ids: Iterable[int] | None = None) -> dict[int, EntrantResult]:
    ids = list(inputs.entrants) if entrant_ids is None else list(entrant_ids)
    with localcontext(prec=_PREC):
        return {entrant_id: compute_entrant(inputs, entrant_id, scores) for entrant_id in ids}


# ================================================================ ranking, awards, medal table


def tie_key(total: str, entrant_ids: Iterable[int]) -> str:
    ids = ",".join(str(i) for i in sorted(entrant_ids))
    return hashlib.sha256(f"{total}|{ids}".encode("ascii")).hexdigest()


@dataclass(slots=True)
class Line:
    entrant: EntrantInfo
    result: EntrantResult
    rank: int | None
    tied: bool = False
    award: str | None = None  # what counts (computed, or the override)
    computed_award: str | None = None
    override: AwardOverride | None = None
    boundary_tie: bool = False
    decided_by: tuple[str, ...] = ()

    @property
    def total(self) -> Decimal | None:
        return self.result.total


@dataclass
class Tie:
    board: str
    rank: int
    total: Decimal
    entrant_ids: tuple[int, ...]
    key: str
    at_boundary: str | None  # the tier whose cut-off it straddles, if any


@dataclass
class Board:
    key: str  # "g<group id>", "ungrouped", "all", "overall"
    group: GroupInfo | None
    lines: list[Line]  # ranked (by rank), then unranked
    has_awards: bool
    summary: tuple = ()  # awards.TierSummary per tier
    rest_awarded: int = 0
    ties: list[Tie] = field(default_factory=list)  # still unresolved
    skipped: tuple = ()  # ranking.Skipped: a tie-break lacking values for a tie
    used_decisions: set = field(default_factory=set)  # ids of the TieDecisions applied here
    memo: dict = field(default_factory=dict)  # derived views of this board (public snapshot, rank map)

    @property
    def ranked(self) -> list[Line]:
        return [line for line in self.lines if line.rank is not None]

    @property
    def unranked(self) -> list[Line]:
        return [line for line in self.lines if line.rank is None]

    @property
    def boundary_ties(self) -> list[Tie]:
        return [tie for tie in self.ties if tie.at_boundary]


@dataclass
class Standings:
    competition_id: int
    version: int
    computed_at: datetime
    inputs: Inputs
    boards: list[Board]
    tiers: tuple[str, ...]  # award tier names, best first, the rest tier last
    problems: list[tuple[str, dict]] = field(default_factory=list)
    stale_decisions: list[TieDecision] = field(default_factory=list)
    results: dict[int, EntrantResult] = field(default_factory=dict)
    memo: dict = field(default_factory=dict)  # derived views computed once per version

    def board(self, key: str | None) -> Board | None:
        if not self.boards:
            return None
        if key is None:
            return self.boards[0]
        return next((b for b in self.boards if b.key == key), None)

    @property
    def lines_by_entrant(self) -> dict[int, Line]:
        found: dict[int, Line] = {}
        for board in self.boards:
            if board.key != "overall":
                for line in board.lines:
                    found[line.entrant.id] = line
        return found

    @property
    def medal_table(self) -> tuple:
        """awards.UnitStanding per unit, ranked by points (computed on first use)."""
        if "medal" not in self.memo:
            self.memo["medal"] = _medal_table(self)
        return self.memo["medal"]


def _tiebreak_value(option: TiebreakOption, inputs: Inputs, result: EntrantResult) -> Decimal | None:
    values: list[Decimal | None] = []
    if option.kind == "module":
        values = [result.modules.get((r.id, option.code)) for r in inputs.counted
                  if any(c.module == option.code for c in r.criteria)]
    elif option.kind == "criterion":
        values = [result.criteria.get(c.id) for r in inputs.counted for c in r.criteria if c.code == option.code]
    elif option.kind in ("judgement", "measurement"):
        kind = CriterionKind.JUDGEMENT if option.kind == "judgement" else CriterionKind.MEASUREMENT
        values = [result.criteria.get(c.id) for r in inputs.counted for c in r.criteria if c.kind is kind]
    elif option.kind == "time":
        values = [inputs.rank.times.get((result.entrant_id, r.id)) for r in inputs.counted]
    if not values or any(v is None for v in values):
        return None
    return sum(values, Decimal(0))


def completion_time(inputs: Inputs, entrant_id: int) -> Decimal | None:
    """The entrant's completion time over the counted rounds (None unless recorded for each)."""
    values = [inputs.rank.times.get((entrant_id, r.id)) for r in inputs.counted]
    return None if not values or any(v is None for v in values) else sum(values, Decimal(0))


def _scheme(inputs: Inputs) -> tuple[award_rules.AwardScheme | None, list[tuple[str, dict]]]:
    settings = inputs.rank.settings
    rules = {**inputs.award_rules, "lift_ties": settings.lift_ties, "rest": settings.rest_tier or None}
    if not rules.get("tiers"):
        return None, []
    try:
        return award_rules.scheme_from_rules(rules), []
    except award_rules.AwardProblem as problem:
        return None, [("award_scheme", {"code": problem.code})]


def _plain_rank_board(key: str, group: GroupInfo | None, members: list[EntrantInfo], inputs: Inputs,
                      results: dict[int, EntrantResult], scheme) -> Board:
    """A board without tie-breaks: the same placings and awards as ``ranking.rank_entries`` with an empty chain and
    ``awards.assign_awards`` give (the tests check it on random boards), in a few tight loops instead of thousands of
    small objects — the common case, recomputed after every new score."""
    scored = [(results[e.id], e) for e in members]
    ranked = [(r.total, e.id, r, e) for r, e in scored if r.total is not None]
    ranked.sort(key=itemgetter(1))  # entrants with equal totals: by id, as rank_entries orders them
    ranked.sort(key=itemgetter(0), reverse=True)  # (a stable sort keeps that order within a total)
    overrides = inputs.rank.overrides if key != "overall" else {}
    lines: list[Line] = []
    size: dict[int, int] = {}  # rank -> how many share it
    position, previous = 0, None
    for index, (total, _entrant_id, result, entrant) in enumerate(ranked):
        if total != previous:
            position, previous = index + 1, total
            size[position] = 1
        else:
            size[position] += 1
        lines.append(Line(entrant, result, position))
    board = Board(key, group, lines, has_awards=key != "overall" and scheme is not None)
    boundary: dict[int, str] = {}
    if board.has_awards:
        counts: dict[str, int] = {}
        rest = scheme.rest
        if scheme.basis is award_rules.AwardBasis.THRESHOLD:
            tiers = [(t.name, t.value) for t in scheme.tiers]
            for line in lines:
                tier = next((name for name, value in tiers if line.result.total >= value), None)
                line.tied = size[line.rank] > 1
                line.computed_award = tier
                counts[tier] = counts.get(tier, 0) + 1
            summaries = [award_rules.TierSummary(t.name, None, None, t.value, counts.get(t.name, 0))
                         for t in scheme.tiers]
        else:
            quotas = award_rules.quota_counts(len(lines), scheme)
            cutoffs = [sum(quotas[: k + 1]) for k in range(len(quotas))]
            names = [t.name for t in scheme.tiers]
            tiers = list(zip(names, cutoffs))
            straddling: dict[str, list[int]] = {name: [] for name in names}
            lift = scheme.lift_ties
            for line in lines:
                rank = line.rank
                last = rank + size[rank] - 1
                line.tied = last > rank
                reach = rank if lift else last
                tier = None
                for name, cutoff in tiers:
                    if reach <= cutoff and tier is None:
                        tier = name
                    if rank <= cutoff < last:
                        straddling[name].append(line.entrant.id)
                line.computed_award = tier
                counts[tier] = counts.get(tier, 0) + 1
            for name in names:
                for entrant_id in straddling[name]:
                    boundary.setdefault(entrant_id, name)
            summaries = [award_rules.TierSummary(name, quota, cutoff, None, counts.get(name, 0),
                                                 tuple(straddling[name]))
                         for name, quota, cutoff in zip(names, quotas, cutoffs)]
        for line in lines:
            if line.entrant.id in boundary:
                line.boundary_tie = True
            if line.computed_award is None and rest:
                line.computed_award = rest
                board.rest_awarded += 1
        board.summary = tuple(summaries)
    else:
        for line in lines:
            line.tied = size[line.rank] > 1
    for line in lines:
        override = overrides.get(line.entrant.id) if overrides else None
        if override is not None:
            line.override = override
            line.award = override.tier or None
        else:
            line.award = line.computed_award
    tied_at: dict[int, list[int]] = {}
    for line in lines:
        if line.tied:
            tied_at.setdefault(line.rank, []).append(line.entrant.id)
    for rank, ids in tied_at.items():
        first = results[ids[0]]
        board.ties.append(Tie(key, rank, first.total, tuple(ids), tie_key(first.total_text or "", ids),
                              next((boundary[e] for e in ids if e in boundary), None)))
    unranked = sorted((e.id, r, e) for r, e in scored if r.total is None)
    for entrant_id, result, entrant in unranked:  # not fully scored: listed after the ranked ones (overrides show)
        override = overrides.get(entrant_id) if overrides else None
        board.lines.append(Line(entrant, result, None, override=override,
                                award=(override.tier or None) if override is not None else None))
    return board


def _rank_board(key: str, group: GroupInfo | None, members: list[EntrantInfo], inputs: Inputs,
                results: dict[int, EntrantResult], chain: list[TiebreakOption], scheme) -> Board:
    settings = inputs.rank.settings
    if not chain and (settings.chain_end is ChainEnd.SHARED or not any(d.board == key
                                                                        for d in inputs.rank.decisions)):
        return _plain_rank_board(key, group, members, inputs, results, scheme)
    return _chain_rank_board(key, group, members, inputs, results, chain, scheme)


def _chain_rank_board(key: str, group: GroupInfo | None, members: list[EntrantInfo], inputs: Inputs,
                      results: dict[int, EntrantResult], chain: list[TiebreakOption], scheme) -> Board:
    """A board through ``ranking.rank_entries`` (the tie-break chain, recorded decisions) and
    ``awards.assign_awards``."""
    settings = inputs.rank.settings
    specs = [option.spec for option in chain]
    if chain:
        entries = [RankEntry(entrant.id, results[entrant.id].total,
                             {spec: _tiebreak_value(option, inputs, results[entrant.id])
                              for spec, option in zip(specs, chain)}) for entrant in members]
    else:  # an entrant's entry depends on its result only: made once per result
        entries = []
        for entrant in members:
            result = results[entrant.id]
            if result.rank_entry is None:
                result.rank_entry = RankEntry(entrant.id, result.total)
            entries.append(result.rank_entry)
    tiebreaks = [TieBreak(option.spec, option.better) for option in chain]
    ranking = rank_entries(entries, tiebreaks)
    used: set[int] = set()
    if settings.chain_end is not ChainEnd.SHARED and ranking.unresolved:
        method = DecisionMethod.LOTS if settings.chain_end is ChainEnd.LOTS else DecisionMethod.CHIEF
        decisions = {d.tie_key: d for d in inputs.rank.decisions if d.board == key and d.method is method}
        positions: dict[int, int] = {}
        totals = {placing.key: placing.total for placing in ranking.placings}
        for tie in ranking.unresolved:
            decision = decisions.get(tie_key(decimal_text(totals[tie[0]], inputs.places), tie))
            if decision is not None and sorted(decision.order) == sorted(tie):
                positions.update({entrant_id: i for i, entrant_id in enumerate(decision.order)})
                used.add(decision.id)
        if positions:
            entries = [RankEntry(e.key, e.total, {**e.tiebreaks, "decision": positions.get(e.key)}) for e in entries]
            ranking = rank_entries(entries, tiebreaks + [TieBreak("decision", Better.LOWER)])
    by_id = {entrant.id: entrant for entrant in members}
    lines = [Line(by_id[p.key], results[p.key], p.rank, p.tied, decided_by=p.decided_by) for p in ranking.placings]
    board = Board(key, group, lines, has_awards=key != "overall" and scheme is not None, skipped=ranking.skipped,
                  used_decisions=used)
    boundary: dict[int, str] = {}
    overrides = inputs.rank.overrides if key != "overall" else {}
    if board.has_awards:
        awarded = award_rules.assign_awards(ranking, scheme)
        for line, award in zip(lines, awarded.awards):  # both in the ranking's order
            line.computed_award = award.tier
            line.boundary_tie = award.boundary_tie
        board.summary = awarded.summary
        board.rest_awarded = awarded.rest_awarded
        for summary in awarded.summary:
            for entrant_id in summary.boundary_tie:
                boundary.setdefault(entrant_id, summary.tier)
    for line in lines:
        override = overrides.get(line.entrant.id)
        if override is not None:
            line.override = override
            line.award = override.tier or None
        else:
            line.award = line.computed_award
    if ranking.unresolved:
        placings = {placing.key: placing for placing in ranking.placings}
        for tie in ranking.unresolved:
            placing = placings[tie[0]]
            at_boundary = next((boundary[e] for e in tie if e in boundary), None)
            board.ties.append(Tie(key, placing.rank, placing.total, tuple(tie),
                                  tie_key(decimal_text(placing.total, inputs.places), tie), at_boundary))
    return board


def _board_members(inputs: Inputs) -> list[tuple[str, GroupInfo | None, list[EntrantInfo]]]:
    entrants = list(inputs.entrants.values())
    if not inputs.groups:
        return [("all", None, entrants)]
    boards = [(f"g{g.id}", g, [e for e in entrants if e.group_id == g.id]) for g in inputs.groups]
    ungrouped = [e for e in entrants if e.group_id is None]
    if ungrouped:
        boards.append(("ungrouped", None, ungrouped))
    return boards


def rank_all(inputs: Inputs, results: dict[int, EntrantResult], *, version: int, now: datetime,
             reuse: Standings | None = None, changed: set[int] | None = None) -> Standings:
    """Boards and awards from the entrants' results (no database). With ``reuse`` and ``changed`` (entrants whose
    scores changed since ``reuse``, nothing else changed), boards without a changed entrant are taken over."""
    settings = inputs.rank.settings
    chain = [option for option in (parse_tiebreak(spec) for spec in settings.tiebreaks) if option is not None]
    scheme, problems = _scheme(inputs)
    previous = {board.key: board for board in reuse.boards} if reuse is not None and changed is not None else {}
    boards = []
    for key, group, members in _board_members(inputs):
        old = previous.get(key)
        if old is not None and len(old.lines) == len(members) and not any(m.id in changed for m in members):
            boards.append(old)
        else:
            boards.append(_rank_board(key, group, members, inputs, results, chain, scheme))
    if settings.overall and len(boards) > 1:
        overall = _rank_board("overall", None, list(inputs.entrants.values()), inputs, results, chain, None)
        awarded = {line.entrant.id: line for board in boards for line in board.lines}
        for line in overall.lines:
            source = awarded[line.entrant.id]
            line.award, line.computed_award, line.override = source.award, source.computed_award, source.override
        boards.append(overall)
    tiers = (tuple(t.name for t in scheme.tiers) + ((scheme.rest,) if scheme.rest else ())) if scheme else ()
    used = set().union(*(board.used_decisions for board in boards)) if boards else set()
    stale = [d for d in inputs.rank.decisions if d.id not in used]
    computed = Standings(inputs.competition_id, version, now, inputs, boards, tiers, list(inputs.problems) + problems,
                         stale, results)
    computed.memo["scheme"] = scheme
    return computed


def _medal_table(computed: Standings) -> tuple:
    scheme = computed.memo.get("scheme")
    if scheme is None:
        return ()
    settings = computed.inputs.rank.settings
    points = {name: Decimal(settings.points[i]) if i < len(settings.points) else Decimal(0)
              for i, name in enumerate(computed.tiers)}
    unit_of = {e.id: e.unit for e in computed.inputs.entrants.values()}
    return award_rules.medal_table([_award_result(board, scheme.rest) for board in computed.boards if board.has_awards],
                                   unit_of, points)


def _award_result(board: Board, rest: str | None) -> award_rules.AwardResult:
    """The board's awards after overrides, in the shape ``medal_table`` reads (it counts tiers per unit)."""
    awards = tuple(award_rules.Award(line.entrant.id, line.rank, line.total, line.award) for line in board.lines)
    summary = tuple(award_rules.TierSummary(s.tier, s.quota, s.cutoff, s.threshold, s.awarded) for s in board.summary)
    return award_rules.AwardResult(awards, summary, len(board.ranked), rest, board.rest_awarded)


# ================================================================ the process cache


@dataclass
class _Cached:
    token: str
    version: int
    signature: tuple
    inputs: Inputs
    scores: dict
    results: dict[int, EntrantResult]
    standings: Standings


class StandingsCache:
    """Computed standings per competition, keyed by (competition id, the state row's random token); each entry
    remembers the version it was computed at. Thread-safe; one computation per competition at a time."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self.entries: OrderedDict[tuple[int, str], _Cached] = OrderedDict()
        self.lock = threading.Lock()
        self.locks: dict[tuple[int, str], threading.Lock] = {}

    def lock_for(self, key) -> threading.Lock:
        with self.lock:
            return self.locks.setdefault(key, threading.Lock())

    def get(self, key) -> _Cached | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key, entry: _Cached) -> None:
        with self.lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                old, _entry = self.entries.popitem(last=False)
                self.locks.pop(old, None)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.locks.clear()


_fallback_cache = StandingsCache()


def _cache() -> StandingsCache:
    if has_app_context():
        return current_app.extensions.setdefault("results_cache", StandingsCache())
    return _fallback_cache


def _read_state(competition_id: int) -> tuple[CompetitionResults | None, tuple[int, str, tuple] | None]:
    """The results row, and its version and token with a signature of what is not audited (rubric edits, the
    competition's own settings): one query."""
    rubric_changed = sa.select(sa.func.max(Rubric.updated_at)).where(Rubric.competition_id == competition_id) \
        .scalar_subquery()
    row = db.session.execute(
        sa.select(CompetitionResults, Competition.updated_at, rubric_changed)
        .join(Competition, Competition.id == CompetitionResults.competition_id)
        .where(CompetitionResults.competition_id == competition_id)
        .execution_options(populate_existing=True)).first()
    if row is None:
        return None, None
    state = row[0]
    return state, (state.version, state.cache_token, (row[1], row[2]))


def _read_version(competition_id: int) -> tuple[int, str, tuple] | None:
    return _read_state(competition_id)[1]


def _full(competition: Competition, version: int, now: datetime) -> tuple[Inputs, dict, dict, Standings]:
    inputs = load_inputs(competition)
    scores = load_scores([r.id for r in inputs.counted])
    results = compute_entrants(inputs, scores)
    return inputs, scores, results, rank_all(inputs, results, version=version, now=now)


def _incremental(competition: Competition, cached: _Cached, version: int, now: datetime) -> Standings | None:
    """Bring ``cached`` to ``version`` from the change log, or None when only a full recompute will do. Updates the
    cached scores and slots in place (the caller holds the competition's cache lock)."""
    changes = db.session.execute(
        sa.select(ResultChange.version, ResultChange.scope, ResultChange.entrant_id)
        .where(ResultChange.competition_id == competition.id, ResultChange.version > cached.version,
               ResultChange.version <= version).order_by(ResultChange.version)).all()
    if len(changes) != version - cached.version or any(scope == "full" for _v, scope, _e in changes):
        return None
    entrants = {entrant for _v, scope, entrant in changes if scope == "entrant"}
    if len(entrants) > INCREMENTAL_LIMIT or not entrants <= set(cached.inputs.entrants):
        return None
    inputs = cached.inputs
    if any(scope == "rank" for _v, scope, _e in changes):
        inputs = replace(inputs, rank=_load_rank_inputs(competition.id))
    if not entrants and inputs is cached.inputs:  # state changes only: the standings stand
        memo = {k: v for k, v in cached.standings.memo.items() if k in ("scheme", "medal")}
        return replace(cached.standings, version=version, memo=memo)
    results = cached.results
    if entrants:
        round_ids = [r.id for r in inputs.counted]
        scores, slots = cached.scores, inputs.slots
        for entrant_id in entrants:
            for criterion_id in inputs.criteria:
                scores.pop((entrant_id, criterion_id), None)
            for round_id in round_ids:
                slots.pop((round_id, entrant_id), None)
        scores.update(load_scores(round_ids, entrants))
        slots.update(_load_slots(round_ids, inputs.criteria, entrants))
        results = dict(results)
        results.update(compute_entrants(inputs, scores, entrants))
    if inputs is cached.inputs:  # only scores changed: boards without a changed entrant stand
        return rank_all(inputs, results, version=version, now=now, reuse=cached.standings, changed=entrants)
    return rank_all(inputs, results, version=version, now=now)


def standings(competition: Competition, *, now: datetime | None = None, found=None) -> Standings:
    """The competition's standings at the current version (cached per process; see the module doc). Reads only;
    pages call :func:`read_standings`, which also records the ranking history. ``found``: what ``_read_state``
    returned in this unit of work (saves reading it again)."""
    now = now or utcnow()
    found = found if found is not None else _read_version(competition.id)
    if found is None:  # never touched (no audited change yet): compute, do not cache
        inputs, _scores, _results, computed = _full(competition, 0, now)
        return computed
    version, token, signature = found
    cache = _cache()
    key = (competition.id, token)
    cached = cache.get(key)
    if cached is not None and cached.version == version and cached.signature == signature:
        return cached.standings
    with cache.lock_for(key):
        cached = cache.get(key)
        if cached is not None and cached.version == version and cached.signature == signature:
            return cached.standings
        computed = None
        if cached is not None and cached.version < version and cached.signature == signature:
            computed = _incremental(competition, cached, version, now)
        if computed is not None:
            cached.standings.memo.pop("previous", None)  # keep one step back, not a chain
            computed.memo["previous"] = cached.standings
            entry = _Cached(token, version, signature, computed.inputs, cached.scores, computed.results, computed)
        else:
            inputs, scores, results, computed = _full(competition, version, now)
            entry = _Cached(token, version, signature, inputs, scores, results, computed)
        cache.put(key, entry)
    return computed


def clear_cache() -> None:
    _cache().clear()
    _fallback_cache.clear()


def read_standings(competition: Competition, *, now: datetime | None = None, found=None) -> Standings:
    """:func:`standings`, then the ranking history recorded if the board moved (committed here; a busy database
    only postpones it to the next read)."""
    from sqlalchemy.exc import OperationalError

    computed = standings(competition, now=now, found=found)
    try:
        if record_history(competition, computed, now=now or utcnow()):
            db.session.commit()
    except OperationalError:
        db.session.rollback()
    return computed


# ================================================================ ranking history


def _board_ranks(board: Board, places: int) -> dict[str, list]:
    found = board.memo.get("ranks")
    if found is None:
        found = {str(line.entrant.id): [line.rank, line.result.total_text] for line in board.lines}
        board.memo["ranks"] = found
    return found


HISTORY_ROW = ""  # the RankBaseline row that holds the version the history is recorded up to
CHECKPOINT_EVERY = 50  # versions: a board's stored ranks are rewritten at most this rarely


def _stored_ranks(cid: int, board: str, row_version: int, recorded: int) -> dict | None:
    """A board's ranks at version ``recorded``: its stored checkpoint, with the moves recorded since replayed."""
    ranks = db.session.scalar(sa.select(RankBaseline.ranks).where(RankBaseline.competition_id == cid,
                                                                  RankBaseline.board == board))
    if ranks is None:
        return None
    ranks = {k: list(v) for k, v in ranks.items()}
    for entrant_id, rank, total in db.session.execute(
            sa.select(RankMove.entrant_id, RankMove.new_rank, RankMove.new_total).where(
                RankMove.competition_id == cid, RankMove.board == board, RankMove.version > row_version,
                RankMove.version <= recorded).order_by(RankMove.version, RankMove.id)):
        ranks[str(entrant_id)] = [rank, total]
    return ranks


def record_history(competition: Competition, computed: Standings, *, now: datetime) -> bool:
    """Record which ranks and totals moved since the last recorded board: one ``RankMove`` per entrant and board
    that changed, under the new version. The old board comes from this process's cache when it holds the recorded
    version (the usual case), else from the board's stored checkpoint (``RankBaseline``) with the moves since then
    replayed; checkpoints are rewritten only every ``CHECKPOINT_EVERY`` versions, so a step usually writes one
    small UPDATE and its moves. Conditional on the recorded version (the row of board ""), so two readers record a
    step once. Returns whether it wrote (the caller commits)."""
    if computed.version <= 0:
        return False
    cid = competition.id
    rows = dict(db.session.execute(sa.select(RankBaseline.board, RankBaseline.version)
                                   .where(RankBaseline.competition_id == cid)).all())
    recorded = rows.pop(HISTORY_ROW, None)
    if recorded is not None and recorded >= computed.version:
        return False
    places = computed.inputs.places
    if recorded is None:
        statement = _insert(RankBaseline.__table__, _dialect()).values(
            competition_id=cid, board=HISTORY_ROW, version=computed.version, ranks={}, at=now
        ).on_conflict_do_nothing(index_elements=["competition_id", "board"]).returning(RankBaseline.version)
        if db.session.execute(statement).first() is None:  # (rowcount is not reliable after ON CONFLICT)
            return False
        db.session.execute(sa.insert(RankBaseline.__table__), [
            {"competition_id": cid, "board": board.key, "version": computed.version,
             "ranks": _board_ranks(board, places), "at": now} for board in computed.boards])
        return True
    result = db.session.execute(sa.update(RankBaseline).where(
        RankBaseline.competition_id == cid, RankBaseline.board == HISTORY_ROW, RankBaseline.version == recorded)
        .values(version=computed.version, at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    previous = computed.memo.get("previous")
    in_memory = previous is not None and previous.version == recorded
    old_boards = {board.key: board for board in previous.boards} if in_memory else {}
    moves = []
    for board in computed.boards:
        old_board = old_boards.get(board.key)
        if old_board is board:  # taken over unchanged
            continue
        new = _board_ranks(board, places)
        if old_board is not None:
            old = _board_ranks(old_board, places)
        elif board.key in rows:
            old = _stored_ranks(cid, board.key, rows[board.key], recorded)
        else:
            old = None  # a board that was not there before (e.g. the overall list just switched on)
        if old is not None and old != new:
            for entrant_id, (rank, total) in new.items():
                old_rank, old_total = old.get(entrant_id, (None, None))
                if (rank, total) != (old_rank, old_total) and (entrant_id in old or rank is not None):
                    moves.append({"competition_id": cid, "from_version": recorded, "version": computed.version,
                                  "board": board.key, "entrant_id": int(entrant_id), "old_rank": old_rank,
                                  "new_rank": rank, "old_total": old_total, "new_total": total, "at": now})
        if board.key not in rows or computed.version - rows[board.key] >= CHECKPOINT_EVERY:
            statement = _insert(RankBaseline.__table__, _dialect()).values(
                competition_id=cid, board=board.key, version=computed.version, ranks=new, at=now)
            db.session.execute(statement.on_conflict_do_update(
                index_elements=["competition_id", "board"],
                set_={"version": statement.excluded.version, "ranks": statement.excluded.ranks, "at": now}))
    if moves:
        db.session.execute(sa.insert(RankMove.__table__), moves)
    return True


@dataclass
class HistoryStep:
    from_version: int
    version: int
    at: datetime
    moves: list[RankMove]
    causes: list[ResultChange]


def history(competition: Competition, *, limit: int = 50) -> list[HistoryStep]:
    """The latest steps of the ranking history, newest first: each step's moves and the changes (score submitted,
    changed or reopened; settings; decisions) between the two recorded boards that caused them."""
    versions = list(db.session.execute(
        sa.select(RankMove.from_version, RankMove.version).where(RankMove.competition_id == competition.id)
        .group_by(RankMove.from_version, RankMove.version).order_by(RankMove.version.desc()).limit(limit)))
    if not versions:
        return []
    low = min(v[0] for v in versions)
    moves = list(db.session.scalars(sa.select(RankMove).where(
        RankMove.competition_id == competition.id, RankMove.version >= versions[-1][1])
        .order_by(RankMove.version.desc(), RankMove.board, RankMove.new_rank, RankMove.id)))
    causes = list(db.session.scalars(sa.select(ResultChange).where(
        ResultChange.competition_id == competition.id, ResultChange.version > low,
        ResultChange.version <= versions[0][1], ResultChange.scope != "state").order_by(ResultChange.version)))
    steps = []
    for from_version, version in versions:
        step_moves = [m for m in moves if m.version == version]
        steps.append(HistoryStep(from_version, version, step_moves[0].at if step_moves else utcnow(), step_moves,
                                 [c for c in causes if from_version < c.version <= version]))
    return steps


# ================================================================ what the public sees


def _board_snapshot(board: Board, places: int) -> dict:
    found = board.memo.get("public")
    if found is None:
        found = {
            "key": board.key,
            "group_id": board.group.id if board.group else None,
            "group_name": board.group.name if board.group else None,
            "entries": [{"entrant_id": line.entrant.id, "rank": line.rank, "code": line.entrant.code,
                         "name": line.entrant.name, "unit": line.entrant.unit,
                         "total": line.result.total_text, "award": line.award}
                        for line in board.lines if line.rank is not None],
            "incomplete": [{"entrant_id": line.entrant.id, "code": line.entrant.code, "name": line.entrant.name,
                            "unit": line.entrant.unit} for line in board.lines if line.rank is None],
        }
        board.memo["public"] = found
    return found


def snapshot(computed: Standings) -> dict:
    """The board as the public would see it after publishing, with entrant ids (never shown) so that a view can
    strip names: what a freeze stores. Language-independent (board names are group names or keys)."""
    places = computed.inputs.places
    return {"version": computed.version, "boards": [_board_snapshot(board, places) for board in computed.boards]}


@dataclass
class PublicView:
    """What anyone may see of a competition's results: see :func:`public_view`."""

    competition_id: int
    title: str
    published: bool
    final: bool
    frozen_at: datetime | None
    mode: str  # "names" (published), "codes" (codes only before publishing), "nothing"
    token: str  # changes whenever what the public sees may have changed
    source: list[dict] = field(default_factory=list)  # the snapshot's boards, names included: never shown as is

    @property
    def visible(self) -> bool:
        return self.mode != "nothing"

    @property
    def keys(self) -> list[str]:
        return [board["key"] for board in self.source]

    @property
    def boards(self) -> list[dict]:
        """Every board as the public may see it: {"key", "group_id", "group_name", "entries", "incomplete"}."""
        return [_strip(board, self.mode == "names") for board in self.source]

    def board(self, key: str | None) -> dict | None:
        if not self.source:
            return None
        found = self.source[0] if key is None else next((b for b in self.source if b["key"] == key), None)
        if found is None:
            return None
        if self.mode == "names":  # nothing to strip: the snapshot's board minus the entrant ids
            cache = found.setdefault("_names", {})  # the snapshot dict is per version (or the frozen board)
            if not cache:
                cache.update(_strip(found, True))
            return cache
        return _strip(found, False)


def _strip(board: dict, names: bool) -> dict:
    """The public form of a snapshot board: names and units only when ``names``, never the entrant ids."""
    def entry(item: dict, keys: tuple[str, ...]) -> dict:
        return {k: item.get(k) for k in keys}

    ranked_keys = ("rank", "code", "name", "unit", "total", "award") if names else ("rank", "code", "total", "award")
    other_keys = ("code", "name", "unit") if names else ("code",)
    return {"key": board["key"], "group_id": board["group_id"], "group_name": board["group_name"],
            "entries": [entry(e, ranked_keys) for e in board["entries"]],
            "incomplete": [entry(e, other_keys) for e in board["incomplete"]]}


def public_token(state: CompetitionResults | None) -> str:
    if state is None:
        return "0"
    if state.frozen_at is not None or (not state.published and state.before_publish is BeforePublish.NOTHING):
        return f"{state.state_version}"
    return f"{state.state_version}.{state.version}"


def public_view(competition: Competition, *, now: datetime | None = None, record: bool = False) -> PublicView:
    """The only source of public pages, the big screen and the public API. Before publishing: nothing, or codes
    only; after publishing: names and units; while frozen: the board stored at freeze time, never the live one.
    ``record``: read through :func:`read_standings` (records the ranking history; commits)."""
    state, found = _read_state(competition.id)
    published = bool(state and state.published)
    mode = "names" if published else ("codes" if state and state.before_publish is BeforePublish.CODES else "nothing")
    view = PublicView(competition.id, competition.title, published, bool(state and state.final),
                      state.frozen_at if state else None, mode, public_token(state))
    if mode == "nothing":
        return view
    final_board = None
    if state.final:
        from judging.process import final_board as strict_final_board

        final_board = strict_final_board(competition.id)  # strict: the latest revision of the final snapshot
    if final_board is not None:
        data = final_board
    elif state.frozen_at is not None:
        data = state.frozen_board or {"boards": []}
    else:
        data = snapshot((read_standings if record else standings)(competition, now=now, found=found))
    view.source = list(data["boards"])
    return view


# ================================================================ the results state


def _state_update(competition: Competition, where, values: dict) -> bool:
    ensure_state(competition)
    result = db.session.execute(sa.update(CompetitionResults).where(
        CompetitionResults.competition_id == competition.id, *where).values(**values)
        .execution_options(synchronize_session=False))
    state = db.session.get(CompetitionResults, competition.id)
    if state is not None:
        db.session.expire(state)
    return result.rowcount == 1


def publish(competition: Competition, *, actor, now: datetime, via_process: bool = False) -> None:
    refusal = None if via_process else _strict_refusal(competition)
    if refusal:
        raise refusal
    if not _state_update(competition, [CompetitionResults.published.is_(False)],
                         {"published": True, "published_at": now, "updated_at": now}):
        raise ResultsError("already_published", _("The results are already published."), status=409)
    _audit(actor, competition, "results.publish", now)
    db.session.flush()


def unpublish(competition: Competition, *, actor, now: datetime) -> None:
    state = ensure_state(competition)
    if state.final:
        raise ResultsError("final", _("The results are final: mark them provisional first."), status=409)
    refusal = _strict_refusal(competition) if state.published else None
    if refusal:
        raise refusal
    if not _state_update(competition, [CompetitionResults.published.is_(True), CompetitionResults.final.is_(False)],
                         {"published": False, "updated_at": now}):
        raise ResultsError("not_published", _("The results are not published."), status=409)
    _audit(actor, competition, "results.unpublish", now)
    db.session.flush()


def freeze(competition: Competition, *, actor, now: datetime) -> None:
    """封榜: store the public board as it is now; the public sees it until the board is unfrozen."""
    computed = standings(competition, now=now)
    board = snapshot(computed)
    board = {**board, "boards": [{k: v for k, v in b.items() if not k.startswith("_")} for b in board["boards"]]}
    if not _state_update(competition, [CompetitionResults.frozen_at.is_(None)],
                         {"frozen_at": now, "frozen_version": computed.version, "frozen_board": board,
                          "updated_at": now}):
        raise ResultsError("already_frozen", _("The board is already frozen."), status=409)
    _audit(actor, competition, "results.freeze", now, version=computed.version)
    db.session.flush()


def unfreeze(competition: Competition, *, actor, now: datetime) -> None:
    if not _state_update(competition, [CompetitionResults.frozen_at.is_not(None)],
                         {"frozen_at": None, "frozen_version": None, "frozen_board": None, "updated_at": now}):
        raise ResultsError("not_frozen", _("The board is not frozen."), status=409)
    _audit(actor, competition, "results.unfreeze", now)
    db.session.flush()


def mark_final(competition: Competition, *, actor, now: datetime, via_process: bool = False) -> None:
    """The results stop being provisional. A strict competition's final step (``judging.process.finalize``) calls
    this with ``via_process``; directly it is refused there."""
    refusal = None if via_process else _strict_refusal(competition)
    if refusal:
        raise refusal
    state = ensure_state(competition)
    if not state.published:
        raise ResultsError("not_published", _("Publish the results before marking them final."), status=409)
    if not _state_update(competition, [CompetitionResults.published.is_(True), CompetitionResults.final.is_(False)],
                         {"final": True, "final_at": now, "updated_at": now}):
        raise ResultsError("already_final", _("The results are already final."), status=409)
    _audit(actor, competition, "results.final", now)
    db.session.flush()


def mark_provisional(competition: Competition, *, actor, now: datetime) -> None:
    from judging import process

    if process.is_strict(competition) and results_final(competition):
        raise ResultsError("final_snapshot", _("The results are final: a change is a revision of the final results, "
                                               "on the judging process page."), status=409)
    if not _state_update(competition, [CompetitionResults.final.is_(True)],
                         {"final": False, "final_at": None, "updated_at": now}):
        raise ResultsError("not_final", _("The results are not final."), status=409)
    _audit(actor, competition, "results.provisional", now)
    db.session.flush()


# ================================================================ ties: lots and the chief judge's decision


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if not reason:
        raise ResultsError("reason_required", _("Give the reason."), status=422, field="reason")
    if len(reason) > MAX_REASON:
        raise ResultsError("too_long", _("Too long: at most %(n)d characters.", n=MAX_REASON), status=422,
                           field="reason")
    return reason


def find_tie(computed: Standings, board_key: str, key: str) -> Tie:
    board = computed.board(board_key)
    tie = next((t for t in board.ties if t.key == key), None) if board is not None else None
    if tie is None:
        raise ResultsError("no_such_tie", _("This tie no longer exists: the scores changed. Look at the board again."),
                           status=409)
    return tie


def lots_order(entrant_ids: Iterable[int], seed: str) -> list[int]:
    """The order a drawing of lots with ``seed`` gives (anyone can redo it: Python's ``random.Random(seed)``
    shuffling the entrant ids in ascending order)."""
    order = sorted(entrant_ids)
    random.Random(seed).shuffle(order)
    return order


def _add_decision(competition: Competition, tie: Tie, method: DecisionMethod, order: list[int], *, seed: str = "",
                  reason: str = "", actor, now: datetime) -> TieDecision:
    places = competition.places
    decision = TieDecision(competition_id=competition.id, board=tie.board, tie_key=tie.key,
                           total=decimal_text(tie.total, places), entrant_ids=sorted(tie.entrant_ids), method=method,
                           order=list(order), seed=seed, reason=reason, decided_at=now,
                           decided_by_id=getattr(actor, "id", None))
    db.session.add(decision)
    db.session.flush()  # a second decision for the same tie fails here (unique): the caller reports it
    return decision


def draw_lots(competition: Competition, board_key: str, key: str, *, actor, now: datetime,
              seed: str | None = None) -> TieDecision:
    """Order a tie the chain left by drawing lots; the seed is kept so the draw can be checked."""
    state = ensure_state(competition)
    if state.chain_end is not ChainEnd.LOTS:
        raise ResultsError("not_lots", _("The ranking settings do not end the tie-break chain with drawing lots."),
                           status=409)
    tie = find_tie(standings(competition, now=now), board_key, key)
    seed = seed or secrets.token_hex(16)
    order = lots_order(tie.entrant_ids, seed)
    decision = _add_decision(competition, tie, DecisionMethod.LOTS, order, seed=seed, actor=actor, now=now)
    _audit(actor, competition, "results.lots", now, obj=decision, board=board_key, total=decision.total,
           order=",".join(map(str, order)), seed=seed)
    db.session.flush()
    return decision


def decide_tie(competition: Competition, board_key: str, key: str, order: list[int], reason: str, *, actor,
               now: datetime) -> TieDecision:
    """Order a tie by the chief judge's decision (the order, best first, and the reason are recorded)."""
    state = ensure_state(competition)
    if state.chain_end is not ChainEnd.CHIEF:
        raise ResultsError("not_chief", _("The ranking settings do not end the tie-break chain with the chief "
                                          "judge's decision."), status=409)
    reason = _reason(reason)
    tie = find_tie(standings(competition, now=now), board_key, key)
    if sorted(order) != sorted(tie.entrant_ids):
        raise ResultsError("order", _("Put every tied entrant in order, each once."), status=422, field="order")
    decision = _add_decision(competition, tie, DecisionMethod.CHIEF, order, reason=reason, actor=actor, now=now)
    _audit(actor, competition, "results.decision", now, obj=decision, board=board_key, total=decision.total,
           order=",".join(map(str, order)), reason=reason)
    db.session.flush()
    return decision


def revoke_decision(competition: Competition, decision_id: int, reason: str, *, actor, now: datetime) -> None:
    reason = _reason(reason)
    decision = db.session.get(TieDecision, decision_id) if isinstance(decision_id, int) else None
    if decision is None or decision.competition_id != competition.id:
        raise ResultsError("no_such_decision", _("This decision does not exist."), status=404)
    _audit(actor, competition, "results.decision_revoke", now, obj=decision, board=decision.board,
           method=decision.method.value, order=",".join(map(str, decision.order)), reason=reason)
    db.session.delete(decision)
    db.session.flush()


# ================================================================ manual award overrides


def award_tiers(competition: Competition) -> list[str]:
    """The tiers an award can be set to (the scheme's, then the rest tier)."""
    state = get_state(competition.id)
    tiers = [str(t.get("name", "")) for t in (competition.award_rules or {}).get("tiers", []) if t.get("name")]
    if state is not None and state.rest_tier:
        tiers.append(state.rest_tier)
    return tiers


def set_override(competition: Competition, entrant: Entrant, tier: str, reason: str, *, actor,
                 now: datetime) -> AwardOverride:
    """Set an entrant's award by hand ("" = no award), with the reason; kept in the audit trail."""
    tier = (tier or "").strip()
    if tier and tier not in award_tiers(competition):
        raise ResultsError("unknown_tier", _("Choose one of the award tiers."), status=422, field="tier")
    reason = _reason(reason)
    if entrant.competition_id != competition.id:
        raise ResultsError("unknown_entrant", _("This entrant is not in this competition."), status=404)
    previous = db.session.scalar(sa.select(AwardOverride).where(AwardOverride.entrant_id == entrant.id))
    line = standings(competition, now=now).lines_by_entrant.get(entrant.id)
    values = {"competition_id": competition.id, "entrant_id": entrant.id, "tier": tier, "reason": reason, "at": now,
              "by_id": getattr(actor, "id", None)}
    statement = _insert(AwardOverride.__table__, _dialect()).values(**values)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["entrant_id"], set_={k: statement.excluded[k] for k in ("tier", "reason", "at", "by_id")}))
    _audit(actor, competition, "results.award_override", now, obj=entrant, entrant_id=entrant.id, tier=tier or "—",
           computed=(line.computed_award if line else None) or "—",
           previous=(previous.tier or "—") if previous is not None else None, reason=reason)
    db.session.flush()
    override = db.session.scalar(sa.select(AwardOverride).where(AwardOverride.entrant_id == entrant.id)
                                 .execution_options(populate_existing=True))
    return override


def clear_override(competition: Competition, entrant: Entrant, reason: str, *, actor, now: datetime) -> None:
    reason = _reason(reason)
    result = db.session.execute(sa.delete(AwardOverride).where(AwardOverride.entrant_id == entrant.id,
                                                               AwardOverride.competition_id == competition.id))
    if result.rowcount != 1:
        raise ResultsError("no_override", _("This entrant's award was not set by hand."), status=409)
    _audit(actor, competition, "results.award_override_clear", now, obj=entrant, entrant_id=entrant.id, reason=reason)
    db.session.flush()


# ================================================================ completion times


MAX_SECONDS = Decimal(7 * 24 * 3600)
_WHOLE = re.compile(r"\d{1,6}")
_SECONDS = re.compile(r"\d{1,7}(?:\.\d{1,3})?")


def parse_time(text: str | None) -> Decimal | None:
    """A completion time as typed: "1:02:03", "62:03.5", "3723" (seconds) → seconds; blank → None. Full-width
    digits and the Chinese colon work; at most three decimals of a second."""
    value = (text or "").strip().translate(str.maketrans("０１２３４５６７８９：．。", "0123456789:..")).replace(" ", "")
    if not value:
        return None
    parts = value.split(":")
    bad = ResultsError("time", _("Write the time as h:mm:ss, mm:ss or seconds, e.g. 1:05:30 or 65:30.5."),
                       status=422, field="time")
    if len(parts) > 3 or not _SECONDS.fullmatch(parts[-1]) or not all(_WHOLE.fullmatch(p) for p in parts[:-1]):
        raise bad
    seconds = Decimal(parts[-1])
    numbers = [int(p) for p in parts[:-1]]
    if numbers and seconds >= 60:
        raise ResultsError("time", _("Seconds go up to 59 in h:mm:ss and mm:ss."), status=422, field="time")
    if len(numbers) == 2 and numbers[1] >= 60:
        raise ResultsError("time", _("Minutes go up to 59 in h:mm:ss."), status=422, field="time")
    total = seconds
    for number, scale in zip(reversed(numbers), (60, 3600)):
        total += number * scale
    if total > MAX_SECONDS:
        raise ResultsError("time", _("That is longer than a week."), status=422, field="time")
    return total


def format_time(seconds: Decimal | None) -> str:
    if seconds is None:
        return ""
    whole = int(seconds)
    fraction = seconds - whole
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    tail = format(fraction.normalize(), "f")[1:] if fraction else ""
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}{tail}"
    return f"{minutes}:{secs:02d}{tail}"


def set_times(competition: Competition, round_: Round, times: dict[int, str], *, actor, now: datetime) -> int:
    """Record the entrants' completion times in a round (text as typed; blank removes a time). All or nothing:
    a bad time refuses the whole form with the entrant it belongs to. Returns how many changed."""
    if round_.competition_id != competition.id:
        raise ResultsError("unknown_round", _("Choose one of this competition's rounds."), status=422, field="round")
    entrant_ids = set(db.session.scalars(sa.select(Entrant.id).where(Entrant.competition_id == competition.id)))
    parsed: dict[int, Decimal | None] = {}
    for entrant_id, text in times.items():
        if entrant_id not in entrant_ids:
            raise ResultsError("unknown_entrant", _("This entrant is not in this competition."), status=422)
        try:
            parsed[entrant_id] = parse_time(text)
        except ResultsError as error:
            error.field = f"time-{entrant_id}"
            raise
    current = {e: s for e, s in db.session.execute(sa.select(CompletionTime.entrant_id, CompletionTime.seconds).where(
        CompletionTime.round_id == round_.id, CompletionTime.entrant_id.in_(sorted(parsed) or [0])))}
    changed = 0
    for entrant_id, seconds in parsed.items():
        if current.get(entrant_id) == seconds or (seconds is None and entrant_id not in current):
            continue
        changed += 1
        if seconds is None:
            db.session.execute(sa.delete(CompletionTime).where(CompletionTime.round_id == round_.id,
                                                               CompletionTime.entrant_id == entrant_id))
            continue
        statement = _insert(CompletionTime.__table__, _dialect()).values(
            competition_id=competition.id, entrant_id=entrant_id, round_id=round_.id, seconds=seconds, at=now,
            by_id=getattr(actor, "id", None))
        db.session.execute(statement.on_conflict_do_update(
            index_elements=["entrant_id", "round_id"],
            set_={"seconds": statement.excluded.seconds, "at": now, "by_id": getattr(actor, "id", None)}))
    if changed:
        _audit(actor, competition, "results.times", now, obj=round_, changed=changed)
    db.session.flush()
    return changed


def times_of(round_: Round) -> dict[int, Decimal]:
    return {e: s for e, s in db.session.execute(sa.select(CompletionTime.entrant_id, CompletionTime.seconds)
                                                .where(CompletionTime.round_id == round_.id))}


# ================================================================ per-judge totals (the organizer's view)


def judge_totals(computed: Standings, entrant_ids: Iterable[int]) -> tuple[list[int], dict[int, dict[int, Decimal]]]:
    """Each judge's marks summed per entrant over the counted rounds (ladder levels as marks), rounded to the
    competition's precision: (judge ids in first-seen order, {entrant: {judge: marks}}). One query."""
    inputs = computed.inputs
    ids = list(entrant_ids)
    scores = load_scores([r.id for r in inputs.counted], ids) if ids else {}
    sums: dict[int, dict[int, Decimal]] = {}
    judges: dict[int, None] = {}
    with localcontext(prec=_PREC):
        for (entrant_id, criterion_id), values in scores.items():
            criterion = inputs.criteria.get(criterion_id)
            if criterion is None:
                continue
            row = sums.setdefault(entrant_id, {})
            for judge_id, units in values.items():
                judges.setdefault(judge_id, None)
                marks = (Decimal(units * criterion.max_units) / (3 * UNITS * UNITS) if criterion.ladder
                         else Decimal(units) / UNITS)
                row[judge_id] = row.get(judge_id, Decimal(0)) + marks
        precision = inputs.precision
        rounded = {e: {j: precision.quantize(v) for j, v in row.items()} for e, row in sums.items()}
    return sorted(judges), rounded


# ================================================================ awards for certificates (issue 9)


def published_awards(competition: Competition):
    """The provider ``certificates.sources.award_holders`` calls: every award of the published results (group by
    group, in rank order), or None while the results are not published — or frozen, since certificates must not
    show what the public board does not."""
    from certificates.sources import AwardedEntrant

    state = get_state(competition.id)
    if state is None or not state.published or state.frozen_at is not None:
        return None
    computed = standings(competition)
    lines = [line for board in computed.boards if board.has_awards for line in board.lines if line.award]
    entrants = {e.id: e for e in db.session.scalars(sa.select(Entrant).where(
        Entrant.id.in_([line.entrant.id for line in lines] or [0])))}
    return [AwardedEntrant(entrant=entrants[line.entrant.id], award=line.award) for line in lines
            if line.entrant.id in entrants]


# ================================================================ the leaderboard API (SPEC)


def leaderboard_json(competition: Competition, board_key: str | None, *, organizer: bool,
                     now: datetime | None = None, record: bool = False) -> dict | None:
    """``GET /api/v1/competitions/<id>/leaderboard``: SPEC's shape, names and units only where the caller may see
    them. Organizers get the live board; everyone else the public view. None: no such board."""
    if organizer:
        computed = (read_standings if record else standings)(competition, now=now)
        state = get_state(competition.id)
        board = computed.board(board_key)
        if board is None:
            return None
        places = computed.inputs.places
        entries = [{"rank": line.rank, "code": line.entrant.code, "name": line.entrant.name, "unit": line.entrant.unit,
                    "total": line.result.total_text, "award": line.award} for line in board.ranked]
        incomplete = [{"code": line.entrant.code, "name": line.entrant.name, "unit": line.entrant.unit}
                      for line in board.unranked]
        data = {"key": board.key, "group_id": board.group.id if board.group else None,
                "group_name": board.group.name if board.group else None, "entries": entries, "incomplete": incomplete}
        published = bool(state and state.published)
        final = bool(state and state.final)
        frozen_at = state.frozen_at if state else None
        version = str(computed.version)
    else:
        view = public_view(competition, now=now, record=record)
        published, final, frozen_at, version = view.published, view.final, view.frozen_at, view.token
        if view.visible:
            data = view.board(board_key)
            if data is None:
                return None
        else:  # nothing to show yet: an empty list (an unknown group is still unknown; groups are no secret)
            keys = board_keys(competition)
            if board_key is not None and board_key not in keys:
                return None
            key = board_key or keys[0]
            group = next((g for g in competition.groups if f"g{g.id}" == key), None)
            data = {"key": key, "group_id": group.id if group else None, "group_name": group.name if group else None,
                    "entries": [], "incomplete": []}
    return {
        "competition": {"id": competition.id, "title": competition.title},
        "group": {"id": data["group_id"], "name": data["group_name"], "key": data["key"]},
        "published": published,
        "final": final,
        "frozen": frozen_at is not None,
        "frozen_at": frozen_at.isoformat() if frozen_at else None,
        "version": version,
        "entries": data["entries"],
        "incomplete": data["incomplete"],
    }


def board_keys(competition: Competition) -> list[str]:
    """The keys boards of this competition may have (without computing anything)."""
    groups = list(db.session.scalars(sa.select(Group.id).where(Group.competition_id == competition.id)
                                     .order_by(Group.position, Group.id)))
    if not groups:
        return ["all"]
    return [f"g{g}" for g in groups] + ["ungrouped", "overall"]


def board_key_for_group(value: str | None) -> str | None:
    """``?group=`` as the API takes it: a group id ("12"), or a board key ("g12", "all", "overall",
    "ungrouped"); None when not given."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return f"g{int(text)}"
    if text in ("all", "overall", "ungrouped") or re.fullmatch(r"g\d{1,12}", text):
        return text
    raise ResultsError("invalid_group", _("group must be a group id."), status=422, field="group")


# ================================================================ exports (Excel, the printable 成绩公示)


def log_download(competition: Competition, action: str, *, actor, now: datetime) -> None:
    """Exports carry names and units: each download is logged (not a change: the version stays)."""
    _audit(actor, competition, action, now)
    db.session.flush()


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(name: str, taken: set[str]) -> str:
    base = _SHEET_BAD.sub("-", name).strip() or "-"
    title, n = base[:31], 2
    while title in taken:
        suffix = f" ({n})"
        title, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title


def _members(entrant_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = sorted(set(entrant_ids))
    if not ids:
        return {}
    return {e: list(m or []) for e, m in db.session.execute(
        sa.select(Entrant.id, Entrant.members).where(Entrant.id.in_(ids)))}


def pdf_missing_glyphs(computed: Standings, font_path: str) -> list:
    """Characters of names, team members and units the PDF font lacks (they would print as boxes): a list of
    ``certificates.glyphs.MissingCharacter``, checked once per version."""
    from certificates import glyphs

    key = ("glyphs", font_path)
    if key not in computed.memo:
        members = _members(computed.inputs.entrants)
        texts = [text for e in computed.inputs.entrants.values() for text in [e.name, e.unit, *members.get(e.id, [])]]
        try:
            computed.memo[key] = glyphs.missing_characters(texts, glyphs.font_characters(font_path))
        except (OSError, ValueError):
            computed.memo[key] = []
    return computed.memo[key]


def results_workbook(computed: Standings, competition: Competition, *, board_name, problem_text) -> bytes:
    """The results as an .xlsx: one sheet per board (ranked entrants, then those not fully scored), the medal
    table and a sheet about the state. Every text cell is stored as text (no formula can be injected)."""
    from registration.spreadsheets import Sheet, build_workbook

    inputs = computed.inputs
    state = get_state(competition.id)
    several = len(inputs.counted) > 1
    criteria = [(c, (f"{r.name} " if several else "") + c.code) for r in inputs.counted for c in r.criteria]
    modules = [((r.id, code), (f"{r.name} " if several else "") + _("Module %(code)s", code=code))
               for r in inputs.counted for code in dict.fromkeys(c.module for c in r.criteria)]
    groups = {g.id: g.name for g in inputs.groups}
    members = _members(inputs.entrants)
    taken: set[str] = set()
    sheets = []
    uses_time = "time" in inputs.rank.settings.tiebreaks
    for board in computed.boards:
        headers = ([_("Rank"), _("Station no."), _("Result code"), _("Name"), _("Members"), _("Unit"), _("Group")]
                   + [label for _c, label in criteria] + [label for _k, label in modules]
                   + ([_("Completion time")] if uses_time else []) + [_("Total"), _("Award"), _("Notes")])
        rows = []
        for line in board.lines:
            entrant, result = line.entrant, line.result
            notes = []
            if line.tied:
                notes.append(_("tied"))
            if line.decided_by:
                notes.append(_("separated by: %(tiebreaks)s", tiebreaks="、".join(
                    _("decision") if spec == "decision" else tiebreak_label(spec) for spec in line.decided_by)))
            if line.override is not None:
                notes.append(_("award set by hand: %(reason)s", reason=line.override.reason))
            if line.rank is None:
                notes.append(_("not fully scored"))
            rows.append([line.rank if line.rank is not None else "", entrant.station or "", entrant.result_code or "",
                         entrant.name, "、".join(members.get(entrant.id, [])), entrant.unit,
                         groups.get(entrant.group_id, "")]
                        + [_cell(result.criteria.get(c.id)) for c, _label in criteria]
                        + [_cell(result.modules.get(key)) for key, _label in modules]
                        + ([format_time(completion_time(inputs, entrant.id))] if uses_time else [])
                        + [_cell(result.total), line.award or "", "；".join(notes)])
        widths = [6, 9, 9, 18, 22, 26, 10] + [8] * (len(criteria) + len(modules)) + ([10] if uses_time else []) \
            + [9, 10, 30]
        sheets.append(Sheet(_sheet_title(board_name(board.key, board.group.name if board.group else None), taken),
                            headers, rows, widths))
    if computed.medal_table:
        headers = [_("Rank"), _("Unit")] + list(computed.tiers) + [_("Points"), _("Ranked entrants")]
        rows = [[u.rank, u.unit] + [u.counts.get(t, 0) for t in computed.tiers] + [_cell(u.points), u.entrants]
                for u in computed.medal_table]
        sheets.append(Sheet(_sheet_title(_("Medal table"), taken), headers, rows, [6, 30] + [8] * len(computed.tiers)
                            + [8, 10]))
    about = [
        [_("Competition"), competition.title],
        [_("Event"), competition.event.title],
        [_("State"), _state_words(state)],
        [_("Version"), str(computed.version)],
        [_("Computed at (UTC)"), computed.computed_at.strftime("%Y-%m-%d %H:%M:%S")],
        [_("Tie-breaks"), "、".join(tiebreak_label(t) for t in inputs.rank.settings.tiebreaks) or _("none")],
    ] + [[_("Problem"), problem_text(code, params)] for code, params in computed.problems]
    sheets.append(Sheet(_sheet_title(_("About"), taken), [_("Item"), _("Value")], about, [20, 60]))
    return build_workbook(sheets)


def _cell(value: Decimal | None):
    """A score for a sheet cell: a number with its places (Decimal keeps them), or empty."""
    return value if value is not None else ""


def _state_words(state: CompetitionResults | None) -> str:
    if state is None or not state.published:
        return _("not published")
    words = _("final") if state.final else _("provisional (公示)")
    if state.frozen_at is not None:
        words += " · " + _("frozen")
    return words


@dataclass
class GongshiSection:
    name: str
    rows: list[list[str]]  # rank, code, name (members), unit, total, award
    incomplete: list[str]


@dataclass
class GongshiContent:
    title: str
    event_title: str
    organization: str
    status: str
    generated: str
    headers: list[str]
    sections: list[GongshiSection]
    signoffs: list[str]
    note: str
    incomplete_label: str = ""


def gongshi_content(computed: Standings, competition: Competition, *, board_name, final: bool) -> GongshiContent:
    """The printable results list (成绩公示), already translated: one section per group board (the overall list
    too, if kept), ranked entrants with code, name (team members), unit, total and award."""
    from core.templating import format_local

    event = competition.event
    members = _members(computed.inputs.entrants)
    sections = []
    for board in computed.boards:
        rows = []
        for line in board.ranked:
            entrant = line.entrant
            name = entrant.name
            if members.get(entrant.id):
                name += "（" + "、".join(members[entrant.id]) + "）"
            rows.append([str(line.rank) + ("=" if line.tied else ""), entrant.code, name, entrant.unit,
                         line.result.total_text or "", line.award or ""])
        incomplete = [f"{line.entrant.code} {line.entrant.name}" for line in board.unranked]
        sections.append(GongshiSection(board_name(board.key, board.group.name if board.group else None), rows,
                                       incomplete))
    return GongshiContent(
        title=_("%(competition)s: results", competition=competition.title),
        event_title=event.title,
        organization=event.organization.name if event.organization else "",
        status=_("Final results") if final else _("Provisional results, published for objections (公示)"),
        generated=_("Printed %(when)s", when=format_local(utcnow(), event.timezone)),
        headers=[_("Rank"), _("Code"), _("Name"), _("Unit"), _("Total"), _("Award")],
        sections=sections,
        signoffs=[_("Chief judge (signature)"), _("Supervision and arbitration group (signature)"), _("Date")],
        note=_("A rank followed by = is shared (并列). Objections in writing to the organizers within the period "
               "announced."),
        incomplete_label=_("Not fully scored"),
    )
