"""The chief judge's desk in a real Chromium at tablet size (1024×768): the chief judge sees a disagreement flag,
unlocks a judge's score with a reason (password asked again); the judge sees the reason on their tablet, corrects the
score and submits; the trail shows the old and the new value, who, when and why. Entrants appear by code only."""
from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from judging.models import Score, ScoreChange, ScoreChangeKind, ScoreState
from tests.browser.conftest import SHOTS, TABLET, assert_no_horizontal_overflow, log_in
from tests.judging.conftest import build_contest
from tests.judging.desk_builders import CHIEF_PASSWORD, add_chief, score, sheet

NAMES = ["云帆队", "星火队", "海燕队", "晨光队", "漳州职业技术学院", "吴老师", "晨光队队长"]


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_chief_judge_flag_unlock_and_trail(new_context, console, db, factory):
    console.allow(r"/unlock: .*status of 422")  # the unlock without a reason, refused on purpose
    contest = build_contest(db, factory)
    chief = add_chief(db, contest)
    # 晨光队 B1 (max 20): 12 / 19 / 15 → spread 7 > 6: flagged
    score(contest, "王评委", "晨光队", sheet(b1="12"))
    score(contest, "李评委", "晨光队", sheet(b1="19"))
    score(contest, "张评委", "晨光队", sheet(b1="15"))
    code = contest.code("晨光队")
    entrant_id, b1 = contest.entrants["晨光队"].id, contest.criteria["B1"].id
    desk_url = f"/judging/desk/events/{contest.event.id}/rounds/{contest.round.id}"

    page = new_context(**TABLET).new_page()
    log_in(page, chief, CHIEF_PASSWORD)
    page.goto("/judging/")
    page.locator(".desk-home-link").click()
    page.locator(".desk-round-link").first.click()
    assert page.url.endswith(desk_url)
    flag = page.locator(f'[data-flag="{entrant_id}:{b1}"]')
    expect(flag).to_be_visible()
    expect(flag).to_contain_text(code)
    expect(flag).to_contain_text("B1")
    expect(flag.locator(".desk-value.is-high")).to_contain_text("李评委")
    waiting = page.locator(f'tr[data-entrant="{entrant_id}"] td.is-waiting')
    expect(waiting).to_have_attribute("data-judge", str(contest.judges["陈明"].id))
    assert_no_horizontal_overflow(page)
    _shot(page, "desk-tablet-flag")
    for name in NAMES:
        assert name not in page.content()

    # the matrix refreshes itself: 陈明 scores on their tablet meanwhile
    score(contest, "陈明", "晨光队", sheet(b1="14"))
    expect(page.locator(f'tr[data-entrant="{entrant_id}"] td[data-judge="{contest.judges["陈明"].id}"]')) \
        .to_have_class(re.compile(r"\bstate-submitted\b"), timeout=15_000)

    # to the entrant, unlock 李评委's B1 with a reason; first without one: refused, nothing changes
    flag.locator("a.desk-code").click()
    card = page.locator(f'.desk-judge-card[data-judge="{contest.judges["李评委"].id}"]')
    row = card.locator(f'tr[data-criterion="{b1}"]')
    row.locator(".desk-unlock summary").click()
    row.locator("input[type=password]").fill(CHIEF_PASSWORD)
    row.locator("button[type=submit]").click()
    expect(page.locator(".alert-danger, .alert-error").first).to_be_visible()
    db.session.expire_all()
    target = db.session.scalar(sa.select(Score).where(Score.judge_id == contest.judges["李评委"].id,
                                                      Score.entrant_id == entrant_id, Score.criterion_id == b1))
    assert target.state == ScoreState.SUBMITTED
    card = page.locator(f'.desk-judge-card[data-judge="{contest.judges["李评委"].id}"]')
    row = card.locator(f'tr[data-criterion="{b1}"]')
    row.locator(".desk-unlock summary").click()
    row.locator("textarea").fill("19分明显偏高，请评委核对")
    row.locator("input[type=password]").fill(CHIEF_PASSWORD)
    row.locator("button[type=submit]").click()
    expect(page.locator(".alert-success").first).to_be_visible()
    expect(page.locator(f'.desk-judge-card[data-judge="{contest.judges["李评委"].id}"] tr[data-criterion="{b1}"]')) \
        .to_contain_text("19分明显偏高，请评委核对")

    # the judge's tablet shows the reason on B1 only; they correct 19 → 16 and submit again
    judge_page = new_context(**TABLET).new_page()
    log_in(judge_page, contest.judges["李评委"], "judge-pass-1")
    judge_page.goto(f"/judging/events/{contest.event.id}/rounds/{contest.round.id}")
    judge_page.locator(f".entrant-item:has(.entrant-code:text-is('{code}'))").click()
    criterion = judge_page.locator(".criterion:has(.criterion-code:text-is('B1'))")
    expect(criterion.locator(".reopened-banner")).to_contain_text("19分明显偏高，请评委核对")
    expect(judge_page.locator(".criterion:has(.criterion-code:text-is('A1')) .value-button")).to_be_disabled()
    _shot(judge_page, "desk-judge-tablet-unlocked")
    for _ in range(6):
        criterion.locator(".step-button").nth(0).click()  # − 0.5
    expect(criterion.locator(".value-button")).to_have_text("16")
    judge_page.locator(".submit-button").click()
    expect(judge_page.locator("#summary")).to_be_visible()
    judge_page.click("#summary-confirm")
    expect(judge_page.locator(".entrant-item.state-submitted:has(.entrant-code:text-is('%s'))" % code)) \
        .to_have_count(1, timeout=15_000)

    # the trail: unlocked (who, why) and corrected 19 → 16 by the judge
    page.reload()
    trail = page.locator(".desk-trail")
    correction = trail.locator("tr.trail-correction")
    expect(correction.locator(".trail-old")).to_have_text("19")
    expect(correction.locator(".trail-new")).to_have_text("16")
    expect(correction).to_contain_text("李评委")
    expect(correction).to_contain_text("19分明显偏高，请评委核对")
    expect(trail.locator("tr.trail-unlock")).to_contain_text("赵裁判长")
    assert_no_horizontal_overflow(page)
    _shot(page, "desk-tablet-trail")
    db.session.expire_all()
    kinds = [c.kind for c in db.session.scalars(sa.select(ScoreChange).order_by(ScoreChange.id))]
    assert kinds == [ScoreChangeKind.UNLOCK, ScoreChangeKind.CORRECTION]
