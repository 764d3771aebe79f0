"""Who may do what. Plain functions over memberships; views call them after loading the object.

A user who has no role at all in an event's organization must not learn that the event exists: the edge answers
404. A user with some role but not the needed one gets 403.
"""
from __future__ import annotations

from accounts.models import MembershipRole, Organization, User

MANAGE_ROLES = {MembershipRole.ADMIN, MembershipRole.ORGANIZER}
CHECKIN_ROLES = MANAGE_ROLES | {MembershipRole.CHECKIN_STAFF}
JUDGING_ROLES = {MembershipRole.JUDGE, MembershipRole.CHIEF_JUDGE}


def _is_user(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and isinstance(user, User)


def roles_in_organization(user, organization: Organization, event_id: int | None = None) -> set[MembershipRole]:
    """The roles ``user`` holds for ``organization`` (and for ``event_id`` inside it, when given).

    An admin of a parent organization (协会) is admin of its branches (分支机构, 专委会) too.
    A role limited to one event counts only for that event.
    """
    if not _is_user(user):
        return set()
    if user.is_superuser:
        return {MembershipRole.ADMIN}
    ancestor_ids = {org.id for org in organization.ancestors()}
    roles: set[MembershipRole] = set()
    for m in user.memberships:
        if m.organization_id == organization.id:
            if m.event_id is None or m.event_id == event_id:
                roles.add(m.role)
        elif m.organization_id in ancestor_ids and m.role == MembershipRole.ADMIN and m.event_id is None:
            roles.add(MembershipRole.ADMIN)
    return roles


def roles_for_event(user, event) -> set[MembershipRole]:
    return roles_in_organization(user, event.organization, event.id)


def can_see_event_admin(user, event) -> bool:
    """Has any role at all for the event: may learn that it exists outside its public page."""
    return bool(roles_for_event(user, event))


def can_manage_event(user, event) -> bool:
    return bool(roles_for_event(user, event) & MANAGE_ROLES)


def can_check_in(user, event) -> bool:
    return bool(roles_for_event(user, event) & CHECKIN_ROLES)


def can_manage_organization(user, organization: Organization) -> bool:
    return bool(roles_in_organization(user, organization) & MANAGE_ROLES)


def organizations_managed_by(user) -> list[Organization]:
    """Organizations where ``user`` may create events, including branches of ones they administer."""
    if not _is_user(user):
        return []
    from extensions import db
    import sqlalchemy as sa

    if user.is_superuser:
        return list(db.session.scalars(sa.select(Organization).order_by(Organization.name)))
    found: dict[int, Organization] = {}

    def add_with_children(org: Organization) -> None:
        if org.id in found:
            return
        found[org.id] = org
        for child in org.children:
            add_with_children(child)

    for m in user.memberships:
        if m.event_id is not None:
            continue
        if m.role == MembershipRole.ADMIN:
            add_with_children(m.organization)
        elif m.role == MembershipRole.ORGANIZER:
            found.setdefault(m.organization_id, m.organization)
    return sorted(found.values(), key=lambda o: o.name)


def organization_ids_visible_to(user) -> set[int]:
    """Organizations in which ``user`` holds any role (event-limited roles included)."""
    if not _is_user(user):
        return set()
    ids = {o.id for o in organizations_managed_by(user)}
    ids |= {m.organization_id for m in user.memberships}
    return ids
