"""An organizer exports the sign-ups of a big event: the export runs as a background task, its page shows a progress
bar that moves while the runner (driven from the test, as the scheduler process would) works through the chunks,
reaches 100%, and offers the file for download. Also on a phone and a tablet, for the layout."""
from __future__ import annotations

import re
import threading
import time

import pytest
from playwright.sync_api import expect

from registration import jobs, services
from tasks.runner import Runner
from tests.browser.conftest import PHONE, TABLET, assert_no_horizontal_overflow, log_in, screenshot
from tests.conftest import NOW

pytestmark = pytest.mark.browser

SIGN_UPS = 240
CHUNK = 40  # six chunks, then the workbook and the finish


@pytest.fixture()
def big_event(app, factory, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "TASK_FILES_DIR", str(tmp_path / "task-files"))
    monkeypatch.setitem(app.config, "EXPORT_IN_BACKGROUND_FROM", 100)
    monkeypatch.setattr(jobs, "DEFAULT_CHUNK", CHUNK)
    org = factory.organization("海峡信息协会")
    organizer = factory.user("organizer@example.org", name="林秘书", organization=org, role="organizer")
    event = factory.event(org, title="2026海峡两岸信息化论坛", status="published", capacity=500)
    for i in range(SIGN_UPS):
        services.register_participant(
            event, services.SignupData(name=f"参会者{i:03d}", phone=f"139{i:08d}", unit=f"厦门第{i % 9}中学"),
            now=NOW, ignore_window=True)
    db.session.commit()
    return organizer, event


def percent_of(page) -> int:
    return int(page.locator("#task-progress .progress").get_attribute("aria-valuenow"))


def test_the_export_progress_bar_moves_to_done_and_offers_the_file(app, new_context, big_event):
    organizer, event = big_event
    page = new_context().new_page()
    log_in(page, organizer)
    page.goto(f"/manage/events/{event.id}/registrations")
    with page.expect_navigation():
        page.click("#export-task")
    assert re.search(r"/manage/tasks/\d+$", page.url), page.url
    bar = page.locator("#task-progress .progress")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    expect(page.locator("#task-download")).to_be_hidden()

    runner = Runner(app, owner="browser-test-runner")
    runner.run_tasks(max_steps=2)  # two chunks of six: the page shows a third
    expect(bar).to_have_attribute("aria-valuenow", str(2 * CHUNK * 100 // SIGN_UPS))
    expect(page.locator('[data-task-field="counts"]')).to_contain_text(f"{2 * CHUNK}")
    expect(page.locator('[data-task-field="counts"]')).to_contain_text(f"{SIGN_UPS}")
    # The bar itself moved, not only the number (Bootstrap animates the width: wait for the end of it).
    track = bar.evaluate("el => el.getBoundingClientRect().width")
    ratios = []
    for _ in range(20):
        ratios.append(page.locator("#task-progress .progress-bar").evaluate(
            "el => el.getBoundingClientRect().width") / track)
        if 0.3 < ratios[-1] < 0.36:
            break
        time.sleep(0.25)
    assert 0.3 < ratios[-1] < 0.36, ratios
    screenshot(page, "task-progress-running-desktop")

    seen: list[int] = []

    def run_slowly() -> None:  # the rest, a step every 0.6 s, so the page sees it move
        while runner.run_tasks(max_steps=1):
            time.sleep(0.6)

    worker = threading.Thread(target=run_slowly)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not seen or seen[-1] < 100):
            seen.append(percent_of(page))
            time.sleep(0.3)
    finally:
        worker.join(60)
    assert seen[-1] == 100, seen
    assert any(2 * CHUNK * 100 // SIGN_UPS < p < 100 for p in seen), seen  # it went through values on its way
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.locator('[data-task-field="state_label"]')).to_have_text(re.compile("完成|Done"))
    download_link = page.locator("#task-download")
    expect(download_link).to_be_visible()
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename == "2026海峡两岸信息化论坛-报名名单.xlsx"
    import io

    import openpyxl

    with open(download.path(), "rb") as saved:
        workbook = openpyxl.load_workbook(io.BytesIO(saved.read()))
    assert workbook["报名名单"].max_row == SIGN_UPS + 1
    screenshot(page, "task-progress-done-desktop")

    # The same page on a phone and a tablet: nothing sideways, the bar and the button on screen.
    for name, options in (("phone", PHONE), ("tablet", TABLET)):
        other = new_context(**options).new_page()
        log_in(other, organizer)
        other.goto(page.url)
        expect(other.locator("#task-download")).to_be_visible()
        assert_no_horizontal_overflow(other)
        screenshot(other, f"task-progress-done-{name}")
    page.goto(f"/manage/events/{event.id}/tasks")
    expect(page.locator(".list-group-item")).to_have_count(1)
    screenshot(page, "task-list-desktop")
