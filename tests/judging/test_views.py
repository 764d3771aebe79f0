"""The judging pages through the test client: judges and invitation links, the judge setting their password,
panels, shares, the assignment matrix (conflicts refused, the balanced suggestion), round settings, and the judge's
own pages (which never name an entrant)."""
from __future__ import annotations

import re

import sqlalchemy as sa

from judging.models import Assignment, JudgeProfile, Panel, PanelJudge, RoundJudging
from tests.conftest import csrf_token, login


def _manage(contest) -> str:
    return f"/manage/events/{contest.event.id}/competitions/{contest.competition.id}"


def _organizer(app, contest):
    client = app.test_client()
    login(client, contest.organizer)
    return client


def test_judge_invited_sets_password_once(app, db, contest):
    client = _organizer(app, contest)
    url = _manage(contest) + "/judges"
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "name": "孙评委", "login": "139 0000 1234",
                                      "units": "厦门大学\n集美大学", "role": "judge", "limit_to_event": "y",
                                      "account": "invite"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    link = re.search(r'id="invitation-link">([^<]+)<', page).group(1)
    path = link.split("localhost", 1)[-1]
    from accounts.models import User

    profile = db.session.scalar(sa.select(JudgeProfile).join(User, User.id == JudgeProfile.user_id).where(
        JudgeProfile.competition_id == contest.competition.id, User.login == "13900001234"))
    assert profile is not None and profile.units == ["厦门大学", "集美大学"]

    judge = app.test_client()
    form = judge.get(path)
    assert form.status_code == 200 and "孙评委" in form.get_data(as_text=True)
    token = csrf_token(judge, path)
    assert judge.post(path, data={"csrf_token": token, "password": "a-good-password",
                                  "confirm": "another-one"}).status_code == 422
    done = judge.post(path, data={"csrf_token": token, "password": "a-good-password", "confirm": "a-good-password"})
    assert done.status_code == 302 and done.location.endswith("/judging/")
    assert judge.get("/judging/").status_code == 200  # logged in
    assert judge.get(path).status_code == 410  # single use
    assert app.test_client().get(path[:-3] + "abc").status_code == 404  # altered


def test_add_judge_with_password_and_existing_account(app, db, contest, factory):
    client = _organizer(app, contest)
    url = _manage(contest) + "/judges"
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "name": "周评委", "login": "zhou@judges.example.org",
                                      "role": "chief", "account": "password", "password": "chief-pass-1"})
    assert response.status_code == 302
    newcomer = app.test_client()
    login(newcomer, type(contest.organizer)(login="zhou@judges.example.org"), password="chief-pass-1")
    # a password account with no password typed: shown again with the error
    response = client.post(url, data={"csrf_token": token, "name": "吴评委", "login": "wu@judges.example.org",
                                      "role": "judge", "account": "password"})
    assert response.status_code == 422
    # the same account twice
    response = client.post(url, data={"csrf_token": token, "name": "周", "login": "zhou@judges.example.org",
                                      "role": "judge", "account": "invite"})
    assert response.status_code == 409
    assert "already a judge" in response.get_data(as_text=True) or "已" in response.get_data(as_text=True)


def test_judges_page_masks_phone_numbers(app, db, contest):
    from judging import services as js

    js.add_judge(db.session.merge(contest.competition), js.JudgeData(name="孙评委", login="13900001234"),
                 actor=contest.organizer, now=contest.event.starts_at)
    db.session.commit()
    page = _organizer(app, contest).get(_manage(contest) + "/judges").get_data(as_text=True)
    assert "13900001234" not in page and "139****1234" in page


def test_edit_judge_unit_removes_conflicting_assignment(app, db, contest):
    client = _organizer(app, contest)
    profile = contest.profiles["李评委"]
    url = _manage(contest) + f"/judges/{profile.id}"
    page = client.get(url).get_data(as_text=True)
    assert "星火队" in page  # organizers see names
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "name": "李评委", "role": "judge",
                                      "units": "泉州信息工程学院", "coached": [str(contest.entrants["晨光队"].id)]},
                           follow_redirects=True)
    assert response.status_code == 200
    db.session.expire_all()
    mine = set(db.session.scalars(sa.select(Assignment.entrant_id).where(
        Assignment.judge_id == contest.judges["李评委"].id)))
    assert contest.entrants["海燕队"].id not in mine and contest.entrants["晨光队"].id not in mine
    assert client.post(url, data={"csrf_token": token, "name": "李评委", "role": "judge",
                                  "coached": ["x"]}).status_code == 422


def test_panels_assignment_and_suggestion(app, db, contest):
    client = _organizer(app, contest)
    url = _manage(contest) + "/panels"
    assert client.get(url).status_code == 200
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "name": "复赛专家组", "round_id": contest.round.id,
                                      "group_id": contest.groups["高职组"].id, "judges_per_entrant": "2"})
    assert response.status_code == 302
    panel = db.session.scalar(sa.select(Panel).where(Panel.name == "复赛专家组"))
    panel_url = _manage(contest) + f"/panels/{panel.id}"
    assert client.post(url, data={"csrf_token": token, "name": "复赛专家组", "round_id": contest.round.id,
                                  "group_id": 0}).status_code == 409  # the same name in the round
    # add the four judges, 张评委 measuring only
    for name in ("王评委", "张评委"):
        share = "measurement" if name == "张评委" else "all"
        client.post(panel_url + "/judges", data={"csrf_token": token, "profile_id": contest.profiles[name].id,
                                                 "share": share})
    members = {m.profile.user.name: m for m in db.session.scalars(sa.select(PanelJudge).where(
        PanelJudge.panel_id == panel.id))}
    assert set(members) == {"王评委", "张评委"}
    assert {link.criterion_id for link in members["张评委"].criteria} == {contest.criteria["A1"].id,
                                                                       contest.criteria["A2"].id}
    page = client.get(panel_url).get_data(as_text=True)
    assert "回避" in page and "云帆队" in page
    # 王评委 may not score 云帆队: refused, nothing saved
    bad = f"{members['王评委'].id}:{contest.entrants['云帆队'].id}"
    client.post(panel_url + "/assign", data={"csrf_token": token, "pair": [bad]})
    assert not db.session.scalar(sa.select(sa.func.count(Assignment.id)).where(Assignment.panel_id == panel.id))
    # but 张评委 may: the other judges of the round already score it on the first panel
    client.post(panel_url + "/suggest", data={"csrf_token": token})
    db.session.expire_all()
    pairs = set(db.session.execute(sa.select(Assignment.panel_judge_id, Assignment.entrant_id).where(
        Assignment.panel_id == panel.id)).all())
    assert (members["王评委"].id, contest.entrants["云帆队"].id) not in pairs
    # a judge who already scores an entrant on another panel of the round is not assigned it twice
    assert not pairs


def test_share_form_and_round_settings(app, db, contest):
    client = _organizer(app, contest)
    panel = contest.panels["高职组"]
    member = db.session.scalar(sa.select(PanelJudge).where(PanelJudge.panel_id == panel.id))
    panel_url = _manage(contest) + f"/panels/{panel.id}"
    token = csrf_token(client, panel_url)
    client.post(panel_url + f"/judges/{member.id}/share", data={
        "csrf_token": token, "criteria": [str(contest.criteria["B1"].id), str(contest.criteria["B2"].id)]})
    db.session.expire_all()
    assert {c.criterion_id for c in db.session.get(PanelJudge, member.id).criteria} == {
        contest.criteria["B1"].id, contest.criteria["B2"].id}
    settings_url = _manage(contest) + f"/rounds/{contest.round.id}/judging-settings"
    prefix = f"r{contest.round.id}-"
    client.post(settings_url, data={"csrf_token": token, prefix + "code_stage": "1"})  # roll call unticked
    db.session.expire_all()
    assert db.session.get(RoundJudging, contest.round.id).requires_roll_call is False


def test_judge_pages_never_name_an_entrant(app, db, contest):
    judge = app.test_client()
    login(judge, contest.judges["李评委"], password="judge-pass-1")
    home = judge.get("/judging/").get_data(as_text=True)
    tablet_url = f"/judging/events/{contest.event.id}/rounds/{contest.round.id}"
    assert tablet_url in home
    response = judge.get(tablet_url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "data-url-sheet" in page and "scoring.js" in page
    sheet = judge.get(f"/api/v1/judging/rounds/{contest.round.id}/sheet").get_data(as_text=True)
    for entrant in contest.entrants.values():
        for secret in [entrant.name, entrant.unit, *entrant.members, *entrant.coaches]:
            assert secret not in page and secret not in sheet and secret not in home
    # a judge of this competition who is not a judge of another event's round: 404 / 403 as the access table says
    assert judge.get(f"/judging/events/{contest.event.id}/rounds/987654").status_code == 404
    organizer = _organizer(app, contest)
    assert organizer.get(tablet_url).status_code == 403


def test_judge_declares_units_only_adding(app, db, contest):
    judge = app.test_client()
    login(judge, contest.judges["李评委"], password="judge-pass-1")
    page = judge.get("/judging/").get_data(as_text=True)
    assert "厦门软件园" in page  # the units already declared
    url = f"/judging/events/{contest.event.id}/competitions/{contest.competition.id}/units"
    token = csrf_token(judge, "/judging/")
    assert judge.post(url, data={"csrf_token": token, "units": "泉州信息工程学院"}).status_code == 302
    db.session.expire_all()
    profile = db.session.get(JudgeProfile, contest.profiles["李评委"].id)
    assert profile.units == ["厦门软件园", "泉州信息工程学院"]
    assert not db.session.scalar(sa.select(Assignment.id).where(
        Assignment.judge_id == contest.judges["李评委"].id, Assignment.entrant_id == contest.entrants["海燕队"].id))
    # nothing to remove a unit with: a declaration only adds
    judge.post(url, data={"csrf_token": token, "units": "泉州信息工程学院"})
    db.session.expire_all()
    assert db.session.get(JudgeProfile, profile.id).units == ["厦门软件园", "泉州信息工程学院"]
    # an organizer (no judge of it) may not declare for the competition
    organizer = _organizer(app, contest)
    token = csrf_token(organizer, "/judging/")
    assert organizer.post(url, data={"csrf_token": token, "units": "x"}).status_code == 403
