"""The yearly statistics page in a real browser: its charts are drawn (non-blank canvases) at desktop size, and at
phone size nothing overflows."""
from __future__ import annotations

import sqlalchemy as sa

from tests.browser.conftest import PHONE, assert_no_horizontal_overflow, log_in, screenshot

DRAWN = """() => Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => {
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { inked++; } }
  return {chart: c.dataset.chart, width: c.width, height: c.height, inked: inked};
})"""


def _demo(db):
    """The demo's admin and association (the rows come from conftest's ``demo`` fixture: loaded once per process)."""
    from accounts.models import Organization, User
    from demo.data import ASSOCIATION

    admin = db.session.scalar(sa.select(User).where(User.login == "admin@demo.saihui"))
    association = db.session.scalar(sa.select(Organization).where(Organization.name == ASSOCIATION))
    return admin, association


def test_yearly_statistics_page_draws_its_charts(new_context, live_server, db, demo):
    from demo.data import DEMO_PASSWORD

    admin, association = _demo(db)
    page = new_context().new_page()
    log_in(page, admin, DEMO_PASSWORD)
    page.goto(f"/manage/stats/organizations/{association.id}?year=2026")
    page.wait_for_selector("canvas[data-drawn]")
    charts = page.evaluate(DRAWN)
    assert {c["chart"] for c in charts} == {"kinds", "months", "people", "awards"}
    for chart in charts:
        assert chart["width"] > 100 and chart["height"] > 100, chart
        assert chart["inked"] > 500, f"the {chart['chart']} chart is blank: {chart}"
    summary = page.inner_text("#stats-summary")
    assert summary.startswith("2026年，海峡信息化协会") and "沙龙11场" in summary
    screenshot(page, "stats-year-desktop")

    page.click("text=2026海峡两岸信息化论坛")
    page.wait_for_selector("canvas[data-drawn]")
    drawn = {c["chart"]: c["inked"] for c in page.evaluate(DRAWN)}
    assert drawn and all(n > 200 for n in drawn.values()), drawn
    assert "92.1%" in page.inner_text("main")
    screenshot(page, "stats-event-desktop")


def test_yearly_statistics_on_a_phone_does_not_overflow(new_context, live_server, db, demo):
    from demo.data import DEMO_PASSWORD

    admin, association = _demo(db)
    page = new_context(**PHONE).new_page()
    log_in(page, admin, DEMO_PASSWORD)
    page.goto(f"/manage/stats/organizations/{association.id}?year=2026")
    page.wait_for_selector("canvas[data-drawn]")
    assert_no_horizontal_overflow(page)
    screenshot(page, "stats-year-phone")
    forum = page.locator("text=2026海峡两岸信息化论坛")
    forum.scroll_into_view_if_needed()
    forum.click()
    page.wait_for_selector("canvas[data-drawn]")
    assert_no_horizontal_overflow(page)
    screenshot(page, "stats-event-phone")
