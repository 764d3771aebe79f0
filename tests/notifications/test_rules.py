"""Placeholders, retry backoff and reminder times: plain functions with worked examples."""
from __future__ import annotations

import doctest
from datetime import datetime, timedelta, timezone

import pytest

from notifications import rules
from notifications.rules import Problem, retry_delay, substitute, template_problems

KNOWN = {"name", "event", "starts_at"}


def test_doctests():
    assert doctest.testmod(rules).failed == 0


@pytest.mark.parametrize("text, values, expected", [
    ("{name}，您好！", {"name": "张三"}, "张三，您好！"),
    ("{ name }", {"name": "张三"}, "张三"),  # spaces inside the braces are forgiven
    ("{{name}} {name}", {"name": "张三"}, "{name} 张三"),  # doubled braces are braces
    ("{name}", {"name": "{event}"}, "{event}"),  # a value is never read again as a placeholder
    ("{name} {other}", {"name": "张三"}, "张三 {other}"),  # unknown ones are left alone when rendering
    ("a { b", {}, "a { b"),
    ("", {"name": "x"}, ""),
])
def test_substitute(text, values, expected):
    assert substitute(text, values) == expected


@pytest.mark.parametrize("text, problems", [
    ("Dear {name}, {event} starts at {starts_at}.", []),
    ("{{literal}} braces", []),
    ("Dear {nmae}", [Problem("unknown", "{nmae}")]),
    ("{}", [Problem("unknown", "{}")]),
    ("Dear {name", [Problem("unclosed", "{name")]),
    ("Dear name}", [Problem("stray_close", "Dear name}")]),
    ("{name\n}", [Problem("unclosed", "{name"), Problem("stray_close", "}")]),
    ("{0}{__class__}", [Problem("unknown", "{0}"), Problem("unknown", "{__class__}")]),
    ("{name.__class__}", [Problem("unknown", "{name.__class__}")]),
])
def test_template_problems(text, problems):
    assert template_problems(text, KNOWN) == problems


def test_single_line_cannot_forge_headers():
    assert rules.single_line("报名成功\r\nBcc: evil@example.org", 200) == "报名成功 Bcc: evil@example.org"
    assert len(rules.single_line("长" * 300, 200)) == 200


def test_retry_delay_grows_and_is_capped():
    assert [retry_delay(n) for n in range(1, 9)] == [timedelta(minutes=m) for m in (1, 5, 15, 60, 120, 240, 240, 240)]
    assert retry_delay(0) == timedelta(minutes=1)


def test_reminder_window():
    start = datetime(2026, 12, 12, 1, 0, tzinfo=timezone.utc)  # 09:00 in Beijing
    assert not rules.reminder_due(start - timedelta(hours=25), start, 24)
    assert rules.reminder_due(start - timedelta(hours=24), start, 24)
    assert rules.reminder_due(start - timedelta(minutes=1), start, 24)
    assert not rules.reminder_due(start, start, 24)  # started: too late
    assert rules.reminder_problem(start - timedelta(hours=30), start, 0) == "hours_range"
    assert rules.reminder_problem(start - timedelta(hours=30), start, 24 * 31) == "hours_range"
    assert rules.latest_possible_hours(start - timedelta(hours=5, minutes=59), start) == 5
    assert rules.latest_possible_hours(start + timedelta(hours=1), start) == 0
