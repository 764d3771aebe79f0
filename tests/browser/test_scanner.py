"""The check-in staff's scanner page in a real Chromium: a ticket shown to a fake camera, a code typed (or sent by a
handheld scanner, which types it and presses Enter), and a scan made offline and sent when the network is back."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from registration.models import CheckIn, Registration, RegistrationState
from registration.services import SignupData, register_participant
from registration.tickets import qr_png, ticket_token
from tests.browser.conftest import (
    _RECORD_CSP,
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    assert_no_horizontal_overflow,
    log_in,
    screenshot,
)
from tests.conftest import NOW, ON_CI

FAKE_CAMERA = Path("/work/shared/tools/fake-camera.sh")


@pytest.fixture()
def gate(db, factory):
    org = factory.organization("海峡信息协会")
    event = factory.event(org, status="published", sessions=2)
    staff = factory.user(name="陈签到", organization=org, role="checkin_staff", event=event)
    registration, _key = register_participant(
        event, SignupData(name="林一鸣", phone="13900000001", unit="厦门大学"), now=NOW, ignore_window=True)
    registration.status = RegistrationState.APPROVED
    db.session.commit()
    return {"event": event, "staff": staff, "registration": registration, "token": ticket_token(registration)}


def check_in_rows(db, registration_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)
                             .where(CheckIn.registration_id == registration_id))


def _fake_camera_video(token: str, folder: Path) -> Path:
    """The ticket's QR code as a short .y4m video Chromium can play as its camera."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        message = "ffmpeg is not installed (apt-get install -y ffmpeg): it makes the fake camera's video."
        if ON_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    png = folder / "ticket.png"
    png.write_bytes(qr_png(token))
    video = folder / "ticket.y4m"
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-y", "-loop", "1", "-i", str(png), "-vf",
         "scale=360:360:flags=neighbor,pad=640:480:(ow-iw)/2:(oh-ih)/2:white,format=yuv420p",
         "-frames:v", "10", "-r", "10", str(video)],
        check=True, timeout=60)
    return video.resolve()


def test_a_ticket_shown_to_the_camera_checks_in_once(chromium, live_server, console, db, gate, tmp_path):
    video = _fake_camera_video(gate["token"], tmp_path)
    # A browser of its own: the fake camera is chosen when Chromium starts.
    camera_browser = chromium.browser_type.launch(
        executable_path=str(CHROMIUM), headless=True,
        args=CHROMIUM_ARGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                              f"--use-file-for-fake-video-capture={video}"])
    try:
        context = camera_browser.new_context(base_url=live_server, locale="zh-CN", **PHONE)
        context.set_default_timeout(10_000)
        context.add_init_script(_RECORD_CSP)
        context.grant_permissions(["camera"], origin=live_server)
        context.on("page", console.watch)
        page = context.new_page()
        log_in(page, gate["staff"])
        page.goto(f"/manage/events/{gate['event'].id}/checkin")
        assert page.evaluate("window.isSecureContext")  # http://127.0.0.1 counts as secure: the live camera runs
        expect(page.locator("#scan-camera")).to_be_visible()

        result = page.locator("#scan-result")
        expect(result).to_have_class("scan-result scan-result-ok", timeout=10_000)
        expect(result).to_contain_text("签到成功")
        expect(result).to_contain_text("林一鸣")
        expect(result).to_contain_text("厦门大学")
        screenshot(page, "scanner-camera-ok-phone")
        # The ticket stays in front of the camera: it is read again and again, but not sent again.
        page.wait_for_timeout(1500)
        assert check_in_rows(db, gate["registration"].id) == 1

        page.reload()  # a new page forgets the last code: the same ticket now reads as already checked in
        expect(result).to_have_class("scan-result scan-result-already", timeout=10_000)
        expect(result).to_contain_text("陈签到")
        expect(result).to_contain_text("林一鸣")
        assert check_in_rows(db, gate["registration"].id) == 1
        context.close()
    finally:
        camera_browser.close()
    problems = console.unexpected()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_a_typed_code_checks_in_and_a_bad_one_is_refused(new_context, console, db, gate):
    page = new_context(**PHONE).new_page()
    log_in(page, gate["staff"])
    page.goto(f"/manage/events/{gate['event'].id}/checkin")
    result = page.locator("#scan-result")

    page.fill("#scan-code", gate["token"])
    page.press("#scan-code", "Enter")
    expect(result).to_have_class("scan-result scan-result-ok")
    expect(result).to_contain_text("签到成功")
    expect(result).to_contain_text("林一鸣 · 厦门大学")
    expect(page.locator("#scan-code")).to_have_value("")  # ready for the next ticket
    assert_no_horizontal_overflow(page)
    screenshot(page, "scanner-typed-ok-phone")

    page.fill("#scan-code", gate["token"].lower())  # a handheld scanner in lower case: same ticket
    page.press("#scan-code", "Enter")
    expect(result).to_have_class("scan-result scan-result-already")
    expect(result).to_contain_text("已签到")
    expect(result).to_contain_text("陈签到")
    assert check_in_rows(db, gate["registration"].id) == 1

    console.allow(r"status of 400")
    forged = gate["token"][:-2] + ("AA" if gate["token"][-2:] != "AA" else "BB")
    page.fill("#scan-code", forged)
    page.press("#scan-code", "Enter")
    expect(result).to_have_class("scan-result scan-result-error")
    expect(result).to_contain_text("不是本活动的有效电子票")
    screenshot(page, "scanner-typed-error-phone")


def test_a_scan_made_offline_is_queued_and_sent_once_when_back_online(new_context, console, db, gate):
    context = new_context(**PHONE)
    page = context.new_page()
    log_in(page, gate["staff"])
    page.goto(f"/manage/events/{gate['event'].id}/checkin")
    # The roster is saved for offline use (a polled page.evaluate: wait_for_function would eval under the CSP).
    for _attempt in range(100):
        if page.evaluate(f"localStorage.getItem('saihui.scanner.{gate['event'].id}.roster') !== null"):
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail("the scanner page did not save the roster")

    console.allow(r"ERR_INTERNET_DISCONNECTED|Failed to fetch")
    context.set_offline(True)
    page.fill("#scan-code", gate["token"])
    page.press("#scan-code", "Enter")
    result = page.locator("#scan-result")
    expect(result).to_have_class("scan-result scan-result-queued")
    expect(result).to_contain_text("林一鸣")  # known from the saved roster, decoded from the token
    expect(page.locator("#scan-queue")).to_contain_text("1")
    screenshot(page, "scanner-offline-phone")
    assert check_in_rows(db, gate["registration"].id) == 0

    context.set_offline(False)
    expect(page.locator("#scan-queue")).to_be_hidden(timeout=10_000)
    assert page.evaluate(f"localStorage.getItem('saihui.scanner.{gate['event'].id}.queue')") == "[]"
    assert check_in_rows(db, gate["registration"].id) == 1


def test_search_and_check_in_by_hand_then_undo(new_context, console, db, gate):
    page = new_context(**PHONE).new_page()
    log_in(page, gate["staff"])
    page.goto(f"/manage/events/{gate['event'].id}/checkin")
    page.fill("#scan-search-q", "0001")  # the phone's last digits
    page.press("#scan-search-q", "Enter")
    item = page.locator(".scan-search-item").filter(has_text="林一鸣")
    expect(item).to_contain_text("未签到")
    item.locator("button").click()
    expect(page.locator("#scan-result")).to_have_class("scan-result scan-result-ok")
    expect(item).to_contain_text("已签到")
    assert check_in_rows(db, gate["registration"].id) == 1
    screenshot(page, "scanner-search-phone")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#scan-undo")
    expect(page.locator("#scan-result")).to_have_class("scan-result scan-result-undone")
    expect(page.locator("#scan-result")).to_contain_text("林一鸣")
    db.session.expire_all()
    standing = db.session.scalars(sa.select(CheckIn).where(CheckIn.registration_id == gate["registration"].id)).all()
    assert len(standing) == 1 and standing[0].undone_at is not None


def test_a_walk_in_is_signed_up_and_checked_in_at_the_door(new_context, console, db, gate):
    page = new_context(**PHONE).new_page()
    log_in(page, gate["staff"])
    page.goto(f"/manage/events/{gate['event'].id}/checkin")
    page.click("#scan-walkin summary")
    page.fill("#walkin-name", "鄢𠮷")
    page.fill("#walkin-phone", "139 0000 7777")
    page.fill("#walkin-unit", "福建师范大学")
    page.click("#walkin-submit")
    expect(page.locator("#scan-result")).to_have_class("scan-result scan-result-ok")
    expect(page.locator("#scan-result")).to_contain_text("现场报名并签到成功")
    expect(page.locator("#scan-result")).to_contain_text("鄢𠮷 · 福建师范大学")
    expect(page.locator("#walkin-name")).to_have_value("")  # ready for the next person
    assert_no_horizontal_overflow(page)
    screenshot(page, "scanner-walkin-phone")
    db.session.expire_all()
    walk_in = db.session.scalar(sa.select(Registration).where(Registration.phone == "13900007777"))
    assert walk_in is not None and walk_in.source == "walk_in" and check_in_rows(db, walk_in.id) == 1

    # the same person again: refused, with a button to check in the existing sign-up (already in: amber)
    console.allow(r"status of 409")
    page.fill("#walkin-name", "鄢𠮷")
    page.fill("#walkin-phone", "13900007777")
    page.click("#walkin-submit")
    expect(page.locator("#walkin-error")).to_contain_text("已报名")
    page.locator("#walkin-error button").click()
    expect(page.locator("#scan-result")).to_have_class("scan-result scan-result-already")
    assert check_in_rows(db, walk_in.id) == 1


def test_without_a_secure_context_a_photo_of_the_ticket_is_read(new_context, console, db, gate, tmp_path):
    """Plain HTTP on a LAN address has no live camera: the page says why and reads a photo the same way."""
    context = new_context(**PHONE)
    context.add_init_script("Object.defineProperty(window, 'isSecureContext', {value: false});")
    page = context.new_page()
    log_in(page, gate["staff"])
    page.goto(f"/manage/events/{gate['event'].id}/checkin")
    expect(page.locator("#scan-camera")).to_be_hidden()
    expect(page.locator("#scan-insecure")).to_be_visible()
    expect(page.locator("#scan-insecure")).to_contain_text("HTTPS")
    assert page.locator("#scan-photo-input").get_attribute("capture") == "environment"

    session = gate["event"].sessions[1]
    page.select_option("#scanner-session", str(session.id))
    page.reload()  # the chosen session is remembered on this phone
    expect(page.locator("#scanner-session")).to_have_value(str(session.id))

    photo = tmp_path / "photo.png"
    photo.write_bytes(qr_png(gate["token"], box_size=6))
    page.set_input_files("#scan-photo-input", str(photo))
    result = page.locator("#scan-result")
    expect(result).to_have_class("scan-result scan-result-ok")
    expect(result).to_contain_text(session.title)
    screenshot(page, "scanner-photo-phone")
    db.session.expire_all()
    rows = db.session.scalars(sa.select(CheckIn).where(CheckIn.registration_id == gate["registration"].id)).all()
    assert [row.session_id for row in rows] == [session.id]
