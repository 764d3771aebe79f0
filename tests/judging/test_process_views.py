"""The lock chain's pages: who may open them (404 / 403), the buttons run the services with the right status and
message, the review page shows codes only, decryption by one person is refused, the countdown is on the page."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from judging import process
from judging.process_models import JudgingProcess, ProcessStage, ReviewState
from tests.conftest import NOW, Factory, csrf_token, login
from tests.judging.process_builders import PASSWORD, build_chain, walk_to

ZH = {"Accept-Language": "zh-CN"}


def _url(chain, tail: str = "") -> str:
    return f"/judging/events/{chain.scored.event.id}/competitions/{chain.competition.id}/process{tail}"


def _as(app, user, password=None):
    client = app.test_client()
    login(client, user, password) if password else login(client, user)
    return client


def _post(client, chain, tail: str, data: dict | None = None):
    token = csrf_token(client, _url(chain))
    return client.post(_url(chain, tail), data={"csrf_token": token, **(data or {})}, headers=ZH)


def test_who_may_open_the_process_page(app, db, factory):
    chain = build_chain(db, factory, entrants=4)
    stranger = factory.user("nobody@example.org", "路人")
    assert _as(app, stranger).get(_url(chain)).status_code == 404
    assert _as(app, chain.judge, PASSWORD).get(_url(chain)).status_code == 403
    for user, password in ((chain.organizer, None), (chain.chief, PASSWORD), (chain.supervisor, PASSWORD),
                           (chain.encryptor, PASSWORD), (chain.arbitrator, PASSWORD)):
        page = _as(app, user, password).get(_url(chain), headers=ZH)
        assert page.status_code == 200, user.name
    sealed = _url(chain, "/sealed-draw")
    assert _as(app, chain.encryptor, PASSWORD).get(sealed).status_code == 200
    assert _as(app, chain.supervisor, PASSWORD).get(sealed).status_code == 403


def test_the_chain_through_the_pages(app, db, factory):
    chain = build_chain(db, factory, entrants=6)
    client = _as(app, chain.chief, PASSWORD)
    round_id = chain.scored.round.id
    assert _post(client, chain, f"/rounds/{round_id}/lock").status_code == 302
    refused = _post(client, chain, "/decrypt", {"password": PASSWORD})
    assert refused.status_code == 403 and "加密裁判" in refused.get_data(as_text=True)
    assert _post(client, chain, "/review/start").status_code == 302

    client = _as(app, chain.supervisor, PASSWORD)
    page = client.get(_url(chain, "/review"), headers=ZH)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for name, entrant in chain.scored.entrants.items():
        assert name not in html and entrant.unit not in html  # codes only before decryption
    items = process.review_items(chain.competition)
    first, rest = items[0], items[1:]
    bad = _post(client, chain, f"/review/items/{first.id}",
                {"action": "correct", "value": "11", "reason": "x", "password": PASSWORD})
    assert bad.status_code == 422
    # a correction is re-authenticated: no password, a wrong one — refused, the item stays pending
    correction = {"action": "correct", "value": "1", "reason": "评分表为 1 分"}
    assert _post(client, chain, f"/review/items/{first.id}", correction).status_code == 422
    wrong = _post(client, chain, f"/review/items/{first.id}", {**correction, "password": "guess"})
    assert wrong.status_code == 403 and "密码" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(first), first.id).state == ReviewState.PENDING
    assert _post(client, chain, f"/review/items/{first.id}", {**correction, "password": PASSWORD}).status_code == 302
    # a confirmation changes no score: one tap, no password
    for item in rest:
        assert _post(client, chain, f"/review/items/{item.id}", {"action": "confirm"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(JudgingProcess, chain.competition.id).stage in (ProcessStage.REVIEW,
                                                                         ProcessStage.REVIEWED)


def test_decryption_by_one_person_is_refused_on_the_page(app, db, factory):
    chain = build_chain(db, factory, entrants=4)
    walk_to(db, chain, "review")
    client = _as(app, chain.encryptor, PASSWORD)
    wrong = _post(client, chain, "/decrypt", {"password": "not-it"})
    assert wrong.status_code == 403
    assert _post(client, chain, "/decrypt", {"password": PASSWORD}).status_code == 302
    pending = process.pending_decryption(chain.competition)
    same = _post(client, chain, f"/decrypt/{pending.id}/confirm", {"password": PASSWORD})
    assert same.status_code == 403
    db.session.expire_all()
    assert db.session.get(JudgingProcess, chain.competition.id).stage == ProcessStage.REVIEWED
    client = _as(app, chain.supervisor, PASSWORD)
    assert _post(client, chain, f"/decrypt/{pending.id}/confirm", {"password": PASSWORD}).status_code == 302
    db.session.expire_all()
    assert db.session.get(JudgingProcess, chain.competition.id).stage == ProcessStage.DECRYPTED


def test_countdown_and_revisions_on_the_page(app, db, factory):
    from datetime import datetime, timezone

    chain = build_chain(db, factory, entrants=4)
    walk_to(db, chain, "decrypt")
    process.publish_provisional(chain.competition, actor=chain.chief, now=datetime.now(timezone.utc))
    db.session.commit()
    client = _as(app, chain.organizer)
    html = client.get(_url(chain), headers=ZH).get_data(as_text=True)
    assert 'class="process-countdown' in html and "data-deadline=" in html
    early = _post(client, chain, "/final", {"password": Factory.PASSWORD})
    assert early.status_code == 409
    db.session.execute(sa.update(JudgingProcess).where(JudgingProcess.competition_id == chain.competition.id)
                       .values(appeal_deadline=datetime.now(timezone.utc) - timedelta(minutes=1)))
    db.session.commit()
    assert _post(client, chain, "/final").status_code == 422  # the password is asked again
    assert _post(client, chain, "/final", {"password": "guess"}).status_code == 403
    assert not process.is_final(chain.competition)
    assert _post(client, chain, "/final", {"password": Factory.PASSWORD}).status_code == 302
    assert _post(client, chain, "/revise", {"reason": ""}).status_code == 422
    assert _post(client, chain, "/revise", {"reason": "仲裁组复议后维持"}).status_code == 422  # no password
    assert _post(client, chain, "/revise", {"reason": "仲裁组复议后维持", "password": "guess"}).status_code == 403
    assert len(process.snapshots(chain.competition)) == 1
    assert _post(client, chain, "/revise", {"reason": "仲裁组复议后维持", "password": Factory.PASSWORD}).status_code == 302
    html = client.get(_url(chain), headers=ZH).get_data(as_text=True)
    assert "仲裁组复议后维持" in html
    snap = client.get(_url(chain, "/snapshots/2"), headers=ZH)
    assert snap.status_code == 200 and "选手01" in snap.get_data(as_text=True)
    assert client.get(_url(chain, "/snapshots/9")).status_code == 404


def test_the_public_results_page_counts_down_to_the_appeal_deadline(app, db, factory):
    chain = build_chain(db, factory, entrants=4)
    public = f"/results/{chain.competition.id}"
    walk_to(db, chain, "decrypt")
    html = app.test_client().get(public, headers=ZH).get_data(as_text=True)
    assert "process-countdown" not in html and "js/process.js" not in html
    process.publish_provisional(chain.competition, actor=chain.chief, now=NOW)
    db.session.commit()
    page = app.test_client().get(public, headers=ZH)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    deadline = process.appeal_deadline(chain.competition)
    assert f'data-deadline="{deadline.isoformat()}"' in html and "js/process.js" in html
    assert "申诉截止：2026-11-24 12:00" in html  # NOW + 2 hours, Asia/Shanghai
    process.finalize(chain.competition, actor=chain.chief, now=NOW + timedelta(hours=3))
    db.session.commit()
    assert "process-countdown" not in app.test_client().get(public, headers=ZH).get_data(as_text=True)


def test_unlock_and_publish_ask_the_password_again(app, db, factory):
    from accounts.models import LoginFailure
    from competition.models import Round, RoundState

    chain = build_chain(db, factory, entrants=4)
    round_id = chain.scored.round.id
    client = _as(app, chain.chief, PASSWORD)
    assert _post(client, chain, f"/rounds/{round_id}/lock").status_code == 302
    html = client.get(_url(chain), headers=ZH).get_data(as_text=True)
    assert re.search(r'/rounds/\d+/unlock".*?type="password"', html, re.S)
    missing = _post(client, chain, f"/rounds/{round_id}/unlock", {"reason": "评委漏评"})
    assert missing.status_code == 422 and "请再次输入密码" in missing.get_data(as_text=True)
    wrong = _post(client, chain, f"/rounds/{round_id}/unlock", {"reason": "评委漏评", "password": "guess"})
    assert wrong.status_code == 403
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == RoundState.LOCKED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure).where(
        LoginFailure.login == f"reauth:{chain.chief.id}")) == 1  # the wrong password counts towards throttling
    assert _post(client, chain, f"/rounds/{round_id}/unlock",
                 {"reason": "评委漏评", "password": PASSWORD}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Round, round_id).state == RoundState.SCORING
    assert process.lock_events(chain.competition)[-1].reason == "评委漏评"

    walk_to(db, chain, "decrypt")
    assert _post(client, chain, "/publish").status_code == 422
    assert _post(client, chain, "/publish", {"password": "guess"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(JudgingProcess, chain.competition.id).stage == ProcessStage.DECRYPTED
    assert _post(client, chain, "/publish", {"password": PASSWORD}).status_code == 302
    db.session.expire_all()
    assert db.session.get(JudgingProcess, chain.competition.id).stage == ProcessStage.PROVISIONAL


def test_a_wrong_role_is_refused_before_the_password_and_an_empty_post_is_a_4xx(app, db, factory):
    chain = build_chain(db, factory, entrants=4)
    walk_to(db, chain, "decrypt")
    client = _as(app, chain.supervisor, PASSWORD)
    refused = _post(client, chain, "/publish")
    assert refused.status_code == 403 and "裁判长" in refused.get_data(as_text=True)
    chief = _as(app, chain.chief, PASSWORD)
    for tail in ("/publish", "/final", f"/rounds/{chain.scored.round.id}/unlock", "/revise", "/review/items/1"):
        response = chief.post(_url(chain, tail), data={})
        assert 400 <= response.status_code < 500, tail
    db.session.expire_all()
    assert db.session.get(JudgingProcess, chain.competition.id).stage == ProcessStage.DECRYPTED


def test_open_disagreement_flags_show_before_the_lock_and_hold_it(app, db, factory):
    from competition.draw import codes_by_entrant
    from judging import desk_services as ds
    from tests.competition.results_builders import build_scored, submit_scores

    scored = build_scored(db, factory, entrants=[("甲队", "单位1", None), ("乙队", "单位2", None)], judges=3,
                          modules={"A": [("A1", "10", "judgement")]})
    submit_scores(db, scored, {"甲队": {"A1": ["9", "2", "8"]}, "乙队": {"A1": ["6", "6", "7"]}})
    code = codes_by_entrant(scored.competition)[scored.entrants["甲队"].id]
    client = _as(app, scored.organizer)
    url = f"/judging/events/{scored.event.id}/competitions/{scored.competition.id}/process"
    html = client.get(url, headers=ZH).get_data(as_text=True)
    assert "1 个评分分歧尚未处理" in html and f"{code}</span> · A1 评分项A1" in html
    assert "甲队" not in html  # codes only
    assert f"/judging/desk/events/{scored.event.id}/rounds/{scored.round.id}" in html
    token = csrf_token(client, url)
    refused = client.post(f"{url}/rounds/{scored.round.id}/lock", data={"csrf_token": token}, headers=ZH)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409 and f"{code} · A1 评分项A1" in text
    ds.keep_flag(scored.round, scored.entrants["甲队"].id, scored.criteria["A1"].id, note="评分表核对无误",
                 actor=scored.organizer, now=NOW)
    db.session.commit()
    html = client.get(url, headers=ZH).get_data(as_text=True)
    assert "评分分歧尚未处理" not in html
    assert client.post(f"{url}/rounds/{scored.round.id}/lock", data={"csrf_token": token}).status_code == 302


def test_the_chain_card_names_the_supervisors_and_the_revision_picker_lists_the_scores(app, db, factory):
    chain = build_chain(db, factory, entrants=4)
    walk_to(db, chain, "lock")
    process.start_review(chain.competition, actor=chain.chief, now=NOW, seed="fixed-seed")
    for i, item in enumerate(process.review_items(chain.competition)):
        process.decide_item(item, actor=chain.supervisor if i % 2 else chain.supervisor2, now=NOW)
    decryption = process.start_decryption(chain.competition, PASSWORD, actor=chain.encryptor, now=NOW)
    process.confirm_decryption(decryption, PASSWORD, actor=chain.supervisor, now=NOW)
    process.publish_provisional(chain.competition, actor=chain.chief, now=NOW)
    process.finalize(chain.competition, actor=chain.chief, now=NOW + timedelta(hours=3))
    db.session.commit()
    client = _as(app, chain.organizer)
    html = client.get(_url(chain), headers=ZH).get_data(as_text=True)
    assert "抽样：钱裁判长" in html and "复核：周监督（3 项）、吴监督（3 项）" in html  # 3 each: in the order they were added
    # the picker: every submitted score, by entrant (code and, for the organizer after release, name) and judge
    scores = db.session.scalars(sa.select(process.Score).where(process.Score.round_id == chain.scored.round.id)).all()
    for score in scores:
        assert f'<option value="{score.id}" data-entrant="{score.entrant_id}"' in html
    assert re.search(r'<option value="\d+">\S+ · 选手01</option>', html)
    assert 'name="score_id"' in html and "js/process.js" in html
    # chief judge (not an organizer): codes only in the picker
    chief_html = _as(app, chain.chief, PASSWORD).get(_url(chain), headers=ZH).get_data(as_text=True)
    assert 'name="score_id"' in chief_html and "选手01" not in chief_html
    # the server still checks the chosen score
    target = scores[0]
    other = build_chain(db, factory, entrants=2)
    foreign = db.session.scalar(sa.select(process.Score).where(process.Score.round_id == other.scored.round.id))
    assert _post(client, chain, "/revise", {"reason": "仲裁", "score_id": str(foreign.id), "value": "3",
                                            "password": Factory.PASSWORD}).status_code == 404
    assert _post(client, chain, "/revise", {"reason": "仲裁", "value": "3",
                                            "password": Factory.PASSWORD}).status_code == 422
    assert _post(client, chain, "/revise", {"reason": "仲裁改分", "score_id": str(target.id), "value": "3",
                                            "password": Factory.PASSWORD}).status_code == 302
    db.session.expire_all()
    assert db.session.get(process.Score, target.id).value == 3
    assert process.latest_snapshot(chain.competition).changes[0]["score_id"] == target.id
