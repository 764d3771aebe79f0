"""Organizer pages and the public event page through the test client, plus a bad-input fuzz test of the forms."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from events.models import Event, EventHost, EventSession, EventState, HostRole
from tests.conftest import csrf_token, login

UTC = timezone.utc


@pytest.fixture()
def org(factory):
    return factory.organization("海峡信息化协会")


@pytest.fixture()
def organizer(factory, org):
    return factory.user("organizer@example.org", "陈晓雯", organization=org, role="organizer")


@pytest.fixture()
def as_organizer(client, organizer):
    login(client, organizer)
    return client


def event_form(org, **changes) -> dict:
    data = {
        "organization_id": str(org.id),
        "kind": "forum",
        "title": "2026海峡两岸信息化论坛",
        "venue": "厦门国际会议中心 三楼报告厅",
        "starts_at": "2026-12-12T08:30",
        "ends_at": "2026-12-12T17:30",
        "timezone": "Asia/Shanghai",
        "capacity": "320",
        "registration_opens_at": "2026-11-01T09:00",
        "registration_closes_at": "2026-12-10T18:00",
        "description": "聚焦数字政府、智慧城市与两岸信息产业合作。",
        "hosts": "海峡信息化协会\n厦门市信息中心",
        "organizers": "厦门信息集团",
        "co_organizers": "厦门移动公司、厦门联通公司、厦门电信公司",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def post_form(client, path: str, data: dict):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


def field_block(html: str, name: str) -> str:
    """The HTML rendered for one form field: from its input to the next field (label, input, help, errors)."""
    match = re.search(rf'<(input|select|textarea)[^>]*\bname="{name}"', html)
    assert match, f"no field {name!r} on the page"
    rest = html[match.start():]
    end = re.search(r'<div class="mb-3"|<div class="form-check|</form>', rest[1:])
    return rest[: end.start() + 1 if end else len(rest)]


def field_errors(html: str, name: str) -> list[str]:
    return re.findall(r'<div class="invalid-feedback d-block">(.*?)</div>', field_block(html, name))


def text_of(html: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def created_event(db) -> Event:
    db.session.expire_all()
    return db.session.scalar(sa.select(Event))


# ---------------------------------------------------------------- create


def test_organizer_creates_an_event_with_chinese_data(db, as_organizer, org):
    response = post_form(as_organizer, "/manage/events/new", event_form(org))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    event = created_event(db)
    assert response.headers["Location"].endswith(f"/manage/events/{event.id}")
    assert event.title == "2026海峡两岸信息化论坛"
    assert event.status == EventState.DRAFT
    assert event.venue == "厦门国际会议中心 三楼报告厅"
    # 08:30 and 17:30 in Shanghai are stored as 00:30 and 09:30 UTC.
    assert event.starts_at == datetime(2026, 12, 12, 0, 30, tzinfo=UTC)
    assert event.ends_at == datetime(2026, 12, 12, 9, 30, tzinfo=UTC)
    assert event.registration_closes_at == datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
    assert event.capacity == 320
    # Host lists: one per line, or separated by 、
    assert event.host_names(HostRole.HOST) == ["海峡信息化协会", "厦门市信息中心"]
    assert event.host_names(HostRole.ORGANIZER) == ["厦门信息集团"]
    assert event.host_names(HostRole.CO_ORGANIZER) == ["厦门移动公司", "厦门联通公司", "厦门电信公司"]

    page = as_organizer.get(response.headers["Location"])
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "2026海峡两岸信息化论坛" in text and "2026-12-12 08:30" in text


def test_hosts_mixed_separators_blank_lines_and_duplicates(db, as_organizer, org):
    hosts = "海峡信息化协会、厦门市信息中心\n\n  厦门大学  \r\n海峡信息化协会；福州大学"
    response = post_form(as_organizer, "/manage/events/new", event_form(org, hosts=hosts, co_organizers=""))
    assert response.status_code == 302
    event = created_event(db)
    assert event.host_names(HostRole.HOST) == ["海峡信息化协会", "厦门市信息中心", "厦门大学", "福州大学"]
    assert event.host_names(HostRole.CO_ORGANIZER) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ends_at": "2026-12-12T07:00"}, "ends_at", "结束时间不能早于开始时间。"),
        ({"title": "   "}, "title", "此项为必填项。"),
        ({"starts_at": "2026-13-45T99:99"}, "starts_at", "请输入日期和时间，例如 2026-05-20 09:00。"),
        ({"starts_at": ""}, "starts_at", "此项为必填项。"),
        ({"capacity": "-5"}, "capacity", "请输入 0 到 1000000 之间的数字。"),
        ({"capacity": "三百"}, "capacity", "请输入整数。"),
        ({"registration_closes_at": "2026-12-13T09:00"}, "registration_closes_at", None),
        ({"registration_opens_at": "2026-12-10T18:00"}, "registration_closes_at", None),
        ({"hosts": "\n".join(f"单位{i}" for i in range(31))}, "hosts", None),
        ({"title": "长" * 201}, "title", None),
    ],
)
def test_invalid_event_form_answers_422_with_the_message_next_to_the_field(
    db, as_organizer, org, changes, field, message
):
    response = post_form(as_organizer, "/manage/events/new", event_form(org, **changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = field_errors(html, field)
    assert errors, f"no error next to {field}: {field_block(html, field)}"
    if message:
        assert message in errors
    assert "is-invalid" in field_block(html, field)
    # What the organizer typed is kept.
    if field != "title":
        assert "2026海峡两岸信息化论坛" in field_block(html, "title")
    assert count(db, Event) == 0 and count(db, EventHost) == 0


def test_user_without_a_managing_role_cannot_create(db, client, factory, org):
    staff = factory.user(organization=org, role="checkin_staff")
    login(client, staff)
    assert client.get("/manage/events/new").status_code == 403


def test_cannot_create_in_another_organization(db, as_organizer, org, factory):
    other = factory.organization("东海软件行业协会")
    response = post_form(as_organizer, "/manage/events/new", event_form(org, organization_id=str(other.id)))
    assert response.status_code == 422
    assert count(db, Event) == 0


# ---------------------------------------------------------------- public page


def test_public_page_404_for_draft_then_200_after_publish(db, as_organizer, org, factory):
    event = factory.event(org, status="draft", sessions=0)
    path = f"/e/{event.id}"
    anonymous = as_organizer.application.test_client()
    assert anonymous.get(path).status_code == 404
    assert as_organizer.get(path).status_code == 404  # even for its organizer: the public page is for the public

    detail = f"/manage/events/{event.id}"
    response = as_organizer.post(f"{detail}/publish", data={"csrf_token": csrf_token(as_organizer, detail)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == EventState.PUBLISHED

    page = anonymous.get(path)
    assert page.status_code == 200
    assert "海峡两岸信息化论坛" in page.get_data(as_text=True)
    assert anonymous.get("/e/999999").status_code == 404


def test_public_page_shows_sessions_in_the_event_time_zone(db, client, factory, org):
    event = factory.event(org, status="published", starts_at=datetime(2026, 5, 20, 0, 30, tzinfo=UTC))
    db.session.add(EventSession(
        event_id=event.id, title="主论坛：数字中国建设新机遇", room="三楼报告厅", position=0,
        starts_at=datetime(2026, 5, 20, 1, 0, tzinfo=UTC), ends_at=datetime(2026, 5, 20, 3, 30, tzinfo=UTC),
    ))
    db.session.commit()
    text = text_of(client.get(f"/e/{event.id}").get_data(as_text=True))
    assert "主论坛：数字中国建设新机遇" in text
    assert "2026-05-20 09:00 – 11:30" in text  # stored 01:00–03:30 UTC, shown in Asia/Shanghai
    assert "01:00" not in text
    assert "北京时间" in text  # Asia/Shanghai, named the way people say it


def test_public_page_of_an_archived_event_stays_readable(db, client, factory, org):
    event = factory.event(org, status="archived")
    assert client.get(f"/e/{event.id}").status_code == 200


def test_index_lists_only_published_events(db, client, factory, org):
    factory.event(org, title="已发布的论坛", status="published", starts_at=datetime(2099, 1, 1, tzinfo=UTC))
    factory.event(org, title="草稿沙龙", status="draft", starts_at=datetime(2099, 1, 1, tzinfo=UTC))
    html = client.get("/").get_data(as_text=True)
    assert "已发布的论坛" in html and "草稿沙龙" not in html


# ---------------------------------------------------------------- edit and sessions


def test_edit_event_form_shows_local_times_and_saves(db, as_organizer, org, factory):
    event = factory.event(org, title="旧标题", starts_at=datetime(2026, 12, 12, 0, 30, tzinfo=UTC))
    path = f"/manage/events/{event.id}/edit"
    html = as_organizer.get(path).get_data(as_text=True)
    assert 'value="2026-12-12T08:30"' in field_block(html, "starts_at")
    response = post_form(as_organizer, path, event_form(org, title="新标题", ends_at="2026-12-12T18:00"))
    assert response.status_code == 302
    event = created_event(db)
    assert event.title == "新标题"
    assert event.ends_at == datetime(2026, 12, 12, 10, 0, tzinfo=UTC)


def test_archived_event_cannot_be_edited(db, as_organizer, org, factory):
    event = factory.event(org, title="已归档的论坛", status="archived", sessions=1)
    path = f"/manage/events/{event.id}/edit"
    response = post_form(as_organizer, path, event_form(org, title="偷偷改名"))
    assert response.status_code == 409
    assert "已归档的活动不能修改。" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Event, event.id).title == "已归档的论坛"

    detail = as_organizer.get(f"/manage/events/{event.id}").get_data(as_text=True)
    assert f"/manage/events/{event.id}/edit" not in detail  # no edit button
    assert f"/manage/events/{event.id}/sessions/new" not in detail

    session = db.session.get(Event, event.id).sessions[0]
    response = post_form(as_organizer, f"/manage/events/{event.id}/sessions/new",
                         {"title": "加场", "starts_at": "2026-12-12T09:00", "ends_at": "2026-12-12T10:00"})
    assert response.status_code == 409
    response = post_form(as_organizer, f"/manage/events/{event.id}/sessions/{session.id}/edit",
                         {"title": "改名", "starts_at": "2026-12-12T09:00", "ends_at": "2026-12-12T10:00"})
    assert response.status_code == 409
    db.session.expire_all()
    assert [s.title for s in db.session.get(Event, event.id).sessions] == ["分会场1"]


def test_add_session_in_local_time(db, as_organizer, org, factory):
    event = factory.event(org, capacity=320, hours=9)  # 08:30–17:30 in Shanghai
    path = f"/manage/events/{event.id}/sessions/new"
    response = post_form(as_organizer, path, {
        "title": "分论坛一：智慧城市与数据要素", "starts_at": "2026-12-12T14:00", "ends_at": "2026-12-12T17:30",
        "room": "二楼A厅", "capacity": "160",
    })
    assert response.status_code == 302
    session = db.session.scalar(sa.select(EventSession))
    assert session.starts_at == datetime(2026, 12, 12, 6, 0, tzinfo=UTC)
    assert (session.title, session.room, session.capacity) == ("分论坛一：智慧城市与数据要素", "二楼A厅", 160)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"starts_at": "2026-12-12T07:00"}, "starts_at", "分会场时间必须在活动的开始和结束时间之内。"),
        ({"ends_at": "2026-12-12T13:00"}, "ends_at", "结束时间不能早于开始时间。"),
        ({"capacity": "321"}, "capacity", "分会场的名额不能超过活动名额（320）。"),
        ({"ends_at": "2026-02-30T10:00"}, "ends_at", "请输入日期和时间，例如 2026-05-20 09:00。"),
    ],
)
def test_invalid_session_form(db, as_organizer, org, factory, changes, field, message):
    event = factory.event(org, capacity=320)
    data = {"title": "分论坛", "starts_at": "2026-12-12T14:00", "ends_at": "2026-12-12T16:00", "room": "", **changes}
    response = post_form(as_organizer, f"/manage/events/{event.id}/sessions/new", data)
    assert response.status_code == 422
    assert message in field_errors(response.get_data(as_text=True), field)
    assert count(db, EventSession) == 0


def test_other_organization_cannot_learn_the_event_exists(db, client, factory, org):
    event = factory.event(org, sessions=1)
    outsider = factory.user(organization=factory.organization("东海软件行业协会"), role="admin")
    login(client, outsider)
    for path in (f"/manage/events/{event.id}", f"/manage/events/{event.id}/edit",
                 f"/manage/events/{event.id}/sessions/new"):
        assert client.get(path).status_code == 404, path


# ---------------------------------------------------------------- fuzz: bad input is never a 500

junk_text = st.one_of(
    st.text(max_size=30),
    st.text(min_size=190, max_size=260),
    st.just(""),
    st.just("   "),
    st.just("\x00"),
    st.just("海峡\x00论坛"),
    st.sampled_from(["<script>alert(1)</script>", "' OR 1=1 --", "%s%s%n", "🎉🎉", "\u202e反转", "NaN", "null"]),
    st.builds(lambda n: "长" * n, st.integers(195, 20_500)),
)
junk_numbers = st.one_of(
    st.integers().map(str),
    st.integers(min_value=10**18, max_value=10**40).map(str),
    st.integers(max_value=-1).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", "1e3", "0x10", "٣", "１２", "+5", "-0", "1_000", "9" * 400]),
)
junk_datetimes = st.one_of(
    st.sampled_from([
        "", "2026-13-45T99:99", "2026-02-30T10:00", "0000-01-01T00:00", "0001-01-01T00:00", "9999-12-31T23:59",
        "10000-01-01T00:00", "2026-12-12", "12/12/2026 08:30", "2026-12-12T08:30Z", "2026-12-12T08:30+08:00",
        "2026-12-12T08:30:00.000", "２０２６-12-12T08:30", "now", "2026-12-12 08:30:61",
    ]),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M") if d.year >= 1000 else d.isoformat()[:16]
    ),
    st.text(max_size=25),
)
maybe = lambda strategy: st.one_of(st.none(), strategy)  # noqa: E731  (None: the field is left out)

event_posts = st.fixed_dictionaries({
    "organization_id": maybe(st.one_of(junk_numbers, st.just("ORG"))),
    "kind": maybe(st.one_of(st.sampled_from(["forum", "salon", "competition", "FORUM"]), junk_text)),
    "title": maybe(junk_text),
    "venue": maybe(junk_text),
    "starts_at": maybe(junk_datetimes),
    "ends_at": maybe(junk_datetimes),
    "timezone": maybe(st.sampled_from(["Asia/Shanghai", "America/New_York", "Mars/Olympus", "", "UTC"])),
    "capacity": maybe(junk_numbers),
    "registration_opens_at": maybe(junk_datetimes),
    "registration_closes_at": maybe(junk_datetimes),
    "requires_approval": maybe(st.sampled_from(["y", "on", "", "0", "是"])),
    "description": maybe(junk_text),
    "hosts": maybe(st.one_of(junk_text, st.lists(junk_text, max_size=40).map("\n".join))),
    "organizers": maybe(junk_text),
    "co_organizers": maybe(st.lists(junk_text, max_size=5).map("、".join)),
})

session_posts = st.fixed_dictionaries({
    "title": maybe(junk_text),
    "starts_at": maybe(junk_datetimes),
    "ends_at": maybe(junk_datetimes),
    "room": maybe(junk_text),
    "capacity": maybe(junk_numbers),
})

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _fill(data: dict, org_id: int) -> dict:
    return {k: (str(org_id) if v == "ORG" else v) for k, v in data.items() if v is not None}


VALID_EVENT_POST = {
    "organization_id": "ORG", "kind": "forum", "title": "论坛", "venue": "厦门", "starts_at": "2026-12-12T08:30",
    "ends_at": "2026-12-12T17:30", "timezone": "Asia/Shanghai", "capacity": "100",
}
VALID_SESSION_POST = {"title": "分会场", "starts_at": "2026-12-12T09:00", "ends_at": "2026-12-12T10:00"}


@FUZZ
@given(data=event_posts)
# Inputs that once gave a 500, checked on every run.
@example(data={**VALID_EVENT_POST, "starts_at": "0001-01-01T00:00"})  # overflow when converted to UTC
@example(data={**VALID_EVENT_POST, "timezone": "America/New_York", "ends_at": "9999-12-31T23:59"})
@example(data={**VALID_EVENT_POST, "capacity": "9" * 400})  # NumberRange overflow
@example(data={**VALID_EVENT_POST, "title": "海峡\x00论坛"})  # PostgreSQL refuses NUL in text
@example(data={**VALID_EVENT_POST, "hosts": "协会\x00", "description": "\x00"})
@example(data={**VALID_EVENT_POST, "organization_id": "9" * 400})
def test_fuzz_event_form_never_500_and_saves_nothing_unless_redirected(db, as_organizer, org, data):
    path = "/manage/events/new"
    before = count(db, Event)
    response = post_form(as_organizer, path, _fill(data, org.id))
    assert response.status_code != 500, response.get_data(as_text=True)[:500]
    assert response.status_code in (200, 302, 409, 413, 422), response.status_code
    db.session.expire_all()
    after = count(db, Event)
    if response.status_code == 302:
        assert after == before + 1
        event = db.session.scalar(sa.select(Event).order_by(Event.id.desc()))
        assert event.ends_at >= event.starts_at
        assert event.capacity is None or 0 <= event.capacity <= 1_000_000
    else:
        assert after == before


@FUZZ
@given(data=session_posts)
@example(data={**VALID_SESSION_POST, "starts_at": "0001-01-01T00:00", "ends_at": "0001-01-01T00:00"})
@example(data={**VALID_SESSION_POST, "capacity": "9" * 400})
@example(data={**VALID_SESSION_POST, "capacity": "-1"})
@example(data={**VALID_SESSION_POST, "title": "\x00", "room": "A\x00"})
def test_fuzz_session_form_never_500_and_saves_nothing_unless_redirected(db, as_organizer, org, factory, data):
    event = db.session.scalar(sa.select(Event).where(Event.organization_id == org.id))
    if event is None:
        event = factory.event(org, capacity=100, starts_at=datetime(2026, 12, 12, 0, 30, tzinfo=UTC), hours=240)
    path = f"/manage/events/{event.id}/sessions/new"
    before = count(db, EventSession)
    response = post_form(as_organizer, path, _fill(data, org.id))
    assert response.status_code != 500, response.get_data(as_text=True)[:500]
    assert response.status_code in (200, 302, 409, 413, 422), response.status_code
    db.session.expire_all()
    after = count(db, EventSession)
    if response.status_code == 302:
        assert after == before + 1
        session = db.session.scalar(sa.select(EventSession).order_by(EventSession.id.desc()))
        assert event.starts_at <= session.starts_at <= session.ends_at <= event.ends_at
        assert session.capacity is None or 0 <= session.capacity <= 100
    else:
        assert after == before
