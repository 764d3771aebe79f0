"""The yearly table's check-in rate of an event still ahead is "—", not 0%."""
from decimal import Decimal

from stats.services import EventRow


def row(*, started: bool, attended: int) -> EventRow:
    return EventRow(event=None, approved=40, persons=40, attended_persons=attended, attended_signups=attended,
                    distinct_units=5, started=started)


def test_an_event_still_ahead_without_check_ins_has_no_rate():
    assert row(started=False, attended=0).check_in_rate is None


def test_a_held_event_nobody_came_to_is_zero_percent():
    assert row(started=True, attended=0).check_in_rate == Decimal("0")


def test_check_ins_count_even_before_the_official_start():
    assert row(started=False, attended=30).check_in_rate == Decimal("75.0")


def test_a_session_still_ahead_without_check_ins_has_no_rate():
    from stats.services import SessionRate

    assert SessionRate(1, "分会场1", 22, 0, started=False).rate is None
    assert SessionRate(1, "分会场1", 22, 0, started=True).rate == Decimal("0")
    assert SessionRate(1, "分会场1", 22, 11, started=False).rate == Decimal("50.0")
