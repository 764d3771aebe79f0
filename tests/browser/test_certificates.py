"""Certificates in a real Chromium: an organizer changes the design and sees the live preview follow, issues
participation certificates for everyone who checked in, watches the batch finish (the runner driven from the test,
as the scheduler process would) and downloads the merged PDF; a phone scans nothing but opens the verification page
the QR code points to. Screenshots of every page on a phone, a tablet and a desktop."""
from __future__ import annotations

import re
import subprocess

import pytest
from playwright.sync_api import expect

from tasks.runner import Runner
from tests.browser.conftest import PHONE, TABLET, assert_no_horizontal_overflow, log_in, screenshot
from tests.certificates.helpers import attended_event

pytestmark = pytest.mark.browser

NAMES = ("王喆", "李堃", "张赟", "刘犇", "欧阳娜娜·买买提")


@pytest.fixture()
def forum(app, db, factory, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "TASK_FILES_DIR", str(tmp_path / "task-files"))
    return attended_event(db, factory, names=NAMES, absent=("赵缺席",))


def test_issue_a_batch_and_download_the_merged_pdf(app, new_context, console, forum, tmp_path):
    event, organizer, _people = forum
    console.allow(r"preview|designs/participation.*status of 422")  # the live preview of a field off the page
    page = new_context().new_page()
    log_in(page, organizer)
    page.goto(f"/manage/events/{event.id}")
    page.click(f"a[href='/manage/events/{event.id}/certificates']")
    expect(page.locator("a[href$='/certificates/issue/participation']")).to_be_visible()
    screenshot(page, "certificates-index-empty-desktop")

    # The design: the preview follows an edit without saving.
    page.goto(f"/manage/events/{event.id}/certificates/designs/participation")
    preview = page.locator("#preview-sample")
    expect(preview).to_have_attribute("src", re.compile(r"preview\.png"))
    assert preview.evaluate("img => img.complete && img.naturalWidth > 0")
    page.fill("#f-title-text", "参 会 证 书")
    expect(preview).to_have_attribute("src", re.compile(r"^blob:"), timeout=15_000)
    expect(page.locator("#preview-state")).not_to_be_empty()
    # A field moved off the page: the preview says why instead of drawing it.
    page.fill("input[name='f-qr-x']", "290")
    expect(page.locator("#preview-errors")).to_be_visible(timeout=15_000)
    expect(page.locator("#preview-errors")).to_contain_text(re.compile("QR|二维码"))
    page.fill("input[name='f-qr-x']", "28")
    expect(page.locator("#preview-errors")).to_be_hidden(timeout=15_000)
    screenshot(page, "certificates-design-desktop")
    with page.expect_navigation():
        page.click("#design-form button[type=submit]:not([name])")
    expect(page.locator(".alert-success.alert-dismissible")).to_be_visible()

    # Issue: everyone who checked in.
    page.goto(f"/manage/events/{event.id}/certificates/issue/participation")
    expect(page.locator(".cert-attendees .form-check")).to_have_count(len(NAMES))
    page.check("input[value='checked_in']")
    expect(page.locator(".cert-attendees")).to_be_hidden()
    page.click("button[value='check']")
    expect(page.locator("#glyph-report")).to_have_class(re.compile("alert-success"))
    screenshot(page, "certificates-issue-desktop")
    with page.expect_navigation():
        page.click("button[value='issue']")
    assert re.search(r"/manage/tasks/\d+$", page.url), page.url

    Runner(app, owner="browser-test-runner", sweeps=[]).run_tasks()
    expect(page.locator("#task-progress .progress")).to_have_attribute("aria-valuenow", "100", timeout=15_000)
    download_link = page.locator("#task-download")
    expect(download_link).to_be_visible()
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    merged = tmp_path / "merged.pdf"
    download.save_as(merged)
    text = subprocess.run(["pdftotext", str(merged), "-"], capture_output=True, text=True, check=True).stdout
    for name in NAMES:
        assert name in text
    assert "赵缺席" not in text

    page.goto(f"/manage/events/{event.id}/certificates")
    expect(page.locator(".cert-table tbody tr")).to_have_count(len(NAMES))
    expect(page.locator(".cert-batch-table a", has_text="ZIP")).to_be_visible()
    screenshot(page, "certificates-index-desktop")
    page.click(".cert-table tbody tr:first-child a")
    expect(page.locator(".cert-facts")).to_contain_text(NAMES[0])
    screenshot(page, "certificates-detail-desktop")

    for name, options in (("phone", PHONE), ("tablet", TABLET)):
        other = new_context(**options).new_page()
        log_in(other, organizer)
        for path, shot in ((f"/manage/events/{event.id}/certificates", "index"),
                           (f"/manage/events/{event.id}/certificates/designs/participation", "design"),
                           (f"/manage/events/{event.id}/certificates/issue/participation", "issue")):
            other.goto(path)
            assert_no_horizontal_overflow(other)
            screenshot(other, f"certificates-{shot}-{name}")


def test_the_verification_page_on_a_phone(app, db, new_context, forum):
    from certificates import services, sources
    from certificates.models import CertificateKind
    from tests.conftest import NOW

    event, organizer, _people = forum
    design = services.ensure_design(event, CertificateKind.PARTICIPATION, actor=organizer, now=NOW)
    outcome = services.issue(event, CertificateKind.PARTICIPATION, sources.checked_in_holders(event), design=design,
                             actor=organizer, now=NOW)
    db.session.commit()
    valid, revoked = outcome.certificates[0], outcome.certificates[1]
    services.revoke(revoked, reason="弄错了", actor=organizer, now=NOW)
    db.session.commit()
    page = new_context(**PHONE).new_page()
    page.goto(f"/verify/{valid.verify_code}")
    expect(page.locator(".verify-card")).to_have_attribute("data-verify-state", "valid")
    expect(page.locator(".verify-holder")).to_have_text(valid.holder_name)
    assert_no_horizontal_overflow(page)
    screenshot(page, "certificates-verify-valid-phone")
    page.goto(f"/verify/{revoked.verify_code}")
    expect(page.locator(".verify-card")).to_have_attribute("data-verify-state", "revoked")
    screenshot(page, "certificates-verify-revoked-phone")
    page.goto("/verify")
    page.fill("#number", valid.number)
    page.fill("#name", valid.holder_name)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    expect(page.locator(".verify-card")).to_have_attribute("data-verify-state", "valid")
    assert_no_horizontal_overflow(page)
    screenshot(page, "certificates-verify-form-phone")
