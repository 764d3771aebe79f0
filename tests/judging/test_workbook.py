"""Workbook sheets 评委 and 成绩 (judging/workbook.py, through competition/workbook.py's import and export): the round
trip into an empty competition, paper scores entered afterwards (and changed, with history), and bad rows refused
with a problem each and nothing saved."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from accounts.models import User
from competition import services as cs
from competition import workbook
from competition.models import Competition, Entrant
from judging import services as js
from judging import workbook as jw
from judging.models import JudgeProfile, JudgeRole, Panel, PanelJudge, Score, ScoreChange, ScoreSource, ScoreState
from registration.spreadsheets import Sheet, build_workbook
from tests.conftest import NOW
from tests.judging.conftest import full_marks

JUDGES = ["姓名", "账号", "单位", "组别", "轮次", "角色"]
SCORES = ["轮次", "参赛者", "评委", "编号", "分数"]


def _submit(db, contest, judge, entrant, marks=None):
    for code, value in (marks or full_marks()).items():
        js.save_draft(contest.judges[judge], round_id=contest.round.id, entrant_id=contest.entrants[entrant].id,
                      criterion_id=contest.criteria[code].id, value=value, nonce=None, now=NOW)
    js.submit_entrant(contest.judges[judge], round_id=contest.round.id, entrant_id=contest.entrants[entrant].id,
                      nonce=None, now=NOW)
    db.session.commit()


def _sheets(*sheets: Sheet):
    return workbook.read_workbook("paper.xlsx", build_workbook(list(sheets)))


def _problems(plan) -> list[tuple[str, int, str]]:
    return [(s.key, r.number, p.code) for s in plan.sheets for r in s.rows for p in r.problems] + \
           [(s.key, 0, p.code) for s in plan.sheets for p in s.problems]


def _scores(db, competition) -> set[tuple]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(User.login, Entrant.name, Entrant.position, Score.criterion_id, Score.value, Score.state)
        .join(User, User.id == Score.judge_id).join(Entrant, Entrant.id == Score.entrant_id)
        .where(Entrant.competition_id == competition.id))
    from competition.models import Criterion

    codes = {c.id: c.code for c in db.session.scalars(sa.select(Criterion))}
    return {(login, name, codes[criterion], value, state) for login, name, _p, criterion, value, state in rows}


def test_round_trip_into_an_empty_competition(db, contest):
    # 张评委 measures only (A1, A2) on both panels; three entrants submitted by two judges.
    for panel in contest.panels.values():
        member = next(m for m in db.session.merge(panel).judges if m.profile.user.name == "张评委")
        js.set_judge_share(member, [contest.criteria["A1"].id, contest.criteria["A2"].id], actor=contest.organizer,
                           now=NOW)
    db.session.commit()
    _submit(db, contest, "李评委", "星火队")
    _submit(db, contest, "李评委", "青松队", {"A1": "3", "A2": "0", "B1": "20", "B2": "0"})
    _submit(db, contest, "张评委", "海燕队", {"A1": "9.5", "A2": "5"})
    source = db.session.merge(contest.competition)
    content = workbook.export_workbook(source)
    target = cs.create_competition(db.session.merge(contest.event), cs.CompetitionData(title="导入副本"),
                                   actor=contest.organizer, now=NOW)
    db.session.commit()
    outcome = workbook.import_workbook(target, workbook.read_workbook("export.xlsx", content), actor=contest.organizer,
                                       now=NOW)
    db.session.commit()
    assert (outcome.judging.judges_added, outcome.judging.scores_added) == (4, 10)
    source, target = db.session.merge(contest.competition), db.session.get(Competition, target.id)
    assert jw.judge_rows(target) == jw.judge_rows(source)
    assert _scores(db, target) == _scores(db, source)
    assert {s.source for s in db.session.scalars(sa.select(Score).join(Entrant).where(
        Entrant.competition_id == target.id))} == {ScoreSource.PAPER}
    # the measuring judge kept their share; conflicts were never assigned
    shares = {m.profile.user.name: {c.criterion_id for c in m.criteria} for p in db.session.scalars(
        sa.select(Panel).where(Panel.competition_id == target.id, Panel.name == "高职组评委组")) for m in p.judges}
    assert len(shares["张评委"]) == 2 and shares["李评委"] == set()
    overview = js.panel_overview(db.session.scalar(sa.select(Panel).where(Panel.competition_id == target.id,
                                                                          Panel.name == "高职组评委组")))
    assert not set(overview.conflicts) & overview.assigned and overview.exclusions
    # exporting again gives the same sheets
    again = workbook.read_workbook("again.xlsx", workbook.export_workbook(target))
    first = workbook.read_workbook("first.xlsx", content)
    assert [rows for title, rows in again if title in ("评委", "成绩")] == \
           [rows for title, rows in first if title in ("评委", "成绩")]


def test_paper_scores_enter_then_change_with_history(db, contest):
    competition = db.session.merge(contest.competition)
    code = contest.code("星火队")
    rows = [["初赛", code, "li@judges.example.org", c, v] for c, v in full_marks().items()]
    plan = workbook.check_workbook(competition, _sheets(Sheet("成绩", SCORES, rows)))
    assert plan.ok, _problems(plan)
    workbook.import_workbook(competition, _sheets(Sheet("成绩", SCORES, rows)), actor=contest.organizer, now=NOW)
    db.session.commit()
    scores = list(db.session.scalars(sa.select(Score)))
    assert {(s.state, s.source) for s in scores} == {(ScoreState.SUBMITTED, ScoreSource.PAPER)}
    assert {s.value for s in scores} == {Decimal("8.5"), Decimal(5), Decimal("17.5"), Decimal(2)}
    # the same file again changes nothing
    competition = db.session.merge(contest.competition)
    outcome = workbook.import_workbook(competition, _sheets(Sheet("成绩", SCORES, rows)), actor=contest.organizer,
                                       now=NOW)
    db.session.commit()
    assert (outcome.judging.scores_added, outcome.judging.scores_changed) == (0, 0)
    # a corrected sheet: one value changes, with its history; the preview says so
    rows[2][4] = "18"
    competition = db.session.merge(contest.competition)
    plan = workbook.check_workbook(competition, _sheets(Sheet("成绩", SCORES, rows)))
    assert [n.code for n in plan.notices] == ["scores_changed"]
    assert "1" in workbook.notice_message(plan.notices[0])
    workbook.import_workbook(competition, _sheets(Sheet("成绩", SCORES, rows)), actor=contest.organizer, now=NOW)
    db.session.commit()
    [change] = db.session.scalars(sa.select(ScoreChange))
    assert (change.old_value, change.new_value, change.reason) == (Decimal("17.5"), Decimal(18), "成绩表导入")
    # the tablet can no longer change them
    with pytest.raises(js.JudgingError) as refused:
        js.save_draft(contest.judges["李评委"], round_id=contest.round.id, entrant_id=contest.entrants["星火队"].id,
                      criterion_id=contest.criteria["B1"].id, value="1", nonce=None, now=NOW)
    assert refused.value.code == "submitted"
    db.session.rollback()


def test_judges_sheet_makes_panels_and_assignments(db, contest, factory):
    existing = factory.user("expert@univ.example.org", "冯专家")
    competition = db.session.merge(contest.competition)
    rows = [
        ["冯专家", "expert@univ.example.org", "福州职业技术学院", "高职组", "初赛", "评委"],
        ["蒋评委", "13800138000", "", "中职组", "", ""],
        ["欧阳裁判长", "chief@judges.example.org", "", "", "", "裁判长"],
    ]
    plan = workbook.check_workbook(competition, _sheets(Sheet("评委", JUDGES, rows)))
    assert plan.ok, _problems(plan)
    workbook.import_workbook(competition, _sheets(Sheet("评委", JUDGES, rows)), actor=contest.organizer, now=NOW)
    db.session.commit()
    profiles = {p.user.login: p for p in db.session.scalars(sa.select(JudgeProfile))}
    assert profiles["expert@univ.example.org"].user_id == existing.id
    assert db.session.get(User, existing.id).check_password(factory.PASSWORD)  # keeps its password
    assert profiles["chief@judges.example.org"].role == JudgeRole.CHIEF
    assert js.can_invite(profiles["13800138000"].user)  # a new account: its link is made on the judge's page
    seats = {m.profile.user.login: m.panel.name for m in db.session.scalars(sa.select(PanelJudge))}
    assert seats["expert@univ.example.org"] == "高职组评委组" and seats["13800138000"] == "中职组评委组"
    assert "chief@judges.example.org" not in seats
    feng = profiles["expert@univ.example.org"].user_id
    mine = set(db.session.scalars(sa.select(Score.entrant_id).where(Score.judge_id == feng)))
    assert not mine
    from judging.models import Assignment

    assigned = set(db.session.scalars(sa.select(Assignment.entrant_id).where(Assignment.judge_id == feng)))
    assert contest.entrants["星火队"].id not in assigned  # 福州职业技术学院: 回避
    assert contest.entrants["海燕队"].id in assigned


def test_bad_rows_are_refused_and_nothing_is_saved(db, contest):
    competition = db.session.merge(contest.competition)
    judges = [
        ["新评委", "new@judges.example.org", "", "中职组", "", ""],  # 2: fine
        ["", "x@judges.example.org", "", "", "", ""],  # 3: no name
        ["某", "not a login", "", "", "", ""],  # 4: invalid account
        ["某", "new@judges.example.org", "", "", "", ""],  # 5: the same account twice
        ["某", "y@judges.example.org", "", "研究生组", "", ""],  # 6: unknown group
        ["某", "z@judges.example.org", "", "", "复赛", ""],  # 7: unknown round
        ["某", "w@judges.example.org", "", "", "", "组长"],  # 8: unknown role
    ]
    scores = [
        ["初赛", contest.code("云帆队"), "wang@judges.example.org", "A1", "5"],  # 2: 回避 (own unit)
        ["初赛", contest.code("星火队"), "li@judges.example.org", "A1", "7.25"],  # 3: off the step
        ["初赛", contest.code("星火队"), "li@judges.example.org", "B2", "4"],  # 4: not a level
        ["初赛", contest.code("星火队"), "li@judges.example.org", "C9", "1"],  # 5: unknown criterion
        ["决赛", contest.code("星火队"), "li@judges.example.org", "A1", "1"],  # 6: unknown round
        ["初赛", "无此队", "li@judges.example.org", "A1", "1"],  # 7: unknown entrant
        ["初赛", contest.code("星火队"), "nobody@judges.example.org", "A1", "1"],  # 8: unknown judge
        ["初赛", "晨光队", "new@judges.example.org", "A1", "1"],  # 9: the new judge scores 中职组 only
        ["初赛", contest.code("星火队"), "li@judges.example.org", "A2", "5"],  # 10: fine
        ["初赛", "星火队", "li@judges.example.org", "A2", "5"],  # 11: the same score again (by name)
        ["初赛", contest.code("星火队"), "li@judges.example.org", "A1", ""],  # 12: blank
    ]
    sheets = _sheets(Sheet("评委", JUDGES + ["备注"], [r + [""] for r in judges]), Sheet("成绩", SCORES, scores))
    plan = workbook.check_workbook(competition, sheets)
    found = set(_problems(plan))
    assert found == {
        ("judges", 0, "unknown_column"), ("judges", 3, "required"), ("judges", 4, "invalid_login"),
        ("judges", 5, "duplicate_judge"), ("judges", 6, "unknown_group"), ("judges", 7, "unknown_round"),
        ("judges", 8, "unknown_role"),
        ("scores", 2, "conflict"), ("scores", 3, "value_off_step"), ("scores", 4, "value_not_a_level"),
        ("scores", 5, "unknown_criterion"), ("scores", 6, "unknown_round"), ("scores", 7, "unknown_entrant"),
        ("scores", 8, "unknown_judge"), ("scores", 9, "not_assigned"), ("scores", 11, "duplicate_score"),
        ("scores", 12, "required"),
    }
    for sheet in plan.sheets:
        for row in sheet.rows:
            for problem in row.problems:
                assert workbook.problem_message(problem) != problem.code  # every problem has a sentence
    with pytest.raises(workbook.WorkbookImportError):
        workbook.import_workbook(competition, sheets, actor=contest.organizer, now=NOW)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Score.id))) == 0
    assert not db.session.scalar(sa.select(User.id).where(User.login == "new@judges.example.org"))


def test_template_and_empty_sheets(db, contest):
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(workbook.template_workbook()))
    assert [c.value for c in book["评委"][1]] == JUDGES + ["评分项"]
    assert [c.value for c in book["成绩"][1]] == SCORES
    notes = {(row[0].value, row[1].value) for row in book["说明"].iter_rows(min_row=2)}
    assert all(("评委", h) in notes for h in JUDGES) and all(("成绩", h) in notes for h in SCORES)
    # headers only: nothing to do, no problem
    plan = workbook.check_workbook(db.session.merge(contest.competition), _sheets(Sheet("评委", JUDGES, []),
                                                                                  Sheet("成绩", SCORES, [])))
    assert [s.key for s in plan.sheets] == [] and plan.problems[0].code == "no_sheets"


def test_import_pages_preview_and_confirm_the_judging_sheets(app, db, contest):
    import io
    import re

    from tests.conftest import csrf_token, login

    client = app.test_client()
    login(client, contest.organizer)
    page = f"/manage/events/{contest.event.id}/competitions/{contest.competition.id}/workbook/import"
    rows = [["初赛", contest.code("星火队"), "li@judges.example.org", c, v] for c, v in full_marks().items()]
    bad = rows + [["初赛", contest.code("云帆队"), "wang@judges.example.org", "A1", "5"]]

    def upload(content: bytes):
        return client.post(page, data={"csrf_token": csrf_token(client, page), "file": (io.BytesIO(content), "成绩.xlsx")},
                           content_type="multipart/form-data")

    preview = upload(build_workbook([Sheet("成绩", SCORES, bad)]))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "成绩" in html and "回避" in html  # the conflict's row, in words
    preview = upload(build_workbook([Sheet("成绩", SCORES, rows)]))
    html = preview.get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    done = client.post(f"{page}/confirm", data={"csrf_token": csrf_token(client, page), "token": token})
    assert done.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Score.id)).where(Score.state == ScoreState.SUBMITTED)) == 4
