"""accounts/permissions.py: roles across parent organizations, event-limited roles, superusers."""
from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from accounts.models import MembershipRole
from accounts.permissions import (
    can_check_in,
    can_manage_event,
    can_manage_organization,
    can_see_event_admin,
    organization_ids_visible_to,
    organizations_managed_by,
    roles_for_event,
    roles_in_organization,
)

ADMIN, ORGANIZER, STAFF, JUDGE, CHIEF = (
    MembershipRole.ADMIN, MembershipRole.ORGANIZER, MembershipRole.CHECKIN_STAFF, MembershipRole.JUDGE,
    MembershipRole.CHIEF_JUDGE,
)


@pytest.fixture()
def orgs(factory):
    """协会 → 青工委 → 青工委沙龙组; and an unrelated association."""
    association = factory.organization("海峡信息化协会")
    branch = factory.organization("海峡信息化协会青年工作委员会", parent=association)
    sub = factory.organization("青工委沙龙组", parent=branch)
    other = factory.organization("东海软件行业协会")
    return association, branch, sub, other


def test_no_roles_for_anonymous_or_nobody(db, factory, orgs):
    association = orgs[0]
    stranger = factory.user()
    assert roles_in_organization(None, association) == set()
    assert roles_in_organization(AnonymousUserMixin(), association) == set()
    assert roles_in_organization(stranger, association) == set()
    assert organizations_managed_by(None) == []
    assert organizations_managed_by(AnonymousUserMixin()) == []
    assert organizations_managed_by(stranger) == []
    assert organization_ids_visible_to(stranger) == set()


def test_parent_admin_is_admin_of_every_branch_below(db, factory, orgs):
    association, branch, sub, other = orgs
    admin = factory.user(organization=association, role="admin")
    assert roles_in_organization(admin, association) == {ADMIN}
    assert roles_in_organization(admin, branch) == {ADMIN}
    assert roles_in_organization(admin, sub) == {ADMIN}
    assert roles_in_organization(admin, other) == set()


def test_branch_admin_is_not_admin_of_the_parent(db, factory, orgs):
    association, branch, sub, _other = orgs
    branch_admin = factory.user(organization=branch, role="admin")
    assert roles_in_organization(branch_admin, association) == set()
    assert roles_in_organization(branch_admin, branch) == {ADMIN}
    assert roles_in_organization(branch_admin, sub) == {ADMIN}


@pytest.mark.parametrize("role", ["organizer", "checkin_staff", "judge", "chief_judge"])
def test_other_roles_do_not_inherit_to_branches(db, factory, orgs, role):
    association, branch, _sub, _other = orgs
    user = factory.user(organization=association, role=role)
    assert roles_in_organization(user, association) == {MembershipRole(role)}
    assert roles_in_organization(user, branch) == set()


def test_event_limited_role_counts_only_for_that_event(db, factory, orgs):
    association, branch, _sub, _other = orgs
    forum = factory.event(association, title="论坛")
    contest = factory.event(association, title="技能大赛", kind="competition")
    staff = factory.user(organization=association, role="checkin_staff", event=forum)
    assert roles_in_organization(staff, association, forum.id) == {STAFF}
    assert roles_in_organization(staff, association, contest.id) == set()
    assert roles_in_organization(staff, association) == set()  # not a role in the organization as a whole
    assert roles_for_event(staff, forum) == {STAFF}
    assert can_check_in(staff, forum) and can_see_event_admin(staff, forum)
    assert not can_check_in(staff, contest) and not can_see_event_admin(staff, contest)
    assert not can_manage_event(staff, forum)
    # But the organization is visible to them (their dashboard lists the event), and they manage nothing.
    assert organization_ids_visible_to(staff) == {association.id}
    assert organizations_managed_by(staff) == []


def test_event_limited_admin_role_does_not_inherit(db, factory, orgs):
    association, branch, _sub, _other = orgs
    forum = factory.event(association)
    user = factory.user(organization=association, role="admin", event=forum)
    assert roles_in_organization(user, branch) == set()
    assert organizations_managed_by(user) == []


def test_roles_add_up(db, factory, orgs):
    association = orgs[0]
    contest = factory.event(association, kind="competition")
    user = factory.user(organization=association, role="organizer")
    from accounts.services import add_membership

    add_membership(user, association, JUDGE, event=contest)
    db.session.commit()
    assert roles_for_event(user, contest) == {ORGANIZER, JUDGE}
    assert roles_in_organization(user, association) == {ORGANIZER}


def test_superuser_is_admin_everywhere(db, factory, orgs):
    association, branch, sub, other = orgs
    root = factory.user(superuser=True)
    event = factory.event(other)
    for org in orgs:
        assert roles_in_organization(root, org) == {ADMIN}
        assert can_manage_organization(root, org)
    assert can_manage_event(root, event)
    assert [o.id for o in organizations_managed_by(root)] == [o.id for o in sorted(orgs, key=lambda o: o.name)]


@pytest.mark.parametrize(
    ("role", "manage", "check_in"),
    [("admin", True, True), ("organizer", True, True), ("checkin_staff", False, True), ("judge", False, False),
     ("chief_judge", False, False)],
)
def test_what_each_role_may_do(db, factory, orgs, role, manage, check_in):
    association = orgs[0]
    event = factory.event(association)
    user = factory.user(organization=association, role=role)
    assert can_see_event_admin(user, event)
    assert can_manage_event(user, event) is manage
    assert can_check_in(user, event) is check_in
    assert can_manage_organization(user, association) is manage


def test_organizations_managed_by(db, factory, orgs):
    association, branch, sub, other = orgs
    admin = factory.user(organization=association, role="admin")
    assert {o.id for o in organizations_managed_by(admin)} == {association.id, branch.id, sub.id}
    names = [o.name for o in organizations_managed_by(admin)]
    assert names == sorted(names)

    branch_organizer = factory.user(organization=branch, role="organizer")
    assert [o.id for o in organizations_managed_by(branch_organizer)] == [branch.id]  # organizers: no children

    judge = factory.user(organization=other, role="judge")
    assert organizations_managed_by(judge) == []
    assert organization_ids_visible_to(judge) == {other.id}

    from accounts.services import add_membership

    add_membership(branch_organizer, other, ORGANIZER)
    db.session.commit()
    assert {o.id for o in organizations_managed_by(branch_organizer)} == {branch.id, other.id}


def test_ancestors_stop_at_a_cycle(db, factory):
    a = factory.organization("甲")
    b = factory.organization("乙", parent=a)
    a.parent = b  # bad data must not hang the permission check
    db.session.commit()
    assert [o.id for o in b.ancestors()] == [a.id]
    admin_of_b = factory.user(organization=b, role="admin")
    assert roles_in_organization(admin_of_b, a) == {ADMIN}
    assert {o.id for o in organizations_managed_by(admin_of_b)} == {a.id, b.id}
