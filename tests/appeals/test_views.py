"""Appeal pages: the team leader files through the manage link (refused on the server after the deadline), the
arbitration group decides, organizers read and file on behalf; who may see what (404 / 403); no 500s."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.appeals.conftest import DEADLINE
from tests.conftest import NOW, csrf_token, login

REASON = "A1 评分与现场记录不符，请复核第二位评委的分数。"
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture()
def clock(monkeypatch):
    """The views' clock (utcnow), movable by the test."""
    import appeals.views

    moment = {"now": NOW + timedelta(minutes=10)}
    monkeypatch.setattr(appeals.views, "utcnow", lambda: moment["now"])
    return moment


def _appeals(db):
    from appeals.models import Appeal

    db.session.expire_all()
    return list(db.session.scalars(sa.select(Appeal).order_by(Appeal.id)))


def test_the_team_leader_files_an_appeal_through_the_manage_link(client, db, case, clock):
    manage = client.get(f"/r/{case.key}", headers=ZH).get_data(as_text=True)
    assert 'id="appeals"' in manage and f"/r/{case.key}/appeals/{case.scored.competition.id}" in manage
    path = f"/r/{case.key}/appeals/{case.scored.competition.id}"
    page = client.get(path, headers=ZH)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": REASON,
                                       "attachment": (io.BytesIO(b"%PDF-1.4 evidence"), "记录.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    [appeal] = _appeals(db)
    assert appeal.reason == REASON and appeal.attachment_name == "记录.pdf"
    download = client.get(f"/r/{case.key}/appeals/attachment/{appeal.id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 evidence"
    # a second appeal: the page says so, and a post is refused on the server
    again = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": REASON})
    assert again.status_code == 409 and len(_appeals(db)) == 1


def test_after_the_deadline_the_form_refuses_on_the_server(client, db, case, clock):
    path = f"/r/{case.key}/appeals/{case.scored.competition.id}"
    token = csrf_token(client, path)
    clock["now"] = DEADLINE + timedelta(minutes=1)
    page = client.get(path, headers=ZH).get_data(as_text=True)
    assert 'name="reason"' not in page  # no form after the deadline …
    response = client.post(path, data={"csrf_token": token, "reason": REASON}, headers=ZH)
    assert response.status_code == 409  # … and a post sent anyway is refused, with the message
    assert "申诉" in response.get_data(as_text=True) or "deadline" in response.get_data(as_text=True)
    assert _appeals(db) == []


def test_bad_input_is_a_form_error_not_a_500(client, db, case, clock):
    path = f"/r/{case.key}/appeals/{case.scored.competition.id}"
    short = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "短"})
    assert short.status_code == 422
    fake = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": REASON,
                                   "attachment": (io.BytesIO(b"<html>not a pdf</html>"), "x.pdf")},
                       content_type="multipart/form-data")
    assert fake.status_code == 422 and _appeals(db) == []
    assert client.get(f"/r/not-a-key/appeals/{case.scored.competition.id}").status_code == 404
    assert client.get(f"/r/{case.key}/appeals/{case.scored.competition.id + 999}").status_code == 404


def test_the_arbitrator_decides_and_the_appellant_sees_the_decision(app, db, case, clock):
    from appeals import services
    from appeals.models import AppealChannel, AppealState

    appeal = services.file_appeal(case.entrant, reason=REASON, channel=AppealChannel.PARTICIPANT, now=NOW)
    db.session.commit()
    base = f"/appeals/events/{case.scored.event.id}/competitions/{case.scored.competition.id}"
    arbitrator = app.test_client()
    login(arbitrator, case.arbitrator, "judge-pass-1")
    home = arbitrator.get("/judging/", headers=ZH).get_data(as_text=True)
    assert base in home
    listing = arbitrator.get(base, headers=ZH)
    assert listing.status_code == 200 and f"#{appeal.number}" in listing.get_data(as_text=True)
    page = f"{base}/{appeal.id}"
    assert arbitrator.get(page).status_code == 200
    missing = arbitrator.post(page, data={"csrf_token": csrf_token(arbitrator, page), "outcome": "upheld",
                                          "decision": "成立", "password": "judge-pass-1"})
    assert missing.status_code == 422  # upheld without a corrected score
    response = arbitrator.post(page, data={"csrf_token": csrf_token(arbitrator, page), "outcome": "rejected",
                                           "decision": "经复核，评分无误。", "password": "judge-pass-1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert _appeals(db)[0].state == AppealState.REJECTED
    again = arbitrator.post(page, data={"csrf_token": csrf_token(arbitrator, page), "outcome": "upheld",
                                        "decision": "改判", "password": "judge-pass-1"})
    assert again.status_code in (409, 422) and _appeals(db)[0].decision == "经复核，评分无误。"
    participant = app.test_client()
    manage = participant.get(f"/r/{case.key}", headers=ZH).get_data(as_text=True)
    assert "经复核，评分无误。" in manage


def test_the_decision_asks_for_the_arbitrators_password_again(app, db, case, clock):
    from accounts.models import LoginFailure
    from appeals import services
    from appeals.models import AppealChannel, AppealState

    appeal = services.file_appeal(case.entrant, reason=REASON, channel=AppealChannel.PARTICIPANT, now=NOW)
    db.session.commit()
    page = f"/appeals/events/{case.scored.event.id}/competitions/{case.scored.competition.id}/{appeal.id}"
    arbitrator = app.test_client()
    login(arbitrator, case.arbitrator, "judge-pass-1")
    decision = {"outcome": "rejected", "decision": "经复核，评分无误。"}
    missing = arbitrator.post(page, data={"csrf_token": csrf_token(arbitrator, page), **decision}, headers=ZH)
    assert missing.status_code == 422
    wrong = arbitrator.post(page, data={"csrf_token": csrf_token(arbitrator, page), "password": "guess", **decision},
                            headers=ZH)
    assert wrong.status_code == 403 and "密码错误" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert _appeals(db)[0].state == AppealState.OPEN and _appeals(db)[0].decision in (None, "")
    assert db.session.scalar(sa.select(sa.func.count(LoginFailure.id))) == 1  # the wrong password counts
    right = arbitrator.post(page, data={"csrf_token": csrf_token(arbitrator, page), "password": "judge-pass-1",
                                        **decision})
    assert right.status_code == 302
    db.session.expire_all()
    assert _appeals(db)[0].state == AppealState.REJECTED


def test_who_may_see_and_decide(app, db, case, factory, clock):
    from appeals import services
    from appeals.models import AppealChannel

    appeal = services.file_appeal(case.entrant, reason=REASON, channel=AppealChannel.PARTICIPANT, now=NOW)
    db.session.commit()
    base = f"/appeals/events/{case.scored.event.id}/competitions/{case.scored.competition.id}"
    organizer = app.test_client()
    login(organizer, case.scored.organizer)
    assert organizer.get(base).status_code == 200
    page = f"{base}/{appeal.id}"
    assert organizer.post(page, data={"csrf_token": csrf_token(organizer, page), "outcome": "rejected",
                                      "decision": "驳回", "password": "x"}).status_code == 403  # organizers read only
    chief = app.test_client()
    login(chief, case.chief, "judge-pass-1")
    assert chief.get(base).status_code == 403  # a role in the event, not this one
    judge = app.test_client()
    login(judge, case.scored.judges[0], "judge-pass-1")
    assert judge.get(page).status_code == 403
    stranger = app.test_client()
    login(stranger, factory.user("stranger@example.org", "路人"))
    assert stranger.get(base).status_code == 404
    assert stranger.get(f"/r/{case.key}/appeals/attachment/{appeal.id}").status_code == 404  # no attachment


def test_an_organizer_files_on_behalf_and_sets_the_limit(app, db, case, clock):
    from appeals.models import AppealChannel

    base = f"/appeals/events/{case.scored.event.id}/competitions/{case.scored.competition.id}"
    organizer = app.test_client()
    login(organizer, case.scored.organizer)
    response = organizer.post(f"{base}/file", data={"csrf_token": csrf_token(organizer, f"{base}/file"),
                                                    "entrant_id": case.other.id, "reason": REASON,
                                                    "appellant_name": "王领队"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    [appeal] = _appeals(db)
    assert appeal.channel == AppealChannel.ORGANIZER and appeal.appellant_name == "王领队"
    assert appeal.filed_by_id == case.scored.organizer.id
    bad = organizer.post(f"{base}/settings", data={"csrf_token": csrf_token(organizer, f"{base}/settings"),
                                                   "appeals_per_entrant": "9"})
    assert bad.status_code == 422
    ok = organizer.post(f"{base}/settings", data={"csrf_token": csrf_token(organizer, f"{base}/settings"),
                                                  "appeals_per_entrant": "2"})
    assert ok.status_code == 302
