"""The demo data: realistic, complete, and idempotent (loading it twice changes nothing)."""
from __future__ import annotations

import sqlalchemy as sa

from accounts.models import Membership, Organization, User
from demo.data import DEMO_PASSWORD, DEMO_USERS, load_demo
from events.models import Event, EventKind, EventState, HostRole
from tests.conftest import NOW

FORUM = "2026海峡两岸信息化论坛"
COMPETITION = "2026年云计算、小程序行业技能大赛"


def row_counts(db) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in db.metadata.sorted_tables
        }


def load(db) -> None:
    load_demo(now=NOW)
    db.session.commit()


def test_loading_the_demo_twice_changes_nothing(db):
    load(db)
    first = row_counts(db)
    assert first["events"] > 0 and first["users"] == len(DEMO_USERS) and first["audit_entries"] > 0
    load(db)
    assert row_counts(db) == first
    db.session.expire_all()
    load(db)
    assert row_counts(db) == first


def test_the_demo_fixture_holds_the_loaded_demo(db, factory, demo):
    """The ``demo`` fixture (tests/conftest.py) loads the demo once per process and copies its rows back for later
    tests: either way the tables hold what load_demo leaves, loading again changes nothing, and new rows get new
    ids (PostgreSQL's sequences are past the copied ones)."""
    copied = row_counts(db)
    assert copied["events"] >= 14 and copied["users"] == len(DEMO_USERS)
    load(db)
    assert row_counts(db) == copied
    top = db.session.scalar(sa.select(sa.func.max(Organization.id)))
    assert factory.organization("新协会").id > top


def test_demo_fixture_twice_in_a_row_gives_the_same_rows(db, demo):
    assert row_counts(db)["users"] == len(DEMO_USERS)  # the copy went in again after the last test's rows were deleted


def test_demo_forum_has_three_sessions_and_its_hosts(db, demo):
    forum = db.session.scalar(sa.select(Event).where(Event.title == FORUM))
    assert forum is not None
    assert forum.kind == EventKind.FORUM and forum.status == EventState.PUBLISHED
    assert forum.timezone == "Asia/Shanghai"
    assert [s.title for s in forum.sessions] == [
        "主论坛：数字中国建设新机遇", "分论坛一：智慧城市与数据要素", "分论坛二：两岸信息产业合作",
    ]
    assert all(forum.starts_at <= s.starts_at <= s.ends_at <= forum.ends_at for s in forum.sessions)
    assert forum.host_names(HostRole.HOST) == ["海峡信息化协会", "厦门市信息中心"]
    assert forum.host_names(HostRole.ORGANIZER) == ["厦门信息集团"]
    assert forum.host_names(HostRole.CO_ORGANIZER) == ["厦门移动公司", "厦门联通公司", "厦门电信公司"]
    # 08:30 Beijing time on 12 December is 00:30 UTC.
    assert (forum.starts_at.hour, forum.starts_at.minute) == (0, 30)


def test_demo_has_eleven_salons_and_the_competition(db, demo):
    salons = list(db.session.scalars(sa.select(Event).where(Event.kind == EventKind.SALON).order_by(Event.starts_at)))
    assert len(salons) == 11
    assert len({s.title for s in salons}) == 11
    assert len({(s.starts_at.year, s.starts_at.month) for s in salons}) == 11  # one a month
    # Salons that ended before "now" are archived; the rest are published.
    for salon in salons:
        expected = EventState.ARCHIVED if salon.ends_at < NOW else EventState.PUBLISHED
        assert salon.status == expected, salon.title
    branch = salons[0].organization
    assert branch.parent is not None and branch.parent.name == "海峡信息化协会"

    competition = db.session.scalar(sa.select(Event).where(Event.title == COMPETITION))
    assert competition is not None
    assert competition.kind == EventKind.COMPETITION
    assert competition.requires_approval
    assert len(competition.sessions) >= 2


def test_demo_users_can_log_in_and_have_their_roles(db, demo):
    for spec in DEMO_USERS:
        user = db.session.scalar(sa.select(User).where(User.login == spec.login))
        assert user is not None and user.name == spec.name
        assert user.check_password(DEMO_PASSWORD)
        roles = {(m.organization.name, m.role) for m in user.memberships}
        assert (spec.organization, spec.role) in roles
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) >= 3
    assert db.session.scalar(sa.select(sa.func.count(Membership.id))) >= len(DEMO_USERS)


def test_flask_demo_command_prints_the_logins(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert DEMO_PASSWORD in result.output
    for spec in DEMO_USERS:
        assert spec.login in result.output
        assert spec.name in result.output
    counts = row_counts(db)
    assert counts["events"] >= 14
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0
    assert row_counts(db) == counts
