"""Dates as certificates print them. Pure: no Flask.

Chinese style (大写日期, as on official documents), with 〇 for zero and the year read digit by digit:

    >>> from datetime import date
    >>> chinese_date(date(2026, 11, 24))
    '二〇二六年十一月二十四日'
    >>> chinese_date(date(2024, 10, 1))
    '二〇二四年十月一日'
    >>> plain_date(date(2026, 11, 24))
    '2026年11月24日'
    >>> date_range(date(2026, 11, 21), date(2026, 11, 23), "chinese")
    '二〇二六年十一月二十一日至二十三日'
"""
from __future__ import annotations

from datetime import date

DIGITS = "〇一二三四五六七八九"
STYLES = ("chinese", "plain")


def chinese_number(n: int) -> str:
    """1–99 as written in dates: 十, 十一, 二十, 二十四, 三十一."""
    if not 1 <= n <= 99:
        raise ValueError("chinese_number takes 1 to 99")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return DIGITS[ones]
    head = "" if tens == 1 else DIGITS[tens]
    return head + "十" + (DIGITS[ones] if ones else "")


def chinese_year(year: int) -> str:
    return "".join(DIGITS[int(d)] for d in str(year))


def chinese_date(day: date) -> str:
    return f"{chinese_year(day.year)}年{chinese_number(day.month)}月{chinese_number(day.day)}日"


def plain_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def format_date(day: date, style: str) -> str:
    if style == "chinese":
        return chinese_date(day)
    if style == "plain":
        return plain_date(day)
    raise ValueError(f"unknown date style {style!r}")


def date_range(start: date, end: date, style: str) -> str:
    """A span of days, leaving out what repeats: 2026年11月21日至23日, 2026年11月30日至12月2日."""
    if end < start:
        start, end = end, start
    if start == end:
        return format_date(start, style)
    if style == "chinese":
        month, day = chinese_number, chinese_number
    elif style == "plain":
        month, day = str, str
    else:
        raise ValueError(f"unknown date style {style!r}")
    first = format_date(start, style)
    if start.year != end.year:
        second = format_date(end, style)
    elif start.month != end.month:
        second = f"{month(end.month)}月{day(end.day)}日"
    else:
        second = f"{day(end.day)}日"
    return f"{first}至{second}"
