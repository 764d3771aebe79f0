"""The competition workbook (SPEC): an empty template, the import with a row-by-row preview, and the export.

Sheets and columns are Chinese; the English names in brackets in SPEC are accepted too, and the Traditional
spellings. Sheets read: ``评分标准`` (rubric) and ``参赛者`` (entrants). ``评委`` and ``成绩`` belong to the judging
step: they are named in the preview as not imported yet. ``说明`` (our notes sheet) and unknown sheets are skipped.

Importing is all or nothing: ``check_workbook`` reads the sheets against the competition and returns a plan with a
list of problems per row (and per sheet); only a plan without problems is applied, in one unit of work, by
``apply_plan``. Merged cells are common in rubric sheets (one 轮次 or 模块 cell over several rows): a blank 轮次,
模块 or 权重 takes the value of the row above.

What an import does:
- 评分标准: each round named gets the rubric of its rows (a rubric already there is replaced; a locked one is a
  problem). A competition without rounds gets the rounds named, in the order they appear; a competition with
  rounds must name one of them.
- 参赛者: each row adds an entrant (source "import"). A competition without groups gets the groups named; a
  competition with groups must name one of them. An entrant already in the competition (same name, unit and phone)
  is a problem, as is the same entrant twice in the file.

The export writes the same sheets, so that export → import into an empty competition gives the same rubric and
entrants. Every text cell is written as text (``registration.spreadsheets.build_workbook``): a cell someone typed
as ``=HYPERLINK(…)`` stays text and never becomes a formula.
"""
from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from competition import services
from competition.models import Competition, CriterionKind, Entrant, EntrantSource, Group, Round
from competition.services import CompetitionError, format_decimal, split_names
from extensions import db
from registration.imports import PendingImports
from registration.spreadsheets import (
    HEADER_SEARCH_ROWS,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_UNCOMPRESSED,
    Sheet,
    SpreadsheetError,
    _keep,
    build_workbook,
    normalize_header,
)

Rows = list[tuple[int, list[str]]]

# sheet key -> accepted names (normalized); the first is the name we write
SHEETS: dict[str, tuple[str, ...]] = {
    "rubric": ("评分标准", "rubric", "评分细则", "評分標準", "評分細則"),
    "entrants": ("参赛者", "entrants", "参赛队", "參賽者", "參賽隊"),
    "judges": ("评委", "judges", "裁判", "評委"),
    "scores": ("成绩", "scores", "成績"),
    "notes": ("说明", "notes", "說明", "填写说明", "填寫說明"),
}

RUBRIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "round": ("轮次", "round", "輪次"),
    "module": ("模块", "module", "模塊", "模組"),
    "code": ("编号", "code", "編號"),
    "criterion": ("评分项", "criterion", "評分項", "评分内容", "評分內容"),
    "kind": ("类型", "kind", "類型"),
    "maximum": ("满分", "max", "maximum", "滿分", "分值"),
    "step": ("步长", "step", "步長"),
    "weight": ("权重", "weight", "權重"),
    "description": ("说明", "description", "說明", "评分说明", "評分說明"),
    "full_or_zero": ("满分或零分", "full_or_zero", "fullorzero", "滿分或零分"),
    "ladder": ("分档", "ladder", "分檔", "档次评分", "檔次評分"),
    "level0": ("0档", "level0", "0檔", "0档说明", "0檔說明"),
    "level1": ("1档", "level1", "1檔", "1档说明", "1檔說明"),
    "level2": ("2档", "level2", "2檔", "2档说明", "2檔說明"),
    "level3": ("3档", "level3", "3檔", "3档说明", "3檔說明"),
}
RUBRIC_REQUIRED = ("round", "module", "code", "criterion", "kind", "maximum", "step")

ENTRANT_COLUMNS: dict[str, tuple[str, ...]] = {
    "group": ("组别", "group", "組別"),
    "name": ("名称", "name", "名稱", "队名", "隊名", "姓名"),
    "unit": ("单位", "unit", "單位"),
    "members": ("成员", "members", "成員", "队员", "隊員"),
    "coaches": ("指导教师", "coaches", "指導教師", "指导老师", "指導老師"),
    "phone": ("联系电话", "phone", "聯絡電話", "聯繫電話", "手机", "手機"),
}

IGNORED_HEADERS = {normalize_header(h) for h in ("序号", "序號", "no", "no.", "#")}
KIND_NAMES = {
    CriterionKind.MEASUREMENT: ("客观", "measurement", "客觀", "客观评分", "客觀評分", "客观分", "客觀分"),
    CriterionKind.JUDGEMENT: ("主观", "judgement", "judgment", "主觀", "主观评分", "主觀評分", "主观分", "主觀分"),
}
_KINDS = {normalize_header(alias): kind for kind, aliases in KIND_NAMES.items() for alias in aliases}
_YES = {normalize_header(v) for v in ("是", "yes", "y", "1", "true", "√", "✓", "✔", "对", "對")}
_NO = {normalize_header(v) for v in ("否", "no", "n", "0", "false", "×", "✗", "")}
MODULE_CELL = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]{0,9})(?:\s*[:：\-—、.．\s]\s*|(?=[^A-Za-z0-9])|$)(.*)$")

SHEET_NAME = {key: names[0] for key, names in SHEETS.items()}
RUBRIC_HEADERS = ["轮次", "模块", "编号", "评分项", "类型", "满分", "步长", "权重", "说明", "满分或零分", "分档",
                  "0档", "1档", "2档", "3档"]
ENTRANT_HEADERS = ["组别", "名称", "单位", "成员", "指导教师", "联系电话"]
KIND_TITLES = {CriterionKind.MEASUREMENT: "客观", CriterionKind.JUDGEMENT: "主观"}


def _lookup(columns: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {normalize_header(alias): key for key, aliases in columns.items() for alias in aliases}


_RUBRIC_LOOKUP = _lookup(RUBRIC_COLUMNS)
_ENTRANT_LOOKUP = _lookup(ENTRANT_COLUMNS)
_SHEET_LOOKUP = _lookup(SHEETS)


# ---------------------------------------------------------------- reading the file


def read_workbook(filename: str, content: bytes) -> list[tuple[str, Rows]]:
    """Every sheet of an .xlsx file as (title, rows of text cells). Raises SpreadsheetError."""
    import openpyxl

    if len(content) > MAX_BYTES:
        raise SpreadsheetError("too_large", mb=MAX_BYTES // (1024 * 1024))
    name = (filename or "").lower()
    if name.endswith(".xls"):
        raise SpreadsheetError("old_excel")
    if not name.endswith(".xlsx"):
        raise SpreadsheetError("bad_type")
    if not content.startswith(b"PK\x03\x04"):
        raise SpreadsheetError("unreadable", kind="xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED:
                raise SpreadsheetError("unreadable", kind="xlsx")
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except SpreadsheetError:
        raise
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds (KeyError, BadZipFile, InvalidFileException…)
        raise SpreadsheetError("unreadable", kind="xlsx") from None
    try:
        sheets = []
        for sheet in workbook.worksheets[:20]:
            rows = _keep(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True))
            sheets.append((str(sheet.title)[:60], rows))
        return sheets
    except SpreadsheetError:
        raise
    except Exception:  # noqa: BLE001 - a broken sheet inside a valid zip fails in as many ways
        raise SpreadsheetError("unreadable", kind="xlsx") from None
    finally:
        workbook.close()


# ---------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    code: str
    params: dict = field(default_factory=dict)


@dataclass
class CheckedRow:
    number: int
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str, /, **params) -> None:
        self.problems.append(Problem(problem, params))


@dataclass
class SheetCheck:
    """One sheet as read: its title, its header problems (missing or unknown columns) and its rows."""

    key: str
    title: str
    columns: list[str] = field(default_factory=list)  # column keys found, in the file's order
    rows: list[CheckedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def problem_rows(self) -> list[CheckedRow]:
        return [r for r in self.rows if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.rows)


@dataclass
class Context:
    """What the competition has now (read once from the database; the checks themselves are pure)."""

    rounds: list[str]
    locked_rounds: set[str]
    groups: list[str]
    entrants: set[tuple[str, str, str]]  # (name, unit, phone) of entrants already in the competition
    rubric_sizes: dict[str, int] = field(default_factory=dict)  # round name -> criteria now
    judging: object = None  # judging's sheets: judging.workbook.context_for(competition)


@dataclass
class Plan:
    sheets: list[SheetCheck] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)  # not problems: what will happen, what is skipped
    rubrics: dict[str, list[tuple[services.ModuleData, list[services.CriterionData]]]] = field(default_factory=dict)
    entrants: list[tuple[str | None, services.EntrantData]] = field(default_factory=list)  # (group name, data)
    new_rounds: list[str] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # about the file as a whole
    judging: object = None  # judging's sheets: what judging.workbook.check_sheet read (judges, scores)

    @property
    def ok(self) -> bool:
        return not self.problems and all(s.ok for s in self.sheets)

    @property
    def problem_count(self) -> int:
        return len(self.problems) + sum(len(s.problems) + len(s.problem_rows) for s in self.sheets)

    def sheet(self, key: str) -> SheetCheck | None:
        return next((s for s in self.sheets if s.key == key), None)


# ---------------------------------------------------------------- columns


def _find_header(rows: Rows, lookup: dict[str, str]) -> tuple[int, list[str | None], list[str]] | None:
    """The header row among the first rows: the first naming at least two known columns. Returns its position,
    the column key of each cell (None: unknown or ignored) and the unknown headers as written."""
    for position, (_number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [lookup.get(normalize_header(c)) for c in cells]
        if sum(1 for k in keys if k) >= 2:
            unknown = [c for c, k in zip(cells, keys) if k is None and c and normalize_header(c) not in IGNORED_HEADERS]
            seen: set[str] = set()
            for i, key in enumerate(keys):  # a repeated column: the first one counts
                if key in seen:
                    keys[i] = None
                elif key:
                    seen.add(key)
            return position, keys, unknown
    return None


def _read_rows(sheet: SheetCheck, rows: Rows, lookup: dict[str, str], titles: dict[str, tuple[str, ...]],
               required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    found = _find_header(rows, lookup)
    if found is None:
        sheet.problems.append(Problem("no_header", {"columns": "、".join(titles[k][0] for k in required)}))
        return []
    position, keys, unknown = found
    sheet.columns = [k for k in keys if k]
    for header in unknown:
        sheet.problems.append(Problem("unknown_column", {"column": header}))
    missing = [titles[k][0] for k in required if k not in sheet.columns]
    if missing:
        sheet.problems.append(Problem("missing_columns", {"columns": "、".join(missing)}))
    data = rows[position + 1:]
    if len(data) > MAX_ROWS:
        sheet.problems.append(Problem("too_many_rows", {"n": MAX_ROWS}))
        return []
    return [(number, {k: (cells[i] if i < len(cells) else "") for i, k in enumerate(keys) if k})
            for number, cells in data]


def _flag(row: CheckedRow, key: str, column: str) -> bool:
    text = normalize_header(row.values.get(key, ""))
    if text in _YES:
        return True
    if text not in _NO:
        row.add("not_yes_no", column=column, value=row.values.get(key, ""))
    return False


def _number(row: CheckedRow, key: str, column: str, *, limit: Decimal = services.MAX_MAXIMUM) -> Decimal | None:
    try:
        return services.parse_decimal(row.values.get(key, ""), field_name=key, limit=limit)
    except CompetitionError as error:
        row.add(f"number_{error.code}", column=column, value=row.values.get(key, ""))
        return None


def parse_module_cell(text: str) -> tuple[str, str] | None:
    """'A 客观' / 'A：理论' / 'A' / 'M1-实操' -> (code, name); None when it does not start with a code."""
    match = MODULE_CELL.match(text or "")
    if not match:
        return None
    return match.group(1).upper(), match.group(2).strip()


# ---------------------------------------------------------------- rubric sheet


def _check_rubric(sheet: SheetCheck, rows: Rows, context: Context, plan: Plan) -> None:
    records = _read_rows(sheet, rows, _RUBRIC_LOOKUP, RUBRIC_COLUMNS, RUBRIC_REQUIRED)
    if sheet.problems and any(p.code in ("no_header", "missing_columns", "too_many_rows") for p in sheet.problems):
        sheet.rows = [CheckedRow(number, values) for number, values in records]
        return
    last = {"round": "", "module": ""}
    rounds: dict[str, dict[str, dict]] = {}  # round -> module code -> {"name", "weight", "row", "criteria"}
    codes: dict[tuple[str, str], int] = {}
    for number, values in records:
        for key in ("round", "module"):  # merged cells: a blank takes the value of the row above
            if values.get(key):
                last[key] = values[key]
            else:
                values[key] = last[key]
        row = CheckedRow(number, values)
        sheet.rows.append(row)
        for key in RUBRIC_REQUIRED:
            if not values.get(key):
                row.add("required", column=RUBRIC_COLUMNS[key][0])
        round_name = values.get("round", "")
        if len(round_name) > 60:
            row.add("too_long", column="轮次", n=60)
        elif round_name and context.rounds and round_name not in context.rounds:
            row.add("unknown_round", value=round_name, rounds="、".join(context.rounds))
        elif round_name in context.locked_rounds:
            row.add("rubric_locked", value=round_name)
        module = parse_module_cell(values.get("module", "")) if values.get("module") else None
        if values.get("module") and module is None:
            row.add("module_code", value=values["module"])
        elif module and len(module[1]) > 100:
            row.add("too_long", column="模块", n=100)
        code = services.normalize_code(values.get("code"))
        if code and not services.CRITERION_CODE.match(code):
            row.add("criterion_code", value=values.get("code", ""))
        if len(values.get("criterion", "")) > 200:
            row.add("too_long", column="评分项", n=200)
        kind = _KINDS.get(normalize_header(values.get("kind", ""))) if values.get("kind") else None
        if values.get("kind") and kind is None:
            row.add("unknown_kind", value=values["kind"])
        maximum = _number(row, "maximum", "满分") if values.get("maximum") else None
        step = _number(row, "step", "步长") if values.get("step") else None
        weight = _number(row, "weight", "权重", limit=Decimal(100)) if values.get("weight") else None
        full_or_zero = _flag(row, "full_or_zero", "满分或零分")
        ladder = _flag(row, "ladder", "分档")
        levels = [values.get(f"level{i}", "") for i in range(4)]
        if maximum is not None and step is not None and kind is not None:
            for _code, _field, message in services.check_criterion_values(maximum, step, kind, ladder, levels,
                                                                           full_or_zero):
                row.add("criterion_rule", message=str(message))
        if round_name and code:
            first = codes.get((round_name, code))
            if first is not None:
                row.add("duplicate_code", code=code, row=first)
            else:
                codes[(round_name, code)] = number
        if not row.ok or module is None:
            continue
        modules = rounds.setdefault(round_name, {})
        entry = modules.get(module[0])
        if entry is None:
            entry = modules[module[0]] = {"name": module[1], "weight": weight, "row": number, "criteria": []}
        else:  # a module's name and weight may be given on one of its rows, or repeated on each
            if module[1] and entry["name"] and module[1] != entry["name"]:
                row.add("module_name_conflict", code=module[0], row=entry["row"])
            elif module[1] and not entry["name"]:
                entry["name"] = module[1]
            if weight is not None and entry["weight"] is not None and weight != entry["weight"]:
                row.add("weight_conflict", code=module[0], row=entry["row"])
            elif weight is not None:
                entry["weight"] = weight
        if row.ok:
            entry["criteria"].append(services.CriterionData(
                code=code, name=values["criterion"], maximum=maximum, step=step, kind=kind,
                description=values.get("description", "")[:5000], full_or_zero=full_or_zero, ladder=ladder,
                levels=levels if ladder else []))
    if not sheet.rows:
        sheet.problems.append(Problem("empty_sheet"))
    for round_name, modules in rounds.items():
        weights = [m["weight"] for m in modules.values()]
        if any(w is not None for w in weights) and (any(w is None for w in weights) or sum(weights) != 100):
            sheet.problems.append(Problem("weights", {"round": round_name}))
        plan.rubrics[round_name] = [
            (services.ModuleData(code=code, name=m["name"], weight=m["weight"]), m["criteria"])
            for code, m in modules.items()
        ]
        if not context.rounds:
            plan.new_rounds.append(round_name)
        elif context.rubric_sizes.get(round_name):
            plan.notices.append(Problem("rubric_replaced", {"round": round_name, "n": context.rubric_sizes[round_name]}))


# ---------------------------------------------------------------- entrants sheet


def _check_entrants(sheet: SheetCheck, rows: Rows, context: Context, plan: Plan) -> None:
    required = ("name", "group") if context.groups else ("name",)
    records = _read_rows(sheet, rows, _ENTRANT_LOOKUP, ENTRANT_COLUMNS, required)
    if any(p.code in ("no_header", "missing_columns", "too_many_rows") for p in sheet.problems):
        sheet.rows = [CheckedRow(number, values) for number, values in records]
        return
    seen: dict[tuple[str, str, str], int] = {}
    any_group = any(values.get("group") for _n, values in records)
    new_groups: list[str] = []
    for number, values in records:
        row = CheckedRow(number, values)
        sheet.rows.append(row)
        name, unit, group = values.get("name", ""), values.get("unit", ""), values.get("group", "")
        if not name:
            row.add("required", column="名称")
        elif len(name) > 100:
            row.add("too_long", column="名称", n=100)
        if len(unit) > 200:
            row.add("too_long", column="单位", n=200)
        if context.groups:
            if not group:
                row.add("required", column="组别")
            elif group not in context.groups:
                row.add("unknown_group", value=group, groups="、".join(context.groups))
        elif any_group:
            if not group:
                row.add("required", column="组别")
            elif len(group) > 60:
                row.add("too_long", column="组别", n=60)
            elif group not in new_groups:
                new_groups.append(group)
        members, coaches = split_names(values.get("members")), split_names(values.get("coaches"))
        for column, names in (("成员", members), ("指导教师", coaches)):
            if len(names) > services.MAX_LIST_NAMES or any(len(n) > 60 for n in names):
                row.add("too_many_names", column=column, n=services.MAX_LIST_NAMES)
        phone = values.get("phone", "")
        if phone:
            from registration.identity import parse_phone

            try:
                phone = parse_phone(phone)
            except ValueError:
                row.add("invalid_phone", value=values.get("phone", ""))
        if name:  # the same name, unit and phone: the same entrant (two teams of a school may share a name)
            key = (name, unit, phone if not any(p.code == "invalid_phone" for p in row.problems) else "")
            if key in context.entrants:
                row.add("already_entrant", name=name)
            elif key in seen:
                row.add("duplicate_entrant", name=name, row=seen[key])
            else:
                seen[key] = number
        if row.ok:
            plan.entrants.append((group or None, services.EntrantData(
                name=name, unit=unit, is_team=bool(members), members=members, coaches=coaches,
                phone=phone)))
    if not sheet.rows:
        sheet.problems.append(Problem("empty_sheet"))
    plan.new_groups = new_groups


# ---------------------------------------------------------------- the whole workbook


def check_sheets(sheets: list[tuple[str, Rows]], context: Context) -> Plan:
    """Check a workbook's sheets against what the competition has. Pure: reads nothing, saves nothing."""
    plan = Plan()
    taken: set[str] = set()
    later: list[tuple[str, str, Rows]] = []  # judging's sheets
    for title, rows in sheets:
        key = _SHEET_LOOKUP.get(normalize_header(title))
        if key in taken:
            plan.notices.append(Problem("sheet_repeated", {"sheet": title}))
            continue
        if key in ("rubric", "entrants"):
            taken.add(key)
            sheet = SheetCheck(key=key, title=title)
            plan.sheets.append(sheet)
            (_check_rubric if key == "rubric" else _check_entrants)(sheet, rows, context, plan)
        elif key in ("judges", "scores"):  # judging's sheets: checked last, they refer to the rubric and entrants
            taken.add(key)
            later.append((key, title, rows))
        elif key != "notes":
            plan.notices.append(Problem("unknown_sheet", {"sheet": title}))
    for key, title, rows in sorted(later, key=lambda item: item[0] != "judges"):  # judging's sheets
        from judging import workbook as judging_workbook

        if context.judging is None:
            if any(cells for _n, cells in rows[1:]):
                plan.notices.append(Problem("later_sheet", {"sheet": title}))
        else:
            judging_workbook.check_sheet(key, title, rows, context, plan)
    if not plan.sheets:
        plan.problems.append(Problem("no_sheets"))
    return plan


def context_for(competition: Competition) -> Context:
    rounds = list(db.session.scalars(sa.select(Round).where(Round.competition_id == competition.id)
                                     .order_by(Round.position, Round.id)))
    locked, sizes = set(), {}
    for round_ in rounds:
        rubric = services.rubric_for(round_)
        if rubric.locked:
            locked.add(round_.name)
        sizes[round_.name] = sum(len(m.criteria) for m in rubric.modules)
    groups = list(db.session.scalars(sa.select(Group.name).where(Group.competition_id == competition.id)
                                     .order_by(Group.position, Group.id)))
    entrants = {(name, unit, phone or "") for name, unit, phone in db.session.execute(
        sa.select(Entrant.name, Entrant.unit, Entrant.phone).where(Entrant.competition_id == competition.id))}
    from judging import workbook as judging_workbook  # judging's sheets

    return Context(rounds=[r.name for r in rounds], locked_rounds=locked, groups=groups, entrants=entrants,
                   rubric_sizes=sizes, judging=judging_workbook.context_for(competition))


def check_workbook(competition: Competition, sheets: list[tuple[str, Rows]]) -> Plan:
    return check_sheets(sheets, context_for(competition))


class WorkbookImportError(CompetitionError):
    """The workbook has problems: nothing was imported. ``plan`` holds the fresh checks for the page."""

    def __init__(self, plan: Plan):
        from flask_babel import ngettext

        super().__init__("workbook_invalid", ngettext("Nothing was imported: the workbook has %(num)d problem.",
                                                      "Nothing was imported: the workbook has %(num)d problems.",
                                                      plan.problem_count), status=422)
        self.plan = plan


@dataclass
class ImportOutcome:
    rounds: list[str] = field(default_factory=list)  # rubrics imported
    criteria: int = 0
    entrants: int = 0
    new_rounds: list[str] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)
    judging: object = None  # judging's sheets: judging.workbook.JudgingOutcome


def import_workbook(competition: Competition, sheets: list[tuple[str, Rows]], *, actor, now: datetime,
                    filename: str = "") -> ImportOutcome:
    """Check the sheets again (the competition may have changed since the preview) and apply them, all or
    nothing: a problem raises WorkbookImportError and the caller rolls back. Flushes, never commits."""
    services.lock_competition(competition)
    plan = check_workbook(competition, sheets)
    if not plan.ok:
        raise WorkbookImportError(plan)
    outcome = ImportOutcome(new_rounds=list(plan.new_rounds), new_groups=list(plan.new_groups))
    for name in plan.new_rounds:
        services.add_round(competition, services.RoundData(name=name), actor=actor, now=now, audit=False)
    for name in plan.new_groups:
        services.add_group(competition, name, actor=actor, now=now, audit=False)
    rounds = {r.name: r for r in db.session.scalars(sa.select(Round).where(Round.competition_id == competition.id))}
    groups = {g.name: g.id for g in db.session.scalars(sa.select(Group).where(Group.competition_id == competition.id))}
    for round_name, modules in plan.rubrics.items():
        services.replace_rubric(rounds[round_name], modules, actor=actor, now=now)
        outcome.rounds.append(round_name)
        outcome.criteria += sum(len(criteria) for _m, criteria in modules)
    for group_name, data in plan.entrants:
        data.group_id = groups.get(group_name) if group_name else None
        services.add_entrant(competition, data, actor=actor, now=now, source=EntrantSource.IMPORT, audit=False)
        outcome.entrants += 1
    from judging import workbook as judging_workbook  # judging's sheets, after the rubric and entrants

    outcome.judging = judging_workbook.apply(competition, plan, actor=actor, now=now)
    services.audit_competition(actor, competition, "competition.workbook_import", now, filename=filename[:200] or None,
                    rounds=outcome.rounds or None, criteria=outcome.criteria, entrants=outcome.entrants)
    db.session.flush()
    db.session.expire(competition)
    return outcome


# ---------------------------------------------------------------- writing


def rubric_rows(competition: Competition) -> list[list]:
    rows: list[list] = []
    for round_ in competition.rounds:
        rubric = services.rubric_for(round_)
        for module in rubric.modules:
            label = f"{module.code} {module.name}".strip()
            for c in module.criteria:
                levels = list(c.levels or []) + [""] * 4
                rows.append([round_.name, label, c.code, c.name, KIND_TITLES[c.kind], format_decimal(c.maximum),
                             format_decimal(c.step), format_decimal(module.weight), c.description,
                             "是" if c.full_or_zero else "", "是" if c.ladder else "", *levels[:4]])
    return rows


def entrant_rows(competition: Competition) -> list[list]:
    groups = {g.id: g.name for g in competition.groups}
    return [[groups.get(e.group_id, ""), e.name, e.unit, "、".join(e.members or []), "、".join(e.coaches or []),
             e.phone or ""] for e in services.list_entrants(competition)]


RUBRIC_WIDTHS = [10, 14, 8, 28, 8, 8, 8, 8, 36, 10, 8, 18, 18, 18, 18]
ENTRANT_WIDTHS = [12, 24, 28, 30, 18, 16]


def notes_sheet() -> Sheet:
    """说明: what each column means, with an example, in the language of the sheet names (Chinese)."""
    rows = [
        ["评分标准", "轮次", "round", "必填", "轮次名称，如 初赛、决赛。合并单元格或留空时沿用上一行。", "初赛"],
        ["评分标准", "模块", "module", "必填", "模块编号和名称，如 “A 客观”“B 主观”。留空时沿用上一行。", "A 客观"],
        ["评分标准", "编号", "code", "必填", "评分项编号，同一轮次内不得重复。", "A1"],
        ["评分标准", "评分项", "criterion", "必填", "评分项名称。", "云主机部署"],
        ["评分标准", "类型", "kind", "必填", "客观（measurement）或 主观（judgement）。", "客观"],
        ["评分标准", "满分", "max", "必填", "该项最高分，须为步长的整数倍。", "10"],
        ["评分标准", "步长", "step", "必填", "评分的最小单位，如 1、0.5。", "0.5"],
        ["评分标准", "权重", "weight", "选填", "模块权重（%），同一模块各行相同；填写时各模块之和须为 100。", "40"],
        ["评分标准", "说明", "description", "选填", "评分要点。", "能正确创建并访问云主机"],
        ["评分标准", "满分或零分", "full_or_zero", "选填", "客观项只能得满分或零分时填 “是”。", "是"],
        ["评分标准", "分档", "ladder", "选填", "主观项按 0–3 档评分时填 “是”，并填写四档说明；得分 = 档次 ÷ 3 × 满分。", "是"],
        ["评分标准", "0档 … 3档", "level0 … level3", "分档时必填", "每一档的描述。", "未完成 / 基本完成 / 完成良好 / 超出预期"],
        ["参赛者", "组别", "group", "赛项设有组别时必填", "须为本赛项已有的组别；赛项尚无组别时按此列创建。", "高职组"],
        ["参赛者", "名称", "name", "必填", "参赛者姓名或参赛队名称。", "飞翔队"],
        ["参赛者", "单位", "unit", "选填", "学校、企业或机构名称（用于回避）。", "厦门城市职业学院"],
        ["参赛者", "成员", "members", "选填", "队员姓名，用 、 或 , 分隔，领队在前。", "张三、李四"],
        ["参赛者", "指导教师", "coaches", "选填", "用 、 或 , 分隔。", "王老师"],
        ["参赛者", "联系电话", "phone", "选填", "手机号码。", "13800138000"],
        *_judging_notes(),  # judging's sheets
    ]
    return Sheet("说明", ["工作表", "列名", "英文列名", "是否必填", "说明", "示例"], rows, [12, 14, 16, 14, 60, 30])


def _judging_notes() -> list[list]:
    from judging import workbook as judging_workbook

    return judging_workbook.notes_rows()


def _judging_sheets(competition: Competition | None) -> list[Sheet]:
    """评委 and 成绩 (judging/workbook.py): empty in the template, filled in an export."""
    from judging import workbook as judging_workbook

    return judging_workbook.template_sheets() if competition is None else judging_workbook.export_sheets(competition)


def template_workbook() -> bytes:
    """An empty workbook to fill in: the two sheets with their headers, and the notes."""
    return build_workbook([
        Sheet(SHEET_NAME["rubric"], RUBRIC_HEADERS, [], RUBRIC_WIDTHS),
        Sheet(SHEET_NAME["entrants"], ENTRANT_HEADERS, [], ENTRANT_WIDTHS),
        *_judging_sheets(None),  # judging's sheets
        notes_sheet(),
    ])


def export_workbook(competition: Competition) -> bytes:
    """The competition in the workbook's format: its rubrics and its entrants (phone numbers unmasked: the
    caller checks the organizer role and logs the export)."""
    return build_workbook([
        Sheet(SHEET_NAME["rubric"], RUBRIC_HEADERS, rubric_rows(competition), RUBRIC_WIDTHS),
        Sheet(SHEET_NAME["entrants"], ENTRANT_HEADERS, entrant_rows(competition), ENTRANT_WIDTHS),
        *_judging_sheets(competition),  # judging's sheets
        notes_sheet(),
    ])


# ---------------------------------------------------------------- messages


FILE_MESSAGES = {
    "too_large": _l("The file is larger than %(mb)d MB."),
    "bad_type": _l("Upload an Excel workbook (.xlsx)."),
    "old_excel": _l("Old Excel files (.xls) cannot be read: open it in Excel or WPS and save it as .xlsx."),
    "unreadable": _l("This file could not be read as %(kind)s."),
    "empty": _l("The file has no rows to import."),
    "too_many_rows": _l("The file has more than %(n)d rows; split it into several files."),
}

PROBLEM_MESSAGES = {
    "no_sheets": _l("The workbook has neither a sheet 评分标准 nor a sheet 参赛者."),
    "no_header": _l("No header row found: one of the first rows must name the columns (%(columns)s)."),
    "missing_columns": _l("Columns missing: %(columns)s."),
    "unknown_column": _l("Unknown column “%(column)s”: rename it as in the template, or delete it."),
    "too_many_rows": _l("More than %(n)d rows; split the sheet."),
    "empty_sheet": _l("The sheet has no rows."),
    "weights": _l("Round %(round)s: give every module a weight, adding up to 100, or give none."),
    "required": _l("Enter the %(column)s."),
    "too_long": _l("%(column)s: at most %(n)d characters."),
    "unknown_round": _l("Unknown round “%(value)s”; this competition's rounds are %(rounds)s."),
    "rubric_locked": _l("Scoring has started in round %(value)s: its rubric can no longer change."),
    "module_code": _l("“%(value)s” does not start with a module code such as A or B."),
    "criterion_code": _l("“%(value)s” is not a criterion code: use letters and digits, e.g. A1."),
    "unknown_kind": _l("Unknown type “%(value)s”: write 客观 or 主观."),
    "not_yes_no": _l("%(column)s: write 是 or 否, not “%(value)s”."),
    "number_not_a_number": _l("%(column)s: “%(value)s” is not a number."),
    "number_not_positive": _l("%(column)s must be greater than zero."),
    "number_too_many_places": _l("%(column)s: at most 4 decimal places."),
    "number_too_large": _l("%(column)s: “%(value)s” is too large."),
    "criterion_rule": "%(message)s",
    "duplicate_code": _l("Criterion %(code)s is already on row %(row)d of this round."),
    "module_name_conflict": _l("Module %(code)s has another name on row %(row)d."),
    "weight_conflict": _l("Module %(code)s has another weight on row %(row)d."),
    "unknown_group": _l("Unknown group “%(value)s”; this competition's groups are %(groups)s."),
    "too_many_names": _l("%(column)s: at most %(n)d names of at most 60 characters."),
    "invalid_phone": _l("“%(value)s” is not a valid mobile phone number."),
    "already_entrant": _l("%(name)s is already an entrant of this competition."),
    "duplicate_entrant": _l("%(name)s is already on row %(row)d."),
}

NOTICE_MESSAGES = {
    "later_sheet": _l("Sheet %(sheet)s is imported with the judging set-up; it was not read now."),
    "unknown_sheet": _l("Sheet %(sheet)s is not a sheet of the competition workbook; it was skipped."),
    "sheet_repeated": _l("Sheet %(sheet)s repeats an earlier sheet; it was skipped."),
    "rubric_replaced": _l("The rubric of round %(round)s (%(n)d criteria now) will be replaced."),
}


def _format(template, params: dict) -> str:
    try:
        return str(template) % params if params else str(template)
    except (KeyError, TypeError, ValueError):
        return str(template)


def problem_message(problem: Problem) -> str:
    from judging import workbook as judging_workbook  # judging's sheets have their own problems

    template = PROBLEM_MESSAGES.get(problem.code) or judging_workbook.PROBLEM_MESSAGES.get(problem.code, problem.code)
    return _format(template, problem.params)


def notice_message(notice: Problem) -> str:
    from judging import workbook as judging_workbook  # judging's sheets have their own notices

    template = NOTICE_MESSAGES.get(notice.code) or judging_workbook.NOTICE_MESSAGES.get(notice.code, notice.code)
    return _format(template, notice.params)


def file_message(error: SpreadsheetError) -> str:
    return _format(FILE_MESSAGES.get(error.code, FILE_MESSAGES["bad_type"]), error.params)


# ---------------------------------------------------------------- the file between preview and confirmation


class PendingWorkbooks(PendingImports):
    """Uploaded workbooks kept between the preview and the organizer's confirmation: one JSON file per upload,
    named by a random token, usable only by the user and competition that uploaded it, expiring after ``ttl`` and
    deleted after the import (entrants' phones are in it). See ``registration.imports.PendingImports``."""

    def save_sheets(self, *, competition_id: int, user_id: int, filename: str, sheets: list[tuple[str, Rows]],
                    now: datetime) -> str:
        import secrets

        self.sweep()
        self.directory.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        path = self._path(token)
        payload = {"competition_id": competition_id, "user_id": user_id, "filename": filename[:200],
                   "created_at": now.isoformat(),
                   "sheets": [[title, [[number, cells] for number, cells in rows]] for title, rows in sheets]}
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, ensure_ascii=False)
        os.replace(temporary, path)
        return token

    def load_sheets(self, token: str, *, competition_id: int, user_id: int,
                    now: datetime) -> tuple[str, list[tuple[str, Rows]]] | None:
        """(filename, sheets) of an upload, or None when unknown, expired or someone else's."""
        path = self._path(token)
        if path is None or not path.is_file():
            return None
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            created_at = datetime.fromisoformat(payload["created_at"])
            sheets = [(str(title), [(int(number), [str(c) for c in cells]) for number, cells in rows])
                      for title, rows in payload["sheets"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if payload.get("competition_id") != competition_id or payload.get("user_id") != user_id:
            return None
        if now - created_at > self.ttl:
            self.discard(token)
            return None
        return str(payload.get("filename", "")), sheets


def pending_directory(instance_path: str, configured: str | None = None) -> Path:
    return Path(configured or os.path.join(instance_path, "competition-imports"))
