"""Conversions between the UTC stored in the database and an event's local time."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def is_valid_timezone(name: str) -> bool:
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_to_utc(value: datetime | None, tz_name: str) -> datetime | None:
    """A naive wall-clock time in ``tz_name`` to an aware UTC datetime."""
    if value is None:
        return None
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc)
    return value.replace(tzinfo=ZoneInfo(tz_name)).astimezone(timezone.utc)


def utc_to_local(value: datetime | None, tz_name: str) -> datetime | None:
    """An aware datetime to a naive wall-clock time in ``tz_name`` (for form fields)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(ZoneInfo(tz_name)).replace(tzinfo=None)


COMMON_TIMEZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Macau",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "America/New_York",
    "UTC",
)

__all__ = ["COMMON_TIMEZONES", "available_timezones", "is_valid_timezone", "local_to_utc", "utc_to_local"]
