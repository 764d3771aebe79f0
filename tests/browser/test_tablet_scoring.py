"""The judge's tablet page in a real Chromium at 1024×768: a judge logs in, scores two entrants by code with the
number pad, the full-mark button, the stepper and the ladder; the network is cut between them, the page shows what
is not yet saved, the tab is closed, the network comes back, and every score arrives exactly once. No entrant's
name, unit, member or coach appears in anything the judge's browser receives."""
from __future__ import annotations

import json
import re
from decimal import Decimal

import sqlalchemy as sa
from playwright.sync_api import expect

from judging.models import Score, ScoreRequest, ScoreState
from tests.browser.conftest import SHOTS, TABLET, assert_no_horizontal_overflow, log_in
from tests.judging.conftest import build_contest

JUDGE = "李评委"
SUBMITTED = re.compile(r"\bstate-submitted\b")


class Traffic:
    """Everything the judge's browser receives (bodies of every response) and the nonces it sends."""

    def __init__(self):
        self.bodies: list[tuple[str, str]] = []
        self.nonces: list[tuple[str, str]] = []  # (slot or submit, nonce) of each score request sent

    def watch(self, page) -> None:
        page.on("response", self._response)
        page.on("request", self._request)

    def _response(self, response) -> None:
        try:
            body = response.body()
        except Exception:  # redirects and aborted requests have no body
            return
        self.bodies.append((response.url, body.decode("utf-8", "replace")))

    def _request(self, request) -> None:
        if "/api/v1/" not in request.url or request.method not in ("PUT", "POST"):
            return
        data = json.loads(request.post_data or "{}")
        slot = f"{data.get('entrant_id')}:{data.get('criterion_id')}" if request.method == "PUT" else request.url
        self.nonces.append((slot, data.get("nonce")))

    def text(self) -> str:
        return "\n".join(json.dumps(json.loads(body), ensure_ascii=False) if body.lstrip().startswith("{") else body
                         for _url, body in self.bodies)


def _scores(db, contest) -> dict[tuple[str, str], Score]:
    db.session.expire_all()
    names = {e.id: name for name, e in contest.entrants.items()}
    codes = {c.id: code for code, c in contest.criteria.items()}
    rows = db.session.scalars(sa.select(Score).where(Score.judge_id == contest.judges[JUDGE].id))
    return {(names[s.entrant_id], codes[s.criterion_id]): s for s in rows}


def _open_entrant(page, code: str) -> None:
    page.locator(f".entrant-item:has(.entrant-code:text-is('{code}'))").click()
    expect(page.locator(".entrant-big-code")).to_have_text(code)


def _criterion(page, code: str):
    return page.locator(f".criterion:has(.criterion-code:text-is('{code}'))")


def _type_on_numpad(page, code: str, digits: str) -> None:
    _criterion(page, code).locator(".value-button").click()
    numpad = page.locator("#numpad")
    expect(numpad).to_be_visible()
    for key in digits:
        numpad.locator(f'[data-key="{key}"]').click()
    page.click("#numpad-ok")
    expect(numpad).to_be_hidden()


def _score_entrant(page, *, a1: str, b1: str, b2_level: int) -> None:
    _type_on_numpad(page, "A1", a1)
    _criterion(page, "A2").locator(".choice-button").nth(1).click()  # full mark
    _type_on_numpad(page, "B1", b1)
    _criterion(page, "B1").locator(".step-button").nth(1).click()  # + 0.5
    _criterion(page, "B2").locator(f'.ladder-level[data-value="{b2_level}"]').click()


def _submit(page) -> None:
    page.locator(".submit-button").click()
    summary = page.locator("#summary")
    expect(summary).to_be_visible()
    page.click("#summary-confirm")
    expect(summary).to_be_hidden()
    expect(page.locator(".modal-backdrop")).to_have_count(0)


def screenshot(page, name: str) -> None:
    """What the judge sees on the 1024×768 screen (not the full page: the sticky bars would be drawn mid-page)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_judge_scores_two_entrants_across_a_network_drop(new_context, console, db, factory):
    contest = build_contest(db, factory)
    judge = contest.judges[JUDGE]
    first, second = contest.code("星火队"), contest.code("海燕队")
    traffic = Traffic()
    context = new_context(**TABLET)
    page = context.new_page()
    traffic.watch(page)

    log_in(page, judge, password="judge-pass-1")
    page.goto("/judging/")
    page.locator(".judge-round").first.click()
    expect(page.locator(".entrant-item")).to_have_count(5)
    _open_entrant(page, first)
    blank = _criterion(page, "A1").locator(".value-button")
    expect(blank).to_have_class("value-button is-blank")  # a blank is not zero: "not scored"

    # An invalid value cannot be entered: the number pad says why and keeps the value as it was.
    _criterion(page, "A1").locator(".value-button").click()
    for key in "10.5":
        page.locator(f'#numpad [data-key="{key}"]').click()
    page.click("#numpad-ok")
    expect(page.locator("#numpad-error")).not_to_be_empty()
    page.click("#numpad-clear")
    expect(page.locator("#numpad")).to_be_hidden()

    _score_entrant(page, a1="8.5", b1="17", b2_level=2)
    expect(page.locator("#running-total")).to_have_text("35")  # 8.5 + 5 + 17.5 + 2/3 x 6
    expect(page.locator("#sync-status")).to_have_class("sync-status sync-ok", timeout=10_000)
    _submit(page)
    expect(page.locator(f".entrant-item:has(.entrant-code:text-is('{first}'))")).to_have_class(
        SUBMITTED, timeout=10_000)
    assert_no_horizontal_overflow(page)
    screenshot(page, "tablet-scoring-submitted")

    # The network goes: the second entrant is scored and submitted all the same, and the page says what is unsent.
    console.allow(r"ERR_INTERNET_DISCONNECTED|Failed to fetch|net::ERR")
    context.set_offline(True)
    _open_entrant(page, second)
    _score_entrant(page, a1="6", b1="12", b2_level=3)
    _submit(page)
    sync = page.locator("#sync-status")
    expect(sync).to_have_class("sync-status sync-offline", timeout=10_000)
    expect(sync).to_contain_text("5")  # four values and the submission
    for code in ("A1", "A2", "B1", "B2"):  # each value says it is not yet on the server
        expect(_criterion(page, code).locator(".slot-pending")).to_have_count(1)
    expect(page.locator(f".entrant-item:has(.entrant-code:text-is('{second}')) .unsent-dot")).to_have_count(1)
    screenshot(page, "tablet-scoring-offline")
    assert {name for name, _code in _scores(db, contest)} == {"星火队"}  # nothing of the second entrant yet

    # The tab is closed while offline; the network comes back; the judge opens the page again.
    page.close()
    context.set_offline(False)
    page = context.new_page()
    traffic.watch(page)
    page.goto(f"/judging/events/{contest.event.id}/rounds/{contest.round.id}")
    expect(page.locator("#sync-status")).to_have_class("sync-status sync-ok", timeout=15_000)
    expect(page.locator(f".entrant-item:has(.entrant-code:text-is('{second}'))")).to_have_class(
        SUBMITTED, timeout=10_000)

    scores = _scores(db, contest)
    values = {key: (s.value, s.state) for key, s in scores.items()}
    submitted = ScoreState.SUBMITTED
    assert values == {
        ("星火队", "A1"): (Decimal("8.5"), submitted), ("星火队", "A2"): (Decimal(5), submitted),
        ("星火队", "B1"): (Decimal("17.5"), submitted), ("星火队", "B2"): (Decimal(2), submitted),
        ("海燕队", "A1"): (Decimal(6), submitted), ("海燕队", "A2"): (Decimal(5), submitted),
        ("海燕队", "B1"): (Decimal("12.5"), submitted), ("海燕队", "B2"): (Decimal(3), submitted),
    }
    # Exactly once: every nonce the browser sent is stored once, and no change was stored twice.
    sent = {nonce for _slot, nonce in traffic.nonces}
    stored = list(db.session.scalars(sa.select(ScoreRequest.nonce).where(ScoreRequest.judge_id == judge.id)))
    assert len(stored) == len(set(stored))
    assert set(stored) == sent  # requests that failed offline were sent again with their nonce, and stored once
    assert page.evaluate(f"localStorage.getItem('saihui.scoring.{judge.id}.{contest.round.id}.pending')") == "{}"
    screenshot(page, "tablet-scoring-back-online")

    # Nothing the judge received names an entrant.
    received = traffic.text()
    assert any("/api/v1/judging/rounds/" in url for url, _body in traffic.bodies)
    assert any("scoring.js" in url for url, _body in traffic.bodies)
    for name, entrant in contest.entrants.items():
        for secret in [entrant.name, entrant.unit, *entrant.members, *entrant.coaches]:
            if secret == "陈明":  # 陈明 is also a judge; 李评委 never receives other judges' names
                assert secret not in received
                continue
            assert secret not in received, f"{secret!r} ({name}) reached the judge's browser"
