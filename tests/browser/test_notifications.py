"""An organizer writes a message to a few ticked sign-ups on a phone: the sign-up table shows only for a selection,
a bad placeholder is refused with a clear message, the message is queued by a background task whose progress page
reaches done, and the outbox lists the messages (phones masked) without scrolling sideways."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from registration import services
from tasks.runner import Runner
from tests.browser.conftest import PHONE, assert_no_horizontal_overflow, log_in, screenshot
from tests.conftest import NOW

pytestmark = pytest.mark.browser


@pytest.fixture()
def event_with_sign_ups(factory, db):
    org = factory.organization("海峡信息协会")
    organizer = factory.user("organizer@example.org", name="林秘书", organization=org, role="organizer")
    event = factory.event(org, title="2026海峡两岸信息化论坛", status="published", capacity=50)
    registrations = [
        services.register_participant(
            event, services.SignupData(name=f"参会者{i}", phone=f"1390000{i:04d}", unit="厦门大学",
                                       email=f"p{i}@example.org"), now=NOW, ignore_window=True)[0]
        for i in range(5)
    ]
    db.session.commit()
    return organizer, event, registrations


def test_a_message_to_ticked_sign_ups_on_a_phone(app, new_context, console, event_with_sign_ups):
    organizer, event, registrations = event_with_sign_ups
    console.allow(r"/messages/bulk: .*status of 422")  # the refused placeholder, on purpose
    page = new_context(**PHONE).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, organizer)
    page.goto(f"/manage/events/{event.id}/messages/bulk")
    selection = page.locator("#bulk-selection")
    expect(selection).to_be_hidden()
    page.check('input[name="audience"][value="selected"]')
    expect(selection).to_be_visible()
    expect(selection).to_contain_text("139****0001")
    expect(selection).not_to_contain_text("13900000001")
    for registration in registrations[1:3]:
        page.check(f'input[name="ids"][value="{registration.id}"]')
    page.fill("#subject", "会场变更：{evnt}")
    page.fill("#body", "{name}，您好：会场改在 3 号厅。")
    with page.expect_navigation():
        page.click("#bulk-message-form button[type=submit]")
    expect(page.locator("main")).to_contain_text("{evnt}")
    # the ticks and the choice are kept after the error
    expect(page.locator(f'input[name="ids"][value="{registrations[1].id}"]')).to_be_checked()
    expect(selection).to_be_visible()
    page.fill("#subject", "会场变更：{event}")
    with page.expect_navigation():
        page.click("#bulk-message-form button[type=submit]")
    assert re.search(r"/manage/tasks/\d+$", page.url), page.url

    Runner(app, owner="browser-test-runner").run_tasks()
    bar = page.locator("#task-progress .progress")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=15_000)

    page.goto(f"/manage/events/{event.id}/messages?kind=bulk")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("139****0002")
    assert_no_horizontal_overflow(page)
    screenshot(page, "notifications-outbox-phone")
