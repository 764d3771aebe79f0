"""The desk under concurrency, from real threads through the pages and the scores API (each request with its own
session and connection), on SQLite and PostgreSQL: two chief judges resolving the same flag at once — one wins, the
other is told it was handled; a chief judge unlocking a score while the judge re-submits it — whatever the order,
the score's state is the one its last logged change says."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from judging import desk_services as ds
from judging.desk_models import DisagreementFlag, FlagResolution
from judging.models import Score, ScoreChange, ScoreState
from tests.conftest import NOW, csrf_token, login
from tests.judging.conftest import build_contest
from tests.judging.desk_builders import CHIEF_PASSWORD, add_chief, score, sheet
from tests.judging.test_concurrency import _run_together, _tokens


def _chief_client(app, chief, page):
    client = app.test_client()
    login(client, chief, CHIEF_PASSWORD)
    return client, csrf_token(client, page)


@pytest.mark.parametrize("action", ["keep", "rescore"])
def test_two_chief_judges_resolve_the_same_flag(app, db, factory, action):
    contest = build_contest(db, factory)
    first = add_chief(db, contest)
    second = add_chief(db, contest, login="chief2@judges.example.org", name="钱裁判长")
    score(contest, "王评委", "晨光队", sheet(b1="12"))
    score(contest, "李评委", "晨光队", sheet(b1="19"))
    desk = f"/judging/desk/events/{contest.event.id}/rounds/{contest.round.id}"
    url = f"{desk}/entrants/{contest.entrants['晨光队'].id}/criteria/{contest.criteria['B1'].id}"
    clients = [_chief_client(app, chief, desk) for chief in (first, second)]
    answers = []

    def act(client, token, action):
        data = {"csrf_token": token, "reason": f"{action} 并发", "password": CHIEF_PASSWORD}
        answers.append((action, client.post(f"{url}/{action}", data=data).status_code))

    _run_together([lambda: act(*clients[0], action), lambda: act(*clients[1], action)])
    assert sorted(status for _a, status in answers) == [302, 409], answers
    db.session.expire_all()
    [flag] = db.session.scalars(sa.select(DisagreementFlag))
    if action == "keep":
        assert flag.resolution == FlagResolution.KEPT
        assert db.session.scalar(sa.select(sa.func.count(ScoreChange.id))) == 0  # nothing reopened
    else:
        assert flag.resolution is None and flag.rescore_request_id is not None
        assert db.session.scalar(sa.select(sa.func.count(ScoreChange.id))) == 2


def test_unlock_racing_with_the_judges_resubmission(app, db, factory):
    contest = build_contest(db, factory)
    chief = add_chief(db, contest)
    judge = contest.judges["李评委"]
    secret = _tokens(db, [judge])[judge.id]
    entrant, b1, round_id = contest.entrants["星火队"].id, contest.criteria["B1"].id, contest.round.id
    desk = f"/judging/desk/events/{contest.event.id}/rounds/{round_id}"
    score(contest, "李评委", "星火队", sheet(b1="17.5"))
    for round_no in range(3):
        target = db.session.scalar(sa.select(Score).where(Score.judge_id == judge.id, Score.entrant_id == entrant,
                                                          Score.criterion_id == b1))
        ds.unlock_score(target, actor=chief, reason=f"第{round_no + 1}次复查", now=NOW)
        db.session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
        api = app.test_client()
        response = api.put("/api/v1/scores", json={"entrant_id": entrant, "criterion_id": b1,
                                                   "round_id": round_id, "value": str(15 + round_no),
                                                   "nonce": str(uuid.uuid4())}, headers=headers)
        assert response.status_code == 200
        target_id = target.id
        client, token = _chief_client(app, chief, desk)
        answers = {}

        def resubmit():
            answers["submit"] = api.post(f"/api/v1/judging/rounds/{round_id}/entrants/{entrant}/submit",
                                         json={"nonce": str(uuid.uuid4())}, headers=headers).status_code

        def unlock_again():
            answers["unlock"] = client.post(f"{desk}/scores/{target_id}/unlock",
                                            data={"csrf_token": token, "reason": "再次解锁",
                                                  "password": CHIEF_PASSWORD}).status_code

        _run_together([resubmit, unlock_again])
        assert answers["submit"] == 200, answers
        assert answers["unlock"] in (302, 409), answers
        db.session.expire_all()
        current = db.session.get(Score, target.id)
        last = db.session.scalar(sa.select(ScoreChange).where(ScoreChange.score_id == target.id)
                                 .order_by(ScoreChange.id.desc()).limit(1))
        assert last.new_state == current.state and last.new_value == current.value
        if current.state == ScoreState.DRAFT:  # the second unlock came after: resubmit for the next round
            score(contest, "李评委", "星火队", {"B1": str(15 + round_no)})
