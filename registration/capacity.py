"""Seats, protected by the database: one atomic conditional UPDATE takes a seat or fails, so concurrent sign-ups
can never oversell (no read-then-write in Python). Releasing never goes below zero."""
from __future__ import annotations

import sqlalchemy as sa

from events.models import Event, EventSession
from extensions import db


def _take(model, row_id: int) -> bool:
    result = db.session.execute(
        sa.update(model)
        .where(model.id == row_id, sa.or_(model.capacity.is_(None), model.seats_taken < model.capacity))
        .values(seats_taken=model.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _release(model, row_id: int) -> None:
    db.session.execute(
        sa.update(model)
        .where(model.id == row_id, model.seats_taken > 0)
        .values(seats_taken=model.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


def take_event_seat(event_id: int) -> bool:
    return _take(Event, event_id)


def release_event_seat(event_id: int) -> None:
    _release(Event, event_id)


def take_session_seat(session_id: int) -> bool:
    return _take(EventSession, session_id)


def release_session_seat(session_id: int) -> None:
    _release(EventSession, session_id)


def take_option_seat(counter_id: int) -> bool:
    from registration.models import OptionCounter

    return _take(OptionCounter, counter_id)


def release_option_seat(counter_id: int) -> None:
    from registration.models import OptionCounter

    _release(OptionCounter, counter_id)


def seats_left(capacity: int | None, taken: int) -> int | None:
    """None for no limit."""
    if capacity is None:
        return None
    return max(capacity - taken, 0)
