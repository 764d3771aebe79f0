"""certificates.numbering and certificates.dates: worked examples."""
from __future__ import annotations

from datetime import date

import pytest

from certificates import dates, numbering
from certificates.numbering import NumberFormatError, parse_format


@pytest.mark.parametrize(("fmt", "seq", "expected"), [
    ("〔{year}〕厦信协证字第{seq:04d}号", 1, "〔2026〕厦信协证字第0001号"),
    ("〔{year}〕厦信协证字第{seq:04d}号", 12345, "〔2026〕厦信协证字第12345号"),  # wider than 4: never cut
    ("SH-{year}-{seq:04d}", 7, "SH-2026-0007"),
    ("HX{event_id:03d}-{seq}", 42, "HX009-42"),
    ("{seq:d}", 3, "3"),
])
def test_formats_render(fmt, seq, expected):
    assert parse_format(fmt).render(seq=seq, year=2026, event_id=9) == expected


@pytest.mark.parametrize(("fmt", "code"), [
    ("", "empty"),
    ("   ", "empty"),
    ("SH-{year}", "no_seq"),
    ("{seq}-{seq}", "seq_twice"),
    ("SH-{name}-{seq}", "unknown_field"),
    ("SH-{}-{seq}", "unknown_field"),
    ("SH-{seq:4d}", "bad_spec"),  # spaces, not zeros
    ("SH-{seq:x}", "bad_spec"),
    ("SH-{seq:09d}", "bad_spec"),
    ("SH-{year:04d}-{seq}", "bad_spec"),
    ("SH-{seq!r}", "bad_spec"),
    ("SH-{seq", "syntax"),
    ("SH-}{seq}", "syntax"),
    ("S\x07H{seq}", "control"),
    ("X" * 61 + "{seq}", "too_long"),
])
def test_bad_formats_say_why(fmt, code):
    with pytest.raises(NumberFormatError) as caught:
        parse_format(fmt)
    assert caught.value.code == code


def test_sequence_per_year_needs_the_year():
    numbering.check_series(parse_format("SH-{year}-{seq:04d}"), "year")
    numbering.check_series(parse_format("SH-{seq:04d}"), "event")
    with pytest.raises(NumberFormatError) as caught:
        numbering.check_series(parse_format("SH-{seq:04d}"), "year")
    assert caught.value.code == "year_missing"


def test_scope_keys():
    assert numbering.scope_key("event", year=2026, event_id=5) == "event:5"
    assert numbering.scope_key("year", year=2026, event_id=5) == "year:2026"
    with pytest.raises(ValueError):
        numbering.scope_key("month", year=2026, event_id=5)


def test_sequence_numbers_start_at_one():
    with pytest.raises(ValueError):
        parse_format("{seq}").render(seq=0, year=2026, event_id=1)


@pytest.mark.parametrize(("number", "name", "expected"), [
    ("〔2026〕厦信协证字第0001号", "王喆", "〔2026〕厦信协证字第0001号_王喆.pdf"),
    ("SH/2026/0001", "Li: Lei", "SH-2026-0001_Li- Lei.pdf"),
    ("..", "?", "-_-.pdf"),
])
def test_file_names(number, name, expected):
    assert numbering.safe_file_name(number, name) == expected


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(("day", "chinese", "plain"), [
    (date(2026, 11, 24), "二〇二六年十一月二十四日", "2026年11月24日"),
    (date(2024, 10, 1), "二〇二四年十月一日", "2024年10月1日"),
    (date(2000, 1, 10), "二〇〇〇年一月十日", "2000年1月10日"),
    (date(2019, 12, 31), "二〇一九年十二月三十一日", "2019年12月31日"),
    (date(2025, 2, 20), "二〇二五年二月二十日", "2025年2月20日"),
    (date(2031, 3, 19), "二〇三一年三月十九日", "2031年3月19日"),
])
def test_dates(day, chinese, plain):
    assert dates.chinese_date(day) == chinese
    assert dates.plain_date(day) == plain
    assert dates.format_date(day, "chinese") == chinese


@pytest.mark.parametrize(("start", "end", "style", "expected"), [
    (date(2026, 11, 21), date(2026, 11, 21), "chinese", "二〇二六年十一月二十一日"),
    (date(2026, 11, 21), date(2026, 11, 23), "chinese", "二〇二六年十一月二十一日至二十三日"),
    (date(2026, 11, 30), date(2026, 12, 2), "plain", "2026年11月30日至12月2日"),
    (date(2026, 12, 30), date(2027, 1, 2), "plain", "2026年12月30日至2027年1月2日"),
    (date(2026, 11, 23), date(2026, 11, 21), "plain", "2026年11月21日至23日"),  # given backwards
])
def test_date_ranges(start, end, style, expected):
    assert dates.date_range(start, end, style) == expected


def test_chinese_numbers_and_unknown_styles():
    assert [dates.chinese_number(n) for n in (1, 10, 11, 20, 21, 30, 31)] == \
        ["一", "十", "十一", "二十", "二十一", "三十", "三十一"]
    with pytest.raises(ValueError):
        dates.chinese_number(0)
    with pytest.raises(ValueError):
        dates.format_date(date(2026, 1, 1), "roman")


def test_the_worked_examples_in_the_docstrings():
    import doctest

    from certificates import glyphs, layout, sources

    for module in (numbering, dates, layout, glyphs, sources):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__
