"""An organizer creates a forum with two sessions on a desktop and publishes it; a participant opens it on a phone."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PHONE, assert_no_horizontal_overflow, log_in, screenshot
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

TITLE = "2026海峡两岸信息化论坛"
HOSTS = {"hosts": "中国信息协会", "organizers": "福建省信息化促进会\n厦门市信息化协会", "co_organizers": "厦门大学"}
SESSIONS = [
    ("开幕式暨主论坛", "2026-12-12T09:00", "2026-12-12T11:30", "一号厅"),
    ("数字政府分论坛", "2026-12-12T14:00", "2026-12-12T17:00", "二号厅"),
]


def _chinese_catalog_compiled() -> bool:
    return (ROOT / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.mo").exists()


def test_organizer_publishes_forum_and_participant_reads_it_on_a_phone(new_context, factory):
    org = factory.organization("中国信息协会")
    organizer = factory.user("organizer@example.org", name="林秘书", organization=org, role="organizer")

    # --- the organizer, at the office, on a desktop
    desk = new_context().new_page()
    log_in(desk, organizer)
    desk.goto("/manage/events/new")
    desk.select_option("select[name=kind]", "forum")
    desk.fill("input[name=title]", TITLE)
    desk.fill("input[name=venue]", "厦门国际会议中心")
    desk.fill("input[name=starts_at]", "2026-12-12T09:00")
    desk.fill("input[name=ends_at]", "2026-12-12T17:30")
    for name, value in HOSTS.items():
        desk.fill(f"textarea[name={name}]", value)
    with desk.expect_navigation():
        desk.click("main form button[type=submit]")
    match = re.search(r"/manage/events/(\d+)$", desk.url)
    assert match, f"creating the event did not lead to its page: {desk.url}\n{desk.inner_text('main')[:800]}"
    event_id = int(match.group(1))

    for title, starts, ends, room in SESSIONS:
        with desk.expect_navigation():
            desk.click(f"a[href='/manage/events/{event_id}/sessions/new']")
        desk.fill("input[name=title]", title)
        desk.fill("input[name=starts_at]", starts)
        desk.fill("input[name=ends_at]", ends)
        desk.fill("input[name=room]", room)
        with desk.expect_navigation():
            desk.click("main form button[type=submit]")
        assert desk.url.endswith(f"/manage/events/{event_id}"), desk.inner_text("main")[:800]
    assert desk.locator(".session-item .fw-semibold").all_inner_texts() == [s[0] for s in SESSIONS]

    # Before publishing, the public page does not exist.
    response = desk.request.get(f"/e/{event_id}")
    assert response.status == 404

    with desk.expect_navigation():
        desk.click(f"form[action='/manage/events/{event_id}/publish'] button[type=submit]")
    assert desk.locator(".badge-state-published").count() == 1
    assert desk.locator(f"a[href='/e/{event_id}']").count() == 1

    # --- a participant opens the link on a phone
    phone = new_context(**PHONE).new_page()
    response = phone.goto(f"/e/{event_id}")
    assert response.status == 200
    assert phone.get_attribute("html", "lang") == "zh-CN"
    assert phone.inner_text("h1") == TITLE
    hero = phone.inner_text(".event-hero")
    assert "2026-12-12 09:00" in hero and "17:30" in hero, hero  # shown in Asia/Shanghai, as typed
    assert "厦门国际会议中心" in hero

    sessions = phone.locator(".session-item")
    assert sessions.count() == 2
    for i, (title, starts, ends, room) in enumerate(SESSIONS):
        text = sessions.nth(i).inner_text()
        assert title in text and room in text, text
        assert starts.replace("T", " ") in text and ends[-5:] in text, text

    labels = phone.locator(".host-list dt").all_inner_texts()
    names = phone.locator(".host-list dd").all_inner_texts()
    assert names == ["中国信息协会", "福建省信息化促进会、厦门市信息化协会", "厦门大学"]
    if _chinese_catalog_compiled():
        assert [label.strip() for label in labels] and all(
            want in label for want, label in zip(["主办", "承办", "协办"], labels)
        ), labels

    # A long label must not run into the names beside it (compare where the texts are drawn, not the boxes).
    edges = phone.eval_on_selector_all(".host-list dt", """dts => dts.map(dt => {
        const text = el => { const r = document.createRange(); r.selectNodeContents(el); return r.getBoundingClientRect(); };
        return [text(dt).right, text(dt.nextElementSibling).left];
    })""")
    assert len(edges) == 3 and all(label_right <= names_left for label_right, names_left in edges), edges

    assert_no_horizontal_overflow(phone)
    screenshot(phone, "test-event-public-phone")
