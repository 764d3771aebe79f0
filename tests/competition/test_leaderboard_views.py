"""The organizers' results pages and the public pages through the test client: the live board (criteria, modules,
each judge's total, ranks, awards), publishing and freezing, ranking settings, tie decisions, award overrides,
completion times, the Excel export (text stays text), the 成绩公示 PDF (Chinese in an embedded font), the ranking
history (also for the chief judge), the public page and the big screen. Bad input: a clear message, nothing
half-saved, never a 500."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from competition import results
from competition.result_models import AwardOverride, ChainEnd, CompletionTime, TieDecision
from core.models import AuditEntry
from tests.competition.results_builders import build_scored, submit_scores
from tests.conftest import NOW, csrf_token, login


@pytest.fixture()
def built(db, factory):
    entrants = [("星火队", "福州职业技术学院", "高职组"), ("海燕队", "泉州信息工程学院", "高职组"),
                ("晨光队", "漳州职业技术学院", "高职组"), ("云帆队", "厦门城市职业学院", "高职组"),
                ("青松队", "厦门工商旅游学校", "中职组")]
    scored = build_scored(db, factory, entrants=entrants, judges=2,
                          modules={"A": [("A1", "60", "measurement")], "B": [("B1", "40", "judgement")]})
    submit_scores(db, scored, {"星火队": {"A1": "50", "B1": ["30", "32"]}, "海燕队": {"A1": "48", "B1": ["35", "35"]},
                               "晨光队": {"A1": "52", "B1": ["31", "31"]}, "青松队": {"A1": "40", "B1": ["20", "30"]}})
    return scored


def base(built) -> str:
    return f"/manage/events/{built.event.id}/competitions/{built.competition.id}/results"


def post(client, path, data=None, **kwargs):
    token = csrf_token(client, "/")
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_board_shows_criteria_modules_judges_ranks_and_awards(client, built):
    login(client, built.organizer)
    page = text(client.get(base(built)))
    # 海燕队: 48 + 35 = 83; 晨光队: 52 + 31 = 83 (tied); 星火队: 50 + 31 = 81; 云帆队 not scored
    assert "海燕队" in page and "泉州信息工程学院" in page
    assert page.count("83.00") == 2 and "81.00" in page
    assert "评委1" in page and "评委2" in page  # each judge's total (judge 1 gave 星火队 50 + 30)
    assert "80" in page
    assert "云帆队" in page and 'class="tie-mark"' in page
    fragment = client.get(f"{base(built)}/fragment?board=g{built.groups['高职组'].id}")
    assert fragment.status_code == 200 and "<html" not in text(fragment) and "海燕队" in text(fragment)
    version = client.get(f"{base(built)}/version.json").get_json()["version"]
    assert version == str(results.get_state(built.competition.id).version)
    assert client.get(f"{base(built)}?board=nope").status_code == 404


def test_publish_freeze_final_and_refusals_go_back_with_a_message(db, client, built):
    login(client, built.organizer)
    response = post(client, f"{base(built)}/unpublish", follow_redirects=True)
    assert "未发布" in text(response) or "not published" in text(response).lower()
    assert post(client, f"{base(built)}/publish").status_code == 302
    assert results.get_state(built.competition.id).published
    assert post(client, f"{base(built)}/freeze").status_code == 302
    db.session.expire_all()
    assert results.get_state(built.competition.id).frozen_at is not None
    assert post(client, f"{base(built)}/final").status_code == 302
    db.session.expire_all()
    assert results.get_state(built.competition.id).final
    response = post(client, f"{base(built)}/unpublish", follow_redirects=True)
    assert response.status_code == 200
    db.session.expire_all()
    assert results.get_state(built.competition.id).published  # final results stay published
    assert post(client, f"{base(built)}/provisional").status_code == 302
    assert post(client, f"{base(built)}/unfreeze").status_code == 302
    db.session.expire_all()
    state = results.get_state(built.competition.id)
    assert not state.final and state.frozen_at is None
    actions = [a for (a,) in db.session.execute(sa.select(AuditEntry.action).where(
        AuditEntry.action.like("results.%")).order_by(AuditEntry.id))]
    assert actions == ["results.publish", "results.freeze", "results.final", "results.provisional",
                       "results.unfreeze"]


def test_settings_form_saves_and_refuses_with_nothing_saved(db, client, built):
    login(client, built.organizer)
    assert "module:B" in text(client.get(f"{base(built)}/settings"))
    good = {"tiebreak_1": "module:B", "tiebreak_2": "time", "tiebreak_3": "", "tiebreak_4": "", "tiebreak_5": "",
            "chain_end": "lots", "lift_ties": "y", "rest_tier": "优秀奖", "points": "5/3/2/1",
            "before_publish": "codes"}
    response = post(client, f"{base(built)}/settings", good)
    assert response.status_code == 302
    state = results.get_state(built.competition.id)
    assert (state.tiebreaks, state.chain_end, state.rest_tier, state.points, state.before_publish.value) == (
        ["module:B", "time"], ChainEnd.LOTS, "优秀奖", ["5", "3", "2", "1"], "codes")
    for bad in ({"tiebreak_2": "module:B"}, {"points": "4/三"}, {"tiebreak_1": "module:ZZ"}, {"rest_tier": "x" * 40},
                {"chain_end": "coin"}):
        response = post(client, f"{base(built)}/settings", {**good, "tiebreak_2": "", **bad})
        assert response.status_code == 422, bad
        assert "is-invalid" in text(response) or "alert-danger" in text(response), bad
        db.session.expire_all()
        assert results.get_state(built.competition.id).points == ["5", "3", "2", "1"]


def test_lots_and_the_chief_judges_decision_from_the_board(db, client, built):
    login(client, built.organizer)
    board = f"g{built.groups['高职组'].id}"
    tie = results.standings(built.competition).board(board).ties[0]
    response = post(client, f"{base(built)}/ties/lots", {"board": board, "tie": tie.key}, follow_redirects=True)
    assert db.session.scalar(sa.select(sa.func.count(TieDecision.id))) == 0  # the chain ends in shared ranks
    results.update_settings(built.competition, results.SettingsData(chain_end=ChainEnd.CHIEF), actor=built.organizer,
                            now=NOW)
    db.session.commit()
    page = client.get(f"{base(built)}/ties/decide?board={board}&tie={tie.key}")
    assert page.status_code == 200 and "海燕队" in text(page) and "晨光队" in text(page)
    places = {f"place-{e}": "1" for e in tie.entrant_ids}  # both first: refused, nothing saved
    response = post(client, f"{base(built)}/ties/decide", {"board": board, "tie": tie.key, "reason": "复核", **places})
    assert response.status_code == 422
    places = {f"place-{e}": str(i + 1) for i, e in enumerate(sorted(tie.entrant_ids, reverse=True))}
    response = post(client, f"{base(built)}/ties/decide", {"board": board, "tie": tie.key, "reason": "", **places})
    assert response.status_code == 422 and db.session.scalar(sa.select(sa.func.count(TieDecision.id))) == 0
    response = post(client, f"{base(built)}/ties/decide",
                    {"board": board, "tie": tie.key, "reason": "现场展示得分更高", **places})
    assert response.status_code == 302
    decision = db.session.scalar(sa.select(TieDecision))
    assert decision.reason == "现场展示得分更高" and decision.order == sorted(tie.entrant_ids, reverse=True)
    assert not results.standings(built.competition).board(board).ties
    assert client.get(f"{base(built)}/ties/decide?board={board}&tie={tie.key}").status_code == 302  # gone
    response = post(client, f"{base(built)}/ties/revoke", {"decision_id": str(decision.id), "reason": "误操作",
                                                           "board": board})
    assert response.status_code == 302 and db.session.scalar(sa.select(TieDecision)) is None


def test_award_override_form(db, client, built):
    login(client, built.organizer)
    entrant = built.entrants["星火队"]
    path = f"{base(built)}/awards/{entrant.id}"
    assert "星火队" in text(client.get(path))
    assert post(client, path, {"tier": "一等奖", "reason": ""}).status_code == 422
    assert post(client, path, {"tier": "特等奖", "reason": "x"}).status_code == 422
    assert db.session.scalar(sa.select(AwardOverride)) is None
    assert post(client, path, {"tier": "一等奖", "reason": "仲裁组裁定"}).status_code == 302
    override = db.session.scalar(sa.select(AwardOverride))
    assert (override.tier, override.reason, override.by_id) == ("一等奖", "仲裁组裁定", built.organizer.id)
    assert "仲裁组裁定" in text(client.get(path))
    assert post(client, path, {"tier": "一等奖", "reason": "撤回", "clear": "1"}).status_code == 302
    assert db.session.scalar(sa.select(AwardOverride)) is None
    other = build_scored_other(db, built)
    assert client.get(f"{base(built)}/awards/{other}").status_code == 404


def build_scored_other(db, built) -> int:
    from competition.models import Entrant

    return db.session.scalar(sa.select(sa.func.max(Entrant.id))) + 1


def test_completion_times_form(db, client, built):
    login(client, built.organizer)
    path = f"{base(built)}/times/{built.round.id}"
    assert "星火队" in text(client.get(path))
    ids = {name: e.id for name, e in built.entrants.items()}
    response = post(client, path, {f"time-{ids['星火队']}": "1:05:30", f"time-{ids['海燕队']}": "1:99"})
    assert response.status_code == 422 and "is-invalid" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(CompletionTime.id))) == 0
    assert post(client, path, {f"time-{ids['星火队']}": "1:05:30", f"time-{ids['海燕队']}": "64:00"}).status_code == 302
    assert {t.entrant_id: str(t.seconds) for t in db.session.scalars(sa.select(CompletionTime))} == {
        ids["星火队"]: "3930.000", ids["海燕队"]: "3840.000"}
    assert "1:05:30" in text(client.get(path))


def test_excel_export_keeps_text_as_text_and_is_logged(db, client, built):
    from competition import services as cs
    from openpyxl import load_workbook

    cs.update_entrant(built.entrants["云帆队"], cs.EntrantData(name='=HYPERLINK("http://evil","x")', unit="@SUM(A1)",
                                                              group_id=built.groups["高职组"].id),
                      actor=built.organizer, now=NOW)
    db.session.commit()
    login(client, built.organizer)
    response = client.get(f"{base(built)}/export.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames[:2] == ["高职组", "中职组"]
    sheet = workbook["高职组"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("排名", "工位号", "二次加密号", "名称")  # Rank, Station no., result code, name (zh_Hans)
    by_name = {row[3]: row for row in rows[1:]}
    assert by_name["海燕队"][0] == 1 and by_name["晨光队"][0] == 1
    evil = [cell for cell in sheet[len(rows)] if cell.value == '=HYPERLINK("http://evil","x")']
    assert evil and evil[0].data_type == "s"
    assert db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.action == "results.export")) is not None


def test_results_pdf_embeds_a_chinese_font(db, client, built):
    login(client, built.organizer)
    response = client.get(f"{base(built)}/results.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    content = response.get_data()
    assert content.startswith(b"%PDF") and b"LXGWWenKai" in content and b"FontFile2" in content
    assert db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.action == "results.pdf")) is not None
    from competition.results_pdf import ResultsFontError, render_results_pdf

    with pytest.raises(ResultsFontError):
        render_results_pdf(None, font_path="/nonexistent/font.ttf")


def test_history_for_organizers_and_the_chief_judge_only(db, client, built, factory):
    from judging import services as js
    from judging.models import JudgeRole

    login(client, built.organizer)
    client.get(base(built))  # the first recorded board
    submit_scores(db, built, {"星火队": {"A1": "60"}})
    page = text(client.get(f"{base(built)}/history"))
    assert "星火队" in page and "81.00" in page and "91.00" in page  # 50 + 31 → 60 + 31
    chief = js.add_judge(built.competition, js.JudgeData(name="欧阳裁判长", login="chief@judges.example.org",
                                                        role=JudgeRole.CHIEF, password="judge-pass-1"),
                         actor=built.organizer, now=NOW).profile.user
    db.session.commit()
    judge_client = client.application.test_client()
    login(judge_client, built.judges[0], "judge-pass-1")
    assert judge_client.get(f"{base(built)}/history").status_code == 403
    assert judge_client.get(base(built)).status_code == 403
    chief_client = client.application.test_client()
    login(chief_client, chief, "judge-pass-1")
    assert chief_client.get(f"{base(built)}/history").status_code == 200
    assert chief_client.get(base(built)).status_code == 403


def test_public_page_and_screen(db, client, built, factory):
    page = client.get(f"/results/{built.competition.id}")
    assert page.status_code == 200 and "海燕队" not in text(page)
    results.publish(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    page = text(client.get(f"/results/{built.competition.id}?board=g{built.groups['中职组'].id}"))
    assert "青松队" in page and "海燕队" not in page
    assert client.get(f"/results/{built.competition.id}?board=nope").status_code == 404
    screen = client.get(f"/screen/{built.competition.id}")
    assert screen.status_code == 200 and "screen.js" in text(screen) and "<script>" not in text(screen)
    assert not re.search(r"\son[a-z]+=", text(screen)) and "style=" not in text(screen)
    data = client.get(f"/results/{built.competition.id}/board.json").get_json()
    assert [b["name"] for b in data["boards"]] == ["高职组", "中职组"]
    assert data["boards"][0]["entries"][0]["name"] in ("海燕队", "晨光队")
    other = build_scored(db, factory, entrants=[("甲", "A", None)], event_status="draft",
                         organization=built.organization, organizer=built.organizer, title="草稿赛项")
    assert client.get(f"/results/{other.competition.id}").status_code == 404
    assert client.get(f"/screen/{other.competition.id}").status_code == 404
