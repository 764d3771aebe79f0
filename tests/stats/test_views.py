"""Statistics pages: who may open them, bad input, and the plain words for empty data."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.conftest import NOW, login

EN = {"Accept-Language": "en"}


@pytest.fixture()
def setup(factory):
    org = factory.organization("统计测试协会")
    branch = factory.organization("统计测试协会青年分会", parent=org)
    other = factory.organization("别的协会")
    admin = factory.user(organization=org, role="admin")
    organizer = factory.user(organization=org, role="organizer")
    staff = factory.user(organization=org, role="checkin_staff")
    stranger = factory.user(organization=other, role="admin")
    return org, branch, admin, organizer, staff, stranger


def _signup(event, name, phone, unit, now):
    from registration.services import SignupData, register_participant

    registration, _key = register_participant(event, SignupData(name=name, phone=phone, unit=unit), now=now,
                                              ignore_window=True)
    return registration


def test_yearly_page_counts_a_small_worked_example(client, db, factory, setup):
    """Two salons: 张三 and 李四 in March, 张三 again and 王五 in September (张三 returns). 李四 checks in."""
    from registration.checkin import check_in_registration

    org, branch, admin, *_rest = setup
    march = factory.event(org, title="三月沙龙", kind="salon", status="published",
                          starts_at=datetime(2026, 3, 20, 6, 30, tzinfo=timezone.utc))
    september = factory.event(branch, title="九月沙龙", kind="salon", status="published",
                              starts_at=datetime(2026, 9, 20, 6, 30, tzinfo=timezone.utc))
    _signup(march, "张三", "13800000001", "厦门某某科技有限公司", march.starts_at - timedelta(days=3))
    li = _signup(march, "李四", "13800000002", "厦门某某科技公司", march.starts_at - timedelta(days=2))
    _signup(september, "张三", "138 0000 0001", "厦门大学", september.starts_at - timedelta(days=1))
    _signup(september, "王五", "13800000003", "", september.starts_at - timedelta(days=1))
    check_in_registration(march, li.id, actor=admin, now=march.starts_at)
    db.session.commit()

    login(client, admin)
    page = client.get(f"/manage/stats/organizations/{org.id}?year=2026", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = ("In 2026, 统计测试协会 (with 统计测试协会青年分会) held 2 events (2 salons), with 4 confirmed sign-ups (persons) "
            "and 1 check-ins (persons): 3 different people signed up, 3 of them for the first time, from 2 units.")
    assert text in html
    second = client.get(f"/manage/stats/organizations/{org.id}?year=2026&half=2", headers=EN).get_data(as_text=True)
    assert ("In the second half of 2026, 统计测试协会 (with 统计测试协会青年分会) held 1 event (1 salon), with 2 confirmed "
            "sign-ups (persons) and 0 check-ins (persons): 2 different people signed up, 1 of them for the first time, "
            "from 1 unit.") in second
    zh = client.get(f"/manage/stats/organizations/{org.id}?year=2026&half=2",
                    headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "2026年下半年，统计测试协会（含统计测试协会青年分会）共举办活动1场，其中沙龙1场；有效报名2人次，签到0人次，报名者共2人，其中首次参加1人，来自1家单位。" in zh
    assert 'id="stats-data"' in zh and "chart.umd.min.js" in zh

    event_page = client.get(f"/manage/events/{september.id}/stats", headers=EN).get_data(as_text=True)
    assert 'data-figure="first_time"' in event_page

    export = client.get(f"/manage/stats/organizations/{org.id}/export.xlsx?year=2026")
    assert export.status_code == 200
    figures = {r[2]: r[1] for r in load_workbook(BytesIO(export.data)).worksheets[0].iter_rows(values_only=True)
               if r[2]}
    assert (figures["events"], figures["persons"], figures["distinct_people"], figures["first_time"],
            figures["distinct_units"], figures["attended_persons"]) == (2, 4, 3, 3, 2, 1)


def test_empty_year_and_bad_input_say_so(client, db, setup):
    org, _branch, admin, *_rest = setup
    login(client, admin)
    empty = client.get(f"/manage/stats/organizations/{org.id}?year=2019", headers=EN)
    assert empty.status_code == 200
    html = empty.get_data(as_text=True)
    assert "In 2019, 统计测试协会 (with 统计测试协会青年分会) held no events." in html
    assert "No events were held in this period" in html
    for query in ("year=abc", "year=1800", "year=2026&half=3"):
        bad = client.get(f"/manage/stats/organizations/{org.id}?{query}", headers=EN)
        assert bad.status_code == 400, query
        assert "Choose" in bad.get_data(as_text=True)
    export = client.get(f"/manage/stats/organizations/{org.id}/export.xlsx?year=2019")
    assert export.status_code == 200
    figures = {r[2]: r[1] for r in load_workbook(BytesIO(export.data)).worksheets[0].iter_rows(values_only=True)
               if r[2]}
    assert figures["events"] == 0 and figures["persons"] == 0 and figures["check_in_rate"] is None


def test_event_without_signups_and_competition_without_results(client, db, factory, setup):
    from competition import services as competition_services
    from events.models import Event

    org, _branch, admin, *_rest = setup
    event = factory.event(org, title="空活动", kind="competition", status="published")
    login(client, admin)
    page = client.get(f"/manage/events/{event.id}/stats", headers=EN)
    assert page.status_code == 200
    assert "Nobody has signed up for this event yet" in page.get_data(as_text=True)

    competition = competition_services.create_competition(
        db.session.get(Event, event.id), competition_services.CompetitionData(title="测试赛项", groups=["甲组"]),
        actor=admin, now=NOW)
    from competition.models import Entrant

    db.session.add(Entrant(competition_id=competition.id, name="一队", unit="某校", is_team=True, members=["甲", "乙"]))
    db.session.commit()
    html = client.get(f"/manage/events/{event.id}/stats", headers=EN).get_data(as_text=True)
    assert "Results not published: not counted" in html
    year = client.get(f"/manage/stats/organizations/{org.id}?year=2026", headers=EN).get_data(as_text=True)
    assert "1 competition had 1 team; no published awards yet (1 competition with unpublished results not counted)." in year
    assert client.get(f"/manage/events/{event.id}/stats/export.xlsx").status_code == 200


def test_event_still_ahead_shows_no_check_in_rate(client, db, factory, setup):
    """Before the event (and its sessions) start, nobody has checked in: the rates are "—", not 0%."""
    org, _branch, admin, *_rest = setup
    ahead = datetime.now(timezone.utc) + timedelta(days=30)
    event = factory.event(org, title="未来论坛", status="published", starts_at=ahead, sessions=2)
    _signup(event, "张三", "13800000001", "厦门大学", ahead - timedelta(days=40))
    db.session.commit()
    login(client, admin)
    html = client.get(f"/manage/events/{event.id}/stats", headers=EN).get_data(as_text=True)
    assert "Check-in rate —" in html
    assert "0.0%" not in html
    assert "The event has not started yet." in html
    assert 'data-chart="sessions"' not in html  # no chart of empty bars
    export = client.get(f"/manage/events/{event.id}/stats/export.xlsx")
    assert export.status_code == 200


def test_who_may_see_statistics(client, db, factory, setup):
    org, branch, admin, organizer, staff, stranger = setup
    event = factory.event(org, status="published")
    url, event_url = f"/manage/stats/organizations/{org.id}", f"/manage/events/{event.id}/stats"
    assert client.get(url).status_code == 302  # to the login page
    login(client, stranger)
    assert client.get(url).status_code == 404
    assert client.get(event_url).status_code == 404
    assert client.get(url + "/export.xlsx").status_code == 404
    client.post("/logout", data={})
    client2 = client.application.test_client()
    login(client2, staff)
    assert client2.get(url).status_code == 403
    assert client2.get(event_url).status_code == 403
    client3 = client.application.test_client()
    login(client3, organizer)
    assert client3.get(url).status_code == 200
    # an organizer of the association does not manage its branch: the branch is not counted, nor reachable
    assert "统计测试协会青年分会" not in client3.get(url, headers=EN).get_data(as_text=True).split("<main")[1]
    assert client3.get(f"/manage/stats/organizations/{branch.id}").status_code == 404
    assert client3.get("/manage/stats/").status_code == 302
    client4 = client.application.test_client()
    login(client4, admin)
    assert client4.get("/manage/stats/").status_code == 200  # two organizations to choose from
    assert "统计测试协会青年分会" in client4.get(url, headers=EN).get_data(as_text=True)
