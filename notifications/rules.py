"""Rules of messages as plain functions (no Flask, no database): placeholders, retry backoff, reminder times.

Placeholders
------------
A template is text with placeholders in braces, ``{name}``; a brace itself is written twice, ``{{`` or ``}}``.
``substitute`` replaces each placeholder once, from left to right, so a value that contains braces (a name typed
as "{event}") is never read as a placeholder in turn. ``template_problems`` lists what is wrong in a template
before it is saved::

    >>> substitute("{name}，您好！{{报名}}", {"name": "张三"})
    '张三，您好！{报名}'
    >>> template_problems("Dear {nmae}", {"name", "event"})
    [Problem(code='unknown', text='{nmae}')]
    >>> template_problems("Dear {name", {"name"})
    [Problem(code='unclosed', text='{name')]
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

# {{ and }} are literal braces; {word} is a placeholder (spaces inside are forgiven); a lone brace is an error.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}|[{}]")


@dataclass(frozen=True)
class Problem:
    code: str  # unknown | unclosed | stray_close
    text: str  # the offending piece of the template, for the message


def template_problems(text: str, known: set[str] | frozenset[str]) -> list[Problem]:
    """Unknown placeholders and unbalanced braces in ``text``, in the order they appear."""
    problems: list[Problem] = []
    for match in _TOKEN.finditer(text or ""):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if match.group(1) is not None:
            if match.group(1).strip() not in known:
                problems.append(Problem("unknown", token))
        elif token == "{":
            problems.append(Problem("unclosed", text[match.start():match.start() + 20].split("\n")[0]))
        else:
            problems.append(Problem("stray_close", text[max(0, match.start() - 19):match.end()].split("\n")[-1]))
    return problems


def substitute(text: str, values: dict[str, str]) -> str:
    """``text`` with each known placeholder replaced by its value. Unknown placeholders and lone braces are left as
    they are (a saved template never has them; a default text whose translation mangled one still renders)."""

    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = match.group(1)
        if name is not None and name.strip() in values:
            return str(values[name.strip()])
        return token

    return _TOKEN.sub(replace, text or "")


def single_line(text: str, limit: int) -> str:
    """A subject line: line breaks (which would forge mail headers) become spaces; at most ``limit`` characters."""
    return " ".join((text or "").split())[:limit]


# ---------------------------------------------------------------- retries

# Minutes to wait after the 1st, 2nd, 3rd … failed attempt; the last value repeats.
BACKOFF_MINUTES = (1, 5, 15, 60, 120, 240)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failed attempts (1 → 1 minute, 2 → 5, 3 → 15, 4 → 60 …, capped)."""
    index = min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1
    return timedelta(minutes=BACKOFF_MINUTES[index])


# ---------------------------------------------------------------- reminders

MAX_REMINDER_HOURS = 24 * 30


def reminder_time(starts_at: datetime, hours_before: int) -> datetime:
    return starts_at - timedelta(hours=hours_before)


def reminder_due(now: datetime, starts_at: datetime, hours_before: int) -> bool:
    """The reminder time has come and the event has not started yet."""
    return reminder_time(starts_at, hours_before) <= now < starts_at


def reminder_problem(now: datetime, starts_at: datetime, hours_before: int) -> str | None:
    """Why a reminder ``hours_before`` the start cannot be switched on at ``now`` (a code), or None.

    >>> from datetime import timezone
    >>> start = datetime(2026, 12, 12, 1, 0, tzinfo=timezone.utc)
    >>> reminder_problem(datetime(2026, 12, 11, 0, 0, tzinfo=timezone.utc), start, 24)
    >>> reminder_problem(datetime(2026, 12, 11, 2, 0, tzinfo=timezone.utc), start, 24)
    'in_past'
    >>> reminder_problem(datetime(2026, 12, 12, 1, 0, tzinfo=timezone.utc), start, 1)
    'started'
    """
    if not 1 <= hours_before <= MAX_REMINDER_HOURS:
        return "hours_range"
    if starts_at <= now:
        return "started"
    if reminder_time(starts_at, hours_before) <= now:
        return "in_past"
    return None


def latest_possible_hours(now: datetime, starts_at: datetime) -> int:
    """The most hours before the start that still lie in the future (0 when less than an hour is left)."""
    return max(int((starts_at - now).total_seconds() // 3600), 0)
