"""events/services.py called directly: error codes, what is in the database afterwards, nothing half-saved."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.models import AuditEntry
from events import services
from events.models import Event, EventHost, EventKind, EventSession, EventState, HostRole
from events.services import EventData, EventError, SessionData
from tests.conftest import NOW

UTC = timezone.utc
START = datetime(2026, 12, 12, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
END = datetime(2026, 12, 12, 9, 30, tzinfo=UTC)  # 17:30 in Shanghai


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def event_data(**changes) -> EventData:
    values = dict(
        kind=EventKind.FORUM,
        title="  2026海峡两岸信息化论坛  ",
        starts_at=START,
        ends_at=END,
        timezone="Asia/Shanghai",
        description="聚焦数字政府与智慧城市。",
        venue=" 厦门国际会议中心 ",
        capacity=320,
        registration_opens_at=datetime(2026, 11, 1, 1, 0, tzinfo=UTC),
        registration_closes_at=datetime(2026, 12, 10, 10, 0, tzinfo=UTC),
        requires_approval=False,
        hosts={
            HostRole.HOST: ["海峡信息化协会", " 厦门市信息中心 ", "  "],
            HostRole.ORGANIZER: ["厦门信息集团"],
            HostRole.CO_ORGANIZER: ["厦门移动公司", "厦门联通公司"],
        },
    )
    values.update(changes)
    return EventData(**values)


def session_data(**changes) -> SessionData:
    values = dict(title=" 主论坛 ", starts_at=at(0), ends_at=at(3.5), room=" 三楼报告厅 ", capacity=300)
    values.update(changes)
    return SessionData(**values)


@pytest.fixture()
def org(factory):
    return factory.organization("海峡信息化协会")


@pytest.fixture()
def actor(factory, org):
    return factory.user("organizer@example.org", "陈晓雯", organization=org, role="organizer")


def audit_actions(db, object_type: str | None = None) -> list[str]:
    query = sa.select(AuditEntry.action).order_by(AuditEntry.id)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    return list(db.session.scalars(query))


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def reload(db, event_id: int) -> Event:
    """The event as stored: everything in the session is read again from the database."""
    db.session.expire_all()
    return db.session.get(Event, event_id)


def snapshot(event: Event) -> dict:
    return {
        "title": event.title, "starts_at": event.starts_at, "ends_at": event.ends_at, "venue": event.venue,
        "capacity": event.capacity, "status": event.status, "updated_at": event.updated_at,
        "registration_opens_at": event.registration_opens_at, "registration_closes_at": event.registration_closes_at,
        "hosts": [(h.role, h.name) for h in event.hosts],
        "sessions": [(s.title, s.starts_at, s.ends_at, s.room, s.capacity) for s in event.sessions],
    }


def expect_error(db, code: str, call, *args, **kwargs) -> EventError:
    """Run a failing service call; check its code and that it left nothing pending, then roll back as views do."""
    audits_before = count(db, AuditEntry)
    with pytest.raises(EventError) as excinfo:
        call(*args, **kwargs)
    assert excinfo.value.code == code, excinfo.value.message
    assert excinfo.value.message and excinfo.value.message != code  # a sentence for people, not the code
    assert not db.session.new, f"half-saved: {db.session.new}"
    assert not db.session.dirty, f"half-changed: {db.session.dirty}"
    db.session.rollback()
    assert count(db, AuditEntry) == audits_before
    return excinfo.value


# ---------------------------------------------------------------- create


def test_create_event_saves_fields_hosts_and_audit(db, org, actor):
    event = services.create_event(org, event_data(), actor=actor, now=NOW)
    db.session.commit()

    event = reload(db, event.id)
    assert event.title == "2026海峡两岸信息化论坛"  # stripped
    assert event.venue == "厦门国际会议中心"
    assert event.status == EventState.DRAFT
    assert event.organization_id == org.id
    assert event.created_by_id == actor.id
    assert event.created_at == NOW and event.updated_at == NOW
    assert event.published_at is None
    assert (event.starts_at, event.ends_at, event.capacity) == (START, END, 320)
    assert event.host_names(HostRole.HOST) == ["海峡信息化协会", "厦门市信息中心"]  # blank names dropped
    assert event.host_names(HostRole.ORGANIZER) == ["厦门信息集团"]
    assert event.host_names(HostRole.CO_ORGANIZER) == ["厦门移动公司", "厦门联通公司"]
    positions = {(h.role, h.name): h.position for h in event.hosts}
    assert positions[(HostRole.HOST, "厦门市信息中心")] == 1
    assert audit_actions(db) == ["event.create"]

    entry = db.session.scalar(sa.select(AuditEntry))
    assert (entry.actor_id, entry.organization_id, entry.object_type, entry.object_id) == (
        actor.id, org.id, "Event", event.id,
    )
    assert entry.at == NOW


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"ends_at": at(-1)}, "ends_before_start", "ends_at"),
        (
            {"registration_opens_at": at(-48), "registration_closes_at": at(-48)},
            "registration_closes_before_opening",
            "registration_closes_at",
        ),
        ({"registration_closes_at": at(10)}, "registration_closes_after_event", "registration_closes_at"),
        ({"registration_opens_at": END, "registration_closes_at": None}, "registration_opens_after_event",
         "registration_opens_at"),
    ],
)
def test_create_event_with_inconsistent_times_saves_nothing(db, org, actor, changes, code, field):
    error = expect_error(db, code, services.create_event, org, event_data(**changes), actor=actor, now=NOW)
    assert error.field == field
    assert error.status == 422
    assert count(db, Event) == 0
    assert count(db, EventHost) == 0
    assert audit_actions(db) == []


# ---------------------------------------------------------------- update


@pytest.fixture()
def event(db, org, actor):
    event = services.create_event(org, event_data(), actor=actor, now=NOW)
    services.add_session(event, session_data(), actor=actor, now=NOW)
    db.session.commit()
    return event


def test_update_event_replaces_fields_and_hosts(db, event, actor):
    later = NOW + timedelta(hours=1)
    services.update_event(
        event,
        event_data(title="2026海峡两岸信息化论坛（第二届）", ends_at=at(10), capacity=400, venue="厦门会展中心",
                   registration_closes_at=at(-2),
                   hosts={HostRole.HOST: ["厦门市信息中心"], HostRole.CO_ORGANIZER: ["厦门电信公司"]}),
        actor=actor, now=later,
    )
    db.session.commit()

    event = reload(db, event.id)
    assert event.title == "2026海峡两岸信息化论坛（第二届）"
    assert (event.ends_at, event.capacity, event.venue) == (at(10), 400, "厦门会展中心")
    assert event.updated_at == later and event.created_at == NOW
    assert event.host_names(HostRole.HOST) == ["厦门市信息中心"]
    assert event.host_names(HostRole.ORGANIZER) == []
    assert event.host_names(HostRole.CO_ORGANIZER) == ["厦门电信公司"]
    assert count(db, EventHost) == 2  # the old host rows are gone, not orphaned
    assert audit_actions(db, "Event") == ["event.create", "event.update"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"ends_at": at(-1)}, "ends_before_start"),
        ({"registration_closes_at": at(20)}, "registration_closes_after_event"),
        ({"registration_opens_at": at(-5), "registration_closes_at": at(-6)}, "registration_closes_before_opening"),
        # the session runs 08:30–12:00; moving the start to 09:00 would leave it outside
        ({"starts_at": at(0.5)}, "sessions_outside_event"),
        ({"ends_at": at(3)}, "sessions_outside_event"),
        # the session has 300 seats: the event cannot shrink below that
        ({"capacity": 299}, "session_capacity_exceeds_event"),
    ],
)
def test_failed_update_leaves_the_event_unchanged(db, event, actor, changes, code):
    before = snapshot(reload(db, event.id))
    event = db.session.get(Event, event.id)
    expect_error(
        db, code, services.update_event, event,
        event_data(**{"title": "改过的标题", "venue": "别处", "capacity": 1000, "hosts": {HostRole.HOST: ["别的协会"]},
                      **changes}),
        actor=actor, now=NOW + timedelta(hours=1),
    )
    assert snapshot(reload(db, event.id)) == before
    assert audit_actions(db, "Event") == ["event.create"]


def test_event_capacity_may_shrink_to_the_largest_session_or_be_removed(db, event, actor):
    services.update_event(event, event_data(capacity=300), actor=actor, now=NOW)
    services.update_event(event, event_data(capacity=None), actor=actor, now=NOW)
    db.session.commit()
    assert reload(db, event.id).capacity is None


def test_sessions_outside_error_names_the_session(db, event, actor):
    error = expect_error(db, "sessions_outside_event", services.update_event, event, event_data(starts_at=at(1)),
                         actor=actor, now=NOW)
    assert "主论坛" in error.message
    assert error.field == "starts_at"


# ---------------------------------------------------------------- publish / unpublish / archive


def test_publish_unpublish_archive_cycle(db, event, actor):
    t1, t2, t3, t4 = (NOW + timedelta(hours=h) for h in (1, 2, 3, 4))
    services.publish_event(event, actor=actor, now=t1)
    db.session.commit()
    event = reload(db, event.id)
    assert event.status == EventState.PUBLISHED and event.published_at == t1 and event.is_public

    services.publish_event(event, actor=actor, now=t2)  # again: nothing changes, no second audit row
    db.session.commit()
    assert reload(db, event.id).published_at == t1

    event = db.session.get(Event, event.id)
    services.unpublish_event(event, actor=actor, now=t2)
    db.session.commit()
    event = reload(db, event.id)
    assert event.status == EventState.DRAFT and not event.is_public

    services.publish_event(event, actor=actor, now=t3)
    services.archive_event(event, actor=actor, now=t4)
    services.archive_event(event, actor=actor, now=t4)  # idempotent
    db.session.commit()
    event = reload(db, event.id)
    assert event.status == EventState.ARCHIVED and event.is_public
    assert event.updated_at == t4
    assert audit_actions(db, "Event") == [
        "event.create", "event.publish", "event.unpublish", "event.publish", "event.archive",
    ]


def test_publish_requires_a_venue(db, org, actor):
    event = services.create_event(org, event_data(venue="   "), actor=actor, now=NOW)
    db.session.commit()
    assert event.venue == ""
    error = expect_error(db, "venue_required", services.publish_event, event, actor=actor, now=NOW)
    assert error.status == 422
    event = reload(db, event.id)
    assert event.status == EventState.DRAFT and event.published_at is None


def test_unpublish_a_draft_is_refused(db, event, actor):
    expect_error(db, "not_published", services.unpublish_event, event, actor=actor, now=NOW)
    assert reload(db, event.id).status == EventState.DRAFT


@pytest.fixture()
def archived(db, event, actor):
    services.publish_event(event, actor=actor, now=NOW)
    services.archive_event(event, actor=actor, now=NOW)
    db.session.commit()
    return event


def test_an_archived_event_cannot_change(db, archived, actor):
    before = snapshot(reload(db, archived.id))
    event = db.session.get(Event, archived.id)
    expect_error(db, "archived", services.update_event, event, event_data(title="新标题"), actor=actor, now=NOW)
    expect_error(db, "archived", services.publish_event, event, actor=actor, now=NOW)
    expect_error(db, "not_published", services.unpublish_event, event, actor=actor, now=NOW)
    expect_error(db, "archived", services.add_session, event, session_data(title="加场"), actor=actor, now=NOW)
    session = event.sessions[0]
    expect_error(db, "archived", services.update_session, session, session_data(title="改名"), actor=actor, now=NOW)
    expect_error(db, "archived", services.delete_session, session, actor=actor, now=NOW)
    assert snapshot(reload(db, archived.id)) == before
    assert reload(db, archived.id).status == EventState.ARCHIVED


# ---------------------------------------------------------------- sessions


def test_add_sessions_positions_and_audit(db, event, actor):
    second = services.add_session(
        event, session_data(title="分论坛一", starts_at=at(5.5), ends_at=at(9), room="二楼A厅", capacity=None),
        actor=actor, now=NOW,
    )
    third = services.add_session(
        event, session_data(title="分论坛二", starts_at=at(5.5), ends_at=at(9), room="", capacity=160),
        actor=actor, now=NOW,
    )
    db.session.commit()
    event = reload(db, event.id)
    assert [(s.title, s.position, s.room, s.capacity) for s in event.sessions] == [
        ("主论坛", 0, "三楼报告厅", 300),
        ("分论坛一", 1, "二楼A厅", None),
        ("分论坛二", 2, "", 160),
    ]
    assert second.id != third.id
    assert audit_actions(db, "EventSession") == ["session.create"] * 3


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"starts_at": at(2), "ends_at": at(1)}, "ends_before_start", "ends_at"),
        ({"starts_at": at(-1), "ends_at": at(1)}, "session_outside_event", "starts_at"),
        ({"starts_at": at(8), "ends_at": at(9.01)}, "session_outside_event", "starts_at"),
        ({"capacity": 321}, "session_capacity_exceeds_event", "capacity"),
    ],
)
def test_add_session_errors_save_nothing(db, event, actor, changes, code, field):
    error = expect_error(db, code, services.add_session, event, session_data(title="晚宴", **changes),
                         actor=actor, now=NOW)
    assert error.field == field
    assert [s.title for s in reload(db, event.id).sessions] == ["主论坛"]
    assert audit_actions(db, "EventSession") == ["session.create"]


def test_session_capacity_equal_to_event_capacity_is_allowed(db, event, actor):
    services.add_session(event, session_data(title="全体", capacity=320), actor=actor, now=NOW)
    db.session.commit()
    assert count(db, EventSession) == 2


def test_session_capacity_is_free_when_the_event_has_no_limit(db, org, actor):
    event = services.create_event(org, event_data(capacity=None), actor=actor, now=NOW)
    services.add_session(event, session_data(capacity=10_000), actor=actor, now=NOW)
    db.session.commit()
    assert reload(db, event.id).sessions[0].capacity == 10_000


def test_update_session(db, event, actor):
    session = event.sessions[0]
    services.update_session(
        session, session_data(title="主论坛：数字中国", starts_at=at(0.5), ends_at=at(4), room="一楼", capacity=None),
        actor=actor, now=NOW,
    )
    db.session.commit()
    session = reload(db, event.id).sessions[0]
    assert (session.title, session.starts_at, session.ends_at, session.room, session.capacity) == (
        "主论坛：数字中国", at(0.5), at(4), "一楼", None,
    )
    assert audit_actions(db, "EventSession") == ["session.create", "session.update"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"ends_at": at(-0.5)}, "ends_before_start"),
        ({"ends_at": at(12)}, "session_outside_event"),
        ({"capacity": 1000}, "session_capacity_exceeds_event"),
    ],
)
def test_failed_update_session_leaves_it_unchanged(db, event, actor, changes, code):
    before = snapshot(reload(db, event.id))
    session = reload(db, event.id).sessions[0]
    expect_error(db, code, services.update_session, session, session_data(title="改名", room="别处", **changes),
                 actor=actor, now=NOW)
    assert snapshot(reload(db, event.id)) == before


def test_delete_session(db, event, actor):
    session = event.sessions[0]
    session_id = session.id
    services.delete_session(session, actor=actor, now=NOW)
    db.session.commit()
    assert count(db, EventSession) == 0
    assert reload(db, event.id).sessions == []

    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "session.delete"))
    assert (entry.object_type, entry.object_id, entry.details) == ("EventSession", session_id, {"title": "主论坛"})


# ---------------------------------------------------------------- lists


def test_list_public_events_only_published_and_not_ended(db, factory, org):
    soon = factory.event(org, title="即将开始", status="published", starts_at=NOW + timedelta(days=1))
    later = factory.event(org, title="下个月", status="published", starts_at=NOW + timedelta(days=30))
    factory.event(org, title="草稿", status="draft", starts_at=NOW + timedelta(days=2))
    factory.event(org, title="已归档", status="archived", starts_at=NOW + timedelta(days=2))
    factory.event(org, title="已结束", status="published", starts_at=NOW - timedelta(days=2))
    running = factory.event(org, title="进行中", status="published", starts_at=NOW - timedelta(hours=2), hours=8)
    assert [e.id for e in services.list_public_events(now=NOW)] == [running.id, soon.id, later.id]
    assert [e.id for e in services.list_public_events(now=NOW, limit=1)] == [running.id]


def test_list_events_for_organizations(db, factory, org):
    other = factory.organization("东海软件行业协会")
    mine = factory.event(org, title="我们的")
    factory.event(other, title="别人的")
    assert [e.id for e in services.list_events_for_organizations({org.id})] == [mine.id]
    assert services.list_events_for_organizations(set()) == []
