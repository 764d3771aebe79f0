"""Competition set-up use cases: competitions, groups, rounds, rubrics, entrants, roll call (检录).

Like every service in Saihui these functions flush but never commit, take the actor and the time as parameters,
and raise ``CompetitionError`` (a DomainError: stable code, translated message, HTTP status, form field). The
caller commits once, or rolls back the whole unit of work.

Concurrency: changes that must not race are conditional UPDATEs or unique constraints, never read-then-write.
``lock_competition`` takes the competition's row (a no-op UPDATE: a row lock on PostgreSQL, the write lock on
SQLite) so that the draw, starting to score and adding entrants are served one after the other.

The draw (抽签) lives in ``competition.draw``; the workbook in ``competition.workbook``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from core.errors import DomainError
from core.models import record_audit
from events.models import Event, EventState
from extensions import db
from competition.models import (
    AggregationMethod,
    Competition,
    Criterion,
    CriterionKind,
    DrawCode,
    Entrant,
    EntrantSource,
    Group,
    Module,
    Normalization,
    RollCall,
    RollCallSource,
    Round,
    RoundState,
    Rounding,
    Rubric,
    STATION_STAGE,
)

MAX_PLACES = 4  # decimal places a maximum, step or weight may have (the columns keep four)
MAX_MAXIMUM = Decimal(10000)
LEVELS = 4  # a ladder has levels 0, 1, 2 and 3
MAX_LIST_NAMES = 20  # members or coaches of one entrant
MODULE_CODE = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")
CRITERION_CODE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,19}$")
AWARD_BASES = ("share", "count", "threshold")
AWARD_ROUNDING = ("half_up", "up", "down")
MAX_TIERS = 8
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．％－", "0123456789.%-")  # typed with a Chinese input method


class CompetitionError(DomainError):
    """A refused competition change: ``code`` for machines, ``message`` for people, ``field`` for forms."""


# ---------------------------------------------------------------- small helpers


def audit_competition(actor, competition: Competition, action: str, now: datetime, obj=None, **details) -> None:
    record_audit(actor=actor, organization_id=competition.event.organization_id, action=action,
                 obj=obj if obj is not None else competition, now=now, competition_id=competition.id, **details)


def _clean(text: str | None, limit: int, field_name: str, label: str, *, required: bool = True) -> str:
    value = (text or "").strip()
    if required and not value:
        raise CompetitionError("required", _("Enter the %(label)s.", label=label), status=422, field=field_name)
    if len(value) > limit:
        raise CompetitionError("too_long", _("Too long: at most %(n)d characters.", n=limit), status=422,
                               field=field_name)
    return value


def parse_decimal(value, *, field_name: str = "value", positive: bool = True, allow_zero: bool = False,
                  limit: Decimal = MAX_MAXIMUM) -> Decimal:
    """A number typed or read from a sheet as an exact Decimal; at most four decimal places."""
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value if value is not None else "").strip().translate(_FULL_WIDTH)
        if text.endswith("%"):
            text = text[:-1].strip()
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError):
            raise CompetitionError("not_a_number", _("Enter a number, e.g. 10 or 0.5."), status=422,
                                   field=field_name) from None
    if not number.is_finite():
        raise CompetitionError("not_a_number", _("Enter a number, e.g. 10 or 0.5."), status=422, field=field_name)
    if abs(number) > limit:
        raise CompetitionError("too_large", _("At most %(n)s.", n=format_decimal(limit)), status=422,
                               field=field_name)
    if -number.normalize().as_tuple().exponent > MAX_PLACES:
        raise CompetitionError("too_many_places", _("At most %(n)d decimal places.", n=MAX_PLACES), status=422,
                               field=field_name)
    if positive and (number < 0 or (number == 0 and not allow_zero)):
        raise CompetitionError("not_positive", _("Enter a number greater than zero."), status=422, field=field_name)
    return number


def format_decimal(value: Decimal | None) -> str:
    """10, 0.5, 2.25: without trailing zeros or exponent (for forms, sheets and pages)."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def is_multiple(maximum: Decimal, step: Decimal) -> bool:
    return step > 0 and (maximum / step) == (maximum / step).to_integral_value()


def split_names(text: str | None) -> list[str]:
    """'张三、李四, 王五' -> ['张三', '李四', '王五'] (、 , ， ; ； or new lines)."""
    return [part for part in re.split(r"\s*[、,，;；\n]\s*", (text or "").strip()) if part]


def lock_competition(competition: Competition) -> None:
    """Serialize writers of this competition: a no-op UPDATE of its row (row lock on PostgreSQL, the database's
    write lock on SQLite), held until the unit of work ends."""
    db.session.execute(sa.update(Competition).where(Competition.id == competition.id)
                       .values(position=Competition.position))


# ---------------------------------------------------------------- competitions


@dataclass
class CompetitionData:
    title: str
    description: str = ""
    places: int = 2
    rounding: Rounding = Rounding.HALF_UP
    aggregation: AggregationMethod = AggregationMethod.TRIMMED_MEAN
    trim_threshold: int = 5
    normalization: Normalization = Normalization.OFF
    normalization_min_scores: int = 5
    award_rules: dict | None = None
    groups: list[str] = field(default_factory=list)  # created with a new competition


def validate_award_rules(rules: dict | None) -> dict:
    """The award settings as stored: {"basis", "rounding", "tiers": [{"name", "value"}]} with decimal strings.

    share: value is a percentage of the group's ranked entrants (the shares add up to at most 100);
    count: value is a number of entrants; threshold: value is the lowest total of the tier (descending)."""
    from competition.models import default_award_rules

    rules = dict(rules or default_award_rules())
    basis = rules.get("basis", "share")
    if basis not in AWARD_BASES:
        raise CompetitionError("award_basis", _("Choose how awards are given."), status=422, field="award_basis")
    rounding = rules.get("rounding", "half_up")
    if rounding not in AWARD_ROUNDING:
        raise CompetitionError("award_rounding", _("Choose how award counts are rounded."), status=422,
                               field="award_rounding")
    tiers = []
    for tier in rules.get("tiers") or []:
        name = str(tier.get("name", "")).strip()
        if not name or len(name) > 30:
            raise CompetitionError("award_tier_name", _("Each award tier needs a name of at most 30 characters."),
                                   status=422, field="award_tiers")
        value = parse_decimal(tier.get("value"), field_name="award_tiers", allow_zero=False,
                              limit=Decimal(100) if basis == "share" else MAX_MAXIMUM)
        if basis == "count" and value != value.to_integral_value():
            raise CompetitionError("award_count_whole", _("A number of entrants is a whole number."), status=422,
                                   field="award_tiers")
        tiers.append({"name": name, "value": format_decimal(value)})
    if len(tiers) > MAX_TIERS:
        raise CompetitionError("award_too_many", _("At most %(n)d award tiers.", n=MAX_TIERS), status=422,
                               field="award_tiers")
    if len({t["name"] for t in tiers}) != len(tiers):
        raise CompetitionError("award_duplicate", _("Two award tiers have the same name."), status=422,
                               field="award_tiers")
    if basis == "share" and sum(Decimal(t["value"]) for t in tiers) > 100:
        raise CompetitionError("award_shares", _("The shares of the award tiers add up to more than 100%."),
                               status=422, field="award_tiers")
    if basis == "threshold":
        values = [Decimal(t["value"]) for t in tiers]
        if values != sorted(values, reverse=True) or len(set(values)) != len(values):
            raise CompetitionError("award_thresholds", _("Give the thresholds from the highest tier down, each lower than the one before."),
                                   status=422, field="award_tiers")
    return {"basis": basis, "rounding": rounding, "tiers": tiers}


def parse_award_tiers(text: str) -> list[dict]:
    """Lines like '一等奖 10' or '一等奖：10%' -> [{"name": "一等奖", "value": "10"}]."""
    tiers = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        match = re.match(r"^(.+?)\s*[:：=\s]\s*([0-9０-９.．]+)\s*[%％]?$", line)
        if not match:
            raise CompetitionError("award_line", _("Line %(n)d: write the tier's name and its value, e.g. 一等奖 10.", n=number),
                                   status=422, field="award_tiers")
        value = match.group(2).translate(_FULL_WIDTH)
        tiers.append({"name": match.group(1).strip(), "value": value})
    return tiers


def award_tiers_text(rules: dict | None) -> str:
    return "\n".join(f"{t['name']} {t['value']}" for t in (rules or {}).get("tiers", []))


def _apply_competition(competition: Competition, data: CompetitionData) -> None:
    competition.title = _clean(data.title, 200, "title", _("title"))
    competition.description = (data.description or "").strip()[:5000]
    if not 0 <= int(data.places) <= 4:
        raise CompetitionError("places", _("Keep 0 to 4 decimal places."), status=422, field="places")
    if int(data.trim_threshold) < 3 or int(data.trim_threshold) > 99:
        raise CompetitionError("trim_threshold", _("Drop the highest and lowest only with 3 to 99 judges."), status=422,
                               field="trim_threshold")
    if int(data.normalization_min_scores) < 2 or int(data.normalization_min_scores) > 1000:
        raise CompetitionError("normalization_min_scores", _("Normalization needs 2 to 1000 scores per judge."),
                               status=422, field="normalization_min_scores")
    competition.places = int(data.places)
    competition.rounding = Rounding(data.rounding)
    competition.aggregation = AggregationMethod(data.aggregation)
    competition.trim_threshold = int(data.trim_threshold)
    competition.normalization = Normalization(data.normalization)
    competition.normalization_min_scores = int(data.normalization_min_scores)
    competition.award_rules = validate_award_rules(data.award_rules)


def _refuse_duplicate_title(event: Event, title: str, own_id: int | None = None) -> None:
    query = sa.select(Competition.id).where(Competition.event_id == event.id, Competition.title == title.strip())
    if own_id is not None:
        query = query.where(Competition.id != own_id)
    if db.session.scalar(query) is not None:
        raise CompetitionError("duplicate_title", _("This event already has a competition with this title."),
                               status=409, field="title")


def create_competition(event: Event, data: CompetitionData, *, actor, now: datetime) -> Competition:
    if event.status == EventState.ARCHIVED:
        raise CompetitionError("archived", _("The event is archived: nothing changes any more."), status=409)
    competition = Competition(event_id=event.id, event=event, created_at=now, updated_at=now,
                              created_by_id=getattr(actor, "id", None))
    _apply_competition(competition, data)
    _refuse_duplicate_title(event, competition.title)
    competition.position = (db.session.scalar(
        sa.select(sa.func.max(Competition.position)).where(Competition.event_id == event.id)) or 0) + 1
    db.session.add(competition)
    db.session.flush()
    for name in data.groups:
        add_group(competition, name, actor=actor, now=now, audit=False)
    audit_competition(actor, competition, "competition.create", now, title=competition.title)
    db.session.flush()
    return competition


def update_competition(competition: Competition, data: CompetitionData, *, actor, now: datetime) -> Competition:
    before = (competition.places, competition.rounding, competition.aggregation, competition.trim_threshold,
              competition.normalization, competition.normalization_min_scores)
    _apply_competition(competition, data)
    after = (competition.places, competition.rounding, competition.aggregation, competition.trim_threshold,
             competition.normalization, competition.normalization_min_scores)
    if before != after and any(r.state == RoundState.LOCKED for r in competition.rounds):
        raise CompetitionError("results_locked", _("A round's scores are final: the scoring rules can no longer change."),
                               status=409)
    _refuse_duplicate_title(competition.event, competition.title, own_id=competition.id)
    competition.updated_at = now
    audit_competition(actor, competition, "competition.update", now, title=competition.title)
    db.session.flush()
    return competition


def list_competitions(event: Event) -> list[Competition]:
    return list(db.session.scalars(
        sa.select(Competition).where(Competition.event_id == event.id).order_by(Competition.position, Competition.id)))


def scoring_has_started(competition: Competition) -> bool:
    """Scoring has started in some round: a round left set-up, or a rubric is locked. The draw can then no longer
    be redone. (The judging step adds: any score exists, by locking the rubric before the first score.)"""
    started = db.session.scalar(sa.select(sa.func.count(Round.id)).where(
        Round.competition_id == competition.id, Round.state != RoundState.SETUP))
    locked = db.session.scalar(sa.select(sa.func.count(Rubric.id)).where(
        Rubric.competition_id == competition.id, Rubric.locked.is_(True)))
    return bool(started or locked)


# ---------------------------------------------------------------- groups


def add_group(competition: Competition, name: str, *, actor, now: datetime, audit: bool = True) -> Group:
    name = _clean(name, 60, "name", _("group name"))
    if db.session.scalar(sa.select(Group.id).where(Group.competition_id == competition.id, Group.name == name)):
        raise CompetitionError("duplicate_group", _("This competition already has the group “%(name)s”.", name=name),
                               status=409, field="name")
    position = (db.session.scalar(sa.select(sa.func.max(Group.position))
                                  .where(Group.competition_id == competition.id)) or 0) + 1
    group = Group(competition_id=competition.id, name=name, position=position)
    db.session.add(group)
    db.session.flush()
    if audit:
        audit_competition(actor, competition, "competition.group_add", now, obj=group, name=name)
    return group


def rename_group(group: Group, name: str, *, actor, now: datetime) -> Group:
    name = _clean(name, 60, "name", _("group name"))
    if db.session.scalar(sa.select(Group.id).where(Group.competition_id == group.competition_id, Group.name == name,
                                                   Group.id != group.id)):
        raise CompetitionError("duplicate_group", _("This competition already has the group “%(name)s”.", name=name),
                               status=409, field="name")
    old = group.name
    group.name = name
    audit_competition(actor, group.competition, "competition.group_rename", now, obj=group, old=old, name=name)
    db.session.flush()
    return group


def delete_group(group: Group, *, actor, now: datetime) -> None:
    count = db.session.scalar(sa.select(sa.func.count(Entrant.id)).where(Entrant.group_id == group.id))
    if count:
        raise CompetitionError("group_in_use", _("%(n)d entrants are in this group: move or remove them first.", n=count),
                               status=409)
    audit_competition(actor, group.competition, "competition.group_delete", now, obj=group, name=group.name)
    db.session.delete(group)
    db.session.flush()


def find_group(competition: Competition, group_id: int | None) -> Group | None:
    if group_id is None:
        return None
    group = db.session.get(Group, group_id)
    if group is None or group.competition_id != competition.id:
        raise CompetitionError("unknown_group", _("Choose one of this competition's groups."), status=422,
                               field="group_id")
    return group


# ---------------------------------------------------------------- rounds


@dataclass
class RoundData:
    name: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    carries_scores_forward: bool = False
    weight: Decimal | None = None


def _apply_round(round_: Round, data: RoundData) -> None:
    round_.name = _clean(data.name, 60, "name", _("round name"))
    if data.starts_at and data.ends_at and data.ends_at < data.starts_at:
        raise CompetitionError("ends_before_starts", _("The end must not be before the start."), status=422,
                               field="ends_at")
    round_.starts_at, round_.ends_at = data.starts_at, data.ends_at
    round_.carries_scores_forward = bool(data.carries_scores_forward)
    weight = data.weight
    if weight is not None:
        weight = parse_decimal(weight, field_name="weight", limit=Decimal(100))
    if weight is not None and not round_.carries_scores_forward:
        raise CompetitionError("weight_without_carry", _("Only a round whose scores carry forward has a weight."),
                               status=422, field="weight")
    round_.weight = weight


def _refuse_duplicate_round(competition: Competition, name: str, own_id: int | None = None) -> None:
    query = sa.select(Round.id).where(Round.competition_id == competition.id, Round.name == name)
    if own_id is not None:
        query = query.where(Round.id != own_id)
    if db.session.scalar(query) is not None:
        raise CompetitionError("duplicate_round", _("This competition already has the round “%(name)s”.", name=name),
                               status=409, field="name")


def add_round(competition: Competition, data: RoundData, *, actor, now: datetime, audit: bool = True) -> Round:
    """A round with its (empty) rubric. Rounds are ordered as added."""
    round_ = Round(competition_id=competition.id, state=RoundState.SETUP)
    _apply_round(round_, data)
    _refuse_duplicate_round(competition, round_.name)
    round_.position = (db.session.scalar(sa.select(sa.func.max(Round.position))
                                         .where(Round.competition_id == competition.id)) or 0) + 1
    db.session.add(round_)
    db.session.flush()
    db.session.add(Rubric(competition_id=competition.id, round_id=round_.id, version=1, locked=False, updated_at=now))
    db.session.flush()
    if audit:
        audit_competition(actor, competition, "competition.round_add", now, obj=round_, name=round_.name)
    return round_


def update_round(round_: Round, data: RoundData, *, actor, now: datetime) -> Round:
    if round_.state == RoundState.LOCKED:
        raise CompetitionError("round_locked", _("This round's scores are final: it can no longer change."), status=409)
    _apply_round(round_, data)
    _refuse_duplicate_round(round_.competition, round_.name, own_id=round_.id)
    audit_competition(actor, round_.competition, "competition.round_update", now, obj=round_, name=round_.name)
    db.session.flush()
    return round_


def delete_round(round_: Round, *, actor, now: datetime) -> None:
    rubric = rubric_for(round_)
    if round_.state != RoundState.SETUP or rubric.locked:
        raise CompetitionError("round_started", _("Scoring has started in this round: it can no longer be deleted."),
                               status=409)
    audit_competition(actor, round_.competition, "competition.round_delete", now, obj=round_, name=round_.name)
    db.session.delete(rubric)
    db.session.delete(round_)
    db.session.flush()


def current_round(competition: Competition) -> Round | None:
    """The round roll call is for when none is named: the first one whose scores are not final."""
    return next((r for r in competition.rounds if r.state != RoundState.LOCKED), None)


def find_round(competition: Competition, round_id: int | None) -> Round | None:
    if round_id is None:
        return None
    round_ = db.session.get(Round, round_id)
    if round_ is None or round_.competition_id != competition.id:
        raise CompetitionError("unknown_round", _("Choose one of this competition's rounds."), status=422,
                               field="round_id")
    return round_


def start_scoring(round_: Round, *, actor, now: datetime) -> Round:
    """Open a round for scoring: its rubric must be complete and every entrant must have a station number; the
    rubric is locked and the draw can no longer be redone. Conditional: a round already started is refused."""
    competition = round_.competition
    lock_competition(competition)
    problems = rubric_problems(rubric_for(round_))
    if problems:
        raise CompetitionError("rubric_incomplete", _("The rubric is not ready: %(problems)s",
                                                      problems=" ".join(message for _code, message in problems)),
                               status=409)
    entrants = db.session.scalar(sa.select(sa.func.count(Entrant.id)).where(Entrant.competition_id == competition.id))
    if not entrants:
        raise CompetitionError("no_entrants", _("The competition has no entrants yet."), status=409)
    if missing_codes(competition, STATION_STAGE):
        raise CompetitionError("draw_first", _("Draw the station numbers first: every entrant needs one."), status=409)
    result = db.session.execute(
        sa.update(Round).where(Round.id == round_.id, Round.state == RoundState.SETUP)
        .values(state=RoundState.SCORING, scoring_started_at=now)
    )
    if result.rowcount != 1:
        raise CompetitionError("already_started", _("Scoring has already started in this round."), status=409)
    db.session.refresh(round_)
    lock_rubric(rubric_for(round_), actor=actor, now=now)
    audit_competition(actor, competition, "competition.scoring_start", now, obj=round_, name=round_.name)
    db.session.flush()
    return round_


# ---------------------------------------------------------------- rubrics


def rubric_for(round_: Round) -> Rubric:
    """The round's rubric (made with the round)."""
    rubric = db.session.scalar(sa.select(Rubric).where(Rubric.round_id == round_.id))
    if rubric is None:  # a round made outside add_round
        rubric = Rubric(competition_id=round_.competition_id, round_id=round_.id, version=1, locked=False,
                        updated_at=round_.scoring_started_at or round_.competition.updated_at)
        db.session.add(rubric)
        db.session.flush()
    return rubric


def rubric_is_locked(rubric_or_round: Rubric | Round) -> bool:
    """True once scoring has started: the rubric can then no longer change (fresh from the database)."""
    if isinstance(rubric_or_round, Round):
        query = sa.select(Rubric.locked).where(Rubric.round_id == rubric_or_round.id)
    else:
        query = sa.select(Rubric.locked).where(Rubric.id == rubric_or_round.id)
    return bool(db.session.scalar(query))


def lock_rubric(rubric: Rubric, *, actor, now: datetime) -> bool:
    """Lock the rubric (for the scoring step: call it before the first score is saved). Returns True if this call
    locked it, False if it was locked already. A rubric with problems (see ``rubric_problems``) is refused."""
    problems = rubric_problems(rubric)
    if problems:
        raise CompetitionError("rubric_incomplete", _("The rubric is not ready: %(problems)s",
                                                      problems=" ".join(message for _code, message in problems)),
                               status=409)
    result = db.session.execute(
        sa.update(Rubric).where(Rubric.id == rubric.id, Rubric.locked.is_(False))
        .values(locked=True, locked_at=now, locked_by_id=getattr(actor, "id", None))
    )
    db.session.refresh(rubric)
    if result.rowcount == 1:
        competition = db.session.get(Competition, rubric.competition_id)
        audit_competition(actor, competition, "competition.rubric_lock", now, obj=rubric, version=rubric.version)
        return True
    return False


def _touch_rubric(rubric: Rubric, now: datetime) -> None:
    """Count one change of the rubric; refused once it is locked. Conditional, so a change racing the lock either
    lands before it or is refused."""
    result = db.session.execute(
        sa.update(Rubric).where(Rubric.id == rubric.id, Rubric.locked.is_(False))
        .values(version=Rubric.version + 1, updated_at=now)
    )
    if result.rowcount != 1:
        raise CompetitionError("rubric_locked", _("Scoring has started: the rubric can no longer change."), status=409)
    db.session.refresh(rubric)


def rubric_problems(rubric: Rubric) -> list[tuple[str, str]]:
    """What keeps a rubric from being used for scoring, as (code, message)."""
    problems: list[tuple[str, str]] = []
    modules = list(rubric.modules)
    if not modules or not any(m.criteria for m in modules):
        return [("empty", _("It has no criteria."))]
    for module in modules:
        if not module.criteria:
            problems.append(("empty_module", _("Module %(code)s has no criteria.", code=module.code)))
    weights = [m.weight for m in modules]
    if any(w is not None for w in weights):
        if any(w is None for w in weights):
            problems.append(("weights_partial", _("Give every module a weight, or none.")))
        elif sum(weights) != 100:
            problems.append(("weights_sum", _("The module weights add up to %(sum)s%%, not 100%%.",
                                              sum=format_decimal(sum(weights)))))
    return problems


def rubric_total(rubric: Rubric) -> Decimal:
    return sum((c.maximum for m in rubric.modules for c in m.criteria), Decimal(0))


@dataclass
class ModuleData:
    code: str
    name: str = ""
    weight: Decimal | None = None


def normalize_code(text: str | None) -> str:
    return (text or "").strip().upper()


def _apply_module(module: Module, data: ModuleData) -> None:
    code = normalize_code(data.code)
    if not MODULE_CODE.match(code):
        raise CompetitionError("module_code", _("A module code is a letter, optionally followed by letters or digits (A, B, M1)."),
                               status=422, field="code")
    module.code = code
    module.name = _clean(data.name, 100, "name", _("module name"), required=False)
    module.weight = (parse_decimal(data.weight, field_name="weight", limit=Decimal(100))
                     if data.weight not in (None, "") else None)


def add_module(rubric: Rubric, data: ModuleData, *, actor, now: datetime) -> Module:
    _touch_rubric(rubric, now)
    module = Module(rubric_id=rubric.id)
    _apply_module(module, data)
    if db.session.scalar(sa.select(Module.id).where(Module.rubric_id == rubric.id, Module.code == module.code)):
        raise CompetitionError("duplicate_module", _("The rubric already has module %(code)s.", code=module.code),
                               status=409, field="code")
    module.position = (db.session.scalar(sa.select(sa.func.max(Module.position))
                                         .where(Module.rubric_id == rubric.id)) or 0) + 1
    db.session.add(module)
    db.session.flush()
    db.session.expire(rubric, ["modules"])
    return module


def update_module(module: Module, data: ModuleData, *, actor, now: datetime) -> Module:
    _touch_rubric(module.rubric, now)
    _apply_module(module, data)
    if db.session.scalar(sa.select(Module.id).where(Module.rubric_id == module.rubric_id, Module.code == module.code,
                                                    Module.id != module.id)):
        raise CompetitionError("duplicate_module", _("The rubric already has module %(code)s.", code=module.code),
                               status=409, field="code")
    db.session.flush()
    return module


def delete_module(module: Module, *, actor, now: datetime) -> None:
    rubric = module.rubric
    _touch_rubric(rubric, now)
    db.session.delete(module)
    db.session.flush()
    db.session.expire(rubric, ["modules"])


@dataclass
class CriterionData:
    code: str
    name: str
    maximum: Decimal | str
    step: Decimal | str
    kind: CriterionKind
    description: str = ""
    full_or_zero: bool = False
    ladder: bool = False
    levels: list[str] = field(default_factory=list)


def check_criterion_values(maximum: Decimal, step: Decimal, kind: CriterionKind, ladder: bool,
                           levels: list[str], full_or_zero: bool = False) -> list[tuple[str, str, str]]:
    """Pure checks of one criterion: (code, field, message) for each problem."""
    problems = []
    if step > maximum:
        problems.append(("step_above_max", "step", _("The step must not be larger than the maximum.")))
    elif not is_multiple(maximum, step):
        problems.append(("max_not_multiple", "maximum",
                         _("The maximum %(max)s is not a multiple of the step %(step)s.",
                           max=format_decimal(maximum), step=format_decimal(step))))
    if full_or_zero and kind != CriterionKind.MEASUREMENT:
        problems.append(("full_or_zero_needs_measurement", "full_or_zero",
                         _("Only a measurement criterion (客观) can be full mark or zero.")))
    if ladder and kind != CriterionKind.JUDGEMENT:
        problems.append(("ladder_needs_judgement", "ladder", _("Only a judgement criterion (主观) can use the 0–3 ladder.")))
    if ladder and (len(levels) != LEVELS or not all((text or "").strip() for text in levels)):
        problems.append(("ladder_levels", "levels", _("Describe each of the four levels 0, 1, 2 and 3.")))
    if any(len(text or "") > 1000 for text in levels):
        problems.append(("level_too_long", "levels", _("A level descriptor has at most 1000 characters.")))
    return problems


def _apply_criterion(criterion: Criterion, data: CriterionData) -> None:
    code = normalize_code(data.code)
    if not CRITERION_CODE.match(code):
        raise CompetitionError("criterion_code", _("A criterion code is letters and digits, e.g. A1 or B2.1."),
                               status=422, field="code")
    criterion.code = code
    criterion.name = _clean(data.name, 200, "name", _("criterion name"))
    criterion.description = (data.description or "").strip()[:5000]
    maximum = parse_decimal(data.maximum, field_name="maximum")
    step = parse_decimal(data.step, field_name="step")
    kind = CriterionKind(data.kind)
    levels = [(text or "").strip() for text in (data.levels or [])] if data.ladder else []
    problems = check_criterion_values(maximum, step, kind, bool(data.ladder), levels, bool(data.full_or_zero))
    if problems:
        code_, field_name, message = problems[0]
        raise CompetitionError(code_, message, status=422, field=field_name)
    criterion.maximum, criterion.step, criterion.kind = maximum, step, kind
    criterion.full_or_zero = bool(data.full_or_zero)
    criterion.ladder, criterion.levels = bool(data.ladder), levels


def _refuse_duplicate_criterion(rubric_id: int, code: str, own_id: int | None = None) -> None:
    query = sa.select(Criterion.id).where(Criterion.rubric_id == rubric_id, Criterion.code == code)
    if own_id is not None:
        query = query.where(Criterion.id != own_id)
    if db.session.scalar(query) is not None:
        raise CompetitionError("duplicate_criterion", _("The rubric already has criterion %(code)s.", code=code),
                               status=409, field="code")


def add_criterion(module: Module, data: CriterionData, *, actor, now: datetime) -> Criterion:
    _touch_rubric(module.rubric, now)
    criterion = Criterion(rubric_id=module.rubric_id, module_id=module.id)
    _apply_criterion(criterion, data)
    _refuse_duplicate_criterion(module.rubric_id, criterion.code)
    criterion.position = (db.session.scalar(sa.select(sa.func.max(Criterion.position))
                                            .where(Criterion.module_id == module.id)) or 0) + 1
    db.session.add(criterion)
    db.session.flush()
    db.session.expire(module, ["criteria"])
    return criterion


def update_criterion(criterion: Criterion, data: CriterionData, *, actor, now: datetime) -> Criterion:
    _touch_rubric(criterion.module.rubric, now)
    _apply_criterion(criterion, data)
    _refuse_duplicate_criterion(criterion.rubric_id, criterion.code, own_id=criterion.id)
    db.session.flush()
    return criterion


def delete_criterion(criterion: Criterion, *, actor, now: datetime) -> None:
    module = criterion.module
    _touch_rubric(module.rubric, now)
    db.session.delete(criterion)
    db.session.flush()
    db.session.expire(module, ["criteria"])


def replace_rubric(round_: Round, modules: list[tuple[ModuleData, list[CriterionData]]], *, actor,
                   now: datetime) -> Rubric:
    """Replace a round's whole rubric (the workbook import). Refused once locked."""
    rubric = rubric_for(round_)
    _touch_rubric(rubric, now)
    for module in list(rubric.modules):
        db.session.delete(module)
    db.session.flush()
    db.session.expire(rubric, ["modules"])
    for position, (module_data, criteria) in enumerate(modules, start=1):
        module = Module(rubric_id=rubric.id, position=position)
        _apply_module(module, module_data)
        db.session.add(module)
        db.session.flush()
        for c_position, criterion_data in enumerate(criteria, start=1):
            criterion = Criterion(rubric_id=rubric.id, module_id=module.id, position=c_position)
            _apply_criterion(criterion, criterion_data)
            db.session.add(criterion)
    db.session.flush()
    db.session.expire(rubric, ["modules"])
    return rubric


# ---------------------------------------------------------------- entrants


@dataclass
class EntrantData:
    name: str
    unit: str = ""
    group_id: int | None = None
    is_team: bool = False
    members: list[str] = field(default_factory=list)
    coaches: list[str] = field(default_factory=list)
    phone: str = ""


def _apply_entrant(entrant: Entrant, competition: Competition, data: EntrantData) -> None:
    entrant.name = _clean(data.name, 100, "name", _("name"))
    entrant.unit = _clean(data.unit, 200, "unit", _("unit"), required=False)
    group = find_group(competition, data.group_id)
    if group is None and competition.groups:
        raise CompetitionError("group_required", _("Choose the entrant's group."), status=422, field="group_id")
    if entrant.id is not None and entrant.group_id != (group.id if group else None) and scoring_has_started(competition):
        raise CompetitionError("scoring_started", _("Scoring has started: an entrant can no longer change group."),
                               status=409, field="group_id")
    entrant.group_id = group.id if group else None
    entrant.is_team = bool(data.is_team)
    for field_name, names in (("members", data.members), ("coaches", data.coaches)):
        names = [n.strip() for n in names if n and n.strip()]
        if len(names) > MAX_LIST_NAMES or any(len(n) > 60 for n in names):
            raise CompetitionError("too_many_names", _("At most %(n)d names of at most 60 characters.", n=MAX_LIST_NAMES),
                                   status=422, field=field_name)
        setattr(entrant, field_name, names)
    phone = (data.phone or "").strip()
    if phone:
        from registration.identity import parse_phone

        try:
            phone = parse_phone(phone)
        except ValueError:
            raise CompetitionError("invalid_phone", _("Enter a valid mobile phone number."), status=422,
                                   field="phone") from None
    entrant.phone = phone


def _next_entrant_position(competition: Competition) -> int:
    return (db.session.scalar(sa.select(sa.func.max(Entrant.position))
                              .where(Entrant.competition_id == competition.id)) or 0) + 1


def add_entrant(competition: Competition, data: EntrantData, *, actor, now: datetime,
                source: EntrantSource = EntrantSource.MANUAL, audit: bool = True) -> Entrant:
    entrant = Entrant(competition_id=competition.id, source=source, created_at=now)
    _apply_entrant(entrant, competition, data)
    entrant.position = _next_entrant_position(competition)
    db.session.add(entrant)
    db.session.flush()
    if audit:
        audit_competition(actor, competition, "competition.entrant_add", now, obj=entrant)
    return entrant


def update_entrant(entrant: Entrant, data: EntrantData, *, actor, now: datetime) -> Entrant:
    _apply_entrant(entrant, entrant.competition, data)
    audit_competition(actor, entrant.competition, "competition.entrant_update", now, obj=entrant)
    db.session.flush()
    return entrant


def delete_entrant(entrant: Entrant, *, actor, now: datetime) -> None:
    competition = entrant.competition
    lock_competition(competition)
    if scoring_has_started(competition):
        raise CompetitionError("scoring_started", _("Scoring has started: entrants can no longer be removed."),
                               status=409)
    audit_competition(actor, competition, "competition.entrant_delete", now, obj=entrant)
    db.session.delete(entrant)
    db.session.flush()


def entrant_data_from_registration(registration) -> EntrantData:
    """An approved sign-up as an entrant: a team with its leader and members (and coaches), or a person."""
    from registration.models import MemberRole, RegistrationKind

    team = registration.kind == RegistrationKind.TEAM
    members, coaches = [], []
    if team:
        ordered = sorted(registration.members, key=lambda m: (m.role != MemberRole.LEADER, m.position))
        if not any(m.role == MemberRole.LEADER for m in ordered):
            members.append(registration.contact_name)
        for member in ordered:
            (coaches if member.role == MemberRole.COACH else members).append(member.name)
    return EntrantData(name=registration.name, unit=registration.unit or "", is_team=team,
                       members=members[:MAX_LIST_NAMES], coaches=coaches[:MAX_LIST_NAMES],
                       phone=registration.phone or "")


@dataclass
class SignupImport:
    added: list[Entrant] = field(default_factory=list)
    groups_created: list[str] = field(default_factory=list)
    already: int = 0  # approved sign-ups that are entrants already


def add_entrants_from_registrations(competition: Competition, *, actor, now: datetime) -> SignupImport:
    """Every approved sign-up of the event that is not yet an entrant of this competition becomes one, in its
    group (组别, created here when the competition lacks it). Idempotent: a second run adds only new sign-ups;
    the unique (competition, registration) constraint refuses a concurrent duplicate."""
    from sqlalchemy.orm import selectinload

    from registration.models import Registration, RegistrationState

    lock_competition(competition)
    linked = set(db.session.scalars(sa.select(Entrant.registration_id).where(
        Entrant.competition_id == competition.id, Entrant.registration_id.is_not(None))))
    registrations = list(db.session.scalars(
        sa.select(Registration).where(Registration.event_id == competition.event_id,
                                      Registration.status == RegistrationState.APPROVED)
        .order_by(Registration.id).options(selectinload(Registration.members))))
    outcome = SignupImport(already=sum(1 for r in registrations if r.id in linked))
    groups = {g.name: g for g in db.session.scalars(sa.select(Group).where(Group.competition_id == competition.id))}
    position = _next_entrant_position(competition)
    for registration in registrations:
        if registration.id in linked:
            continue
        group = None
        if registration.group_name:
            group = groups.get(registration.group_name)
            if group is None:
                group = add_group(competition, registration.group_name, actor=actor, now=now, audit=False)
                groups[group.name] = group
                outcome.groups_created.append(group.name)
        elif len(groups) == 1:
            group = next(iter(groups.values()))
        elif groups:
            group = None  # the sign-up named no group: placed by hand later
        data = entrant_data_from_registration(registration)
        entrant = Entrant(competition_id=competition.id, registration_id=registration.id,
                          source=EntrantSource.REGISTRATION, created_at=now, position=position,
                          group_id=group.id if group else None, is_team=data.is_team, name=data.name[:100],
                          unit=data.unit[:200], members=data.members, coaches=data.coaches, phone=data.phone[:20])
        position += 1
        db.session.add(entrant)
        outcome.added.append(entrant)
    db.session.flush()
    if outcome.added:
        audit_competition(actor, competition, "competition.entrants_from_signups", now, added=len(outcome.added),
               groups_created=outcome.groups_created or None)
    return outcome


def list_entrants(competition: Competition, group_id: int | None = None) -> list[Entrant]:
    query = sa.select(Entrant).where(Entrant.competition_id == competition.id)
    if group_id is not None:
        query = query.where(Entrant.group_id == group_id)
    return list(db.session.scalars(query.order_by(Entrant.position, Entrant.id)))


def missing_codes(competition: Competition, stage: int) -> int:
    """How many entrants have no code of this stage."""
    return db.session.scalar(
        sa.select(sa.func.count(Entrant.id)).where(
            Entrant.competition_id == competition.id,
            ~sa.exists().where(DrawCode.entrant_id == Entrant.id, DrawCode.stage == stage),
        )
    ) or 0


# ---------------------------------------------------------------- roll call (检录)


@dataclass
class RollCallOutcome:
    entrant: Entrant
    round: Round
    present: bool
    changed: bool  # False: it was so already


def set_roll_call(entrant: Entrant, round_: Round, present: bool, *, actor, now: datetime,
                  source: RollCallSource = RollCallSource.MANUAL) -> RollCallOutcome:
    """Mark an entrant present (or not) for a round: one atomic upsert, so two stations ticking the same entrant
    never make two rows; ``changed`` is False when it was so already."""
    if entrant.competition_id != round_.competition_id:
        raise CompetitionError("unknown_round", _("Choose one of this competition's rounds."), status=422)
    if round_.state == RoundState.LOCKED:
        raise CompetitionError("round_locked", _("This round's scores are final: its roll call can no longer change."),
                               status=409)
    values = {"entrant_id": entrant.id, "round_id": round_.id, "present": bool(present), "at": now,
              "by_id": getattr(actor, "id", None), "source": source}
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(RollCall).values(**values)
    statement = insert.on_conflict_do_update(
        index_elements=["entrant_id", "round_id"],
        set_={"present": insert.excluded.present, "at": insert.excluded.at, "by_id": insert.excluded.by_id,
              "source": insert.excluded.source},
        where=RollCall.present != bool(present),
    ).returning(RollCall.id)  # a row comes back only when one was inserted or changed
    changed = db.session.execute(statement).first() is not None
    return RollCallOutcome(entrant=entrant, round=round_, present=bool(present), changed=changed)


def roll_call_for(round_: Round) -> dict[int, RollCall]:
    """entrant id -> RollCall of this round."""
    return {r.entrant_id: r for r in db.session.scalars(
        sa.select(RollCall).where(RollCall.round_id == round_.id).execution_options(populate_existing=True))}


def present_entrant_ids(round_: Round) -> set[int]:
    """The entrants present for a round: only they are scored."""
    return set(db.session.scalars(sa.select(RollCall.entrant_id).where(RollCall.round_id == round_.id,
                                                                        RollCall.present.is_(True))))


def mark_present_by_registration(event: Event, registration_id: int, *, actor, now: datetime,
                                 round_id: int | None = None,
                                 source: RollCallSource = RollCallSource.SCAN) -> list[RollCallOutcome]:
    """For the check-in scanner: mark present the entrant(s) of this event linked to a sign-up, in the given round
    (``round_id``) or else in each competition's current round. Returns one outcome per entrant marked; an empty
    list when the sign-up is no entrant (or every round is final)."""
    entrants = list(db.session.scalars(
        sa.select(Entrant).join(Competition, Competition.id == Entrant.competition_id)
        .where(Competition.event_id == event.id, Entrant.registration_id == registration_id)
        .order_by(Entrant.id)))
    outcomes = []
    for entrant in entrants:
        competition = entrant.competition
        if round_id is not None:
            round_ = db.session.get(Round, round_id)
            if round_ is None or round_.competition_id != competition.id:
                continue
        else:
            round_ = current_round(competition)
        if round_ is None or round_.state == RoundState.LOCKED:
            continue
        outcomes.append(set_roll_call(entrant, round_, True, actor=actor, now=now, source=source))
    return outcomes
