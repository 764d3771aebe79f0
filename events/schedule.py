"""Rules about an event's times, as plain functions (no Flask, no database).

Each ``validate_*`` returns a list of ``(field, code)`` problems; an empty list means the times are consistent.
Views turn the codes into messages in the user's language (see ``events.forms.SCHEDULE_MESSAGES``).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class RegistrationWindow(str, enum.Enum):
    NOT_OPEN_YET = "not_open_yet"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Problem:
    field: str
    code: str


def validate_event_times(
    starts_at: datetime,
    ends_at: datetime,
    registration_opens_at: datetime | None = None,
    registration_closes_at: datetime | None = None,
) -> list[Problem]:
    problems: list[Problem] = []
    if ends_at < starts_at:
        problems.append(Problem("ends_at", "ends_before_start"))
    if registration_opens_at and registration_closes_at and registration_closes_at <= registration_opens_at:
        problems.append(Problem("registration_closes_at", "registration_closes_before_opening"))
    if registration_closes_at and registration_closes_at > ends_at:
        problems.append(Problem("registration_closes_at", "registration_closes_after_event"))
    if registration_opens_at and registration_opens_at >= ends_at:
        problems.append(Problem("registration_opens_at", "registration_opens_after_event"))
    return problems


def validate_session_times(
    starts_at: datetime, ends_at: datetime, event_starts_at: datetime, event_ends_at: datetime
) -> list[Problem]:
    problems: list[Problem] = []
    if ends_at < starts_at:
        problems.append(Problem("ends_at", "ends_before_start"))
    if starts_at < event_starts_at or ends_at > event_ends_at:
        problems.append(Problem("starts_at", "session_outside_event"))
    return problems


def registration_window(
    now: datetime, opens_at: datetime | None, closes_at: datetime | None, event_ends_at: datetime
) -> RegistrationWindow:
    """Where ``now`` stands in the sign-up window. Without a closing time, sign-ups close when the event ends."""
    if opens_at is not None and now < opens_at:
        return RegistrationWindow.NOT_OPEN_YET
    if now >= (closes_at or event_ends_at):
        return RegistrationWindow.CLOSED
    return RegistrationWindow.OPEN


def sessions_outside(event_starts_at: datetime, event_ends_at: datetime, sessions) -> list:
    """The sessions that no longer fit inside the event's time (after the event's times were edited)."""
    return [s for s in sessions if s.starts_at < event_starts_at or s.ends_at > event_ends_at]
