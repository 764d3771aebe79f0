"""Certificate number formats (证书编号). Pure: no Flask, no database.

An organizer writes a format such as ``〔{year}〕厦信协证字第{seq:04d}号`` or ``SH-{year}-{seq:04d}``; each certificate
gets the next sequence number of its *series* and is printed with it:

    >>> parse_format("〔{year}〕厦信协证字第{seq:04d}号").render(seq=1, year=2026, event_id=7)
    '〔2026〕厦信协证字第0001号'
    >>> parse_format("SH-{year}-{seq:04d}").render(seq=12, year=2026, event_id=7)
    'SH-2026-0012'

Placeholders: ``{seq}`` (required, exactly once; ``{seq:04d}`` pads with zeros to 4 digits, ``{seq:d}`` or ``{seq}``
does not pad), ``{year}`` (the year of issue), ``{event_id}`` (the event's number, optionally padded).

A series is the pair (scope, format) inside one organization: the scope is ``event:<id>`` (a sequence per event) or
``year:<yyyy>`` (a sequence per calendar year, across the organization's events). Two designs that use the same
format in the same scope share one counter, so they never print the same number; the database counter row
(certificates.models.NumberCounter) hands the numbers out.
"""
from __future__ import annotations

import string
from dataclasses import dataclass

SCOPES = ("event", "year")
PLACEHOLDERS = ("seq", "year", "event_id")
MAX_FORMAT_LENGTH = 60
MAX_WIDTH = 8  # {seq:08d} at most
MAX_NUMBER_LENGTH = 80


class NumberFormatError(ValueError):
    """A format that cannot number certificates. ``code`` says why (for a translated message), ``detail`` what."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class NumberFormat:
    text: str
    # (literal, field name or None, zero-padded width or 0)
    parts: tuple[tuple[str, str | None, int], ...]

    @property
    def fields(self) -> set[str]:
        return {name for _lit, name, _w in self.parts if name}

    def render(self, *, seq: int, year: int, event_id: int) -> str:
        if seq < 1:
            raise ValueError("sequence numbers start at 1")
        values = {"seq": seq, "year": year, "event_id": event_id}
        out = []
        for literal, name, width in self.parts:
            out.append(literal)
            if name is not None:
                value = values[name]
                out.append(str(value).zfill(width) if width else str(value))
        return "".join(out)


def _width(name: str, spec: str, conversion: str | None) -> int:
    if conversion:
        raise NumberFormatError("bad_spec", f"{{{name}!{conversion}}}")
    if spec in ("", "d"):
        return 0
    if name == "year":
        raise NumberFormatError("bad_spec", f"{{{name}:{spec}}}")
    body = spec[:-1] if spec.endswith("d") else spec
    if not body.isdigit() or not body.startswith("0") or len(body) < 2:
        raise NumberFormatError("bad_spec", f"{{{name}:{spec}}}")
    width = int(body)
    if not 1 <= width <= MAX_WIDTH:
        raise NumberFormatError("bad_spec", f"{{{name}:{spec}}}")
    return width


def parse_format(text: str) -> NumberFormat:
    """Check ``text`` and return the parsed format, or raise NumberFormatError.

    Codes: ``empty``, ``too_long``, ``control`` (a control character), ``syntax`` (an unmatched brace),
    ``unknown_field`` (detail: the name), ``bad_spec`` (a format spec other than d / 0Nd), ``no_seq``,
    ``seq_twice``.
    """
    text = (text or "").strip()
    if not text:
        raise NumberFormatError("empty")
    if len(text) > MAX_FORMAT_LENGTH:
        raise NumberFormatError("too_long", str(MAX_FORMAT_LENGTH))
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise NumberFormatError("control")
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise NumberFormatError("syntax", str(error)) from None
    parts: list[tuple[str, str | None, int]] = []
    seq_count = 0
    for literal, name, spec, conversion in parsed:
        if name is None:
            parts.append((literal, None, 0))
            continue
        if name not in PLACEHOLDERS:
            raise NumberFormatError("unknown_field", name or "{}")
        if name == "seq":
            seq_count += 1
        parts.append((literal, name, _width(name, spec or "", conversion)))
    if seq_count == 0:
        raise NumberFormatError("no_seq")
    if seq_count > 1:
        raise NumberFormatError("seq_twice")
    return NumberFormat(text=text, parts=tuple(parts))


def scope_key(scope: str, *, year: int, event_id: int) -> str:
    """The counter's scope: ``event:<id>`` or ``year:<yyyy>``."""
    if scope == "event":
        return f"event:{event_id}"
    if scope == "year":
        return f"year:{year}"
    raise ValueError(f"unknown numbering scope {scope!r}")


def check_series(fmt: NumberFormat, scope: str) -> None:
    """A sequence per year restarts every January: without ``{year}`` in the format, next year's first certificate
    would repeat this year's first number. Raises NumberFormatError("year_missing")."""
    if scope not in SCOPES:
        raise ValueError(f"unknown numbering scope {scope!r}")
    if scope == "year" and "year" not in fmt.fields:
        raise NumberFormatError("year_missing")


def safe_file_name(number: str, name: str, suffix: str = ".pdf") -> str:
    """``<number>_<name>.pdf`` without characters that file systems or ZIP tools refuse.

    >>> safe_file_name("〔2026〕厦信协证字第0001号", "王喆")
    '〔2026〕厦信协证字第0001号_王喆.pdf'
    >>> safe_file_name("SH/2026/0001", "Li: Lei")
    'SH-2026-0001_Li- Lei.pdf'
    """
    def clean(text: str) -> str:
        out = "".join("-" if c in '\\/:*?"<>|' or ord(c) < 32 or ord(c) == 127 else c for c in text)
        return out.strip().strip(".") or "-"

    return f"{clean(number)[:80]}_{clean(name)[:40]}{suffix}"
