"""Check-in figures as pure functions: arrivals per time bucket, rates. No database, no Flask."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Bucket:
    starts_at: datetime
    count: int


def bucket_arrivals(times: list[datetime], *, minutes: int = 5) -> list[Bucket]:
    """Arrivals per ``minutes`` bucket, from the first arrival's bucket to the last's, empty buckets included.

    >>> from datetime import datetime
    >>> t = lambda h, m: datetime(2026, 11, 21, h, m)
    >>> [(b.starts_at.strftime("%H:%M"), b.count) for b in bucket_arrivals([t(8, 1), t(8, 4), t(8, 12)])]
    [('08:00', 2), ('08:05', 0), ('08:10', 1)]
    """
    if not times:
        return []
    size = timedelta(minutes=minutes)

    def floor(value: datetime) -> datetime:
        return value - timedelta(minutes=value.minute % minutes, seconds=value.second, microseconds=value.microsecond)

    counts = Counter(floor(t) for t in times)
    first, last = min(counts), max(counts)
    buckets, at = [], first
    while at <= last:
        buckets.append(Bucket(at, counts.get(at, 0)))
        at += size
    return buckets


def percent(part: int, whole: int) -> int | None:
    """Whole percent, rounded down; None when there is nothing to divide by."""
    if whole <= 0:
        return None
    return min(part * 100 // whole, 100)
