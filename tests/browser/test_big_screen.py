"""The big screen (大屏) on a projector: it shows the public board, and when judges submit new scores through the
JSON API (``PUT /api/v1/scores`` and the submit route, with their personal API tokens, as their tablets do) the
new order appears within 5 seconds — without a page reload (same document: a marker set in the page survives and
the document's time origin is unchanged). Also the organizers' board refreshing itself, and the layouts."""
from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import expect

from accounts.services import create_api_token
from competition import results
from tests.browser.conftest import PHONE, assert_no_horizontal_overflow, log_in, screenshot
from tests.conftest import NOW

pytestmark = pytest.mark.browser

PROJECTOR = {"viewport": {"width": 1920, "height": 1080}}


@pytest.fixture()
def scored_contest(db, factory):
    from judging import services as js
    from tests.judging.conftest import build_contest

    contest = build_contest(db, factory)
    # 海燕队 leads 高职组 (all four judges, same values: A1 8, A2 5, B1 16, B2 level 2 → 4 marks: 33.00)
    entrant = contest.entrants["海燕队"]
    for judge in contest.judges.values():
        for code, value in {"A1": "8", "A2": "5", "B1": "16", "B2": "2"}.items():
            js.save_draft(judge, round_id=contest.round.id, entrant_id=entrant.id,
                          criterion_id=contest.criteria[code].id, value=value, nonce=None, now=NOW)
        js.submit_entrant(judge, round_id=contest.round.id, entrant_id=entrant.id, nonce=None, now=NOW)
    db.session.commit()
    results.publish(contest.competition, actor=contest.organizer, now=NOW)
    db.session.commit()
    tokens = {name: create_api_token(user, name="评分平板", now=NOW)[1] for name, user in contest.judges.items()}
    db.session.commit()
    return contest, tokens


def submit_through_the_api(request, contest, tokens, entrant_name: str, values: dict[str, str]) -> None:
    """Every judge of the entrant's panel scores each criterion and submits, over HTTP with a Bearer token."""
    entrant = contest.entrants[entrant_name]
    for name, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        for code, value in values.items():
            answer = request.put("/api/v1/scores", headers=headers, data={
                "entrant_id": entrant.id, "criterion_id": contest.criteria[code].id, "round_id": contest.round.id,
                "value": value, "nonce": uuid.uuid4().hex})
            assert answer.status == 200, answer.text()
        answer = request.post(f"/api/v1/judging/rounds/{contest.round.id}/entrants/{entrant.id}/submit",
                              headers=headers, data={"nonce": uuid.uuid4().hex})
        assert answer.status == 200, answer.text()


def first_names(page, n: int) -> list[str]:
    return [page.locator("#screen-rows tr").nth(i).locator(".col-name").inner_text() for i in range(n)]


def test_big_screen_shows_the_new_order_within_five_seconds_without_reload(new_context, scored_contest):
    contest, tokens = scored_contest
    group = contest.groups["高职组"]
    context = new_context(**PROJECTOR)
    page = context.new_page()
    page.goto(f"/screen/{contest.competition.id}?board=g{group.id}")
    rows = page.locator("#screen-rows tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".col-name")).to_have_text("海燕队")
    expect(rows.first.locator(".col-total")).to_have_text("33.00")
    origin = page.evaluate("() => { window.saihuiScreenMarker = 'same document'; return performance.timeOrigin; }")
    screenshot(page, "big-screen-before")

    # 晨光队 is scored by all four judges through the API: 9 + 5 + 18 + level 3 (6 marks) = 38.00
    submit_through_the_api(context.request, contest, tokens, "晨光队", {"A1": "9", "A2": "5", "B1": "18", "B2": "3"})
    submitted = time.monotonic()
    expect(rows.first.locator(".col-name")).to_have_text("晨光队", timeout=5000)
    elapsed = time.monotonic() - submitted
    assert elapsed < 5, elapsed
    expect(rows).to_have_count(2)
    assert first_names(page, 2) == ["晨光队", "海燕队"]
    expect(rows.first.locator(".col-total")).to_have_text("38.00")
    assert page.evaluate("() => window.saihuiScreenMarker") == "same document"
    assert page.evaluate("() => performance.timeOrigin") == origin
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert_no_horizontal_overflow(page)
    screenshot(page, "big-screen-after")


def test_the_screen_hides_names_until_published_and_holds_the_frozen_board(db, new_context, scored_contest):
    contest, tokens = scored_contest
    results.unpublish(contest.competition, actor=contest.organizer, now=NOW)
    db.session.commit()
    page = new_context(**PROJECTOR).new_page()
    page.goto(f"/screen/{contest.competition.id}")
    expect(page.locator(".screen-message")).to_be_visible()
    assert "海燕队" not in page.content()
    results.publish(contest.competition, actor=contest.organizer, now=NOW)
    results.freeze(contest.competition, actor=contest.organizer, now=NOW)
    db.session.commit()
    expect(page.locator("#screen-rows tr").first.locator(".col-name")).to_have_text("海燕队", timeout=5000)
    submit_through_the_api(page.context.request, contest, tokens, "晨光队", {"A1": "9", "A2": "5", "B1": "18", "B2": "3"})
    page.wait_for_timeout(3000)  # longer than the screen's polling interval
    assert "晨光队" not in page.locator("#screen-main").inner_text()
    assert "38.00" not in page.content()


def test_the_organizers_board_refreshes_itself(new_context, scored_contest):
    contest, tokens = scored_contest
    context = new_context()
    page = context.new_page()
    log_in(page, contest.organizer)
    group = contest.groups["高职组"]
    page.goto(f"/manage/events/{contest.event.id}/competitions/{contest.competition.id}/results?board=g{group.id}")
    first = page.locator(".results-table tbody tr").first
    expect(first.locator(".name-cell")).to_have_text("海燕队")
    tablets = new_context().request  # the judges' tablets: no organizer's cookie, their own tokens
    submit_through_the_api(tablets, contest, tokens, "晨光队", {"A1": "9", "A2": "5", "B1": "18", "B2": "3"})
    expect(first.locator(".name-cell")).to_have_text("晨光队", timeout=8000)
    screenshot(page, "results-organizer-desktop")


def test_public_results_on_a_phone(new_context, scored_contest):
    contest, _tokens = scored_contest
    page = new_context(**PHONE).new_page()
    page.goto(f"/results/{contest.competition.id}")
    expect(page.locator(".public-results tbody tr").first).to_contain_text("海燕队")
    assert_no_horizontal_overflow(page)
    screenshot(page, "results-public-phone")


def test_a_long_list_scrolls_by_itself_and_moves_on_to_the_next_group(db, factory, new_context):
    from tests.competition.results_builders import build_scored, submit_scores

    entrants = [(f"参赛队{i:02d}", f"第{i:02d}职业学校", "高职组") for i in range(1, 41)] + [("中职一队", "甲校", "中职组")]
    built = build_scored(db, factory, entrants=entrants)
    submit_scores(db, built, {name: {"A1": str(100 - i)} for i, (name, _u, _g) in enumerate(entrants)})
    results.publish(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    page = new_context(**PROJECTOR).new_page()
    page.goto(f"/screen/{built.competition.id}")
    expect(page.locator("#screen-board")).to_have_text("高职组")
    expect(page.locator("#screen-rows tr")).to_have_count(40)
    assert page.evaluate("() => document.getElementById('screen-main').scrollTop") == 0
    page.wait_for_timeout(5500)  # a 4-second pause at the top, then the crawl
    assert page.evaluate("() => document.getElementById('screen-main').scrollTop") > 0
    page.evaluate("() => { const m = document.getElementById('screen-main'); m.scrollTop = m.scrollHeight; }")
    expect(page.locator("#screen-board")).to_have_text("中职组", timeout=9000)  # 5 s at the bottom, then on
    expect(page.locator("#screen-rows tr")).to_have_count(1)
