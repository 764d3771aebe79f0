"""events/schedule.py: worked examples (table-driven) and invariants (hypothesis)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.schedule import (
    Problem,
    RegistrationWindow,
    registration_window,
    sessions_outside,
    validate_event_times,
    validate_session_times,
)

UTC = timezone.utc
# The forum on 2026-12-12, 08:30–17:30 Beijing time, i.e. 00:30–09:30 UTC.
START = datetime(2026, 12, 12, 0, 30, tzinfo=UTC)
END = datetime(2026, 12, 12, 9, 30, tzinfo=UTC)


def at(hours: float) -> datetime:
    """A time ``hours`` after START (negative: before)."""
    return START + timedelta(hours=hours)


# ---------------------------------------------------------------- validate_event_times


@pytest.mark.parametrize(
    ("starts", "ends", "opens", "closes", "expected"),
    [
        # consistent
        (START, END, None, None, []),
        (START, START, None, None, []),  # zero-length event is allowed
        (START, END, at(-24 * 30), at(-24), []),
        (START, END, at(-24), END, []),  # closing exactly when the event ends is allowed
        (START, END, None, at(2), []),  # closing during the event
        (START, END, at(8.99), None, []),  # opening just before the end
        # ends before it starts
        (START, at(-1), None, None, [Problem("ends_at", "ends_before_start")]),
        # registration closes before / exactly when it opens
        (START, END, at(-2), at(-3), [Problem("registration_closes_at", "registration_closes_before_opening")]),
        (START, END, at(-2), at(-2), [Problem("registration_closes_at", "registration_closes_before_opening")]),
        # registration closes after the event
        (START, END, None, at(9.5), [Problem("registration_closes_at", "registration_closes_after_event")]),
        # registration opens exactly when / after the event ends
        (START, END, END, None, [Problem("registration_opens_at", "registration_opens_after_event")]),
        (START, END, at(48), None, [Problem("registration_opens_at", "registration_opens_after_event")]),
        # several problems at once, in a stable order
        (
            START, at(-1), at(1), at(0.5),
            [
                Problem("ends_at", "ends_before_start"),
                Problem("registration_closes_at", "registration_closes_before_opening"),
                Problem("registration_closes_at", "registration_closes_after_event"),
                Problem("registration_opens_at", "registration_opens_after_event"),
            ],
        ),
    ],
)
def test_validate_event_times(starts, ends, opens, closes, expected):
    assert validate_event_times(starts, ends, opens, closes) == expected


def test_validate_event_times_compares_instants_not_wall_clocks():
    shanghai = timezone(timedelta(hours=8))
    # 09:00 in Shanghai is 01:00 UTC: ending at 02:00 UTC is after the start, whatever the wall clocks say.
    assert validate_event_times(datetime(2026, 5, 20, 9, 0, tzinfo=shanghai),
                                datetime(2026, 5, 20, 2, 0, tzinfo=UTC)) == []
    assert validate_event_times(datetime(2026, 5, 20, 9, 0, tzinfo=shanghai),
                                datetime(2026, 5, 20, 0, 59, tzinfo=UTC)) == [Problem("ends_at", "ends_before_start")]


# ---------------------------------------------------------------- validate_session_times


@pytest.mark.parametrize(
    ("starts", "ends", "expected"),
    [
        (START, END, []),  # the whole event
        (at(1), at(2), []),
        (END, END, []),  # zero-length at the very end
        (at(2), at(1), [Problem("ends_at", "ends_before_start")]),
        (at(-0.5), at(1), [Problem("starts_at", "session_outside_event")]),  # starts too early
        (at(8), at(9.5), [Problem("starts_at", "session_outside_event")]),  # ends too late
        (at(-2), at(10), [Problem("starts_at", "session_outside_event")]),  # around the event
        (at(24), at(25), [Problem("starts_at", "session_outside_event")]),  # the next day
        (
            at(-2), at(-3),
            [Problem("ends_at", "ends_before_start"), Problem("starts_at", "session_outside_event")],
        ),
    ],
)
def test_validate_session_times(starts, ends, expected):
    assert validate_session_times(starts, ends, START, END) == expected


# ---------------------------------------------------------------- registration_window

OPENS = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
CLOSES = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "opens", "closes", "expected"),
    [
        (OPENS - timedelta(seconds=1), OPENS, CLOSES, RegistrationWindow.NOT_OPEN_YET),
        (OPENS, OPENS, CLOSES, RegistrationWindow.OPEN),  # exactly at opening: open
        (OPENS + timedelta(days=3), OPENS, CLOSES, RegistrationWindow.OPEN),
        (CLOSES - timedelta(microseconds=1), OPENS, CLOSES, RegistrationWindow.OPEN),
        (CLOSES, OPENS, CLOSES, RegistrationWindow.CLOSED),  # exactly at closing: closed
        (CLOSES + timedelta(days=1), OPENS, CLOSES, RegistrationWindow.CLOSED),
        # no opening time: open from the start
        (datetime(2020, 1, 1, tzinfo=UTC), None, CLOSES, RegistrationWindow.OPEN),
        (CLOSES, None, CLOSES, RegistrationWindow.CLOSED),
        # no closing time: closes when the event ends
        (END - timedelta(seconds=1), OPENS, None, RegistrationWindow.OPEN),
        (START, OPENS, None, RegistrationWindow.OPEN),  # still open while the event runs
        (END, OPENS, None, RegistrationWindow.CLOSED),
        (END + timedelta(hours=1), None, None, RegistrationWindow.CLOSED),
        (OPENS - timedelta(days=1), OPENS, None, RegistrationWindow.NOT_OPEN_YET),
    ],
)
def test_registration_window(now, opens, closes, expected):
    assert registration_window(now, opens, closes, END) is expected


def test_registration_window_values_are_stable_strings():
    assert [w.value for w in RegistrationWindow] == ["not_open_yet", "open", "closed"]


# ---------------------------------------------------------------- sessions_outside


@dataclass
class FakeSession:
    title: str
    starts_at: datetime
    ends_at: datetime


MORNING = FakeSession("主论坛", at(0), at(3.5))
AFTERNOON = FakeSession("分论坛一", at(5.5), at(9))
EVENING = FakeSession("晚宴", at(9), at(11))


@pytest.mark.parametrize(
    ("new_start", "new_end", "expected"),
    [
        (START, END, [EVENING]),
        (START, at(11), []),
        (at(-1), at(12), []),
        (at(1), at(11), [MORNING]),  # moving the start later cuts off the morning session
        (START, at(4), [AFTERNOON, EVENING]),
        (at(4), at(5), [MORNING, AFTERNOON, EVENING]),
    ],
)
def test_sessions_outside(new_start, new_end, expected):
    assert sessions_outside(new_start, new_end, [MORNING, AFTERNOON, EVENING]) == expected


def test_sessions_outside_with_no_sessions():
    assert sessions_outside(START, END, []) == []


# ---------------------------------------------------------------- properties

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
optional_instants = st.none() | instants
ORDER = {RegistrationWindow.NOT_OPEN_YET: 0, RegistrationWindow.OPEN: 1, RegistrationWindow.CLOSED: 2}


@given(a=instants, b=instants, opens=optional_instants, closes=optional_instants, event_end=instants)
def test_registration_window_is_monotone_in_time(a, b, opens, closes, event_end):
    early, late = min(a, b), max(a, b)
    assert ORDER[registration_window(early, opens, closes, event_end)] <= ORDER[
        registration_window(late, opens, closes, event_end)
    ]


@given(now=instants, opens=optional_instants, closes=optional_instants, event_end=instants)
def test_registration_window_open_means_inside_the_window(now, opens, closes, event_end):
    window = registration_window(now, opens, closes, event_end)
    closing = closes or event_end
    if window is RegistrationWindow.OPEN:
        assert (opens is None or opens <= now) and now < closing
    elif window is RegistrationWindow.NOT_OPEN_YET:
        assert opens is not None and now < opens
    else:
        assert now >= closing


@given(starts=instants, length=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
       opens=optional_instants, closes=optional_instants)
def test_consistent_event_times_give_a_window_that_opens_before_the_end(starts, length, opens, closes):
    ends = starts + length
    if validate_event_times(starts, ends, opens, closes):
        return
    # Valid times: just before the event ends (or the closing time), sign-ups are open.
    last_moment = (closes or ends) - timedelta(microseconds=1)
    if opens is None or opens <= last_moment:
        assert registration_window(last_moment, opens, closes, ends) is RegistrationWindow.OPEN


@given(ev_start=instants, ev_len=st.integers(0, 10_000), s_off=st.integers(-20_000, 20_000),
       s_len=st.integers(0, 20_000))
def test_session_inside_event_iff_not_outside(ev_start, ev_len, s_off, s_len):
    ev_end = ev_start + timedelta(minutes=ev_len)
    s = FakeSession("x", ev_start + timedelta(minutes=s_off), ev_start + timedelta(minutes=s_off + s_len))
    problems = validate_session_times(s.starts_at, s.ends_at, ev_start, ev_end)
    outside = sessions_outside(ev_start, ev_end, [s])
    assert (Problem("starts_at", "session_outside_event") in problems) == (outside == [s])
    assert all(p.code != "ends_before_start" for p in problems)
