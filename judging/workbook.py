"""Workbook sheets ``评委`` (judges) and ``成绩`` (scores typed in from paper sheets) of the competition workbook.

``competition/workbook.py`` reads the file, checks the ``评分标准`` and ``参赛者`` sheets and calls this module for the
other two (after them: they refer to the rounds, criteria and entrants of the same file):

- ``context_for(competition)`` reads what the competition has (judges, entrants and their codes, criteria, scores);
- ``check_sheet(key, title, rows, context, plan)`` checks one sheet row by row (pure: nothing is saved) and keeps
  what it read in ``plan.judging``; problems go on the rows like the other sheets' (all or nothing);
- ``apply(competition, plan, actor=, now=)`` saves it in the same unit of work, after the rubric and entrants;
- ``template_sheets()``, ``export_sheets(competition)``, ``notes_rows()`` and the message tables.

评委 (姓名, 账号, 单位, 组别, 轮次, 角色): each row is a judge of the competition. A new account gets an invitation
(the organizer makes its link on the judge's page); an existing account keeps its password; a judge already in the
competition gets the row's units and role. A judge (角色 评委) is put on the panel "<组别>评委组" of each round and
group named (empty: every round, every group), panels are made when missing, and their entrants are assigned,
balanced and never across a conflict (``judging.services.apply_suggestion``). A chief judge (裁判长) is on no panel.

成绩 (轮次, 参赛者, 评委, 编号, 分数): each row is one judge's submitted score. 参赛者 is the entrant's code (工位号 or
二次加密号) or its name; 评委 the judge's account; 分数 the score as on the paper sheet (for a 0–3 ladder criterion the
level). The value is checked like a tablet's (``judging.values``); the judge must be assigned to the entrant (or
become so through the 评委 sheet) and never conflicted. A score that exists already and differs is changed with its
history kept (``ScoreChange``, reason "成绩表导入"); the same value changes nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from competition.models import (
    Competition,
    Criterion,
    CriterionKind,
    DrawCode,
    Entrant,
    Group,
    Module,
    Round,
    RoundState,
    Rubric,
)
from extensions import db
from judging import assignment as planner
from judging.models import Assignment, JudgeProfile, JudgeRole, Panel, Score, ScoreChange, ScoreSource, ScoreState
from judging.values import CriterionSpec, ValueProblem, decimal_places, validate_value

JUDGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name", "评委姓名", "評委姓名"),
    "login": ("账号", "login", "帳號", "賬號", "手机", "手機", "邮箱", "郵箱"),
    "units": ("单位", "units", "unit", "單位", "回避单位", "迴避單位"),
    "groups": ("组别", "groups", "group", "組別"),
    "rounds": ("轮次", "rounds", "round", "輪次"),
    "role": ("角色", "role"),
    "criteria": ("评分项", "criteria", "評分項"),  # optional: the codes this judge scores (empty: all)
}
JUDGE_REQUIRED = ("name", "login")
SCORE_COLUMNS: dict[str, tuple[str, ...]] = {
    "round": ("轮次", "round", "輪次"),
    "entrant": ("参赛者", "entrant", "參賽者", "参赛队", "參賽隊", "参赛号", "參賽號", "工位号", "工位號"),
    "judge": ("评委", "judge", "評委", "评委账号", "評委帳號"),
    "code": ("编号", "code", "編號", "评分项编号", "評分項編號"),
    "score": ("分数", "score", "分數", "得分"),
}
SCORE_REQUIRED = ("round", "entrant", "judge", "code", "score")
JUDGE_HEADERS = ["姓名", "账号", "单位", "组别", "轮次", "角色", "评分项"]
SCORE_HEADERS = ["轮次", "参赛者", "评委", "编号", "分数"]
JUDGE_WIDTHS = [12, 26, 30, 20, 16, 10, 16]
SCORE_WIDTHS = [10, 20, 26, 8, 8]
ROLE_NAMES = {
    JudgeRole.JUDGE: ("评委", "judge", "評委", "裁判", "评审", "評審", "专家", "專家", ""),
    JudgeRole.CHIEF: ("裁判长", "chief", "裁判長", "chiefjudge", "主裁判", "评委会主任", "評委會主任"),
    JudgeRole.ENCRYPTOR: ("加密裁判", "encryptor", "加密", "加密员", "加密員", "加密人员", "加密人員"),
    JudgeRole.SUPERVISOR: ("监督", "supervisor", "監督", "监督组", "監督組", "监督员", "監督員", "监督人员", "監督人員",
                           "监督仲裁组", "監督仲裁組"),
    JudgeRole.ARBITRATOR: ("仲裁", "arbitrator", "仲裁组", "仲裁組", "仲裁员", "仲裁員"),
}
ROLE_TITLES = {JudgeRole.JUDGE: "评委", JudgeRole.CHIEF: "裁判长", JudgeRole.ENCRYPTOR: "加密裁判",
               JudgeRole.SUPERVISOR: "监督", JudgeRole.ARBITRATOR: "仲裁"}
PAPER_REASON = "成绩表导入"


def _normalize(text) -> str:
    from registration.spreadsheets import normalize_header

    return normalize_header(text)


_ROLES = {_normalize(alias): role for role, aliases in ROLE_NAMES.items() for alias in aliases}


def panel_name(group: str | None) -> str:
    return f"{group}评委组" if group else "评委组"


# ---------------------------------------------------------------- what the competition has


@dataclass
class CriterionInfo:
    code: str
    maximum: Decimal
    step: Decimal
    kind: CriterionKind
    ladder: bool = False
    full_or_zero: bool = False
    id: int | None = None


@dataclass
class EntrantInfo:
    name: str
    unit: str
    group: str | None
    coaches: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    id: int | None = None  # None: an entrant of the same file, not saved yet
    plan_index: int | None = None  # for those: its place among the file's entrants


@dataclass
class JudgeInfo:
    login: str
    name: str
    units: tuple[str, ...]
    role: JudgeRole
    coached: frozenset = frozenset()  # entrant ids
    user_id: int | None = None


@dataclass
class JudgingContext:
    places: int
    rounds: dict[str, dict[str, CriterionInfo]]  # round name -> criterion code -> info
    locked_rounds: set[str]
    groups: list[str]
    entrants: list[EntrantInfo]
    judges: dict[str, JudgeInfo]  # login -> judge of the competition
    assigned: set[tuple[str, str, int]]  # (round name, judge login, entrant id)
    scores: dict[tuple[str, str, int, str], tuple[Decimal | None, ScoreState]]  # (round, login, entrant, code)


def context_for(competition: Competition) -> JudgingContext:
    rounds = list(db.session.scalars(sa.select(Round).where(Round.competition_id == competition.id)))
    round_names = {r.id: r.name for r in rounds}
    criteria: dict[str, dict[str, CriterionInfo]] = {r.name: {} for r in rounds}
    by_id = {}
    for criterion, round_id in db.session.execute(
            sa.select(Criterion, Rubric.round_id).join(Rubric, Rubric.id == Criterion.rubric_id)
            .where(Rubric.competition_id == competition.id)):
        info = CriterionInfo(code=criterion.code, maximum=criterion.maximum, step=criterion.step, kind=criterion.kind,
                             ladder=criterion.ladder, full_or_zero=bool(getattr(criterion, "full_or_zero", False)),
                             id=criterion.id)
        criteria[round_names[round_id]][criterion.code] = info
        by_id[criterion.id] = info
    groups = {g.id: g.name for g in db.session.scalars(sa.select(Group).where(Group.competition_id == competition.id)
                                                       .order_by(Group.position, Group.id))}
    codes: dict[int, list[str]] = {}
    for entrant_id, code in db.session.execute(sa.select(DrawCode.entrant_id, DrawCode.code).where(
            DrawCode.competition_id == competition.id).order_by(DrawCode.stage)):
        codes.setdefault(entrant_id, []).append(code)
    entrants = [EntrantInfo(name=e.name, unit=e.unit or "", group=groups.get(e.group_id), coaches=tuple(e.coaches or ()),
                            codes=tuple(codes.get(e.id, ())), id=e.id)
                for e in db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id)
                                            .order_by(Entrant.position, Entrant.id))]
    judges = {}
    logins = {}
    for profile, user in db.session.execute(sa.select(JudgeProfile, User).join(User, User.id == JudgeProfile.user_id)
                                            .where(JudgeProfile.competition_id == competition.id)):
        judges[user.login] = JudgeInfo(login=user.login, name=user.name, units=tuple(profile.units or ()),
                                       role=profile.role, coached=frozenset(profile.coached_entrant_ids),
                                       user_id=user.id)
        logins[user.id] = user.login
    assigned = {(round_names[r], logins[j], e) for r, j, e in db.session.execute(
        sa.select(Assignment.round_id, Assignment.judge_id, Assignment.entrant_id)
        .where(Assignment.round_id.in_(list(round_names) or [0]))) if j in logins}
    scores = {}
    for score in db.session.scalars(sa.select(Score).where(Score.round_id.in_(list(round_names) or [0]))):
        if score.judge_id in logins and score.criterion_id in by_id:
            key = (round_names[score.round_id], logins[score.judge_id], score.entrant_id, by_id[score.criterion_id].code)
            scores[key] = (score.value, score.state)
    return JudgingContext(places=competition.places, rounds=criteria,
                          locked_rounds={r.name for r in rounds if r.state == RoundState.LOCKED},
                          groups=list(groups.values()), entrants=entrants, judges=judges, assigned=assigned,
                          scores=scores)


# ---------------------------------------------------------------- what the file says


@dataclass
class JudgeRow:
    number: int
    name: str
    login: str
    units: list[str]
    groups: list[str]
    rounds: list[str]
    role: JudgeRole
    criteria: list[str] = field(default_factory=list)  # codes; empty: every criterion


@dataclass
class ScoreRow:
    number: int
    round: str
    entrant: EntrantInfo
    login: str
    code: str
    value: Decimal
    change: str = "new"  # new / same / changed


@dataclass
class JudgingPlan:
    judges: list[JudgeRow] = field(default_factory=list)
    scores: list[ScoreRow] = field(default_factory=list)


def _plan(plan) -> JudgingPlan:
    if getattr(plan, "judging", None) is None:
        plan.judging = JudgingPlan()
    return plan.judging


def _split(text: str | None) -> list[str]:
    from judging.services import split_units

    return split_units(text)


def _rounds_of(context: JudgingContext, plan) -> list[str]:
    return list(context.rounds) + [r for r in plan.new_rounds if r not in context.rounds]


def _groups_of(context: JudgingContext, plan) -> list[str]:
    return list(context.groups) + [g for g in plan.new_groups if g not in context.groups]


def _criteria_of(context: JudgingContext, plan, round_name: str) -> dict[str, CriterionInfo]:
    if round_name in plan.rubrics:  # the rubric of the same file replaces the round's
        found = {}
        for _module, criteria in plan.rubrics[round_name]:
            for data in criteria:
                found[data.code.strip().upper()] = CriterionInfo(
                    code=data.code.strip().upper(), maximum=Decimal(data.maximum), step=Decimal(data.step),
                    kind=data.kind, ladder=bool(data.ladder), full_or_zero=bool(getattr(data, "full_or_zero", False)))
        return found
    return context.rounds.get(round_name, {})


def _entrants_of(context: JudgingContext, plan) -> list[EntrantInfo]:
    added = [EntrantInfo(name=data.name, unit=data.unit or "", group=group, coaches=tuple(data.coaches or ()),
                         plan_index=index) for index, (group, data) in enumerate(plan.entrants)]
    return context.entrants + added


def spec_for(info: CriterionInfo, places: int) -> CriterionSpec:
    places = min(max(places, decimal_places(info.step), decimal_places(info.maximum)), 4)
    if info.full_or_zero and info.kind == CriterionKind.MEASUREMENT:
        return CriterionSpec.full_or_zero(info.maximum, places=places)
    if info.ladder:
        return CriterionSpec.on_ladder(info.maximum, places=places)
    return CriterionSpec(maximum=info.maximum, step=info.step, kind=info.kind.value, places=places)


def check_sheet(key: str, title: str, rows, context, plan) -> None:
    """Check the 评委 (``key`` "judges") or 成绩 ("scores") sheet; add it to ``plan.sheets`` with its problems."""
    from competition.workbook import Problem, SheetCheck, _lookup, _read_rows

    sheet = SheetCheck(key=key, title=title)
    plan.sheets.append(sheet)
    judging = context.judging if isinstance(context.judging, JudgingContext) else None
    if judging is None:  # pragma: no cover - context_for always sets it
        sheet.problems.append(Problem("judging_unavailable"))
        return
    columns, required = (JUDGE_COLUMNS, JUDGE_REQUIRED) if key == "judges" else (SCORE_COLUMNS, SCORE_REQUIRED)
    if not any(any((cell or "").strip() for cell in cells) for _n, cells in rows[1:]):
        plan.sheets.remove(sheet)  # only a header (as in the template or an export without judges): nothing to do
        return
    records = _read_rows(sheet, rows, _lookup(columns), columns, required)
    if any(p.code in ("no_header", "missing_columns", "too_many_rows") for p in sheet.problems):
        from competition.workbook import CheckedRow

        sheet.rows = [CheckedRow(number, values) for number, values in records]
        return
    if key == "judges":
        _check_judges(sheet, records, judging, plan)
    else:
        _check_scores(sheet, records, judging, plan)


def _check_judges(sheet, records, context: JudgingContext, plan) -> None:
    from competition.workbook import CheckedRow
    from judging.services import JudgingError, parse_login

    rounds, groups = _rounds_of(context, plan), _groups_of(context, plan)
    seen: dict[str, int] = {}
    found = _plan(plan)
    for number, values in records:
        row = CheckedRow(number, values)
        sheet.rows.append(row)
        name = values.get("name", "").strip()
        if not name:
            row.add("required", column="姓名")
        elif len(name) > 80:
            row.add("too_long", column="姓名", n=80)
        login = ""
        try:
            login = parse_login(values.get("login"))
        except JudgingError:
            if (values.get("login") or "").strip():
                row.add("invalid_login", value=values.get("login", ""))
            else:
                row.add("required", column="账号")
        if login:
            if login in seen:
                row.add("duplicate_judge", login=login, row=seen[login])
            else:
                seen[login] = number
        units = _split(values.get("units"))
        if len(units) > 20 or any(len(u) > 200 for u in units):
            row.add("too_many_units", n=20)
        named_groups = _split(values.get("groups"))
        for group in named_groups:
            if group not in groups:
                row.add("unknown_group", value=group, groups="、".join(groups) or "—")
        named_rounds = _split(values.get("rounds"))
        for round_name in named_rounds:
            if round_name not in rounds:
                row.add("unknown_round", value=round_name, rounds="、".join(rounds) or "—")
        role = _ROLES.get(_normalize(values.get("role", "")))
        if role is None:
            row.add("unknown_role", value=values.get("role", ""))
        codes = [c.strip().upper() for c in _split(values.get("criteria"))]
        for round_name in (named_rounds or rounds):
            known = _criteria_of(context, plan, round_name)
            for code in codes:
                if code not in known:
                    row.add("unknown_criterion", value=code, round=round_name)
        if row.ok:
            found.judges.append(JudgeRow(number=number, name=name, login=login, units=units, groups=named_groups,
                                         rounds=named_rounds, role=role, criteria=codes))


ORDINAL = re.compile(r"^(.+)#([1-9][0-9]{0,3})$")


def _find_entrant(entrants: list[EntrantInfo], text: str) -> tuple[EntrantInfo | None, str | None]:
    """By code first (工位号 or 二次加密号), else by name, else ``名称#n``: the n-th entrant of that name in the
    entrants' order (how an export names entrants that share a name); (None, problem) when unknown or ambiguous."""
    by_code = [e for e in entrants if text in e.codes]
    if len(by_code) == 1:
        return by_code[0], None
    by_name = [e for e in entrants if e.name == text]
    if len(by_name) == 1:
        return by_name[0], None
    match = ORDINAL.match(text)
    if match and not by_name:
        same = [e for e in entrants if e.name == match.group(1)]
        if int(match.group(2)) <= len(same):
            return same[int(match.group(2)) - 1], None
    return None, "ambiguous_entrant" if by_name or by_code else "unknown_entrant"


def _will_be_assigned(context: JudgingContext, found: JudgingPlan, round_name: str, login: str,
                      entrant: EntrantInfo) -> bool:
    row = next((j for j in found.judges if j.login == login), None)
    if row is not None and row.role == JudgeRole.JUDGE:
        if (not row.rounds or round_name in row.rounds) and (not row.groups or entrant.group in row.groups):
            return True
    return entrant.id is not None and (round_name, login, entrant.id) in context.assigned


def _login(text: str | None) -> str:
    """An account as written in a sheet, normalized like the accounts themselves (phone numbers, e-mail case)."""
    from judging.services import JudgingError, parse_login

    try:
        return parse_login(text)
    except JudgingError:
        return (text or "").strip().lower()


def _check_scores(sheet, records, context: JudgingContext, plan) -> None:
    from competition.workbook import CheckedRow

    found = _plan(plan)
    rounds = _rounds_of(context, plan)
    entrants = _entrants_of(context, plan)
    sheet_judges = {j.login: j for j in found.judges}
    seen: dict[tuple, int] = {}
    for number, values in records:
        row = CheckedRow(number, values)
        sheet.rows.append(row)
        for key, column in (("round", "轮次"), ("entrant", "参赛者"), ("judge", "评委"), ("code", "编号"),
                            ("score", "分数")):
            if not (values.get(key) or "").strip():
                row.add("required", column=column)
        if not row.ok:
            continue
        round_name = values["round"].strip()
        code = values["code"].strip().upper()
        login = _login(values["judge"])
        criteria = {}
        if round_name not in rounds:
            row.add("unknown_round", value=round_name, rounds="、".join(rounds) or "—")
        elif round_name in context.locked_rounds:
            row.add("round_locked", value=round_name)
        else:
            criteria = _criteria_of(context, plan, round_name)
            if code not in criteria:
                row.add("unknown_criterion", value=code, round=round_name)
        judge = sheet_judges.get(login)
        judge_info = context.judges.get(login)
        if judge is None and judge_info is None:
            row.add("unknown_judge", value=values["judge"])
        entrant, problem = _find_entrant(entrants, values["entrant"].strip())
        if problem:
            row.add(problem, value=values["entrant"])
        if not row.ok:
            continue
        try:
            value = validate_value(spec_for(criteria[code], context.places), values["score"])
        except ValueProblem as error:
            row.add(f"value_{error.code}", value=values["score"], code=code, **{
                k: v for k, v in error.params.items() if k in ("maximum", "step", "places", "lower", "upper")})
            continue
        identity = planner.JudgeIdentity(
            key=login, name=(judge.name if judge else judge_info.name),
            units=tuple(judge.units if judge else judge_info.units),
            coached=judge_info.coached if judge_info else frozenset())
        reasons = planner.conflict_reasons(identity, planner.EntrantIdentity(key=entrant.id, unit=entrant.unit,
                                                                              coaches=entrant.coaches))
        if reasons:
            row.add("conflict", judge=values["judge"], entrant=values["entrant"])
            continue
        if not _will_be_assigned(context, found, round_name, login, entrant):
            row.add("not_assigned", judge=values["judge"], entrant=values["entrant"], round=round_name)
            continue
        key = (round_name, login, entrant.id, entrant.plan_index, code)
        if key in seen:
            row.add("duplicate_score", row=seen[key])
            continue
        seen[key] = number
        change = "new"
        if entrant.id is not None and (round_name, login, entrant.id, code) in context.scores:
            old, state = context.scores[(round_name, login, entrant.id, code)]
            change = "same" if (old == value and state == ScoreState.SUBMITTED) else "changed"
        found.scores.append(ScoreRow(number=number, round=round_name, entrant=entrant, login=login, code=code,
                                     value=value, change=change))
    changed = sum(1 for s in found.scores if s.change == "changed")
    if changed:
        from competition.workbook import Problem

        plan.notices.append(Problem("scores_changed", {"n": changed}))


# ---------------------------------------------------------------- saving


@dataclass
class JudgingOutcome:
    judges_added: int = 0
    judges_updated: int = 0
    panels_created: int = 0
    assigned: int = 0
    scores_added: int = 0
    scores_changed: int = 0


def _fail(plan, sheet_key: str, number: int, code: str, **params):
    """Something changed between the check and the save: refuse the whole import with the row's problem."""
    from competition.workbook import Problem, WorkbookImportError

    sheet = next((s for s in plan.sheets if s.key == sheet_key), None)
    row = next((r for r in sheet.rows if r.number == number), None) if sheet else None
    if row is not None:
        row.add(code, **params)
    else:
        plan.problems.append(Problem(code, params))
    raise WorkbookImportError(plan)


def apply(competition: Competition, plan, *, actor, now: datetime) -> JudgingOutcome:
    """Save the 评委 and 成绩 rows of a checked plan (after the rubric and entrants of the same file). Flushes,
    never commits; raises competition.workbook.WorkbookImportError when a row can no longer be saved."""
    from judging import services

    found: JudgingPlan | None = getattr(plan, "judging", None)
    outcome = JudgingOutcome()
    if found is None:
        return outcome
    rounds = {r.name: r for r in db.session.scalars(sa.select(Round).where(Round.competition_id == competition.id))}
    groups = {g.name: g for g in db.session.scalars(sa.select(Group).where(Group.competition_id == competition.id))}
    touched: dict[int, Panel] = {}
    for row in found.judges:
        profile = db.session.scalar(sa.select(JudgeProfile).join(User, User.id == JudgeProfile.user_id).where(
            JudgeProfile.competition_id == competition.id, User.login == row.login))
        try:
            if profile is None:
                profile = services.add_judge(competition, services.JudgeData(
                    name=row.name, login=row.login, units=row.units, role=row.role), actor=actor, now=now).profile
                outcome.judges_added += 1
            else:
                services.update_judge(profile, units=row.units, coached_entrant_ids=sorted(profile.coached_entrant_ids),
                                      role=row.role, actor=actor, now=now)
                outcome.judges_updated += 1
        except services.JudgingError as error:
            _fail(plan, "judges", row.number, "judge_refused", message=error.message)
        if row.role != JudgeRole.JUDGE:
            continue
        for round_name in row.rounds or list(rounds):
            for group_name in (row.groups or list(groups) or [None]):
                round_ = rounds[round_name]
                name = panel_name(group_name)
                panel = db.session.scalar(sa.select(Panel).where(Panel.round_id == round_.id, Panel.name == name))
                if panel is None:
                    panel = services.create_panel(competition, services.PanelData(
                        name=name, round_id=round_.id, group_id=groups[group_name].id if group_name else None),
                        actor=actor, now=now)
                    outcome.panels_created += 1
                if not any(member.profile_id == profile.id for member in panel.judges):
                    share = [c.id for c in services.round_criteria(round_) if c.code in row.criteria]
                    services.add_panel_judge(panel, profile, share, actor=actor, now=now)
                touched[panel.id] = panel
    for panel in touched.values():
        try:
            added, _removed = services.apply_suggestion(panel, actor=actor, now=now)
        except services.JudgingError as error:
            _fail(plan, "judges", found.judges[0].number if found.judges else 0, "judge_refused",
                  message=error.message)
        outcome.assigned += added
    imported = []  # the entrants this import added (after those already there, in the file's order)
    if plan.entrants:
        imported = list(db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id)
                                           .order_by(Entrant.position, Entrant.id)))[-len(plan.entrants):]
    for row in found.scores:
        changed = _save_score(competition, plan, row, rounds, imported, actor=actor, now=now)
        if changed == "added":
            outcome.scores_added += 1
        elif changed == "changed":
            outcome.scores_changed += 1
    db.session.flush()
    return outcome


def _save_score(competition: Competition, plan, row: ScoreRow, rounds: dict[str, Round], imported: list[Entrant],
                *, actor, now: datetime) -> str:
    from competition.services import CompetitionError, lock_rubric

    round_ = rounds[row.round]
    if round_.state == RoundState.LOCKED:
        _fail(plan, "scores", row.number, "round_locked", value=row.round)
    rubric = db.session.scalar(sa.select(Rubric).where(Rubric.round_id == round_.id))
    criterion = db.session.scalar(sa.select(Criterion).where(Criterion.rubric_id == rubric.id,
                                                             Criterion.code == row.code))
    user = db.session.scalar(sa.select(User).where(User.login == row.login))
    if row.entrant.id is not None:
        entrant = db.session.get(Entrant, row.entrant.id)
    else:  # added by this import
        entrant = imported[row.entrant.plan_index] if len(imported) == len(plan.entrants) else None
        if entrant is not None and (entrant.name, entrant.unit or "") != (row.entrant.name, row.entrant.unit):
            entrant = None
    if criterion is None or user is None or entrant is None:
        _fail(plan, "scores", row.number, "changed_meanwhile")
    assigned = db.session.scalar(sa.select(Assignment.id).where(
        Assignment.round_id == round_.id, Assignment.judge_id == user.id, Assignment.entrant_id == entrant.id))
    if assigned is None:
        _fail(plan, "scores", row.number, "not_assigned", judge=row.login, entrant=row.entrant.name, round=row.round)
    if not rubric.locked:
        try:
            lock_rubric(rubric, actor=actor, now=now)  # scores exist from now on: the rubric no longer changes
        except CompetitionError as error:
            _fail(plan, "scores", row.number, "judge_refused", message=error.message)
    existing = db.session.scalar(sa.select(Score).where(
        Score.round_id == round_.id, Score.judge_id == user.id, Score.entrant_id == entrant.id,
        Score.criterion_id == criterion.id))
    actor_id = getattr(actor, "id", None)
    if existing is None:
        db.session.add(Score(round_id=round_.id, judge_id=user.id, entrant_id=entrant.id, criterion_id=criterion.id,
                             value=row.value, note="", state=ScoreState.SUBMITTED, source=ScoreSource.PAPER,
                             rubric_version=rubric.version, created_at=now, updated_at=now, submitted_at=now,
                             updated_by_id=actor_id))
        return "added"
    if existing.state == ScoreState.SUBMITTED and existing.value == row.value:
        return "same"
    if existing.state == ScoreState.SUBMITTED:
        db.session.add(ScoreChange(score_id=existing.id, old_value=existing.value, new_value=row.value,
                                   old_state=ScoreState.SUBMITTED, new_state=ScoreState.SUBMITTED,
                                   changed_by_id=actor_id, changed_at=now, reason=PAPER_REASON))
    existing.value, existing.state, existing.source = row.value, ScoreState.SUBMITTED, ScoreSource.PAPER
    existing.updated_at, existing.updated_by_id = now, actor_id
    existing.submitted_at = existing.submitted_at or now
    return "changed"


# ---------------------------------------------------------------- writing


def judge_rows(competition: Competition) -> list[list]:
    from judging.services import list_judges, list_panels

    rounds = {r.id: r.name for r in competition.rounds}
    groups = {g.id: g.name for g in competition.groups}
    seats: dict[int, list[Panel]] = {}
    for panel in list_panels(competition):
        for member in panel.judges:
            seats.setdefault(member.profile_id, []).append(panel)
    rows = []
    for profile in list_judges(competition):
        panels = seats.get(profile.id, [])
        panel_groups = list(dict.fromkeys(groups.get(p.group_id) for p in panels))
        panel_rounds = list(dict.fromkeys(rounds.get(p.round_id) for p in panels))
        group_text = "" if None in panel_groups else "、".join(g for g in panel_groups if g)
        members = [m for p in panels for m in p.judges if m.profile_id == profile.id]
        codes = "" if not members or any(not m.criteria for m in members) else "、".join(dict.fromkeys(
            c.code for c in db.session.scalars(sa.select(Criterion).join(Module, Module.id == Criterion.module_id)
                                               .where(Criterion.id.in_({i for m in members for i in m.criterion_ids}))
                                               .order_by(Module.position, Criterion.position))))
        rows.append([profile.user.name, profile.user.login, "、".join(profile.units or []), group_text,
                     "、".join(r for r in panel_rounds if r), ROLE_TITLES[profile.role], codes])
    return rows


def score_rows(competition: Competition) -> list[list]:
    """Every submitted score: round, entrant (its name; ``名称#n`` for the n-th of entrants sharing a name, in the
    entrants sheet's order), judge's account, criterion code, value (a ladder criterion's level)."""
    ordered = list(db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id)
                                      .order_by(Entrant.position, Entrant.id)))
    labels = {}
    for e in ordered:
        same = [x.id for x in ordered if x.name == e.name]
        labels[e.id] = e.name if len(same) == 1 else f"{e.name}#{same.index(e.id) + 1}"
    rows = []
    query = (sa.select(Score, Round.name, User.login, Criterion.code, Criterion.ladder)
             .join(Round, Round.id == Score.round_id).join(User, User.id == Score.judge_id)
             .join(Criterion, Criterion.id == Score.criterion_id)
             .join(Module, Module.id == Criterion.module_id)
             .where(Round.competition_id == competition.id, Score.state == ScoreState.SUBMITTED)
             .order_by(Round.position, Round.id, Score.entrant_id, User.login, Module.position, Criterion.position))
    for score, round_name, login, code, ladder in db.session.execute(query):
        value = str(int(score.value)) if ladder else format(score.value.normalize(), "f")
        rows.append([round_name, labels[score.entrant_id], login, code, value])
    return rows


def template_sheets() -> list:
    from registration.spreadsheets import Sheet

    return [Sheet("评委", JUDGE_HEADERS, [], JUDGE_WIDTHS), Sheet("成绩", SCORE_HEADERS, [], SCORE_WIDTHS)]


def export_sheets(competition: Competition) -> list:
    from registration.spreadsheets import Sheet

    return [Sheet("评委", JUDGE_HEADERS, judge_rows(competition), JUDGE_WIDTHS),
            Sheet("成绩", SCORE_HEADERS, score_rows(competition), SCORE_WIDTHS)]


def notes_rows() -> list[list]:
    return [
        ["评委", "姓名", "name", "必填", "评委姓名。", "王评委"],
        ["评委", "账号", "login", "必填", "手机号或电子邮箱，用于登录；已有账号沿用原密码，新账号由组织者在评委页生成邀请链接。", "13800138000"],
        ["评委", "单位", "units", "选填", "评委所在及需回避的单位，用 、 分隔；评委不会被分配到这些单位的参赛者。", "厦门大学、集美大学"],
        ["评委", "组别", "groups", "选填", "评委负责的组别，用 、 分隔；留空为全部组别。", "高职组"],
        ["评委", "轮次", "rounds", "选填", "评委负责的轮次，用 、 分隔；留空为全部轮次。", "初赛"],
        ["评委", "角色", "role", "选填", "评委 或 裁判长；留空为评委。裁判长不进入评委组。", "评委"],
        ["评委", "评分项", "criteria", "选填", "该评委只评的评分项编号，用 、 分隔，如测量裁判只评客观项；留空为全部评分项。", "A1、A2"],
        ["成绩", "轮次", "round", "必填", "成绩所属轮次。", "初赛"],
        ["成绩", "参赛者", "entrant", "必填", "参赛者的工位号、二次加密号或名称；同名参赛者写 名称#序号（按参赛者工作表中的先后）。", "07"],
        ["成绩", "评委", "judge", "必填", "评委账号（须为本赛项评委，且被分配该参赛者）。", "13800138000"],
        ["成绩", "编号", "code", "必填", "评分项编号。", "A1"],
        ["成绩", "分数", "score", "必填", "纸质评分表上的分数；分档评分项填档次 0–3。导入即为已提交成绩，修改已有成绩会留下记录。", "8.5"],
    ]


def preview_columns() -> dict[str, list[tuple[str, str]]]:
    """For the import preview table: (key, title) of each column of the two sheets."""
    return {"judges": [(k, v[0]) for k, v in JUDGE_COLUMNS.items()],
            "scores": [(k, v[0]) for k, v in SCORE_COLUMNS.items()]}


def outcome_parts(outcome: JudgingOutcome | None) -> list[str]:
    """What an import did, for the organizer's message."""
    from flask_babel import ngettext

    if outcome is None:
        return []
    parts = []
    if outcome.judges_added or outcome.judges_updated:
        parts.append(ngettext("%(num)d judge", "%(num)d judges", outcome.judges_added + outcome.judges_updated))
    if outcome.scores_added or outcome.scores_changed:
        parts.append(ngettext("%(num)d score", "%(num)d scores", outcome.scores_added + outcome.scores_changed))
    return parts


PROBLEM_MESSAGES = {
    "judging_unavailable": _l("The judging sheets could not be checked."),
    "invalid_login": _l("“%(value)s” is neither a mobile phone number nor an e-mail address."),
    "duplicate_judge": _l("The account %(login)s is already on row %(row)d."),
    "too_many_units": _l("At most %(n)d units of at most 200 characters."),
    "unknown_role": _l("Unknown role “%(value)s”: write 评委 or 裁判长."),
    "unknown_criterion": _l("Round %(round)s has no criterion %(value)s."),
    "unknown_judge": _l("“%(value)s” is not a judge of this competition (nor on the 评委 sheet)."),
    "unknown_entrant": _l("No entrant has the code or name “%(value)s”."),
    "ambiguous_entrant": _l("Several entrants are called “%(value)s”: use the entrant's code."),
    "round_locked": _l("Round %(value)s is locked: its scores are final."),
    "conflict": _l("%(judge)s may not score %(entrant)s (conflict of interest, 回避)."),
    "not_assigned": _l("%(judge)s does not score %(entrant)s in round %(round)s: put the judge on the panel first."),
    "duplicate_score": _l("The same score is already on row %(row)d."),
    "judge_refused": "%(message)s",
    "changed_meanwhile": _l("The competition changed meanwhile; check the file again."),
    "value_blank": _l("Enter the score; a blank is not zero."),
    "value_not_a_number": _l("“%(value)s” is not a number."),
    "value_decimal_comma": _l("“%(value)s”: write decimals with a point."),
    "value_negative": _l("“%(value)s”: a score cannot be below zero."),
    "value_above_maximum": _l("“%(value)s”: the maximum of %(code)s is %(maximum)s."),
    "value_too_many_decimals": _l("“%(value)s”: at most %(places)d decimal places."),
    "value_off_step": _l("“%(value)s”: %(code)s goes in steps of %(step)s (%(lower)s or %(upper)s)."),
    "value_not_allowed": _l("“%(value)s”: %(code)s is full mark or zero."),
    "value_not_a_level": _l("“%(value)s”: %(code)s is scored by level, 0 to 3."),
}

NOTICE_MESSAGES = {
    "scores_changed": _l("%(n)d scores already entered will be changed; each change is kept in the score's history."),
}
