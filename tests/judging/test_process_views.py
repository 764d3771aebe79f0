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
    bad = _post(client, chain, f"/review/items/{first.id}", {"action": "correct", "value": "11", "reason": "x"})
    assert bad.status_code == 422
    assert _post(client, chain, f"/review/items/{first.id}",
                 {"action": "correct", "value": "1", "reason": "评分表为 1 分"}).status_code == 302
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
    early = _post(client, chain, "/final")
    assert early.status_code == 409
    db.session.execute(sa.update(JudgingProcess).where(JudgingProcess.competition_id == chain.competition.id)
                       .values(appeal_deadline=datetime.now(timezone.utc) - timedelta(minutes=1)))
    db.session.commit()
    assert _post(client, chain, "/final").status_code == 302
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
