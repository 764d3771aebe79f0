"""The competition workbook: template, export → import round trip, and bad workbooks (a problem per row, nothing
saved)."""
from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from competition import services, workbook
from competition.models import Competition, CriterionKind, Entrant, EntrantSource, Group, Module, Round
from competition.workbook import Context, check_sheets, problem_message, read_workbook
from registration.spreadsheets import SpreadsheetError
from tests.competition.builders import make_competition
from tests.conftest import NOW

RUBRIC_HEADER = ["轮次", "模块", "编号", "评分项", "类型", "满分", "步长", "权重", "说明"]
ENTRANT_HEADER = ["组别", "名称", "单位", "成员", "指导教师", "联系电话"]


@pytest.fixture()
def setup(db, factory):
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, title="云计算技能大赛", kind="competition")
    return organizer, event


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def empty_context(**changes) -> Context:
    values = {"rounds": [], "locked_rounds": set(), "groups": [], "entrants": set()}
    values.update(changes)
    return Context(**values)


def plan_for(sheets: dict[str, list[list]], context: Context | None = None):
    return check_sheets(read_workbook("赛项.xlsx", xlsx(sheets)), context or empty_context())


def row_codes(plan, key: str) -> dict[int, list[str]]:
    return {r.number: [p.code for p in r.problems] for r in plan.sheet(key).rows if r.problems}


def snapshot(competition: Competition) -> tuple:
    """What the workbook carries: rounds with their rubrics, groups, entrants."""
    competition = services.db.session.get(Competition, competition.id)
    rubrics = []
    for round_ in competition.rounds:
        rubric = services.rubric_for(round_)
        rubrics.append((round_.name, [
            (m.code, m.name, m.weight, [(c.code, c.name, c.description, c.maximum, c.step, c.kind, c.full_or_zero,
                                          c.ladder, tuple(c.levels)) for c in m.criteria])
            for m in rubric.modules]))
    groups = {g.id: g.name for g in competition.groups}
    entrants = [(groups.get(e.group_id), e.name, e.unit, tuple(e.members), tuple(e.coaches), e.phone, e.is_team)
                for e in services.list_entrants(competition)]
    return rubrics, list(groups.values()), entrants


# ---------------------------------------------------------------- template and export


def test_template_has_the_sheets_columns_and_notes():
    book = openpyxl.load_workbook(io.BytesIO(workbook.template_workbook()))
    assert book.sheetnames == ["评分标准", "参赛者", "评委", "成绩", "说明"]  # 评委, 成绩: judging/workbook.py
    assert [c.value for c in book["评分标准"][1]][:9] == RUBRIC_HEADER
    assert [c.value for c in book["参赛者"][1]] == ENTRANT_HEADER
    assert book["评分标准"].max_row == 1 and book["参赛者"].max_row == 1  # empty: nothing to import by mistake
    notes = [[c.value for c in row] for row in book["说明"].iter_rows(min_row=2)]
    explained = {(r[0], r[1]) for r in notes}
    assert all(("评分标准", h) in explained for h in RUBRIC_HEADER)
    assert all(("参赛者", h) in explained for h in ENTRANT_HEADER)
    # the template, read back, is a workbook with no rows
    plan = check_sheets(read_workbook("t.xlsx", workbook.template_workbook()), empty_context())
    assert [p.code for s in plan.sheets for p in s.problems] == ["empty_sheet", "empty_sheet"]


def test_export_then_import_into_an_empty_competition_gives_the_same(db, setup):
    organizer, event = setup
    source = make_competition(event, organizer, entrants=4)
    rubric = services.rubric_for(source.rounds[0])
    services.add_criterion(rubric.modules[0], services.CriterionData(
        code="A2", name="安全规范", maximum="2", step="2", kind=CriterionKind.MEASUREMENT, full_or_zero=True,
        description="=HYPERLINK(\"http://x\")"), actor=organizer, now=NOW)
    final = services.add_round(source, services.RoundData(name="决赛"), actor=organizer, now=NOW)
    module = services.add_module(services.rubric_for(final), services.ModuleData(code="C", name="答辩"),
                                 actor=organizer, now=NOW)
    services.add_criterion(module, services.CriterionData(code="C1", name="现场答辩", maximum="7.5", step="0.25",
                                                          kind=CriterionKind.JUDGEMENT, description="思路清晰"),
                           actor=organizer, now=NOW)
    services.add_entrant(source, services.EntrantData(name="独行侠", unit="个人", group_id=source.groups[1].id),
                         actor=organizer, now=NOW)
    db.session.commit()
    content = workbook.export_workbook(source)

    # formula-looking text stays text
    book = openpyxl.load_workbook(io.BytesIO(content))
    cell = next(c for row in book["评分标准"].iter_rows() for c in row if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s"

    target = services.create_competition(event, services.CompetitionData(title="复制的赛项"), actor=organizer, now=NOW)
    db.session.commit()
    plan = workbook.check_workbook(target, read_workbook("export.xlsx", content))
    assert plan.ok, [(s.problems, [(r.number, r.problems) for r in s.problem_rows]) for s in plan.sheets]
    assert plan.new_rounds == ["初赛", "决赛"] and plan.new_groups == ["中职组", "高职组"]
    outcome = workbook.import_workbook(target, read_workbook("export.xlsx", content), actor=organizer, now=NOW,
                                       filename="export.xlsx")
    db.session.commit()
    assert (outcome.entrants, outcome.criteria, outcome.rounds) == (5, 4, ["初赛", "决赛"])
    assert snapshot(target) == snapshot(source)
    assert {e.source for e in services.list_entrants(db.session.get(Competition, target.id))} == {EntrantSource.IMPORT}

    # and the same again, exported from the copy
    assert workbook.rubric_rows(db.session.get(Competition, target.id)) == workbook.rubric_rows(source)


def test_importing_again_replaces_the_rubric_and_refuses_the_same_entrants(db, setup):
    organizer, event = setup
    source = make_competition(event, organizer, entrants=2)
    db.session.commit()
    content = workbook.export_workbook(source)
    plan = workbook.check_workbook(source, read_workbook("x.xlsx", content))
    assert not plan.ok
    assert [n.code for n in plan.notices] == ["rubric_replaced"]
    assert set(code for codes in row_codes(plan, "entrants").values() for code in codes) == {"already_entrant"}
    assert plan.sheet("rubric").ok  # the rubric alone could be imported again
    with pytest.raises(workbook.WorkbookImportError):
        workbook.import_workbook(source, read_workbook("x.xlsx", content), actor=organizer, now=NOW)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Entrant.id)).where(Entrant.competition_id == source.id)) == 2


# ---------------------------------------------------------------- reading rules


def test_merged_cells_english_headers_and_module_names():
    plan = plan_for({
        "rubric": [["Round", "Module", "Code", "Criterion", "Kind", "Max", "Step", "Weight", "Description",
                    "Ladder", "Level0", "Level1", "Level2", "Level3"],
                   ["初赛", "A：理论", "a1", "选择题", "measurement", 10, 1, 30, "", "否"],
                   [None, None, "A2", "判断题", "客观", 5, 0.5, None],
                   [None, "B 实操", "B1", "方案", "主观", 6, 1, 70, "", "是", "无", "差", "中", "好"]],
        "参赛者": [["组别", "名称", "单位", "成员", "指导教师", "联系电话"],
                  ["中职组", "飞翔队", "一中", "张三、李四,王五", "赵老师", "13800138000"]],
        "Sheet1": [["随便", "什么"]],
    })
    assert plan.ok, [[p for p in s.problems] + [r.problems for r in s.rows] for s in plan.sheets]
    (module_a, criteria_a), (module_b, criteria_b) = plan.rubrics["初赛"]
    assert (module_a.code, module_a.name, module_a.weight) == ("A", "理论", Decimal(30))
    assert [c.code for c in criteria_a] == ["A1", "A2"] and criteria_a[1].step == Decimal("0.5")
    assert (module_b.code, module_b.name, module_b.weight) == ("B", "实操", Decimal(70))
    assert criteria_b[0].ladder and criteria_b[0].levels == ["无", "差", "中", "好"]
    group, entrant = plan.entrants[0]
    assert group == "中职组" and entrant.members == ["张三", "李四", "王五"] and entrant.coaches == ["赵老师"]
    assert [n.code for n in plan.notices] == ["unknown_sheet"]
    assert plan.new_groups == ["中职组"] and plan.new_rounds == ["初赛"]


@pytest.mark.parametrize(("text", "expected"), [("A", ("A", "")), ("A 客观", ("A", "客观")), ("b：主观", ("B", "主观")),
                                                ("M1-实操", ("M1", "实操")), ("A客观", ("A", "客观")),
                                                ("客观", None), ("1A", None)])
def test_module_cells(text, expected):
    assert workbook.parse_module_cell(text) == expected


def test_bad_rubric_rows_are_reported_one_by_one():
    plan = plan_for({"评分标准": [
        RUBRIC_HEADER + ["满分或零分", "分档", "0档", "1档", "2档", "3档", "备注"],
        ["初赛", "A", "A1", "选择题", "客观", 10, 3, None, ""],          # 2: max not a multiple of the step
        ["初赛", "A", "A1", "判断题", "客观", 10, 1, None, ""],          # 3: duplicate code
        ["初赛", "A", "A3", "", "客观", 10, 1, None, ""],                # 4: criterion empty
        ["初赛", "A", "A4", "填空", "半主观", 10, 1, None, ""],           # 5: unknown kind
        ["初赛", "A", "A5", "简答", "客观", "十", 1, None, ""],           # 6: not a number
        ["初赛", "A", "A6", "论述", "客观", 10, 1, None, "", "也许"],      # 7: not yes/no
        ["初赛", "A", "A7", "设计", "客观", 9, 1, None, "", "", "是", "a", "b", "c", "d"],  # 8: ladder on measurement
        ["初赛", "B", "B1", "展示", "主观", 6, 1, None, "", "", "是", "a", "", "c", "d"],   # 9: a level missing
        ["初赛", "一", "C1", "礼仪", "主观", 6, 1, None, ""],            # 10: no module code
        ["初赛", "A", "A 8", "x", "客观", 1, 1, None, ""],               # 11: bad criterion code
        ["初赛", "A", "A9", "x", "客观", 0, 1, None, ""],                # 12: max zero
    ]})
    sheet = plan.sheet("rubric")
    assert [p.code for p in sheet.problems] == ["unknown_column"]
    assert problem_message(sheet.problems[0]) == "Unknown column “备注”: rename it as in the template, or delete it."
    assert row_codes(plan, "rubric") == {
        2: ["criterion_rule"], 3: ["duplicate_code"], 4: ["required"], 5: ["unknown_kind"],
        6: ["number_not_a_number"], 7: ["not_yes_no"], 8: ["criterion_rule"], 9: ["criterion_rule"],
        10: ["module_code"], 11: ["criterion_code"], 12: ["number_not_positive"],
    }
    messages = {r.number: [problem_message(p) for p in r.problems] for r in sheet.rows if r.problems}
    assert messages[2] == ["The maximum 10 is not a multiple of the step 3."]
    assert messages[3] == ["Criterion A1 is already on row 2 of this round."]
    assert messages[4] == ["Enter the 评分项."]
    assert not plan.ok and plan.problem_count == 12


def test_missing_columns_weights_and_conflicts():
    plan = plan_for({"评分标准": [["轮次", "模块", "编号", "评分项", "满分"], ["初赛", "A", "A1", "x", 10]]})
    assert [problem_message(p) for p in plan.sheet("rubric").problems] == ["Columns missing: 类型、步长."]
    plan = plan_for({"评分标准": [
        RUBRIC_HEADER,
        ["初赛", "A 客观", "A1", "x", "客观", 10, 1, 30],
        ["初赛", "A 主观", "A2", "y", "客观", 10, 1, 40],
        ["初赛", "B", "B1", "z", "主观", 10, 1, 50],
    ]})
    assert row_codes(plan, "rubric") == {3: ["module_name_conflict", "weight_conflict"]}
    assert [p.code for p in plan.sheet("rubric").problems] == ["weights"]  # 30 + 50 ≠ 100


def test_rounds_and_groups_must_exist_when_the_competition_has_some():
    context = empty_context(rounds=["初赛", "决赛"], locked_rounds={"决赛"}, groups=["中职组", "高职组"],
                            entrants={("飞翔队", "一中", "")})
    plan = plan_for({
        "评分标准": [RUBRIC_HEADER, ["复赛", "A", "A1", "x", "客观", 10, 1], ["决赛", "A", "A1", "x", "客观", 10, 1]],
        "参赛者": [ENTRANT_HEADER, ["企业组", "启航队", "某公司"], ["中职组", "飞翔队", "一中"], ["", "无组队", ""],
                  ["高职组", "双子队", "二中"], ["高职组", "双子队", "二中"], ["高职组", "电话队", "", "", "", "123"]],
    }, context)
    assert row_codes(plan, "rubric") == {2: ["unknown_round"], 3: ["rubric_locked"]}
    assert row_codes(plan, "entrants") == {2: ["unknown_group"], 3: ["already_entrant"], 4: ["required"],
                                           6: ["duplicate_entrant"], 7: ["invalid_phone"]}
    assert problem_message(plan.sheet("entrants").rows[0].problems[0]) == \
        "Unknown group “企业组”; this competition's groups are 中职组、高职组."
    assert plan.new_rounds == [] and plan.new_groups == []


def test_judges_and_scores_sheets_are_named_not_imported():
    plan = plan_for({"参赛者": [ENTRANT_HEADER, ["", "飞翔队", "一中"]],
                     "评委": [["姓名", "账号"], ["王评委", "judge@example.org"]],
                     "成绩": [["轮次", "参赛者", "评委", "编号", "分数"], ["初赛", "01", "judge@example.org", "A1", 9]],
                     "说明": [["工作表", "列名"], ["x", "y"]]})
    assert plan.ok
    assert [(n.code, n.params["sheet"]) for n in plan.notices] == [("later_sheet", "评委"), ("later_sheet", "成绩")]
    assert workbook.notice_message(plan.notices[0]) == \
        "Sheet 评委 is imported with the judging set-up; it was not read now."


def test_a_workbook_without_known_sheets():
    plan = plan_for({"Sheet1": [["a", "b"], [1, 2]]})
    assert [p.code for p in plan.problems] == ["no_sheets"] and not plan.ok


@pytest.mark.parametrize(("name", "content", "code"), [
    ("x.xls", b"\xd0\xcf\x11\xe0", "old_excel"),
    ("x.csv", b"a,b", "bad_type"),
    ("x.xlsx", b"not a zip", "unreadable"),
    ("x.xlsx", b"PK\x03\x04broken", "unreadable"),
    ("x.xlsx", b"PK\x03\x04" + b"0" * (2 * 1024 * 1024 + 1), "too_large"),
])
def test_unreadable_files(name, content, code):
    with pytest.raises(SpreadsheetError) as info:
        read_workbook(name, content)
    assert info.value.code == code
    assert workbook.file_message(info.value)


def test_a_bad_workbook_saves_nothing(db, setup):
    organizer, event = setup
    competition = services.create_competition(event, services.CompetitionData(title="空赛项"), actor=organizer, now=NOW)
    db.session.commit()
    content = xlsx({
        "评分标准": [RUBRIC_HEADER, ["初赛", "A", "A1", "x", "客观", 10, 1], ["初赛", "A", "A2", "y", "客观", 10, 3]],
        "参赛者": [ENTRANT_HEADER, ["中职组", "飞翔队", "一中"]],
    })
    with pytest.raises(workbook.WorkbookImportError) as info:
        workbook.import_workbook(competition, read_workbook("x.xlsx", content), actor=organizer, now=NOW)
    assert info.value.plan.problem_count == 1 and info.value.status == 422
    db.session.rollback()
    for model in (Round, Group, Entrant, Module):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_pending_workbooks_belong_to_their_user_and_competition(tmp_path):
    from datetime import timedelta

    store = workbook.PendingWorkbooks(tmp_path)
    sheets = [("参赛者", [(1, ["组别", "名称"]), (2, ["中职组", "飞翔队"])])]
    token = store.save_sheets(competition_id=5, user_id=7, filename="a.xlsx", sheets=sheets, now=NOW)
    assert store.load_sheets(token, competition_id=5, user_id=7, now=NOW) == ("a.xlsx", sheets)
    assert store.load_sheets(token, competition_id=6, user_id=7, now=NOW) is None
    assert store.load_sheets(token, competition_id=5, user_id=8, now=NOW) is None
    assert store.load_sheets("../../etc/passwd", competition_id=5, user_id=7, now=NOW) is None
    assert store.load_sheets(token, competition_id=5, user_id=7, now=NOW + timedelta(hours=2)) is None
    assert store.load_sheets(token, competition_id=5, user_id=7, now=NOW) is None  # expired and deleted
