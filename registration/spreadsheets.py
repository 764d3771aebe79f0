"""Sign-up lists as spreadsheets: reading the sheets units send (.xlsx or CSV) into checked rows, and writing the
organizer's export.

Pure: no Flask, no database. Problems are codes with parameters (``RowProblem``), turned into sentences in the
user's language by the page that shows them. Column and sheet names are Chinese (SPEC); the English names are
accepted too, and the Traditional spellings, since units in Taiwan, Hong Kong and Macau send sheets as well.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from registration.fields import FieldKind, FieldSpec, validate_answers
from registration.identity import parse_email, parse_id_document, parse_phone

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 60
MAX_CELL = 2001  # characters kept of a cell: one more than the longest answer, so the length checks still fail
# An .xlsx is a zip archive: refuse one whose parts would inflate beyond this (a "zip bomb").
MAX_UNCOMPRESSED = 64 * 1024 * 1024
HEADER_SEARCH_ROWS = 10
MAX_SCANNED = 50_000  # rows read, blank ones included  # units often put a title row (“XX学校报名表”) above the header

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SpreadsheetError(ValueError):
    """The file as a whole cannot be used: ``code`` says why, ``params`` fill the message."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


# ---------------------------------------------------------------- reading a file into a table


@dataclass
class Table:
    """The cells of one sheet as text. ``rows`` holds (row number as the spreadsheet shows it, cells)."""

    rows: list[tuple[int, list[str]]]


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "")
    return text.strip()[:MAX_CELL]


def _keep(rows: Iterable[Sequence], first_number: int = 1) -> list[tuple[int, list[str]]]:
    """Cells as text, blank rows dropped; more than MAX_ROWS (+ a few header rows) is refused."""
    kept: list[tuple[int, list[str]]] = []
    for number, row in enumerate(rows, start=first_number):
        if number > MAX_SCANNED:  # blank rows in between are skipped, but not forever
            raise SpreadsheetError("too_many_rows", n=MAX_ROWS)
        cells = [_cell_text(v) for v in list(row)[:MAX_COLUMNS]]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        kept.append((number, cells))
        if len(kept) > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise SpreadsheetError("too_many_rows", n=MAX_ROWS)
    return kept


def _read_xlsx(content: bytes) -> list[tuple[int, list[str]]]:
    import openpyxl

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
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise SpreadsheetError("empty")
        return _keep(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True))
    except SpreadsheetError:
        raise
    except Exception:  # noqa: BLE001 - a broken sheet inside a valid zip fails in as many ways
        raise SpreadsheetError("unreadable", kind="xlsx") from None
    finally:
        workbook.close()


def decode_csv(content: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), else GBK (GB 18030, its superset), as Excel saves on Chinese
    Windows."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError("encoding")


def _read_csv(content: bytes) -> list[tuple[int, list[str]]]:
    text = decode_csv(content)
    if "\x00" in text:
        raise SpreadsheetError("unreadable", kind="CSV")
    sample = text[:4096]
    delimiter = max((",", "\t", ";"), key=sample.count) if sample else ","
    try:
        return _keep(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        raise SpreadsheetError("unreadable", kind="CSV") from None


def read_table(filename: str, content: bytes) -> Table:
    """The first sheet of an .xlsx workbook, or a CSV file, as text cells. Raises SpreadsheetError."""
    if len(content) > MAX_BYTES:
        raise SpreadsheetError("too_large", mb=MAX_BYTES // (1024 * 1024))
    name = (filename or "").lower()
    if name.endswith(".xls"):
        raise SpreadsheetError("old_excel")
    if name.endswith(".xlsx"):
        if not content.startswith(b"PK\x03\x04"):
            raise SpreadsheetError("unreadable", kind="xlsx")
        rows = _read_xlsx(content)
    elif name.endswith(".csv"):
        if content.startswith(b"PK\x03\x04"):  # an .xlsx renamed to .csv
            raise SpreadsheetError("unreadable", kind="CSV")
        rows = _read_csv(content)
    else:
        raise SpreadsheetError("bad_type")
    if not rows:
        raise SpreadsheetError("empty")
    return Table(rows=rows)


# ---------------------------------------------------------------- columns

# field -> accepted headers (compared after ``normalize_header``); the first one is the name we write.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name", "名字"),
    "phone": ("手机", "联系电话", "手机号", "手机号码", "phone", "mobile", "手機", "聯絡電話", "聯繫電話", "手機號碼"),
    "unit": ("单位", "unit", "工作单位", "单位名称", "單位", "工作單位"),
    "group": ("组别", "group", "組別"),
    "email": ("邮箱", "电子邮箱", "email", "e-mail", "郵箱", "電子郵箱", "電子郵件"),
    "id_kind": ("证件类型", "id_kind", "document type", "證件類型"),
    "id_number": ("证件号码", "身份证号", "身份证号码", "id_number", "id number", "證件號碼", "身份證號", "身分證號"),
    "job_title": ("职务", "job_title", "job title", "職務"),
    "team_name": ("队名", "team_name", "team name", "team", "隊名"),
    "role": ("角色", "role"),
}
# Headers people put in every sheet that carry nothing to import: not reported as unknown.
IGNORED_HEADERS = ("序号", "序號", "no", "no.", "#", "编号", "編號")

_NOTE = re.compile(r"[（(][^）)]*[）)]")
_JUNK = re.compile(r"[\s*＊:：_\-]+")


def normalize_header(text: str) -> str:
    """'手机（必填）*' -> '手机'; 'E-mail' -> 'email'; 'ID number' -> 'idnumber'."""
    return _JUNK.sub("", _NOTE.sub("", text or "")).lower()


ANSWER = "answer:"  # column key prefix of the event's own questions
_HEADER_FIELDS = {normalize_header(alias): name for name, aliases in COLUMNS.items() for alias in aliases}
_IGNORED = {normalize_header(h) for h in IGNORED_HEADERS}


@dataclass
class Columns:
    index: dict[str, int]  # field -> column position
    unknown: list[str]  # headers we do not know, as written
    header_row: int
    unused: list[str] = field(default_factory=list)  # known headers this event does not take (队名 for individuals)


def find_columns(table: Table, questions: Sequence[FieldSpec] = ()) -> tuple[Columns, list[tuple[int, list[str]]]]:
    """Find the header row (the first of the top rows that names a name or phone column); return the columns and
    the data rows below it. A column titled like one of the event's own questions holds its answers (field
    ``answer:<key>``); the fixed columns win when a question has the same title."""
    known = {normalize_header(q.label): f"{ANSWER}{q.key}" for q in questions}
    known.update(_HEADER_FIELDS)
    for position, (number, cells) in enumerate(table.rows[:HEADER_SEARCH_ROWS]):
        fields = [known.get(normalize_header(c)) for c in cells]
        if "name" not in fields and "phone" not in fields:
            continue
        index: dict[str, int] = {}
        unknown: list[str] = []
        for i, (cell, name) in enumerate(zip(cells, fields)):
            if name is None:
                if cell and normalize_header(cell) not in _IGNORED:
                    unknown.append(cell)
            elif name not in index:  # a repeated column: the first one counts
                index[name] = i
        data = table.rows[position + 1:]
        if not data:
            raise SpreadsheetError("empty")
        if len(data) > MAX_ROWS:
            raise SpreadsheetError("too_many_rows", n=MAX_ROWS)
        return Columns(index=index, unknown=unknown, header_row=number), data
    raise SpreadsheetError("no_header")


def table_header(table: Table, columns: Columns, name: str) -> str:
    """The header of column ``name`` as the file writes it."""
    cells = next(cells for number, cells in table.rows if number == columns.header_row)
    return cells[columns.index[name]]


# ---------------------------------------------------------------- checking rows


@dataclass(frozen=True)
class ImportRules:
    """What the event asks for, taken from its registration settings."""

    team: bool = False
    groups: tuple[str, ...] = ()
    require_id_number: bool = False
    team_min_members: int = 1
    team_max_members: int = 5
    team_max_coaches: int = 2
    questions: tuple[FieldSpec, ...] = ()  # the event's own questions (form builder)

    def required_columns(self) -> list[str]:
        required = ["name", "phone", "unit"]
        if self.groups:
            required.append("group")
        if self.require_id_number:
            required.append("id_number")
        if self.team:
            required.append("team_name")
        required += [f"{ANSWER}{q.key}" for q in self.questions if q.required and not q.condition_key]
        return required

    def column_title(self, name: str) -> str:
        """How the file should title column ``name``: the Chinese header, or the question's own label."""
        if name.startswith(ANSWER):
            key = name[len(ANSWER):]
            return next((q.label for q in self.questions if q.key == key), key)
        return COLUMNS[name][0]


@dataclass(frozen=True)
class RowProblem:
    code: str
    column: str | None = None  # the field the problem is about (``name``, ``phone``, ``answer:<key>`` …)
    params: dict = field(default_factory=dict)


@dataclass
class CheckedRow:
    number: int
    values: dict[str, str]  # the cells as written, per field
    data: dict = field(default_factory=dict)  # normalized values of the fields that passed
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code: str, column: str | None = None, **params) -> None:
        self.problems.append(RowProblem(code, column, params))


@dataclass
class Entry:
    """One sign-up to create: an individual row, or a team (leader first, then members and coaches)."""

    rows: list[CheckedRow]

    @property
    def leader(self) -> CheckedRow:
        return self.rows[0]

    @property
    def numbers(self) -> list[int]:
        return [r.number for r in self.rows]


FindTaken = Callable[[set[str], set[str]], tuple[Collection[str], Collection[str]]]


@dataclass
class CheckedTable:
    columns: Columns
    rows: list[CheckedRow]
    missing: list[str]  # titles of required columns the file lacks
    entries: list[Entry] = field(default_factory=list)  # sign-ups that can be created (all their rows ok)

    @property
    def valid_rows(self) -> list[CheckedRow]:
        return [r for r in self.rows if r.ok]

    @property
    def invalid_rows(self) -> list[CheckedRow]:
        return [r for r in self.rows if not r.ok]

    @property
    def all_valid(self) -> bool:
        return not self.missing and bool(self.rows) and all(r.ok for r in self.rows)


ID_KIND_NAMES = {
    "resident_id": ("身份证", "居民身份证", "身份證", "身分證", "resident_id", "resident id", "id card"),
    "passport": ("护照", "護照", "passport"),
    "taiwan_permit": ("台胞证", "台湾居民来往大陆通行证", "台胞證", "台灣居民來往大陸通行證", "taiwan_permit"),
}
_ID_KINDS = {normalize_header(alias): kind for kind, aliases in ID_KIND_NAMES.items() for alias in aliases}
ROLE_NAMES = {
    "leader": ("领队", "領隊", "队长", "隊長", "leader"),
    "member": ("队员", "隊員", "member"),
    "coach": ("指导教师", "指導教師", "指导老师", "指導老師", "教练", "教練", "coach"),
}
_ROLES = {normalize_header(alias): role for role, aliases in ROLE_NAMES.items() for alias in aliases}

# Database column widths (PostgreSQL enforces them): longer values are a row problem, not a crash.
LIMITS = {"name": 60, "unit": 200, "group": 60, "email": 254, "job_title": 100, "team_name": 100, "phone": 30,
          "id_number": 30}


def _check_row(number: int, cells: list[str], columns: Columns, rules: ImportRules) -> CheckedRow:
    values = {name: (cells[i] if i < len(cells) else "") for name, i in columns.index.items()}
    row = CheckedRow(number=number, values=values)
    data = row.data
    for name, limit in LIMITS.items():
        if len(values.get(name, "")) > limit:
            row.add("too_long", name, n=limit)
    if any(p.code == "too_long" for p in row.problems):
        return row

    name = values.get("name", "")
    if name:
        data["name"] = name
    else:
        row.add("name_required", "name")

    role = "member"
    if rules.team and values.get("role"):
        role = _ROLES.get(normalize_header(values["role"]), "")
        if not role:
            row.add("unknown_role", "role", value=values["role"])
    data["role"] = role or "member"

    raw_phone = values.get("phone", "")
    if raw_phone or data["role"] != "coach":
        try:
            data["phone"] = parse_phone(raw_phone)
        except ValueError as error:
            row.add(str(error), "phone")

    unit = values.get("unit", "")
    if unit:
        data["unit"] = unit
    elif not rules.team:  # a team's unit is its leader's: checked in _check_teams
        row.add("unit_required", "unit")

    group = values.get("group", "")
    if rules.groups:
        if not group:
            row.add("group_required", "group", groups="、".join(rules.groups))
        elif group not in rules.groups:
            row.add("unknown_group", "group", value=group, groups="、".join(rules.groups))
        else:
            data["group_name"] = group
    elif group:
        row.add("no_groups", "group", value=group)

    if values.get("email"):
        try:
            data["email"] = parse_email(values["email"])
        except ValueError:
            row.add("invalid_email", "email")

    raw_kind = values.get("id_kind", "")
    kind = _ID_KINDS.get(normalize_header(raw_kind)) if raw_kind else "resident_id"
    if kind is None:
        row.add("unknown_id_kind", "id_kind", value=raw_kind)
    raw_id = values.get("id_number", "")
    if raw_id and kind:
        try:
            data["id_number"] = parse_id_document(kind, raw_id)
            data["id_kind"] = kind
        except ValueError as error:
            row.add(str(error), "id_number")
    elif not raw_id and rules.require_id_number and not rules.team:
        row.add("id_required", "id_number")

    if values.get("job_title"):
        data["job_title"] = values["job_title"]
    if rules.team:
        team = values.get("team_name", "")
        if team:
            data["team_name"] = team
        else:
            row.add("team_name_required", "team_name")
    return row


_LIST_SEPARATORS = re.compile(r"\s*[、,，;；\n]\s*")


def _check_answers(rows: list[CheckedRow], rules: ImportRules) -> None:
    """The event's own questions, checked as the sign-up form checks them. A team answers once: on its leader's
    row (the first of the team unless a row says 领队); the other rows' answers are not used."""
    if not rules.questions:
        return
    answering = rows if not rules.team else [_leader_first(t)[0] for t in _teams(rows).values()]
    for row in answering:
        raw: dict = {}
        for q in rules.questions:
            text = row.values.get(f"{ANSWER}{q.key}", "")
            if q.kind == FieldKind.MULTI_CHOICE:
                raw[q.key] = [v for v in _LIST_SEPARATORS.split(text) if v]
            else:
                raw[q.key] = text
        result = validate_answers(list(rules.questions), raw)
        row.data["answers"] = result.answers
        for q in rules.questions:
            if q.key in result.errors:
                row.add("answer", f"{ANSWER}{q.key}", label=q.label, answer_code=result.errors[q.key])


def _mark_duplicates_in_file(rows: list[CheckedRow]) -> None:
    first_phone: dict[str, int] = {}
    first_id: dict[str, int] = {}
    for row in rows:
        phone, id_number = row.data.get("phone"), row.data.get("id_number")
        if phone and row.data.get("role") != "coach":
            if phone in first_phone:
                row.add("duplicate_in_file", "phone", row=first_phone[phone])
            else:
                first_phone[phone] = row.number
        if id_number and row.data.get("role") != "coach":
            if id_number in first_id:
                row.add("duplicate_id_in_file", "id_number", row=first_id[id_number])
            else:
                first_id[id_number] = row.number


def _mark_existing(rows: list[CheckedRow], taken_phones: Collection[str], taken_ids: Collection[str]) -> None:
    for row in rows:
        phone, id_number = row.data.get("phone"), row.data.get("id_number")
        if row.data.get("role") == "coach":
            continue
        if phone and phone in taken_phones:
            row.add("already_signed_up", "phone", phone=phone)
        if id_number and id_number in taken_ids:
            row.add("id_already_signed_up", "id_number")


def _build_entries(rows: list[CheckedRow], rules: ImportRules) -> list[Entry]:
    if not rules.team:
        return [Entry(rows=[row]) for row in rows if row.ok]
    entries: list[Entry] = []
    for team_rows in _teams(rows).values():
        if all(r.ok for r in team_rows):
            entries.append(Entry(rows=_leader_first(team_rows)))
    return entries


def _teams(rows: list[CheckedRow]) -> dict[str, list[CheckedRow]]:
    teams: dict[str, list[CheckedRow]] = {}
    for row in rows:
        name = row.data.get("team_name")
        if name:
            teams.setdefault(name, []).append(row)
    return teams


def _leader_first(team_rows: list[CheckedRow]) -> list[CheckedRow]:
    leaders = [r for r in team_rows if r.data.get("role") == "leader"]
    leader = leaders[0] if leaders else next((r for r in team_rows if r.data.get("role") != "coach"), team_rows[0])
    return [leader] + [r for r in team_rows if r is not leader]


def _check_teams(rows: list[CheckedRow], rules: ImportRules) -> None:
    """Team rules: one leader, sizes within the settings. A team is imported whole or not at all, so a problem in
    one of its rows is reported on the others too (``team_has_errors``)."""
    for team, team_rows in _teams(rows).items():
        leaders = [r for r in team_rows if r.data.get("role") == "leader"]
        for extra in leaders[1:]:
            extra.add("two_leaders", "role", team=team, row=leaders[0].number)
        ordered = _leader_first(team_rows)
        leader = ordered[0]
        if leader.data.get("role") == "coach":
            leader.add("team_without_leader", "role", team=team)
        if not leader.values.get("unit"):
            leader.add("unit_required", "unit")
        if rules.require_id_number and not leader.values.get("id_number"):
            leader.add("id_required", "id_number")
        players = sum(1 for r in team_rows if r.data.get("role") != "coach")
        coaches = len(team_rows) - players
        if not rules.team_min_members <= players <= rules.team_max_members:
            leader.add("team_size", "team_name", team=team, min=rules.team_min_members, max=rules.team_max_members)
        if coaches > rules.team_max_coaches:
            leader.add("too_many_coaches", "role", team=team, n=rules.team_max_coaches)
        group = leader.data.get("group_name")
        for row in ordered[1:]:
            if row.data.get("group_name") and row.data.get("group_name") != group:
                row.add("team_group_mismatch", "group", team=team, row=leader.number)


def _spread_team_problems(rows: list[CheckedRow]) -> None:
    for team, team_rows in _teams(rows).items():
        bad = [r.number for r in team_rows if r.problems and any(p.code != "team_has_errors" for p in r.problems)]
        if not bad:
            continue
        for row in team_rows:
            others = [n for n in bad if n != row.number]
            if others and not any(p.code == "team_has_errors" for p in row.problems):
                row.add("team_has_errors", "team_name", team=team, rows="、".join(str(n) for n in others))


def check_table(table: Table, rules: ImportRules, find_taken: FindTaken | None = None) -> CheckedTable:
    """Check every row against the event's rules, against the other rows of the file and, through
    ``find_taken(phones, id_numbers) -> (taken phones, taken ID numbers)``, against the event's active sign-ups.
    Coaches are not checked for duplicates: the same teacher may coach several teams."""
    columns, data_rows = find_columns(table, rules.questions)
    if not rules.team:
        for name in ("team_name", "role"):
            if name in columns.index:
                columns.unused.append(table_header(table, columns, name))
                del columns.index[name]
    missing = [rules.column_title(name) for name in rules.required_columns() if name not in columns.index]
    rows = [_check_row(number, cells, columns, rules) for number, cells in data_rows]
    _check_answers(rows, rules)
    _mark_duplicates_in_file(rows)
    if find_taken is not None:
        phones = {r.data["phone"] for r in rows if r.data.get("phone") and r.data.get("role") != "coach"}
        ids = {r.data["id_number"] for r in rows if r.data.get("id_number") and r.data.get("role") != "coach"}
        _mark_existing(rows, *find_taken(phones, ids))
    if rules.team:
        _check_teams(rows, rules)
        _spread_team_problems(rows)
    entries = [] if missing else _build_entries(rows, rules)
    return CheckedTable(columns=columns, rows=rows, missing=missing, entries=entries)


# ---------------------------------------------------------------- writing workbooks


@dataclass
class Sheet:
    title: str
    headers: list[str]
    rows: list[list]
    widths: list[int] = field(default_factory=list)


def build_workbook(sheets: list[Sheet]) -> bytes:
    """An .xlsx file. Every text cell is stored as text: a value someone typed as ``=HYPERLINK(…)`` stays text and
    never becomes a formula; phone and ID numbers keep their digits."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.title[:31])
        for i, width in enumerate(sheet.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
        header = []
        for title in sheet.headers:
            cell = WriteOnlyCell(ws, value=title)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for values in sheet.rows:
            cells = []
            for value in values:
                cell = WriteOnlyCell(ws, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
                elif isinstance(value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                cells.append(cell)
            ws.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


STATUS_NAMES = {"pending": "待审核", "approved": "已通过", "waitlisted": "候补", "rejected": "未通过", "cancelled": "已取消"}
SOURCE_NAMES = {"web": "网上报名", "import": "导入"}
ROLE_TITLES = {"leader": "领队", "member": "队员", "coach": "指导教师"}
ID_KIND_TITLES = {"resident_id": "身份证", "passport": "护照", "taiwan_permit": "台胞证"}


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Excel has no time zones: the event's local time, without tzinfo."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _answer_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


def registration_sheets(registrations: Sequence, *, timezone_name: str, session_titles: dict[int, str],
                        answer_columns: Sequence[tuple[str, str]] = ()) -> list[Sheet]:
    """The export: sheet 报名名单 (one row per sign-up) and sheet 队员 (one row per team member).

    ``registrations`` are Registration objects (read only). ``answer_columns`` are (answer key, column title) of
    the event's own questions, written after the fixed columns."""
    zone = ZoneInfo(timezone_name)
    headers = ["报名编号", "状态", "姓名", "队名", "手机", "单位", "组别", "邮箱", "证件类型", "证件号码", "职务",
               "分会场", "报名时间", "来源", "审核时间", "原因"] + [title for _key, title in answer_columns]
    widths = [9, 9, 12, 18, 16, 28, 12, 24, 10, 22, 14, 24, 17, 10, 17, 24] + [18] * len(answer_columns)
    rows: list[list] = []
    members: list[list] = []
    for r in registrations:
        team = r.kind.value == "team"
        answers = r.answers or {}
        rows.append([
            r.id, STATUS_NAMES.get(r.status.value, r.status.value), r.contact_name, r.name if team else "",
            r.phone, r.unit or "", r.group_name or "", r.email or "",
            ID_KIND_TITLES.get(r.id_kind or "", r.id_kind or "") if r.id_number else "", r.id_number or "",
            r.job_title or "", "、".join(session_titles.get(s.session_id, "") for s in r.sessions),
            _local(r.created_at, zone), SOURCE_NAMES.get(r.source, r.source), _local(r.decided_at, zone),
            r.reason or "",
        ] + [_answer_text(answers.get(key)) for key, _title in answer_columns])
        for m in sorted(r.members, key=lambda m: m.position):
            members.append([r.id, r.name, ROLE_TITLES.get(m.role.value, m.role.value), m.name, m.phone or "",
                            m.id_number or "", STATUS_NAMES.get(r.status.value, r.status.value)])
    return [
        Sheet("报名名单", headers, rows, widths),
        Sheet("队员", ["报名编号", "队名", "角色", "姓名", "手机", "证件号码", "报名状态"], members, [9, 18, 10, 12, 16, 22, 10]),
    ]


def template_sheet(rules: ImportRules, *, ask_email: bool, ask_job_title: bool) -> Sheet:
    """An empty sheet with the columns this event takes, and one example row, for units to fill in."""
    headers = ["姓名", "手机", "单位"]
    example = ["张三", "13800138000", "厦门城市职业学院"]
    if rules.team:
        headers += ["队名", "角色"]
        example += ["飞翔队", "领队"]
    if rules.groups:
        headers.append("组别")
        example.append(rules.groups[0])
    if rules.require_id_number:
        headers += ["证件类型", "证件号码"]
        example += ["身份证", "11010519491231002X"]
    if ask_email:
        headers.append("邮箱")
        example.append("zhangsan@example.com")
    if ask_job_title:
        headers.append("职务")
        example.append("教师")
    return Sheet("报名名单", headers, [example], [max(10, len(h) * 4) for h in headers])
