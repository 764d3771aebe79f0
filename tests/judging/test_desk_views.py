"""The desk's pages and JSON: who may open them, codes only, and the re-authenticated actions (a refused action shows
its message with a 4xx and changes nothing)."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from judging.models import Score, ScoreChange, ScoreState
from tests.conftest import Factory, csrf_token, login
from tests.judging.desk_builders import CHIEF_PASSWORD, add_chief, score, sheet


def _desk(contest) -> str:
    return f"/judging/desk/events/{contest.event.id}/rounds/{contest.round.id}"


def _client(app, user, password):
    client = app.test_client()
    login(client, user, password)
    return client


def _b1(db, contest, judge="李评委", entrant="星火队") -> Score:
    return db.session.scalar(sa.select(Score).where(
        Score.judge_id == contest.judges[judge].id, Score.entrant_id == contest.entrants[entrant].id,
        Score.criterion_id == contest.criteria["B1"].id))


NAMES = ["云帆队", "星火队", "海燕队", "晨光队", "厦门城市职业学院", "福州职业技术学院", "队长", "林老师"]


def test_access(app, db, contest):
    chief = add_chief(db, contest)
    url = _desk(contest)
    assert app.test_client().get(url).status_code == 302  # log in first
    assert app.test_client().get(url + "/progress.json").status_code == 401
    judge = _client(app, contest.judges["李评委"], "judge-pass-1")
    assert judge.get(url).status_code == 403
    assert judge.get(url + "/progress.json").status_code == 403
    for user, password in ((chief, CHIEF_PASSWORD), (contest.organizer, Factory.PASSWORD)):
        assert _client(app, user, password).get(url).status_code == 200
    # another organization's organizer: 404
    factory = Factory(db)
    other_org = factory.organization("另一个协会")
    stranger = factory.user("stranger@example.org", "外人", organization=other_org, role="organizer")
    client = app.test_client()
    login(client, stranger)
    assert client.get(url).status_code == 404
    assert client.get(url + "/progress.json").status_code == 404


def test_pages_show_codes_never_names(app, db, contest):
    chief = add_chief(db, contest)
    score(contest, "王评委", "晨光队", sheet(b1="12"))
    score(contest, "李评委", "晨光队", sheet(b1="19"))
    client = _client(app, chief, CHIEF_PASSWORD)
    page = client.get(_desk(contest), headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    data = client.get(_desk(contest) + "/progress.json").get_json()
    entrant = client.get(f"{_desk(contest)}/entrants/{contest.entrants['晨光队'].id}").get_data(as_text=True)
    assert contest.code("晨光队") in page and contest.code("晨光队") in entrant
    assert "李评委" in page  # judges are named for the chief judge
    for text in (page, json.dumps(data, ensure_ascii=False), entrant):
        for name in NAMES:
            assert name not in text, name
    assert 'data-flag="%d:%d"' % (contest.entrants["晨光队"].id, contest.criteria["B1"].id) in page
    cells = {(c["judge"], c["entrant"]): c["state"] for p in data["panels"] for c in p["cells"]}
    assert cells[(contest.judges["李评委"].id, contest.entrants["晨光队"].id)] == "submitted"
    assert cells[(contest.judges["张评委"].id, contest.entrants["晨光队"].id)] == "not_started"


def _post(client, url, form_page, **data):
    token = csrf_token(client, form_page)
    return client.post(url, data={"csrf_token": token, **data}, headers={"Accept-Language": "en"})


def test_unlock_refusals_change_nothing(app, db, contest):
    chief = add_chief(db, contest)
    score(contest, "李评委", "星火队", sheet(b1="17.5"))
    target = _b1(db, contest)
    client = _client(app, chief, CHIEF_PASSWORD)
    page = f"{_desk(contest)}/entrants/{contest.entrants['星火队'].id}"
    url = f"{_desk(contest)}/scores/{target.id}/unlock"
    no_reason = _post(client, url, page, reason="  ", password=CHIEF_PASSWORD)
    assert no_reason.status_code == 422 and "why" in no_reason.get_data(as_text=True)
    wrong = _post(client, url, page, reason="复查", password="wrong")
    assert wrong.status_code == 403 and "password is wrong" in wrong.get_data(as_text=True)
    no_password = _post(client, url, page, reason="复查", password="")
    assert no_password.status_code == 422
    db.session.expire_all()
    assert _b1(db, contest).state == ScoreState.SUBMITTED
    assert db.session.scalar(sa.select(sa.func.count(ScoreChange.id))) == 0
    done = _post(client, url, page, reason="复查", password=CHIEF_PASSWORD)
    assert done.status_code == 302
    db.session.expire_all()
    assert _b1(db, contest).state == ScoreState.DRAFT
    again = _post(client, url, page, reason="复查", password=CHIEF_PASSWORD)
    assert again.status_code == 409


def test_unlock_in_locked_round_409(app, db, contest):
    from competition.models import Round, RoundState

    chief = add_chief(db, contest)
    score(contest, "李评委", "星火队", sheet())
    target = _b1(db, contest)
    db.session.execute(sa.update(Round).where(Round.id == contest.round.id).values(state=RoundState.LOCKED))
    db.session.commit()
    client = _client(app, chief, CHIEF_PASSWORD)
    page = f"{_desk(contest)}/entrants/{contest.entrants['星火队'].id}"
    response = _post(client, f"{_desk(contest)}/scores/{target.id}/unlock", page, reason="复查",
                     password=CHIEF_PASSWORD)
    assert response.status_code == 409
    assert "chief judge must unlock the round first" in response.get_data(as_text=True)
    assert client.get(page).status_code == 200


def test_paper_sheet_and_rescore_through_pages(app, db, contest):
    chief = add_chief(db, contest)
    client = _client(app, chief, CHIEF_PASSWORD)
    entrant = contest.entrants["海燕队"].id
    page = f"{_desk(contest)}/entrants/{entrant}"
    judge = contest.judges["张评委"]
    url = f"{page}/judges/{judge.id}/paper"
    values = {f"value-{contest.criteria[c].id}": v for c, v in sheet(b1="16.3").items()}
    bad = _post(client, url, page, password=CHIEF_PASSWORD, **values)
    assert bad.status_code == 422 and "0.5" in bad.get_data(as_text=True)
    values[f"value-{contest.criteria['B1'].id}"] = "16.5"
    assert _post(client, url, page, password=CHIEF_PASSWORD, **values).status_code == 302
    trail = client.get(page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Entered by the chief judge 赵裁判长 (judge 张评委)" in trail
    # a disagreement on 海燕队 B1: 16.5 (paper) against 9 and 10
    score(contest, "李评委", "海燕队", sheet(b1="9"))
    score(contest, "陈明", "海燕队", sheet(b1="10"))
    b1 = contest.criteria["B1"].id
    response = _post(client, f"{page}/criteria/{b1}/rescore", _desk(contest), reason="", password=CHIEF_PASSWORD)
    assert response.status_code == 422
    response = _post(client, f"{page}/criteria/{b1}/rescore", _desk(contest), reason="请复评", password=CHIEF_PASSWORD)
    assert response.status_code == 302
    desk_page = client.get(_desk(contest), headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Re-score asked" in desk_page and "请复评" in desk_page


def test_settings_page(app, db, contest):
    chief = add_chief(db, contest)
    client = _client(app, chief, CHIEF_PASSWORD)
    url = f"/judging/desk/events/{contest.event.id}/competitions/{contest.competition.id}"
    assert client.get(url).status_code == 200
    bad = _post(client, url, url, ladder_levels="x", spread_percent="30", outlier_percent="15",
                outlier_min_entrants="5")
    assert bad.status_code == 422
    ok = _post(client, url, url, ladder_levels="1", spread_percent="20", outlier_percent="15",
               outlier_min_entrants="5")
    assert ok.status_code == 302
