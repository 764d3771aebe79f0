"""The organizers' live check-in view: figures per place, arrivals per five minutes, who has not arrived."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from events.models import EventSession
from registration import services
from registration.attendance import bucket_arrivals, percent
from registration.checkin import check_in_registration, list_not_arrived, live_figures
from tests.conftest import NOW, login

UTC = timezone.utc


@pytest.mark.parametrize("part, whole, expected", [(0, 0, None), (1, 3, 33), (2, 3, 66), (5, 5, 100), (6, 5, 100)])
def test_percent(part, whole, expected):
    assert percent(part, whole) == expected


def test_buckets_include_empty_ones_and_start_on_a_five_minute_mark():
    t0 = datetime(2026, 11, 21, 8, 3, 59)
    buckets = bucket_arrivals([t0, t0 + timedelta(minutes=1), t0 + timedelta(minutes=17)])
    assert [(b.starts_at.strftime("%H:%M"), b.count) for b in buckets] == [
        ("08:00", 2), ("08:05", 0), ("08:10", 0), ("08:15", 0), ("08:20", 1)]
    assert bucket_arrivals([]) == []


@pytest.fixture()
def forum(db, factory):
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    staff = factory.user(organization=org, role="checkin_staff")
    event = factory.event(org, status="published", sessions=2, starts_at=NOW + timedelta(hours=1))
    first, second = db.session.scalars(sa.select(EventSession).where(EventSession.event_id == event.id)
                                       .order_by(EventSession.id)).all()
    regs = []
    for i in range(4):
        reg, _key = services.register_participant(event, services.SignupData(
            name=f"王喆{i}", phone=f"1380013800{i}", unit="厦门城市职业学院",
            session_ids=[first.id] if i < 3 else [second.id]), now=NOW)
        regs.append(reg)
    db.session.commit()
    return event, organizer, staff, first, second, regs


def test_figures_count_expected_checked_in_and_arrivals_in_local_time(db, forum):
    event, _organizer, staff, first, second, regs = forum
    at = datetime(2026, 11, 24, 0, 2, tzinfo=UTC)  # 08:02 in Asia/Shanghai
    for reg in regs[:2]:
        check_in_registration(event, reg.id, session_id=first.id, actor=staff, now=at)
    check_in_registration(event, regs[0].id, actor=staff, now=at + timedelta(minutes=6))
    db.session.commit()
    places = {p.key: p for p in live_figures(event, whole_event_title="整个活动")}
    assert (places[0].expected, places[0].checked_in, places[0].rate) == (4, 1, 25)
    assert (places[first.id].expected, places[first.id].checked_in, places[first.id].rate) == (3, 2, 66)
    assert (places[second.id].expected, places[second.id].checked_in) == (1, 0)
    assert [(b.starts_at.strftime("%H:%M"), b.count) for b in places[first.id].arrivals] == [("08:00", 2)]
    missing, total = list_not_arrived(event, first.id)
    assert total == 1 and [r.id for r in missing] == [regs[2].id]


def test_the_page_and_its_partial_refresh_show_the_figures(db, client, forum):
    event, organizer, staff, first, _second, regs = forum
    check_in_registration(event, regs[0].id, session_id=first.id, actor=staff, now=NOW)
    db.session.commit()
    login(client, organizer)
    page = client.get(f"/manage/events/{event.id}/checkin/live?place={first.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "live-refresh.js" in html and "王喆1" in html and "王喆0" not in html
    partial = client.get(f"/manage/events/{event.id}/checkin/live?place={first.id}&partial=1").get_data(as_text=True)
    assert "<html" not in partial and "王喆2" in partial
    assert client.get(f"/manage/events/{event.id}/checkin/live?place=99999999").status_code == 200  # falls back
