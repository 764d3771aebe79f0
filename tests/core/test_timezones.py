"""core/timezones.py conversions and the core/types.UTCDateTime column type."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from core.timezones import is_valid_timezone, local_to_utc, utc_to_local

UTC = timezone.utc
ZONES = ["Asia/Shanghai", "Asia/Taipei", "Asia/Tokyo", "UTC", "Europe/London", "America/New_York"]
# Zones without daylight saving time since 2000: every wall-clock time exists exactly once.
ZONES_WITHOUT_DST = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Tokyo", "Asia/Singapore", "UTC"]

utc_instants = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
wall_clocks = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))


# ---------------------------------------------------------------- worked examples


@pytest.mark.parametrize(
    ("local", "tz", "expected_utc"),
    [
        (datetime(2026, 5, 20, 9, 0), "Asia/Shanghai", datetime(2026, 5, 20, 1, 0, tzinfo=UTC)),
        (datetime(2026, 12, 12, 8, 30), "Asia/Shanghai", datetime(2026, 12, 12, 0, 30, tzinfo=UTC)),
        (datetime(2026, 1, 1, 7, 0), "Asia/Shanghai", datetime(2025, 12, 31, 23, 0, tzinfo=UTC)),  # crosses the year
        (datetime(2026, 5, 20, 9, 0), "Asia/Taipei", datetime(2026, 5, 20, 1, 0, tzinfo=UTC)),
        (datetime(2026, 5, 20, 9, 0), "Asia/Tokyo", datetime(2026, 5, 20, 0, 0, tzinfo=UTC)),
        (datetime(2026, 7, 1, 9, 0), "Europe/London", datetime(2026, 7, 1, 8, 0, tzinfo=UTC)),  # summer time
        (datetime(2026, 1, 15, 9, 0), "Europe/London", datetime(2026, 1, 15, 9, 0, tzinfo=UTC)),
        (datetime(2026, 5, 20, 9, 0), "UTC", datetime(2026, 5, 20, 9, 0, tzinfo=UTC)),
    ],
)
def test_local_to_utc_worked_examples(local, tz, expected_utc):
    result = local_to_utc(local, tz)
    assert result == expected_utc
    assert result.utcoffset() == timedelta(0)
    assert utc_to_local(expected_utc, tz) == local


def test_shanghai_nine_oclock_is_one_oclock_utc():
    result = local_to_utc(datetime(2026, 5, 20, 9, 0), "Asia/Shanghai")
    assert (result.hour, result.minute, result.tzinfo) == (1, 0, UTC)


def test_none_passes_through():
    assert local_to_utc(None, "Asia/Shanghai") is None
    assert utc_to_local(None, "Asia/Shanghai") is None


def test_aware_input_to_local_to_utc_is_only_converted():
    shanghai_nine = datetime(2026, 5, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    # The zone argument is ignored for an aware time: it already says where it is.
    assert local_to_utc(shanghai_nine, "America/New_York") == datetime(2026, 5, 20, 1, 0, tzinfo=UTC)


def test_utc_to_local_treats_naive_input_as_utc_and_returns_naive():
    result = utc_to_local(datetime(2026, 5, 20, 1, 0), "Asia/Shanghai")
    assert result == datetime(2026, 5, 20, 9, 0)
    assert result.tzinfo is None


@pytest.mark.parametrize(
    ("name", "valid"),
    [("Asia/Shanghai", True), ("UTC", True), ("Europe/London", True), ("", False), ("Mars/Olympus", False),
     ("../../etc/passwd", False), ("Asia/Shanghai\x00", False)],
)
def test_is_valid_timezone(name, valid):
    assert is_valid_timezone(name) is valid


# ---------------------------------------------------------------- round trips (hypothesis)


@given(instant=utc_instants, tz=st.sampled_from(ZONES))
def test_utc_to_local_to_utc_round_trip(instant, tz):
    local = utc_to_local(instant, tz)
    assert local.tzinfo is None
    back = local_to_utc(local, tz)
    assert back == instant
    assert back.utcoffset() == timedelta(0)


@given(wall=wall_clocks, tz=st.sampled_from(ZONES_WITHOUT_DST))
def test_local_to_utc_to_local_round_trip(wall, tz):
    instant = local_to_utc(wall, tz)
    assert instant.tzinfo is not None and instant.utcoffset() == timedelta(0)
    assert utc_to_local(instant, tz) == wall


@given(wall=wall_clocks)
def test_shanghai_is_always_eight_hours_ahead(wall):
    assert local_to_utc(wall, "Asia/Shanghai") == wall.replace(tzinfo=UTC) - timedelta(hours=8)


# ---------------------------------------------------------------- UTCDateTime through the database


def _raw_created_at(db, org_id: int) -> str:
    """The stored value, read without the column type: what is really in the database."""
    value = db.session.execute(sa.text("SELECT created_at FROM organizations WHERE id = :id"), {"id": org_id}).scalar()
    return str(value)


def test_utc_datetime_refuses_naive_datetimes(db):
    from accounts.models import Organization

    db.session.add(Organization(name="天真协会", created_at=datetime(2026, 5, 20, 9, 0)))
    with pytest.raises(sa.exc.StatementError) as excinfo:
        db.session.flush()
    assert isinstance(excinfo.value.orig, ValueError)
    assert "naive" in str(excinfo.value.orig)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


def test_utc_datetime_refuses_naive_datetimes_in_queries(db):
    from accounts.models import Organization

    with pytest.raises(sa.exc.StatementError):
        db.session.scalars(sa.select(Organization).where(Organization.created_at < datetime(2026, 1, 1))).all()
    db.session.rollback()


@pytest.mark.parametrize(
    "written",
    [
        datetime(2026, 5, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        datetime(2026, 5, 20, 1, 0, tzinfo=UTC),
        datetime(2026, 5, 19, 21, 0, tzinfo=ZoneInfo("America/New_York")),  # the same instant (summer time)
    ],
)
def test_utc_datetime_stores_utc_and_returns_aware_utc(db, written):
    from accounts.models import Organization

    org = Organization(name="时区协会", created_at=written)
    db.session.add(org)
    db.session.commit()
    org_id = org.id
    db.session.expunge_all()

    assert _raw_created_at(db, org_id).startswith("2026-05-20 01:00:00")
    read = db.session.get(Organization, org_id).created_at
    assert read == written
    assert read.tzinfo is not None and read.utcoffset() == timedelta(0)
    assert (read.hour, read.minute) == (1, 0)
    # Comparisons in SQL use the same conversion.
    found = db.session.scalar(
        sa.select(Organization.id).where(
            Organization.created_at == datetime(2026, 5, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        )
    )
    assert found == org_id


def test_utc_datetime_keeps_microseconds_and_none(db):
    from events.models import Event

    from tests.conftest import Factory

    factory = Factory(db)
    org = factory.organization()
    precise = datetime(2026, 11, 24, 2, 0, 0, 123456, tzinfo=UTC)
    event = factory.event(org, registration_opens_at=precise)
    event_id = event.id
    db.session.expunge_all()
    loaded = db.session.get(Event, event_id)
    assert loaded.registration_opens_at == precise
    assert loaded.registration_opens_at.tzinfo is not None
    assert loaded.registration_closes_at is None
    assert loaded.starts_at.utcoffset() == timedelta(0)
