"""The judge's tablet at 1024×768 with submitted works and a defense schedule: the entrants are listed by batch
(headers with time and room), the judge opens an entrant's work from its "open work" button in a new tab, the file
arrives named by the code, and nothing the browser receives names the entrant or the uploaded file."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from competition import works
from core.types import utcnow
from tests.browser.conftest import TABLET, assert_no_horizontal_overflow, log_in, screenshot
from tests.competition.works_builders import PDF
from tests.judging.conftest import build_contest


@pytest.fixture(autouse=True)
def works_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "WORKS_DIR", str(tmp_path / "works"))


def test_judge_opens_a_work_by_code_from_the_tablet(new_context, console, db, factory):
    # the PDF tab asks for /favicon.ico, which the app does not serve (404, reported under the tab's address)
    console.allow(r"/works/\d+\?round=\d+: Failed to load resource: .*404")
    contest = build_contest(db, factory)
    now = utcnow()
    works.update_settings(contest.competition, works.SettingsData(wanted=True, deadline=now + timedelta(days=1),
                                                                  kinds=["pdf", "video"], max_size_mb=5, max_files=2),
                          actor=contest.organizer, now=now)
    haiyan = contest.entrants["海燕队"]
    stored = works.store_stream(io.BytesIO(PDF), works.storage_directory(), 5 * works.MB)
    works.record_file(contest.competition, haiyan, stored, "海燕队_泉州信息工程学院_申报书.pdf", actor=None, now=now,
                      by_organizer=False)
    first = works.add_batch(contest.round, name="第1批", starts_at=now + timedelta(hours=2), room="第一答辩室",
                            actor=contest.organizer, now=now)
    works.move_entrant(contest.round, haiyan.id, first.id, None, actor=contest.organizer, now=now)
    works.move_entrant(contest.round, contest.entrants["晨光队"].id, first.id, None, actor=contest.organizer, now=now)
    db.session.commit()
    code = contest.code("海燕队")

    context = new_context(**TABLET)
    page = context.new_page()
    bodies: list[str] = []
    context.on("response", lambda r: bodies.append(f"{r.url} {r.headers}"))
    log_in(page, contest.judges["李评委"], password="judge-pass-1")
    page.goto(f"/judging/events/{contest.event.id}/rounds/{contest.round.id}")
    header = page.locator(".batch-header").first
    expect(header).to_contain_text("第1批")
    expect(header).to_contain_text("第一答辩室")
    # the batch's entrants come first, in their order
    expect(page.locator(".entrant-item .entrant-code").first).to_have_text(contest.code("海燕队"))
    page.locator(f".entrant-item:has(.entrant-code:text-is('{code}'))").click()
    button = page.locator(".work-button")
    expect(button).to_have_count(1)
    expect(button).to_contain_text(f"{code}.pdf")
    assert_no_horizontal_overflow(page)
    screenshot(page, "works-tablet")
    with context.expect_page() as opened:
        button.click()
    tab = opened.value
    tab.wait_for_load_state()
    response_headers = [b for b in bodies if "/works/" in b]
    assert response_headers and f"filename={code}.pdf" in response_headers[-1]
    html = page.content()
    for secret in ("海燕队", "泉州信息工程学院", "申报书"):
        assert secret not in html
        assert all(secret not in b for b in bodies)
