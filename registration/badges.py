"""Name badges (胸卡): several per A4 sheet, cut apart along thin grey lines, for the sign-ups of an event.

Pure module (no Flask, no database): the view reads the organizer's choices (``read_options``), turns each approved
sign-up into badges (``badges_for``: one per person, so a team gives one badge to each member and coach), and
``render_badges_pdf`` draws them. Between those, everything that decides where ink goes is plain arithmetic with
worked examples in tests/registration/test_badges.py:

- ``cells``: the page geometry. A printer cannot print to the paper's edge, so the grid keeps an 8 mm margin and
  the badges are a little smaller than A6 / A7: 4 per sheet are 97 × 140.5 mm (portrait, fit A6 sleeves), 8 per
  sheet are 97 × 70.25 mm (landscape, fit A7 sleeves).
- ``wrap`` and ``fit_text``: the largest font size at which a text fits its box, wrapping where needed (CJK breaks
  between characters, Latin words stay whole, no line starts with a closing punctuation mark); at the smallest size
  a text that still does not fit is cut with an ellipsis. Nothing is ever drawn outside its badge.
- ``plan_badge``: where each text, band and the QR code of one badge go (``BadgePlan``), tested against the badge's
  bounds with long names, long units and many fields.

The QR code carries the sign-up's ticket token (registration.tokens), so a badge scans at the door like the ticket.
The font is the one PDF tickets embed (registration.ticket_pdf, config ``TICKET_PDF_FONT``); ``missing_characters``
finds characters it lacks (e.g. CJK Extension B in names such as 王𣲙), which the organizer is told about beforehand.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MM = 72 / 25.4  # points per millimetre
A4 = (210 * MM, 297 * MM)

# Vertical metrics of a line of text, as a share of the font size: CJK glyphs sit in an em box from 0.12 below the
# baseline to 0.88 above it; Latin descenders (g, y) reach a little lower. Used for the bounds of every text.
ASCENT = 0.88
DESCENT = 0.2
LEADING = 1.25

MAX_TITLE = 120  # characters of the title line
MAX_IDS = 2000  # sign-ups one request may name


# ---------------------------------------------------------------- page geometry


@dataclass(frozen=True)
class Box:
    """A rectangle in PDF points, origin at the bottom left of the page (as reportlab draws)."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def top(self) -> float:
        return self.y + self.height

    def contains(self, other: Box, tolerance: float = 0.01) -> bool:
        return (other.x >= self.x - tolerance and other.y >= self.y - tolerance
                and other.right <= self.right + tolerance and other.top <= self.top + tolerance)


@dataclass(frozen=True)
class Style:
    """Sizes (points) of one badge format."""

    padding: float  # left and right of the texts, and above/below the middle part
    band: float  # the title band at the top
    title_max: float
    title_min: float
    role_band: float  # the role band at the bottom (领队 / 队员 / 指导教师)
    role_max: float
    name_max: float  # the name: big, readable at 2 m
    name_min: float
    name_block: float  # the most height the name may take
    unit_max: float  # the unit line: second in importance
    detail_max: float  # the other lines
    detail_min: float
    qr: float  # the QR code's side, quiet zone included
    qr_beside: bool  # beside the texts (landscape) or below them (portrait)
    gap: float


@dataclass(frozen=True)
class Layout:
    key: str
    columns: int
    rows: int
    style: Style
    margin: float = 8 * MM
    page: tuple[float, float] = A4

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def cell_width(self) -> float:
        return (self.page[0] - 2 * self.margin) / self.columns

    @property
    def cell_height(self) -> float:
        return (self.page[1] - 2 * self.margin) / self.rows


PORTRAIT = Style(padding=6 * MM, band=20 * MM, title_max=16, title_min=9, role_band=13 * MM, role_max=24,
                 name_max=60, name_min=22, name_block=36 * MM, unit_max=17, detail_max=13, detail_min=8,
                 qr=36 * MM, qr_beside=False, gap=3.5 * MM)
LANDSCAPE = Style(padding=4.5 * MM, band=11 * MM, title_max=12.5, title_min=6.5, role_band=8.5 * MM, role_max=14,
                  name_max=40, name_min=16, name_block=20 * MM, unit_max=12, detail_max=9.5, detail_min=6.5,
                  qr=27 * MM, qr_beside=True, gap=2.5 * MM)

LAYOUTS: dict[str, Layout] = {
    "4": Layout("4", columns=2, rows=2, style=PORTRAIT),  # A6-size badges, portrait
    "8": Layout("8", columns=2, rows=4, style=LANDSCAPE),  # A7-size badges, landscape
}
DEFAULT_LAYOUT = "4"


def cells(layout: Layout) -> list[Box]:
    """The badges' boxes on one sheet, in reading order: left to right, top to bottom."""
    width, height = layout.cell_width, layout.cell_height
    top = layout.page[1] - layout.margin
    return [Box(layout.margin + column * width, top - (row + 1) * height, width, height)
            for row in range(layout.rows) for column in range(layout.columns)]


def cut_lines(layout: Layout) -> list[tuple[float, float, float, float]]:
    """Thin lines to cut along: the grid's outer frame and the lines between badges, as (x1, y1, x2, y2)."""
    left, bottom = layout.margin, layout.margin
    right, top = layout.page[0] - layout.margin, layout.page[1] - layout.margin
    lines = [(left + c * layout.cell_width, bottom, left + c * layout.cell_width, top) for c in range(layout.columns + 1)]
    lines += [(left, bottom + r * layout.cell_height, right, bottom + r * layout.cell_height)
              for r in range(layout.rows + 1)]
    return lines


def pages_needed(count: int, layout: Layout) -> int:
    return -(-count // layout.per_page)


# ---------------------------------------------------------------- fitting text

Measure = Callable[[str, float, bool], float]  # (text, size, bold) -> width in points

# No line may start with these; the character before them moves down with them.
_NO_LINE_START = set("，。、；：！？）》」』】〕〉”’·,.;:!?)]}%")
_TOKEN = re.compile(r"[A-Za-z0-9\u00c0-\u024f'’.\-@_/]+|\s+|.", re.DOTALL)


def wrap(text: str, width: float, size: float, measure: Measure, bold: bool = False) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` at ``size``: CJK between any two characters, Latin words
    whole (a word wider than the line is broken between letters). Never returns a line wider than ``width``
    unless a single character is."""
    text = " ".join(text.split())
    if not text:
        return []
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if not token.isspace() and len(token) > 1 and measure(token, size, bold) > width:
            tokens.extend(token)  # a word longer than the line: break it between letters
        else:
            tokens.append(token)
    lines: list[str] = []
    line = ""
    for token in tokens:
        if not line and token.isspace():
            continue
        if measure(line + token, size, bold) <= width or not line:
            line += token
            continue
        if token.isspace():
            lines.append(line.rstrip())
            line = ""
            continue
        carry = ""
        if token[0] in _NO_LINE_START and len(line.rstrip()) > 1 and not line[-1].isspace():
            carry, line = line[-1], line[:-1]  # keep the mark with the character before it
        lines.append(line.rstrip())
        line = carry + token
        if measure(line, size, bold) > width and carry:  # the carried pair does not fit either: split it again
            lines.append(carry)
            line = token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def balanced_wrap(text: str, width: float, size: float, measure: Measure, bold: bool = False) -> list[str]:
    """Like ``wrap``, but with the lines as even as the same number of lines allows: 2026年云计算、/小程序行业技能大赛
    rather than a long line and a short “大赛”. (The narrowest width that still gives that many lines, by bisection.)"""
    lines = wrap(text, width, size, measure, bold)
    if len(lines) < 2:
        return lines
    low, high = 0.0, width
    for _ in range(14):  # to within 1/16000 of the width
        middle = (low + high) / 2
        if len(wrap(text, middle, size, measure, bold)) <= len(lines):
            high = middle
        else:
            low = middle
    return wrap(text, high, size, measure, bold)


def ellipsize(text: str, width: float, size: float, measure: Measure, bold: bool = False, *,
              cut: bool = False) -> str:
    """``text`` on one line of ``width``: unchanged if it fits (and ``cut`` is false), otherwise shortened so that
    it ends with “…”. ``cut``: the text continues elsewhere, so the “…” is added in any case."""
    if not cut and measure(text, size, bold) <= width:
        return text
    text = text.rstrip("…")
    while text and measure(text + "…", size, bold) > width:
        text = text[:-1]
    return text.rstrip() + "…"


@dataclass(frozen=True)
class Fitted:
    """A text fitted to a box: its size and lines. ``truncated``: even the smallest size needed an ellipsis."""

    size: float
    lines: tuple[str, ...]
    truncated: bool = False

    @property
    def height(self) -> float:
        return block_height(len(self.lines), self.size)


def block_height(lines: int, size: float) -> float:
    """Height of ``lines`` lines at ``size``: from the first line's ascent to the last line's descent."""
    if lines == 0:
        return 0.0
    return (lines - 1) * size * LEADING + (ASCENT + DESCENT) * size


def _sizes(largest: float, smallest: float, step: float = 0.5) -> Iterable[float]:
    size = largest
    while size > smallest + 1e-9:
        yield size
        size -= step
    yield smallest


def fit_text(text: str, *, width: float, height: float, largest: float, smallest: float, max_lines: int,
             measure: Measure, bold: bool = False) -> Fitted:
    """The largest size in [smallest, largest] (half-point steps) at which ``text`` wraps into at most ``max_lines``
    lines that fit ``width`` × ``height``. If none does, the text at ``smallest``, as many lines as fit (at least
    one), the last one cut with “…”."""
    for size in _sizes(largest, smallest):
        lines = wrap(text, width, size, measure, bold)
        if len(lines) <= max_lines and block_height(len(lines), size) <= height + 1e-6:
            return Fitted(size, tuple(balanced_wrap(text, width, size, measure, bold)))
    size = smallest
    lines = wrap(text, width, size, measure, bold)
    room = max_lines
    while room > 1 and block_height(room, size) > height + 1e-6:
        room -= 1
    kept = lines[:room]
    if kept:
        kept[-1] = ellipsize(kept[-1], width, size, measure, bold, cut=len(lines) > room)
    return Fitted(size, tuple(kept), truncated=True)


def fit_prefer_one_line(text: str, *, width: float, height: float, largest: float, smallest: float,
                        keep: float, max_lines: int, measure: Measure, bold: bool = False) -> Fitted:
    """One line as long as that keeps the text big (at least ``keep`` × ``largest``); otherwise up to
    ``max_lines`` lines, down to ``smallest``."""
    one = fit_text(text, width=width, height=height, largest=largest, smallest=max(largest * keep, smallest),
                   max_lines=1, measure=measure, bold=bold)
    if not one.truncated or max_lines == 1:
        return one
    return fit_text(text, width=width, height=height, largest=largest, smallest=smallest, max_lines=max_lines,
                    measure=measure, bold=bold)


def fit_name(name: str, *, width: float, height: float, style: Style, measure: Measure) -> Fitted:
    """A name on one line as long as that keeps it big (at least 55 % of the largest size); otherwise on two
    lines (compound and transliterated names such as 阿依古丽·买买提), down to the smallest size."""
    return fit_prefer_one_line(name, width=width, height=height, largest=style.name_max, smallest=style.name_min,
                               keep=0.55, max_lines=2, measure=measure, bold=True)


# ---------------------------------------------------------------- what is printed


FIXED_FIELDS = ("unit", "role", "team", "group", "job_title", "sessions", "number")
CUSTOM_PREFIX = "f_"
ROLES = ("leader", "member", "coach")


@dataclass(frozen=True)
class BadgeLine:
    text: str
    emphasis: bool = False  # the unit: a little bigger than the other lines


@dataclass(frozen=True)
class Badge:
    name: str
    registration_id: int
    lines: tuple[BadgeLine, ...] = ()
    role: str | None = None  # the role's label, printed in the bottom band
    role_key: str | None = None  # leader / member / coach: the band's colour
    token: str | None = None  # what the QR code carries; None: no QR code

    def texts(self) -> list[str]:
        """Every text printed on the badge but the title (for the font's coverage check)."""
        return [self.name, *(line.text for line in self.lines), *([self.role] if self.role else [])]


@dataclass(frozen=True)
class BadgeOptions:
    fields: tuple[str, ...]  # in the order printed
    layout: Layout
    title: str
    qr: bool
    ids: tuple[int, ...] | None = None  # None: every approved sign-up
    group: str | None = None
    session: int | None = None


@dataclass(frozen=True)
class OptionError:
    """A parameter that cannot be used: ``code`` is unknown_field, unknown_layout, bad_ids, too_many_ids,
    unknown_group, unknown_session, title_too_long or bad_qr; ``value`` is what was sent."""

    param: str
    code: str
    value: str = ""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def read_options(args, *, offered: Sequence[str], default_fields: Sequence[str], default_title: str,
                 groups: Container[str], session_ids: Container[int]) -> tuple[BadgeOptions, list[OptionError]]:
    """The organizer's choices from a query string (``args.getlist``/``args.get``, e.g. werkzeug's MultiDict).

    ``fields`` names the fields to print (``name`` is always printed and may be sent); none sent at all: the
    defaults. ``layout`` is ``4`` or ``8``; ``title`` absent: the event's title, empty: no title line; ``qr`` ``1``
    (default) or ``0``; ``ids`` comma-separated or repeated sign-up ids (absent: all approved); ``group`` and
    ``session`` narrow the selection. Unknown values are reported, never guessed."""
    errors: list[OptionError] = []
    sent = [value.strip() for value in args.getlist("fields") if value.strip()]
    if sent:
        chosen = set()
        for value in sent:
            if value in offered:
                chosen.add(value)
            elif value != "name":
                errors.append(OptionError("fields", "unknown_field", value[:60]))
        fields = tuple(key for key in offered if key in chosen)
    else:
        fields = tuple(key for key in offered if key in default_fields)

    layout_key = (args.get("layout") or DEFAULT_LAYOUT).strip()
    if layout_key not in LAYOUTS:
        errors.append(OptionError("layout", "unknown_layout", layout_key[:20]))
        layout_key = DEFAULT_LAYOUT

    raw_title = args.get("title")
    title = default_title if raw_title is None else " ".join(_CONTROL.sub(" ", raw_title).split())
    if len(title) > MAX_TITLE:
        errors.append(OptionError("title", "title_too_long", str(MAX_TITLE)))
        title = title[:MAX_TITLE]

    qr_values = [value.strip() for value in args.getlist("qr")]
    if any(value not in ("0", "1") for value in qr_values):
        errors.append(OptionError("qr", "bad_qr", ",".join(qr_values)[:20]))
    qr = not qr_values or qr_values[-1] != "0"

    ids: tuple[int, ...] | None = None
    id_values = [part.strip() for value in args.getlist("ids") for part in value.split(",") if part.strip()]
    if id_values:  # ``ids=`` with nothing in it: as if absent
        bad = [value for value in id_values if not (value.isdigit() and 0 < int(value) < 2**31)]
        if bad:
            errors.append(OptionError("ids", "bad_ids", ", ".join(bad[:5])[:60]))
        unique = list(dict.fromkeys(int(value) for value in id_values if value not in bad))
        if len(unique) > MAX_IDS:
            errors.append(OptionError("ids", "too_many_ids", str(MAX_IDS)))
        ids = tuple(unique[:MAX_IDS])

    group = (args.get("group") or "").strip() or None
    if group is not None and group not in groups:
        errors.append(OptionError("group", "unknown_group", group[:60]))
        group = None
    raw_session = (args.get("session") or "").strip()
    session = None
    if raw_session:
        if raw_session.isdigit() and int(raw_session) in session_ids:
            session = int(raw_session)
        else:
            errors.append(OptionError("session", "unknown_session", raw_session[:20]))
    return BadgeOptions(fields=fields, layout=LAYOUTS[layout_key], title=title, qr=qr, ids=ids, group=group,
                        session=session), errors


def _answer_text(value) -> str:
    if value is None or value is False:
        return ""
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value if str(v).strip())
    return str(value).strip()


def badge_lines(registration, fields: Sequence[str], *, labels: Mapping[str, str],
                session_titles: Mapping[int, str]) -> tuple[BadgeLine, ...]:
    """The lines under the name, in the order of ``fields``: the unit and the sessions' titles alone (they speak
    for themselves), the others as “label：value”. A field without a value prints no line. ``labels`` maps field keys (and ``f_<key>`` of custom
    questions) to their labels; ``session_titles`` maps the event's session ids to titles, in the event's order."""
    team = _kind(registration) == "team"
    lines: list[BadgeLine] = []

    def labelled(key: str, value: str) -> None:
        if value:
            lines.append(BadgeLine(f"{labels.get(key, key)}：{value}"))

    for key in fields:
        if key == "unit":
            if (registration.unit or "").strip():
                lines.append(BadgeLine(registration.unit.strip(), emphasis=True))
        elif key == "team":
            labelled(key, (registration.name or "").strip() if team else "")
        elif key == "group":
            labelled(key, (registration.group_name or "").strip())
        elif key == "job_title":
            labelled(key, (registration.job_title or "").strip())
        elif key == "sessions":  # one line each, without a label: a session's title speaks for itself
            chosen = {s.session_id for s in registration.sessions}
            lines += [BadgeLine(title) for sid, title in session_titles.items() if sid in chosen and title.strip()]
        elif key == "number":
            labelled(key, str(registration.id))
        elif key.startswith(CUSTOM_PREFIX):
            labelled(key, _answer_text((registration.answers or {}).get(key[len(CUSTOM_PREFIX):])))
    return tuple(lines)


def _kind(registration) -> str:
    return getattr(registration.kind, "value", registration.kind)


def badges_for(registration, options: BadgeOptions, *, token: str | None, labels: Mapping[str, str],
               role_labels: Mapping[str, str], session_titles: Mapping[int, str]) -> list[Badge]:
    """The badges of one sign-up: one for a person; for a team one per leader, member and coach (in the team's
    order), each with the team's ticket token and the person's role."""
    lines = badge_lines(registration, options.fields, labels=labels, session_titles=session_titles)
    qr_token = token if options.qr else None
    with_role = "role" in options.fields
    if _kind(registration) != "team":
        return [Badge(name=registration.contact_name, registration_id=registration.id, lines=lines, token=qr_token)]
    people = [(getattr(m.role, "value", m.role), m.name) for m in sorted(registration.members, key=lambda m: m.position)]
    if not any(role == "leader" for role, _name in people):  # a team saved without its leader row
        people.insert(0, ("leader", registration.contact_name))
    return [Badge(name=name, registration_id=registration.id, lines=lines, token=qr_token,
                  role=role_labels.get(role) if with_role else None, role_key=role if with_role else None)
            for role, name in people]


def missing_characters(texts: Iterable[str], covered: Container[int]) -> list[str]:
    """Characters of ``texts`` the font has no glyph for, in order of appearance, each once (spaces ignored)."""
    missing: dict[str, None] = {}
    for text in texts:
        for char in text:
            if not char.isspace() and ord(char) not in covered:
                missing[char] = None
    return list(missing)


# ---------------------------------------------------------------- one badge's plan

BRAND = "#b3261e"
INK = "#111111"
GREY = "#444444"
WHITE = "#ffffff"
ROLE_COLOURS = {"leader": BRAND, "member": "#1f4e9c", "coach": "#2e7d4f"}


@dataclass(frozen=True)
class Text:
    text: str
    x: float  # left end of the baseline
    y: float  # baseline
    size: float
    width: float
    bold: bool = False
    color: str = INK

    @property
    def box(self) -> Box:
        return Box(self.x, self.y - DESCENT * self.size, self.width, (ASCENT + DESCENT) * self.size)


@dataclass(frozen=True)
class Rect:
    box: Box
    color: str


@dataclass(frozen=True)
class QRCode:
    box: Box  # a square, the quiet zone included
    data: str


@dataclass(frozen=True)
class BadgePlan:
    box: Box
    items: tuple[Text | Rect | QRCode, ...]
    truncated: bool = False  # some text needed an ellipsis

    def texts(self) -> list[Text]:
        return [item for item in self.items if isinstance(item, Text)]


def _centred_lines(fitted: Fitted, *, left: float, width: float, top: float, measure: Measure, bold: bool,
                   color: str) -> list[Text]:
    """The lines of ``fitted``, centred between ``left`` and ``left + width``, the first line's ascent at ``top``."""
    texts = []
    for i, line in enumerate(fitted.lines):
        line_width = measure(line, fitted.size, bold)
        texts.append(Text(line, left + (width - line_width) / 2, top - ASCENT * fitted.size - i * fitted.size * LEADING,
                          fitted.size, line_width, bold, color))
    return texts


@dataclass
class _Details:
    fitted: list[Fitted] = field(default_factory=list)
    emphasis: list[bool] = field(default_factory=list)
    truncated: bool = False

    @property
    def height(self) -> float:
        return sum(f.height for f in self.fitted) + _line_gap(self.fitted) * max(len(self.fitted) - 1, 0)


def _line_gap(fitted: Sequence[Fitted]) -> float:
    return 0.35 * min((f.size for f in fitted), default=0)


def fit_details(lines: Sequence[BadgeLine], *, width: float, height: float, style: Style, measure: Measure) -> _Details:
    """The lines under the name at the largest common size (the unit a little bigger) at which all of them fit
    ``height``, each on at most two lines. At the smallest size: each on one line cut with “…”, and the last
    lines left out (the last kept one ends with “…”) when even that is too tall."""
    if not lines:
        return _Details()
    ratio = style.unit_max / style.detail_max
    for size in _sizes(style.detail_max, style.detail_min):
        sizes = [size * ratio if line.emphasis else size for line in lines]
        wrapped = [wrap(line.text, width, line_size, measure) for line, line_size in zip(lines, sizes)]
        if any(len(w) > 2 for w in wrapped):
            continue
        candidate = [Fitted(line_size, tuple(w)) for line_size, w in zip(sizes, wrapped)]
        if _Details(candidate).height > height + 1e-6:
            continue
        return _Details([Fitted(line_size, tuple(balanced_wrap(line.text, width, line_size, measure)))
                         for line, line_size in zip(lines, sizes)], [line.emphasis for line in lines])
    details = _Details(truncated=True)
    for line in lines:
        line_size = style.detail_min * (ratio if line.emphasis else 1)
        text = ellipsize(line.text, width, line_size, measure)
        candidate = Fitted(line_size, (text,), truncated=text != line.text)
        if _Details(details.fitted + [candidate]).height > height + 1e-6:
            if details.fitted:
                last = details.fitted[-1]
                details.fitted[-1] = Fitted(last.size, (ellipsize(last.lines[0], width, last.size, measure, cut=True),),
                                            truncated=True)
            break
        details.fitted.append(candidate)
        details.emphasis.append(line.emphasis)
    return details


def plan_badge(badge: Badge, box: Box, layout: Layout, *, title: str, measure: Measure) -> BadgePlan:
    """Where everything of one badge goes inside ``box``: the title band (if ``title``), the name, the lines,
    the QR code (below the texts in portrait, to their right in landscape) and the role band (if ``badge.role``)."""
    style = layout.style
    items: list[Text | Rect | QRCode] = []
    truncated = False
    inner_left, inner_width = box.x + style.padding, box.width - 2 * style.padding
    top, bottom = box.top, box.y

    if title:
        band = Box(box.x, box.top - style.band, box.width, style.band)
        items.append(Rect(band, BRAND))
        room = style.band - 2 * min(2.5 * MM, style.band * 0.18)
        fitted = fit_prefer_one_line(title, width=inner_width, height=room, largest=style.title_max,
                                     smallest=style.title_min, keep=0.75, max_lines=2, measure=measure, bold=True)
        truncated |= fitted.truncated
        text_top = band.top - (band.height - fitted.height) / 2
        items += _centred_lines(fitted, left=inner_left, width=inner_width, top=text_top, measure=measure, bold=True,
                                color=WHITE)
        top = band.y
    if badge.role:
        band = Box(box.x, box.y, box.width, style.role_band)
        items.append(Rect(band, ROLE_COLOURS.get(badge.role_key or "", GREY)))
        fitted = fit_text(badge.role, width=inner_width, height=style.role_band * 0.7, largest=style.role_max,
                          smallest=style.role_max / 2, max_lines=1, measure=measure, bold=True)
        truncated |= fitted.truncated
        items += _centred_lines(fitted, left=inner_left, width=inner_width,
                                top=band.top - (band.height - fitted.height) / 2, measure=measure, bold=True,
                                color=WHITE)
        bottom = band.top

    # The middle: texts, and the QR code below them (portrait) or beside them (landscape).
    middle = Box(inner_left, bottom + style.padding * 0.6, inner_width, top - bottom - style.padding * 1.2)
    text_area = middle
    if badge.token:
        side = min(style.qr, middle.height, middle.width)
        if style.qr_beside:
            qr_box = Box(middle.right - side, middle.y + (middle.height - side) / 2, side, side)
            text_area = Box(middle.x, middle.y, middle.width - side - style.gap, middle.height)
        else:
            qr_box = Box(middle.x + (middle.width - side) / 2, middle.y, side, side)
            text_area = Box(middle.x, qr_box.top + style.gap, middle.width, middle.height - side - style.gap)
        items.append(QRCode(qr_box, badge.token))

    name = fit_name(badge.name, width=text_area.width, height=min(style.name_block, text_area.height), style=style,
                    measure=measure)
    truncated |= name.truncated
    gap = style.gap if badge.lines else 0
    details = fit_details(badge.lines, width=text_area.width, height=max(text_area.height - name.height - gap, 0),
                          style=style, measure=measure)
    truncated |= details.truncated
    if not details.fitted:
        gap = 0
    stack = name.height + gap + details.height
    y = text_area.top - max((text_area.height - stack) / 2, 0)
    items += _centred_lines(name, left=text_area.x, width=text_area.width, top=y, measure=measure, bold=True, color=INK)
    y -= name.height + gap
    line_gap = _line_gap(details.fitted)
    for fitted, emphasis in zip(details.fitted, details.emphasis):
        items += _centred_lines(fitted, left=text_area.x, width=text_area.width, top=y, measure=measure, bold=False,
                                color=INK if emphasis else GREY)
        y -= fitted.height + line_gap
    return BadgePlan(box, tuple(items), truncated)


# ---------------------------------------------------------------- the PDF


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR code's modules (True: dark), without quiet zone; error correction M, as on the ticket."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


def bold_variant(path: str) -> str | None:
    """The bold face next to a regular font file (LXGWWenKai-Regular.ttf → LXGWWenKai-Bold.ttf), if there is one."""
    candidate = Path(path.replace("-Regular.", "-Bold."))
    return str(candidate) if candidate != Path(path) and candidate.is_file() else None


def font_codepoints(path: str) -> frozenset[int]:
    """The characters the TrueType font at ``path`` has glyphs for. Raises TicketFontError if it is unusable."""
    from reportlab.pdfbase import pdfmetrics

    from core.pdf import FONT_LOCK, cjk_font
    from registration.ticket_pdf import TicketFontError

    with FONT_LOCK:
        return frozenset(pdfmetrics.getFont(cjk_font(path, error=TicketFontError)).face.charToGlyph)


def reportlab_measure(regular: str, bold: str) -> Measure:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return lambda text, size, is_bold=False: stringWidth(text, bold if is_bold else regular, size)


def render_badges_pdf(badges: Sequence[Badge], *, layout: Layout, title: str, font_path: str,
                      document_title: str = "", author: str = "Saihui") -> bytes:
    """The badges as PDF bytes, ``layout.per_page`` to a sheet. Raises TicketFontError when the font is missing
    or cannot be embedded."""
    from core.pdf import FONT_LOCK, cjk_font
    from registration.ticket_pdf import TicketFontError

    with FONT_LOCK:  # reportlab keeps per-font state while a document is built
        regular = cjk_font(font_path, error=TicketFontError)
        bold_path = bold_variant(font_path)
        bold = cjk_font(bold_path, error=TicketFontError) if bold_path else regular
        return _render(badges, layout, title, reportlab_measure(regular, bold), regular, bold, document_title, author)


def _render(badges, layout, title, measure, regular, bold, document_title, author) -> bytes:
    from reportlab.lib import colors
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=layout.page, pageCompression=1, initialFontName=regular)
    pdf.setTitle(document_title or title)
    pdf.setAuthor(author)
    pdf.setCreator("Saihui")
    boxes = cells(layout)
    qr_cache: dict[str, list[list[bool]]] = {}
    for start in range(0, max(len(badges), 1), layout.per_page):
        for badge, box in zip(badges[start:start + layout.per_page], boxes):
            plan = plan_badge(badge, box, layout, title=title, measure=measure)
            for item in plan.items:
                if isinstance(item, Rect):
                    pdf.setFillColor(colors.HexColor(item.color))
                    pdf.rect(item.box.x, item.box.y, item.box.width, item.box.height, stroke=0, fill=1)
                elif isinstance(item, Text):
                    pdf.setFillColor(colors.HexColor(item.color))
                    pdf.setFont(bold if item.bold else regular, item.size)
                    pdf.drawString(item.x, item.y, item.text)
                else:
                    if item.data not in qr_cache:
                        qr_cache[item.data] = qr_matrix(item.data)
                    _draw_qr(pdf, qr_cache[item.data], item.box)
        # Cut lines last, over the bands' edges: thin, light grey, dashed.
        pdf.setStrokeColor(colors.HexColor("#9a9a9a"))
        pdf.setLineWidth(0.3)
        pdf.setDash(2, 2)
        for x1, y1, x2, y2 in cut_lines(layout):
            pdf.line(x1, y1, x2, y2)
        pdf.setDash()
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _draw_qr(pdf, matrix: list[list[bool]], box: Box) -> None:
    """Dark modules as filled rectangles (vector: sharp on any printer), each row's runs merged."""
    from reportlab.lib import colors

    count = len(matrix) + 2 * QUIET_ZONE
    module = box.width / count
    pdf.setFillColor(colors.white)
    pdf.rect(box.x, box.y, box.width, box.height, stroke=0, fill=1)
    pdf.setFillColor(colors.black)
    path = pdf.beginPath()
    for r, row in enumerate(matrix):
        y = box.top - (r + QUIET_ZONE + 1) * module
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # a hair of overlap so that adjacent rows print without white seams
            path.rect(box.x + (start + QUIET_ZONE) * module, y - 0.01, (c - start) * module, module + 0.02)
    pdf.drawPath(path, stroke=0, fill=1)

