"""A team leader signs a team up on a phone; the organizer approves it on a desktop; the leader gets the QR ticket."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser.conftest import (
    PHONE,
    assert_no_horizontal_overflow,
    log_in,
    screenshot,
)

pytestmark = pytest.mark.browser

TEAM = {
    "team_name": "鹭岛之星",
    "name": "王喆",
    "phone": "138 0013 8000",
    "unit": "厦门城市职业学院",
    "member_name_0": "李堃",
    "member_phone_0": "139 0013 9000",
    "member_name_1": "张赟",
    "member_phone_1": "+852 9123 4567",
    "coach_name_0": "陳國華",
}

QR_LOADED = """() => {
  const img = document.querySelector("img.ticket-qr");
  return img !== null && img.complete && img.naturalWidth > 0;
}"""


def _team_competition(db, factory):
    from core.types import utcnow
    from registration.models import RegistrationKind, RegistrationSettings

    org = factory.organization("福建省职业院校技能大赛组委会")
    organizer = factory.user("organizer@example.org", name="林秘书", organization=org, role="organizer")
    event = factory.event(org, title="2026年职业院校技能大赛 云计算赛项", kind="competition", status="published",
                          starts_at=utcnow().replace(microsecond=0, second=0) + timedelta(days=30), capacity=40,
                          requires_approval=True)
    db.session.add(RegistrationSettings(
        event_id=event.id, kind=RegistrationKind.TEAM, team_min_members=2, team_max_members=4, team_max_coaches=2,
        groups=["中职组", "高职组"], ask_id_number=False, ask_email=False, ask_job_title=False,
        allow_session_choice=False,
    ))
    db.session.commit()
    return event, organizer


def test_team_signs_up_on_a_phone_and_gets_a_ticket_after_approval(db, factory, new_context, console):
    event, organizer = _team_competition(db, factory)

    # --- the team leader, on a phone, from the link in a WeChat group
    phone = new_context(**PHONE, locale="zh-CN").new_page()
    assert phone.goto(f"/e/{event.id}").status == 200
    with phone.expect_navigation():
        phone.tap("a.signup-button")
    assert phone.url.endswith(f"/e/{event.id}/register")
    assert phone.locator("input[name=team_name]").is_visible()
    honeypot = phone.locator(".hp-field input").bounding_box()
    assert honeypot is None or honeypot["x"] + honeypot["width"] <= 0, honeypot  # off-screen: people never see it

    phone.select_option("select[name=group_name]", "高职组")
    for name, value in TEAM.items():
        phone.fill(f"input[name={name}]", value)
    assert_no_horizontal_overflow(phone)
    screenshot(phone, "signup-team-phone-form")

    with phone.expect_navigation():
        phone.tap("main form button[type=submit]")
    match = re.search(r"/r/([A-Za-z0-9_\-]+)$", phone.url)
    assert match, f"sign-up did not lead to the manage page: {phone.url}\n{phone.inner_text('main')[:1500]}"
    manage_path = f"/r/{match.group(1)}"
    assert phone.locator(".badge.reg-pending").count() == 1
    assert phone.locator("img.ticket-qr").count() == 0  # no ticket before approval
    page_text = phone.inner_text("main")
    for words in ("鹭岛之星", "王喆", "李堃", "张赟", "陳國華", "高职组"):
        assert words in page_text, words
    assert "13800138000" not in page_text  # masked
    assert_no_horizontal_overflow(phone)
    screenshot(phone, "signup-team-phone-pending")

    # --- the organizer, at the office
    desk = new_context().new_page()
    log_in(desk, organizer)
    desk.goto(f"/manage/events/{event.id}/registrations")
    row = desk.locator("tr", has_text="鹭岛之星")
    assert row.count() == 1
    with desk.expect_navigation():
        row.locator("form[action$='/approve'] button[type=submit]").click()
    assert desk.locator("tr", has_text="鹭岛之星").locator(".badge.reg-approved").count() == 1

    # --- back on the phone: the ticket is there
    phone.reload()
    assert phone.url.endswith(manage_path)
    assert phone.locator(".badge.reg-approved").count() == 1
    phone.wait_for_function(QR_LOADED)
    size = phone.evaluate("() => { const i = document.querySelector('img.ticket-qr'); "
                          "return [i.naturalWidth, i.width]; }")
    assert size[0] > 0 and 0 < size[1] <= 390, size
    token = phone.inner_text(".ticket-code").strip()
    assert re.fullmatch(r"T[A-Z2-7]{28}", token), token
    pdf = phone.request.get(phone.get_attribute("a[href$='/ticket.pdf']", "href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert_no_horizontal_overflow(phone)
    screenshot(phone, "signup-team-phone-approved")

    # --- the leader fixes a typo in a member's name
    with phone.expect_navigation():
        phone.tap(f"a[href='{manage_path}/edit']")
    assert phone.input_value("input[name=member_name_1]") == "张赟"
    phone.fill("input[name=member_name_1]", "张赟赟")
    assert_no_horizontal_overflow(phone)
    screenshot(phone, "signup-team-phone-edit")
    with phone.expect_navigation():
        phone.tap("main form button[type=submit]")
    assert phone.url.endswith(manage_path)
    assert "张赟赟" in phone.inner_text("main")
    assert phone.locator(".badge.reg-approved").count() == 1

    # --- later, the link is lost: the leader finds the sign-up by name and phone and gets a new link
    phone.goto(f"/e/{event.id}/register")
    with phone.expect_navigation():
        phone.tap(f"a[href='/e/{event.id}/find']")
    phone.fill("input[name=name]", "王喆")
    phone.fill("input[name=phone]", "13800138000")
    assert_no_horizontal_overflow(phone)
    screenshot(phone, "signup-team-phone-find")
    with phone.expect_navigation():
        phone.tap("main form button[type=submit]")
    assert re.search(r"/r/[A-Za-z0-9_\-]+$", phone.url) and not phone.url.endswith(manage_path)
    assert phone.locator(".badge.reg-approved").count() == 1
    phone.wait_for_function(QR_LOADED)
    console.allow(r"Failed to load resource.*404")  # the old link, opened below, is gone
    assert phone.goto(manage_path).status == 404
