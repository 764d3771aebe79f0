"""Every page of the foundation, at a phone, a tablet and a desktop size: it loads without a console error or a
CSP violation, it does not scroll sideways, and its buttons are big enough to hit with a finger on touch screens."""
from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, TABLET, assert_no_horizontal_overflow, log_in

pytestmark = pytest.mark.browser

SIZES = {"phone": PHONE, "tablet": TABLET, "desktop": DESKTOP}
LONG_UNIT = "中国电子信息行业联合会职业技能鉴定指导中心暨海峡两岸信息化合作发展促进委员会秘书处"
MIN_TOUCH_HEIGHT = 36  # CSS pixels; Bootstrap's .btn-sm is 31 unless our touch rule applies


@pytest.fixture()
def forum(factory):
    org = factory.organization(LONG_UNIT)
    organizer = factory.user("organizer@example.org", name="欧阳子轩", organization=org, role="organizer")
    event = factory.event(
        org, title="2026年海峡两岸信息化论坛暨数字中国建设经验交流会（第十二届）", status="published", sessions=3,
        venue="厦门国际会议中心三楼报告厅（厦门市思明区环岛东路1699号）",
        description="聚焦数字政府、智慧城市与两岸信息产业合作。\n" * 3,
    )
    from events.models import EventHost, HostRole
    from extensions import db

    for i, (role, name) in enumerate([(HostRole.HOST, LONG_UNIT), (HostRole.ORGANIZER, "厦门市信息化协会"),
                                      (HostRole.CO_ORGANIZER, "厦门大学信息学院")]):
        db.session.add(EventHost(event_id=event.id, role=role, name=name, position=i))
    db.session.commit()
    return organizer, event


@pytest.mark.parametrize("size", SIZES)
def test_pages_fit_the_screen(new_context, console, forum, size):
    organizer, event = forum
    page = new_context(**SIZES[size]).new_page()

    public = ["/", f"/e/{event.id}", "/login"]
    for path in public:
        assert page.goto(path).status == 200, path
        assert page.get_attribute("html", "lang") == "zh-CN"
        assert_no_horizontal_overflow(page)

    console.allow(r"status of 404")
    assert page.goto("/e/999999").status == 404
    assert_no_horizontal_overflow(page)

    log_in(page, organizer)
    session_id = event.sessions[0].id
    managed = ["/manage/", f"/manage/events/{event.id}", "/manage/events/new", f"/manage/events/{event.id}/edit",
               f"/manage/events/{event.id}/sessions/new", f"/manage/events/{event.id}/sessions/{session_id}/edit",
               "/account", "/account/password"]
    for path in managed:
        assert page.goto(path).status == 200, path
        assert_no_horizontal_overflow(page)

    # A form sent back with errors still fits, and says what is wrong next to the field.
    console.allow(r"status of 422")
    page.goto("/manage/events/new")
    page.fill("input[name=title]", "")
    page.fill("input[name=capacity]", "-3")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.locator("input[name=title].is-invalid").count() == 1
    assert page.locator("input[name=capacity].is-invalid").count() == 1
    assert_no_horizontal_overflow(page)
    save, cancel = page.locator(".form-actions .btn").all()
    assert save.bounding_box()["height"] == cancel.bounding_box()["height"]  # "取消" did not wrap onto two lines

    if size != "desktop":
        page.goto(f"/manage/events/{event.id}")
        heights = [b["height"] for b in (el.bounding_box() for el in page.locator("main .btn").all()) if b]
        assert heights and min(heights) >= MIN_TOUCH_HEIGHT, heights
