"""The chief judge's reports: the 成绩单 PDF per panel and round (CJK font embedded, every judge's scores, codes
before identities are released and names after, signature lines), the review and appeal log PDF, and the audit trail
as Excel (score changes with old/new/who/why, process steps, appeals; text stays text)."""
from __future__ import annotations

import io
import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.appeals.conftest import build_case, process  # noqa: F401 - the process fixture
from tests.conftest import NOW, login

ZH = {"Accept-Language": "zh-CN"}


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _fonts(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


@pytest.fixture()
def reported(db, factory, process):
    from appeals import services
    from appeals.models import AppealChannel
    from judging.models import Score

    case = build_case(db, factory)
    appeal = services.file_appeal(case.entrant, reason="=HYPERLINK(\"http://x\") 第二位评委分数有误",
                                  channel=AppealChannel.PARTICIPANT, now=NOW)
    db.session.commit()
    score_id = db.session.scalar(sa.select(Score.id).where(Score.entrant_id == case.entrant.id,
                                                           Score.judge_id == case.scored.judges[1].id))
    services.decide_appeal(appeal, upheld=True, decision="复核后更正为88。",
                           corrections=[services.Correction(score_id, "88")], actor=case.arbitrator,
                           now=NOW + timedelta(minutes=20))
    db.session.commit()
    return case


def test_score_sheet_pdf_embeds_the_font_and_holds_every_judges_scores(db, reported, tmp_path, monkeypatch):
    from judging import reports

    case = reported
    sheet = reports.score_sheet(case.scored.panel, now=NOW)
    pdf = reports.score_sheet_pdf(sheet, font_path="/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf")
    fonts = _fonts(pdf, tmp_path)
    [line] = [f for f in fonts.splitlines() if "LXGW" in f]
    assert line.split()[-5:-3] == ["yes", "yes"]  # embedded, as a subset
    text = _text(pdf, tmp_path)
    assert "评委1" in text and "评委2" in text and "裁判长" in text  # the judges' names and signature lines
    assert "飞翔队" in text and "启航队" in text  # published results: identities released
    assert "88" in text and "80" in text and "90" in text and "91" in text
    # before identities are released the sheet shows codes only
    import competition.results as results

    monkeypatch.setattr(results, "is_identity_released", lambda competition: False)
    sealed = reports.score_sheet_pdf(reports.score_sheet(case.scored.panel, now=NOW),
                                     font_path="/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf")
    sealed_text = _text(sealed, tmp_path)
    assert "飞翔队" not in sealed_text and "飞翔职业学院" not in sealed_text
    codes = results_codes(case)
    assert all(code in sealed_text for code in codes)


def results_codes(case) -> list[str]:
    from competition.draw import codes_by_entrant

    return list(codes_by_entrant(case.scored.competition).values())


def test_log_pdf_holds_the_score_change_and_the_appeal(db, reported, tmp_path):
    from judging import reports

    content = reports.log_content(reported.scored.competition, now=NOW + timedelta(hours=1))
    pdf = reports.log_pdf(content, font_path="/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf")
    assert "LXGW" in _fonts(pdf, tmp_path)
    text = _text(pdf, tmp_path)
    assert "复核后更正为88" in text and "84 → 88" in text and "#1" in text and "仲裁员" in text


def test_audit_workbook_holds_changes_steps_and_appeals_as_text(db, reported):
    from openpyxl import load_workbook

    from judging import reports

    workbook = load_workbook(io.BytesIO(reports.audit_workbook(reported.scored.competition)))
    changes, steps, appeals = workbook.worksheets
    rows = list(changes.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1
    assert rows[0][5:7] == ("84", "88") and rows[0][9] == "仲裁员" and rows[0][10].startswith("申诉 #1：")
    actions = [row[1] for row in steps.iter_rows(min_row=2, values_only=True)]
    assert "appeal.filed" in actions and "appeal.decided" in actions and "judging.score_change" in actions
    [appeal] = list(appeals.iter_rows(min_row=2))
    reason = appeal[5]
    assert reason.value.startswith("=HYPERLINK") and reason.data_type == "s"  # stays text, never a formula


def test_report_routes_for_the_chief_judge_and_organizers_only(app, db, reported, tmp_path):
    case = reported
    base = f"/reports/events/{case.scored.event.id}/competitions/{case.scored.competition.id}"
    chief = app.test_client()
    login(chief, case.chief, "judge-pass-1")
    assert chief.get(base, headers=ZH).status_code == 200
    sheet = chief.get(f"{base}/panels/{case.scored.panel.id}/score-sheet.pdf")
    assert sheet.status_code == 200 and sheet.data.startswith(b"%PDF")
    assert chief.get(f"{base}/log.pdf").data.startswith(b"%PDF")
    xlsx = chief.get(f"{base}/audit.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert chief.get(f"{base}/panels/{case.scored.panel.id + 999}/score-sheet.pdf").status_code == 404
    organizer = app.test_client()
    login(organizer, case.scored.organizer)
    assert organizer.get(f"{base}/audit.xlsx").status_code == 200
    judge = app.test_client()
    login(judge, case.scored.judges[0], "judge-pass-1")
    assert judge.get(f"{base}/log.pdf").status_code == 403
    assert judge.get(base).status_code == 403


def test_a_missing_font_is_a_message_not_a_500(app, db, reported, monkeypatch):
    case = reported
    monkeypatch.setitem(app.config, "TICKET_PDF_FONT", "/nonexistent/font.ttf")
    base = f"/reports/events/{case.scored.event.id}/competitions/{case.scored.competition.id}"
    organizer = app.test_client()
    login(organizer, case.scored.organizer)
    response = organizer.get(f"{base}/log.pdf")
    assert response.status_code == 302 and response.headers["Location"].endswith(base)


def test_the_log_names_the_steps_of_the_lock_chain(db, factory):
    from judging import reports
    from tests.judging.process_builders import build_chain, walk_to

    chain = build_chain(db, factory, entrants=4)
    walk_to(db, chain, "decrypt")
    content = reports.log_content(chain.competition, now=NOW)
    heading, _headers, steps, _widths = content.sections[0]
    names = [row[1] for row in steps]
    assert names[:4] == ["严格评审流程", "轮次锁定", "抽取复核样本", "复核完成"], names
    assert "开始解密" in names and "解密" in names
    assert not any(name.startswith("judging.") for name in names)  # every step has its name
    review = next(rows for title, _h, rows, _w in content.sections if title == "复核")
    assert len(review) == len(process_items(chain))  # the items are listed once, in the review section


def process_items(chain):
    from judging import process

    return process.review_items(chain.competition)


@pytest.mark.parametrize("places, expected", [(2, ["11.00", "11.50", "10.70"]), (1, ["11.0", "11.5", "10.7"]),
                                              (0, ["11", "12", "11"])])
def test_the_score_sheet_prints_every_number_at_the_competitions_places(db, factory, places, expected):
    from judging import reports
    from tests.competition.results_builders import build_scored, submit_scores

    scored = build_scored(db, factory, entrants=[("甲队", "单位1", None)], judges=3, places=places,
                          modules={"A": [("A1", "10", "judgement"), ("A2", "10", "judgement")]})
    submit_scores(db, scored, {"甲队": {"A1": ["5", "5.5", "5.2"], "A2": ["6", "6", "5.5"]}})
    [entrant] = reports.score_sheet(scored.panel, now=NOW).entrants
    assert entrant.sums == expected  # the judges' sums: 11, 11.5, 10.7 (half-up at 0 places)
    decimals = entrant.total.partition(".")[2]
    assert entrant.total != "—" and len(decimals) == places  # the combined total at the same places
