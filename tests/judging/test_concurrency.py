"""Scores under concurrency, through the whole API from real threads (each request with its own database session and
connection), on SQLite and PostgreSQL:

- the same judge on two tablets: drafts are last-write-wins (every answer 200, the stored value is one of them), and
  once the entrant is submitted a late draft from the other tablet is refused (409) and changes nothing;
- twenty judges submitting at once: every score answered 200 is in the database, every submission answered 200 is
  submitted, nothing else is there; the first scores of the round start scoring exactly once.
"""
from __future__ import annotations

import threading
import time
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from competition.models import Round, RoundState
from core.models import AuditEntry
from judging import services as js
from judging.models import Score, ScoreChange, ScoreState
from tests.conftest import NOW
from tests.judging.conftest import build_contest, full_marks

JUDGES = 20


def _tokens(db, users) -> dict:
    from accounts.services import create_api_token

    tokens = {user.id: create_api_token(user, name="评分平板", now=NOW)[1] for user in users}
    db.session.commit()
    return tokens


def _run_together(functions) -> None:
    barrier = threading.Barrier(len(functions))
    errors = []

    def runner(function):
        try:
            barrier.wait()
            function()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=runner, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_same_judge_on_two_tablets(app, db, factory):
    contest = build_contest(db, factory)
    judge = contest.judges["李评委"]
    secret = _tokens(db, [judge])[judge.id]
    entrant, a1 = contest.entrants["星火队"].id, contest.criteria["A1"].id
    round_id = contest.round.id
    url = "/api/v1/scores"
    headers = {"Authorization": f"Bearer {secret}"}
    answers = {"one": [], "two": []}

    def tablet(name: str, values: list[str]):
        client = app.test_client()
        for value in values:
            response = client.put(url, json={"entrant_id": entrant, "criterion_id": a1, "round_id": round_id,
                                             "value": value, "nonce": str(uuid.uuid4())}, headers=headers)
            answers[name].append((value, response.status_code))

    _run_together([lambda: tablet("one", ["1", "2", "3", "4", "5"]), lambda: tablet("two", ["6", "7", "8", "9", "10"])])
    assert {status for pairs in answers.values() for _v, status in pairs} == {200}
    db.session.expire_all()
    [score] = db.session.scalars(sa.select(Score))
    assert score.state == ScoreState.DRAFT
    assert score.value in {Decimal("5"), Decimal("10")}  # each tablet's last value; the later commit wins

    # Tablet one fills in and submits the entrant while tablet two keeps sending drafts of A1.
    client_one = app.test_client()
    for code, value in full_marks().items():
        assert client_one.put(url, json={"entrant_id": entrant, "criterion_id": contest.criteria[code].id,
                                         "round_id": round_id, "value": value,
                                         "nonce": str(uuid.uuid4())}, headers=headers).status_code == 200
    submitted_at = {}
    late = []

    def submit():
        response = client_one.post(f"/api/v1/judging/rounds/{round_id}/entrants/{entrant}/submit",
                                   json={"nonce": str(uuid.uuid4())}, headers=headers)
        submitted_at["done"] = time.monotonic()
        assert response.status_code == 200

    def keep_typing():
        client = app.test_client()
        for i in range(40):
            started = time.monotonic()
            response = client.put(url, json={"entrant_id": entrant, "criterion_id": a1, "round_id": round_id,
                                             "value": str(i % 10), "nonce": str(uuid.uuid4())}, headers=headers)
            late.append((started, str(i % 10), response.status_code,
                         (response.get_json().get("error") or {}).get("code")))
            time.sleep(0.005)

    _run_together([submit, keep_typing])
    db.session.expire_all()
    scores = {s.criterion_id: s for s in db.session.scalars(sa.select(Score))}
    assert {s.state for s in scores.values()} == {ScoreState.SUBMITTED}
    after = [item for item in late if item[0] > submitted_at["done"]]
    assert after, "the second tablet sent nothing after the submission"
    assert all((status, code) == (409, "submitted") for _t, _v, status, code in after)
    # Tablet two's drafts are sequential: what was submitted is its last accepted draft (or tablet one's value when
    # none was accepted), and nothing changed it afterwards.
    accepted = [value for _t, value, status, _c in late if status == 200]
    expected = Decimal(accepted[-1]) if accepted else Decimal(full_marks()["A1"])
    assert scores[a1].value == expected
    assert db.session.scalar(sa.select(sa.func.count(ScoreChange.id))) == 0


def test_twenty_judges_submitting_at_once(app, db, factory):
    contest = build_contest(db, factory)
    competition = db.session.merge(contest.competition)
    panel = db.session.merge(contest.panels["高职组"])
    users = list(contest.judges.values())
    for i in range(JUDGES - len(users)):
        added = js.add_judge(competition, js.JudgeData(name=f"评委{i:02d}", login=f"judge{i:02d}@judges.example.org",
                                                       password="judge-pass-1"), actor=contest.organizer, now=NOW)
        js.add_panel_judge(panel, added.profile, [], actor=contest.organizer, now=NOW)
        users.append(added.profile.user)
    js.apply_suggestion(panel, actor=contest.organizer, now=NOW)
    db.session.commit()
    tokens = _tokens(db, users)
    round_id = contest.round.id  # read here: the threads have no application context for lazy loads
    assert db.session.get(Round, round_id).state == RoundState.SETUP
    answered: list[tuple[int, int, int, str]] = []  # (judge, entrant, criterion, value) answered 200
    submitted: list[tuple[int, int]] = []
    refused: list = []
    lock = threading.Lock()

    def judge(user_id: int):
        client = app.test_client()
        headers = {"Authorization": f"Bearer {tokens[user_id]}"}
        sheet = client.get(f"/api/v1/judging/rounds/{round_id}/sheet", headers=headers).get_json()
        codes = {c["id"]: c["code"] for c in sheet["criteria"]}
        for entrant in sheet["entrants"]:
            for criterion_id in entrant["criteria"]:
                value = full_marks()[codes[criterion_id]]
                response = client.put("/api/v1/scores", headers=headers, json={
                    "entrant_id": entrant["id"], "criterion_id": criterion_id, "round_id": round_id,
                    "value": value, "nonce": str(uuid.uuid4())})
                with lock:
                    (answered if response.status_code == 200 else refused).append(
                        (user_id, entrant["id"], criterion_id, value) if response.status_code == 200
                        else (response.status_code, response.get_data(as_text=True)[:200]))
            response = client.post(f"/api/v1/judging/rounds/{round_id}/entrants/{entrant['id']}/submit",
                                   headers=headers, json={"nonce": str(uuid.uuid4())})
            with lock:
                if response.status_code == 200:
                    submitted.append((user_id, entrant["id"]))
                else:
                    refused.append((response.status_code, response.get_data(as_text=True)[:200]))

    user_ids = [u.id for u in users]
    _run_together([lambda u=u: judge(u) for u in user_ids])
    assert not refused, refused[:5]
    db.session.expire_all()
    stored = {(s.judge_id, s.entrant_id, s.criterion_id): s for s in db.session.scalars(sa.select(Score))}
    assert len(answered) == len(stored)
    for judge_id, entrant_id, criterion_id, value in answered:
        score = stored[(judge_id, entrant_id, criterion_id)]
        assert score.value == Decimal(value)
    states = {(s.judge_id, s.entrant_id) for s in stored.values() if s.state == ScoreState.SUBMITTED}
    assert states == set(submitted)
    # 高职组: 4 entrants x 20 judges minus the two conflicts; 中职组: 1 entrant x 4 judges
    assert len(submitted) == 4 * JUDGES - 2 + 4
    assert db.session.get(Round, contest.round.id).state == RoundState.SCORING
    starts = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "competition.scoring_start"))
    assert starts == 1
