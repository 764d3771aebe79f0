"""Event use cases: create, edit, publish, archive; sessions. They flush but never commit."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from accounts.models import Organization
from core.errors import DomainError
from core.models import record_audit
from events.models import Event, EventHost, EventKind, EventSession, EventState, HostRole
from events.schedule import sessions_outside, validate_event_times, validate_session_times
from extensions import db


class EventError(DomainError):
    pass


@dataclass
class EventData:
    kind: EventKind
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    description: str = ""
    venue: str = ""
    capacity: int | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    requires_approval: bool = False
    hosts: dict[HostRole, list[str]] = field(default_factory=dict)


@dataclass
class SessionData:
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str = ""
    capacity: int | None = None


def schedule_message(code: str) -> str:
    messages = {
        "ends_before_start": _("The end must not be before the start."),
        "registration_closes_before_opening": _("Registration must close after it opens."),
        "registration_closes_after_event": _("Registration must close before the event ends."),
        "registration_opens_after_event": _("Registration must open before the event ends."),
        "session_outside_event": _("A session must lie within the event's start and end."),
    }
    return messages.get(code, code)


def _check_event_times(data: EventData) -> None:
    problems = validate_event_times(
        data.starts_at, data.ends_at, data.registration_opens_at, data.registration_closes_at
    )
    if problems:
        first = problems[0]
        raise EventError(first.code, schedule_message(first.code), status=422, field=first.field)


def _apply(event: Event, data: EventData) -> None:
    event.kind = data.kind
    event.title = data.title.strip()
    event.description = (data.description or "").strip()
    event.venue = (data.venue or "").strip()
    event.starts_at = data.starts_at
    event.ends_at = data.ends_at
    event.timezone = data.timezone
    event.capacity = data.capacity
    event.registration_opens_at = data.registration_opens_at
    event.registration_closes_at = data.registration_closes_at
    event.requires_approval = data.requires_approval
    event.hosts = [
        EventHost(role=role, name=name.strip(), position=i)
        for role in HostRole
        for i, name in enumerate(n for n in data.hosts.get(role, []) if n.strip())
    ]


def create_event(organization: Organization, data: EventData, *, actor, now: datetime) -> Event:
    _check_event_times(data)
    event = Event(organization_id=organization.id, created_at=now, updated_at=now, created_by_id=actor.id)
    event.organization = organization
    _apply(event, data)
    db.session.add(event)
    db.session.flush()
    record_audit(actor=actor, organization_id=organization.id, action="event.create", obj=event, now=now)
    return event


def update_event(event: Event, data: EventData, *, actor, now: datetime) -> Event:
    if event.status == EventState.ARCHIVED:
        raise EventError("archived", _("An archived event cannot be changed."), status=409)
    _check_event_times(data)
    outside = sessions_outside(data.starts_at, data.ends_at, event.sessions)
    if outside:
        raise EventError(
            "sessions_outside_event",
            _("Session “%(title)s” would lie outside the event's new times. Change the session first.",
              title=outside[0].title),
            status=422,
            field="starts_at",
        )
    if data.capacity is not None and any(s.capacity is not None and s.capacity > data.capacity for s in event.sessions):
        raise EventError(
            "session_capacity_exceeds_event",
            _("A session cannot have more seats than the event (%(n)d).", n=data.capacity),
            status=422,
            field="capacity",
        )
    _apply(event, data)
    event.updated_at = now
    db.session.flush()
    record_audit(actor=actor, organization_id=event.organization_id, action="event.update", obj=event, now=now)
    return event


def publish_event(event: Event, *, actor, now: datetime) -> Event:
    if event.status == EventState.ARCHIVED:
        raise EventError("archived", _("An archived event cannot be published again."), status=409)
    if event.status == EventState.PUBLISHED:
        return event
    if not event.venue:
        raise EventError("venue_required", _("Add the venue before publishing."), status=422)
    event.status = EventState.PUBLISHED
    event.published_at = now
    event.updated_at = now
    db.session.flush()
    record_audit(actor=actor, organization_id=event.organization_id, action="event.publish", obj=event, now=now)
    return event


def unpublish_event(event: Event, *, actor, now: datetime) -> Event:
    if event.status != EventState.PUBLISHED:
        raise EventError("not_published", _("Only a published event can be taken back to draft."), status=409)
    event.status = EventState.DRAFT
    event.updated_at = now
    db.session.flush()
    record_audit(actor=actor, organization_id=event.organization_id, action="event.unpublish", obj=event, now=now)
    return event


def archive_event(event: Event, *, actor, now: datetime) -> Event:
    if event.status == EventState.ARCHIVED:
        return event
    event.status = EventState.ARCHIVED
    event.updated_at = now
    db.session.flush()
    record_audit(actor=actor, organization_id=event.organization_id, action="event.archive", obj=event, now=now)
    return event


def _check_session(event: Event, data: SessionData) -> None:
    if event.status == EventState.ARCHIVED:
        raise EventError("archived", _("An archived event cannot be changed."), status=409)
    problems = validate_session_times(data.starts_at, data.ends_at, event.starts_at, event.ends_at)
    if problems:
        first = problems[0]
        raise EventError(first.code, schedule_message(first.code), status=422, field=first.field)
    if data.capacity is not None and event.capacity is not None and data.capacity > event.capacity:
        raise EventError(
            "session_capacity_exceeds_event",
            _("A session cannot have more seats than the event (%(n)d).", n=event.capacity),
            status=422,
            field="capacity",
        )


def add_session(event: Event, data: SessionData, *, actor, now: datetime) -> EventSession:
    _check_session(event, data)
    position = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(EventSession.position), -1)).where(EventSession.event_id == event.id)
    )
    session = EventSession(
        event=event, title=data.title.strip(), starts_at=data.starts_at, ends_at=data.ends_at,
        room=(data.room or "").strip(), capacity=data.capacity, position=position + 1,
    )
    db.session.add(session)
    db.session.flush()
    record_audit(actor=actor, organization_id=event.organization_id, action="session.create", obj=session, now=now)
    return session


def update_session(session: EventSession, data: SessionData, *, actor, now: datetime) -> EventSession:
    _check_session(session.event, data)
    session.title = data.title.strip()
    session.starts_at = data.starts_at
    session.ends_at = data.ends_at
    session.room = (data.room or "").strip()
    session.capacity = data.capacity
    db.session.flush()
    record_audit(
        actor=actor, organization_id=session.event.organization_id, action="session.update", obj=session, now=now
    )
    return session


def delete_session(session: EventSession, *, actor, now: datetime) -> None:
    event = session.event
    if event.status == EventState.ARCHIVED:
        raise EventError("archived", _("An archived event cannot be changed."), status=409)
    record_audit(
        actor=actor, organization_id=event.organization_id, action="session.delete", obj=session, now=now,
        title=session.title,
    )
    db.session.delete(session)
    db.session.flush()


def list_public_events(*, now: datetime, limit: int = 50) -> list[Event]:
    """Published events that have not ended, soonest first."""
    return list(
        db.session.scalars(
            sa.select(Event)
            .where(Event.status == EventState.PUBLISHED, Event.ends_at >= now)
            .order_by(Event.starts_at)
            .limit(limit)
        )
    )


def list_events_for_organizations(org_ids: set[int]) -> list[Event]:
    if not org_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Event).where(Event.organization_id.in_(org_ids)).order_by(Event.starts_at.desc())
        )
    )
