"""The organizer pages of the competition set-up through the test client, asserting on what is in the database
afterwards: forms, refusals shown on the page with nothing saved, the draw and its sealed mapping, roll call by
hand and by ticket, the workbook (template, export → import, a bad workbook)."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from competition import services, workbook
from competition.models import (
    Competition,
    Criterion,
    DrawCode,
    Entrant,
    Group,
    Module,
    RollCall,
    Round,
    RoundState,
)
from core.models import AuditEntry
from tests.competition.builders import make_competition
from tests.conftest import NOW, csrf_token
from tests.conftest import login as _login


def login(client, user):
    """Log in, with English pages (the messages asserted below are the English msgids)."""
    client.set_cookie("saihui_lang", "en")
    return _login(client, user)


@pytest.fixture()
def setup(db, factory, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "COMPETITION_IMPORT_DIR", str(tmp_path / "imports"))
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, title="云计算技能大赛", kind="competition", status="published", requires_approval=True)
    return org, organizer, event


def base(event, competition=None) -> str:
    path = f"/manage/events/{event.id}/competitions"
    return f"{path}/{competition.id}" if competition is not None else path


def post(client, page: str, url: str, data: dict | None = None, **kwargs):
    form = {"csrf_token": csrf_token(client, page)}
    form.update(data or {})
    return client.post(url, data=form, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def flashed(client, path: str) -> str:
    return text(client.get(path))


# ---------------------------------------------------------------- competitions, groups, rounds, rubric


def test_create_a_competition_through_the_form(client, db, setup):
    _org, organizer, event = setup
    login(client, organizer)
    page = f"{base(event)}/new"
    assert "Groups" in text(client.get(page))
    response = post(client, page, page, {
        "title": "云计算", "description": "", "groups": "中职组\n高职组\n\n", "places": "2", "rounding": "half_up",
        "aggregation": "trimmed_mean", "trim_threshold": "5", "normalization": "off",
        "normalization_min_scores": "5", "award_basis": "share", "award_rounding": "half_up",
        "award_tiers": "一等奖 10\n二等奖 20\n三等奖 30"})
    assert response.status_code == 302, text(response)[:2000]
    competition = db.session.scalar(sa.select(Competition).where(Competition.event_id == event.id))
    assert [g.name for g in competition.groups] == ["中职组", "高职组"]
    assert competition.award_rules["tiers"][1] == {"name": "二等奖", "value": "20"}
    detail = client.get(response.location)
    assert detail.status_code == 200 and "云计算" in text(detail) and "中职组" in text(detail)
    # the event page links to the competitions
    assert f"{base(event)}\"" in text(client.get(f"/manage/events/{event.id}"))


def test_bad_competition_form_is_shown_again_and_saves_nothing(client, db, setup):
    _org, organizer, event = setup
    login(client, organizer)
    page = f"{base(event)}/new"
    response = post(client, page, page, {
        "title": "云计算", "places": "2", "rounding": "half_up", "aggregation": "mean", "trim_threshold": "5",
        "normalization": "off", "normalization_min_scores": "5", "award_basis": "share", "award_rounding": "half_up",
        "award_tiers": "一等奖 60\n二等奖 50"})
    assert response.status_code == 422
    assert "add up to more than 100%" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Competition.id))) == 0


def test_groups_rounds_modules_and_criteria_through_the_pages(client, db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0, rubric=False)
    db.session.commit()
    login(client, organizer)
    detail = base(event, competition)

    assert post(client, detail, f"{detail}/groups", {"name": "企业组"}).status_code == 302
    post(client, detail, f"{detail}/groups", {"name": "企业组"})
    assert "already has the group" in flashed(client, detail)
    assert [g.name for g in db.session.scalars(sa.select(Group).where(Group.competition_id == competition.id)
                                               .order_by(Group.position))] == ["中职组", "高职组", "企业组"]

    page = f"{detail}/rounds/new"
    response = post(client, page, page, {"name": "决赛", "starts_at": "2026-12-20T09:00", "ends_at": "2026-12-20T12:00",
                                         "carries_scores_forward": "y", "weight": "100"})
    assert response.status_code == 302
    final = db.session.scalar(sa.select(Round).where(Round.competition_id == competition.id, Round.name == "决赛"))
    assert final.starts_at.hour == 1  # 09:00 in Beijing is 01:00 UTC
    rubric_page = f"{detail}/rounds/{final.id}/rubric"
    assert response.location.endswith(rubric_page)

    response = post(client, rubric_page, f"{detail}/rounds/{final.id}/rubric/modules", {"code": "1A", "name": "x"})
    assert response.status_code == 422 and "module code is a letter" in text(response)
    response = post(client, rubric_page, f"{detail}/rounds/{final.id}/rubric/modules",
                    {"code": "a", "name": "实操", "weight": ""})
    assert response.status_code == 302
    module = db.session.scalar(sa.select(Module).where(Module.code == "A"))

    page = f"{detail}/rubric/modules/{module.id}/criteria/new"
    assert 'value="A1"' in text(client.get(page))  # the next code is suggested
    bad = post(client, page, page, {"code": "A1", "name": "部署", "maximum": "10", "step": "3", "kind": "measurement"})
    assert bad.status_code == 422 and "is not a multiple of the step" in text(bad)
    assert db.session.scalar(sa.select(sa.func.count(Criterion.id))) == 0
    good = post(client, page, page, {"code": "A1", "name": "部署", "maximum": "10", "step": "0.5", "kind": "judgement",
                                     "ladder": "y", "level0": "无", "level1": "差", "level2": "中", "level3": "好"})
    assert good.status_code == 302
    criterion = db.session.scalar(sa.select(Criterion))
    assert criterion.ladder and criterion.levels == ["无", "差", "中", "好"]
    shown = text(client.get(rubric_page))
    assert "部署" in shown and "好" in shown

    edit = f"{detail}/rubric/criteria/{criterion.id}/edit"
    assert 'value="0.5"' in text(client.get(edit))
    assert post(client, edit, edit, {"code": "A1", "name": "部署与测试", "maximum": "10", "step": "0.5",
                                     "kind": "measurement"}).status_code == 302
    db.session.expire_all()
    criterion = db.session.get(Criterion, criterion.id)
    assert criterion.name == "部署与测试" and criterion.ladder is False and criterion.levels == []


def test_a_locked_rubric_page_offers_no_edits_and_refuses_them(client, db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0)
    round_ = competition.rounds[0]
    services.lock_rubric(services.rubric_for(round_), actor=organizer, now=NOW)
    db.session.commit()
    login(client, organizer)
    detail = base(event, competition)
    page = text(client.get(f"{detail}/rounds/{round_.id}/rubric"))
    assert "this rubric is locked" in page and "Add module" not in page
    module = services.rubric_for(round_).modules[0]
    response = post(client, f"{detail}/rounds/{round_.id}/rubric", f"{detail}/rubric/modules/{module.id}/delete")
    assert response.status_code == 302
    assert "rubric can no longer change" in flashed(client, response.location)
    assert db.session.get(Module, module.id) is not None


# ---------------------------------------------------------------- entrants and roll call


def _team_signups(event, organizer, names):
    from registration.models import RegistrationKind
    from registration.services import SignupData, approve_registration, register_participant, save_settings

    save_settings(event, kind=RegistrationKind.TEAM, team_min_members=1, team_max_members=3, team_max_coaches=1,
                  groups=["中职组", "高职组"], ask_id_number=False, ask_email=False, ask_job_title=False,
                  allow_session_choice=False, actor=organizer, now=NOW)
    registrations = []
    for i, name in enumerate(names):
        registration, _key = register_participant(event, SignupData(
            name=f"{name}领队", phone=f"1390000{i:04d}", unit=f"{name}学校", group_name="中职组", team_name=name),
            now=NOW, ignore_window=True)
        approve_registration(registration, now=NOW, actor=organizer)
        registrations.append(registration)
    return registrations


def test_entrants_from_signups_and_roll_call_by_hand_and_by_ticket(client, db, setup):
    from registration.tickets import ticket_token

    _org, organizer, event = setup
    registrations = _team_signups(event, organizer, ["飞翔队", "启航队"])
    competition = make_competition(event, organizer, entrants=0)
    db.session.commit()
    login(client, organizer)
    detail = base(event, competition)
    entrants_page = f"{detail}/entrants"
    assert "0 of 2 approved sign-ups are entrants" in text(client.get(entrants_page))
    for _ in range(2):  # twice: the second adds nothing
        response = post(client, entrants_page, f"{detail}/entrants/from-signups")
        assert response.status_code == 302
    assert "every one is an entrant already" in flashed(client, entrants_page)
    entrants = services.list_entrants(competition)
    assert [e.name for e in entrants] == ["飞翔队", "启航队"]
    assert "139****0000" in text(client.get(entrants_page))  # phones masked in the list

    round_ = competition.rounds[0]
    roll = f"{detail}/rounds/{round_.id}/roll-call"
    assert "0 of 2 present" in text(client.get(roll))
    assert post(client, roll, f"{roll}/{entrants[0].id}", {"present": "1"}).status_code == 302
    assert "1 of 2 present" in text(client.get(roll))
    with client.application.test_request_context():
        token = ticket_token(registrations[1])
    response = post(client, roll, f"{roll}/scan", {"token": token})
    assert "启航队 is present." in flashed(client, response.location)
    post(client, roll, f"{roll}/scan", {"token": token})
    assert "already marked present" in flashed(client, roll)
    post(client, roll, f"{roll}/scan", {"token": token[:-2] + ("AA" if not token.endswith("AA") else "BB")})
    assert "not a valid ticket" in flashed(client, roll)
    assert services.present_entrant_ids(round_) == {entrants[0].id, entrants[1].id}
    post(client, roll, f"{roll}/{entrants[0].id}", {"present": "0"})
    db.session.expire_all()
    assert services.present_entrant_ids(round_) == {entrants[1].id}
    assert db.session.scalar(sa.select(sa.func.count(RollCall.id))) == 2


def test_a_ticket_of_another_event_is_refused_at_roll_call(client, db, setup, factory):
    from registration.services import SignupData, register_participant
    from registration.tickets import ticket_token

    org, organizer, event = setup
    other_event = factory.event(org, title="另一场活动", status="published")
    registration, _key = register_participant(other_event, SignupData(name="路人", phone="13700000001", unit="x"),
                                              now=NOW, ignore_window=True)
    competition = make_competition(event, organizer, entrants=1)
    db.session.commit()
    login(client, organizer)
    roll = f"{base(event, competition)}/rounds/{competition.rounds[0].id}/roll-call"
    with client.application.test_request_context():
        token = ticket_token(registration)
    post(client, roll, f"{roll}/scan", {"token": token})
    assert "for another event" in flashed(client, roll)
    assert db.session.scalar(sa.select(sa.func.count(RollCall.id))) == 0


def test_manual_entrant_form_and_refusal(client, db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0)
    db.session.commit()
    login(client, organizer)
    page = f"{base(event, competition)}/entrants/new"
    bad = post(client, page, page, {"name": "独行侠", "group_id": "0", "phone": "123"})
    assert bad.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Entrant.id))) == 0
    good = post(client, page, page, {"name": "独行侠", "unit": "个人", "group_id": str(competition.groups[1].id),
                                     "members": "甲、乙", "coaches": "", "phone": "13800138000", "is_team": "y"})
    assert good.status_code == 302
    entrant = db.session.scalar(sa.select(Entrant))
    assert entrant.members == ["甲", "乙"] and entrant.group_id == competition.groups[1].id


# ---------------------------------------------------------------- the draw


def test_draw_redo_and_lock_through_the_pages(client, db, setup, factory):
    org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=6)
    db.session.commit()
    login(client, organizer)
    detail = base(event, competition)
    page = f"{detail}/draw"
    assert "Not drawn yet" in text(client.get(page))
    response = post(client, page, f"{detail}/draw/1", {"code_prefix": "a", "width": ""})
    assert response.status_code == 302
    codes = dict(db.session.execute(sa.select(DrawCode.entrant_id, DrawCode.code)).all())
    assert sorted(codes.values()) == [f"A0{n}" for n in range(1, 7)]
    shown = text(client.get(page))
    for entrant in services.list_entrants(competition):
        assert re.search(rf"{codes[entrant.id]}</td>\s*<td[^>]*>[^<]*</td>\s*<td>{entrant.name}</td>", shown)
    post(client, page, f"{detail}/draw/1", {"code_prefix": "A1"})
    assert "A prefix is up to three letters" in flashed(client, page)
    post(client, page, f"{detail}/draw/2", {"code_prefix": "J", "width": "3"})
    assert db.session.scalar(sa.select(sa.func.count(DrawCode.id)).where(DrawCode.stage == 2)) == 6

    round_ = competition.rounds[0]
    response = post(client, detail, f"{detail}/rounds/{round_.id}/start")
    assert "Scoring has started in this round" in flashed(client, response.location)
    db.session.expire_all()
    assert db.session.get(Round, round_.id).state == RoundState.SCORING
    post(client, page, f"{detail}/draw/1", {"code_prefix": "B"})
    assert "the draw can no longer be redone" in flashed(client, page)
    db.session.expire_all()
    assert dict(db.session.execute(sa.select(DrawCode.entrant_id, DrawCode.code)
                                   .where(DrawCode.stage == 1)).all()) == codes
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions.count("competition.draw") == 2 and "competition.scoring_start" in actions


def test_judges_and_checkin_staff_never_see_the_mapping(client, db, setup, factory):
    org, organizer, event = setup
    judge = factory.user(organization=org, role="judge")
    staff = factory.user(organization=org, role="checkin_staff", event=event)
    other_org = factory.organization()
    outsider = factory.user(organization=other_org, role="organizer")
    competition = make_competition(event, organizer, entrants=3)
    from competition.draw import draw

    draw(competition, 1, actor=organizer, now=NOW)
    db.session.commit()
    names = [e.name for e in services.list_entrants(competition)]
    page = f"{base(event, competition)}/draw"
    for user, status in ((judge, 403), (staff, 403), (outsider, 404)):
        fresh = client.application.test_client()
        login(fresh, user)
        response = fresh.get(page)
        assert response.status_code == status
        assert not any(name in text(response) for name in names)


# ---------------------------------------------------------------- the workbook


def _upload(client, event, competition, content: bytes, name: str = "赛项.xlsx"):
    page = f"{base(event, competition)}/workbook/import"
    return client.post(page, data={"csrf_token": csrf_token(client, page), "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def _confirm(client, event, competition, preview_html: str):
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview_html).group(1)
    page = f"{base(event, competition)}/workbook/import"
    return client.post(f"{page}/confirm", data={"csrf_token": csrf_token(client, page), "token": token})


def test_template_and_export_downloads(client, db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=2)
    db.session.commit()
    login(client, organizer)
    detail = base(event, competition)
    template = client.get(f"{detail}/workbook/template.xlsx")
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    assert openpyxl.load_workbook(io.BytesIO(template.data)).sheetnames == ["评分标准", "参赛者", "评委", "成绩",
                                                                           "说明"]  # 评委, 成绩: judging/workbook.py
    export = client.get(f"{detail}/workbook/export.xlsx")
    assert export.status_code == 200 and export.headers["Cache-Control"] == "private, no-store"
    book = openpyxl.load_workbook(io.BytesIO(export.data))
    assert [c.value for c in book["参赛者"][2]][1] == "参赛队1"
    assert book["参赛者"].cell(row=2, column=6).value == "13900000000"  # unmasked for organizers, and logged
    audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "competition.workbook_export"))
    assert audit.actor_id == organizer.id and audit.details["entrants"] == 2


def test_export_then_import_through_the_pages(client, db, setup):
    _org, organizer, event = setup
    source = make_competition(event, organizer, entrants=3)
    target = services.create_competition(event, services.CompetitionData(title="副本"), actor=organizer, now=NOW)
    db.session.commit()
    login(client, organizer)
    content = client.get(f"{base(event, source)}/workbook/export.xlsx").data
    preview = _upload(client, event, target, content)
    assert preview.status_code == 200
    html = text(preview)
    assert "no problems found" in html and "New groups: 中职组、高职组" in html
    assert db.session.scalar(sa.select(sa.func.count(Entrant.id)).where(Entrant.competition_id == target.id)) == 0
    done = _confirm(client, event, target, html)
    assert done.status_code == 302
    assert "Imported from" in flashed(client, done.location)
    db.session.expire_all()
    assert workbook.rubric_rows(db.session.get(Competition, target.id)) == workbook.rubric_rows(
        db.session.get(Competition, source.id))
    assert [e.name for e in services.list_entrants(db.session.get(Competition, target.id))] == \
        ["参赛队1", "参赛队2", "参赛队3"]
    # the kept upload is gone: confirming again goes back to the upload
    again = _confirm(client, event, target, html)
    assert again.status_code == 302 and "expired or was already imported" in flashed(client, again.location)


def test_a_bad_workbook_is_previewed_with_its_problems_and_cannot_be_confirmed(client, db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0, rubric=False)
    db.session.commit()
    login(client, organizer)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "评分标准"
    sheet.append(["轮次", "模块", "编号", "评分项", "类型", "满分", "步长", "备注"])
    sheet.append(["初赛", "A", "A1", "部署", "客观", 10, 3])
    sheet.append(["初赛", "A", "A1", "测试", "客观", 10, 1])
    entrants = book.create_sheet("参赛者")
    entrants.append(["组别", "名称"])
    entrants.append(["企业组", "启航队"])
    out = io.BytesIO()
    book.save(out)
    preview = _upload(client, event, competition, out.getvalue())
    assert preview.status_code == 200  # the upload worked: its preview lists the problems
    html = text(preview)
    for message in ("Unknown column “备注”", "is not a multiple of the step 3", "Criterion A1 is already on row 2",
                    "Unknown group “企业组”"):
        assert message in html
    assert re.search(r'<button class="btn btn-brand" type="submit" disabled>', html)
    forced = _confirm(client, event, competition, html)  # the button is disabled; a forced post still refuses
    assert forced.status_code == 422 and "Nothing was imported" in text(forced)
    assert db.session.scalar(sa.select(sa.func.count(Criterion.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Entrant.id))) == 0


def test_unreadable_upload_is_refused_on_the_form(client, db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0)
    db.session.commit()
    login(client, organizer)
    response = _upload(client, event, competition, b"not a workbook", "x.xlsx")
    assert response.status_code == 422 and "could not be read as xlsx" in text(response)
