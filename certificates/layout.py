"""Where each field goes on the page, what it says, and how its text fits. Pure: no Flask, no reportlab.

A design places fields on an A4 page (landscape 297 × 210 mm or portrait 210 × 297 mm). Positions are in
millimetres, as people measure them with a ruler on the printed sheet: ``x`` is the left edge of the field's box,
``y`` the top edge measured from the top of the page, ``width`` the box's width (for the QR code: its side). Font
sizes are in points. Each text field has a template with placeholders (``{holder}``, ``{award}`` …) and optional
segments in square brackets, left out when a placeholder inside them is empty:

    >>> fill_template("在{event}[（{group}）]中荣获", {"event": "云计算大赛", "group": ""})
    '在云计算大赛中荣获'
    >>> fill_template("在{event}[（{group}）]中荣获", {"event": "云计算大赛", "group": "高职组"})
    '在云计算大赛（高职组）中荣获'

Text that is too long for its box shrinks (down to ``MIN_RATIO`` of the design's size) and, in fields of several
lines, wraps between Chinese characters (never before ，。）or after （《) and between Latin words. ``measure``
functions give the width in points of a text at 1 pt (the renderer passes the font's metrics; tests pass a fake).

Worked example (a fake font where every character is 1 em wide): a 10-character name in a 100 mm box at 36 pt
needs 360 pt but the box is 283.46 pt wide, so it is set at 28.3 pt on one line:

    >>> fit("欧阳娜娜买买提艾力江", width_mm=100, max_lines=1, size=36, measure=len)
    Fitted(size=28.3, lines=('欧阳娜娜买买提艾力江',), overflow=False)
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

MM = 72 / 25.4  # points per millimetre
PAGE_SIZES = {"landscape": (297.0, 210.0), "portrait": (210.0, 297.0)}  # A4, millimetres (width, height)
ASCENT = 0.88  # of the font size, from the top of a line to its baseline (CJK faces: about 0.88 em)
LEADING = 1.5  # line height, in font sizes
MIN_RATIO = 0.5  # text shrinks at most to half of its design size
MIN_SIZE, MAX_SIZE = 6.0, 96.0  # points
MAX_LINES = 12
MIN_TEXT_WIDTH = 10.0  # mm
MIN_QR = 15.0  # mm: smaller codes are hard to scan from paper with a cheap phone
ALIGNS = ("left", "center", "right")

FIELD_NAMES = ("title", "holder", "body", "award", "closing", "unit", "competition", "group", "event",
               "organizers", "date", "number", "qr")
TEXT_FIELDS = FIELD_NAMES[:-1]
PLACEHOLDERS = ("holder", "unit", "members", "award", "role", "competition", "group", "event", "organization",
                "organizers", "dates", "date", "number", "code")

Measure = Callable[[str], float]


class LayoutError(ValueError):
    pass


@dataclass(frozen=True)
class Problem:
    """Something wrong with one field: ``code`` is one of off_page, too_narrow, qr_too_small, size, lines, align,
    unknown_placeholder (detail: the name), brackets."""

    field: str
    code: str
    detail: str = ""


# ---------------------------------------------------------------- fields


@dataclass(frozen=True)
class Field:
    name: str
    enabled: bool = True
    x: float = 20.0
    y: float = 20.0
    width: float = 100.0
    size: float = 14.0
    align: str = "left"
    lines: int = 1
    text: str = ""

    @property
    def is_qr(self) -> bool:
        return self.name == "qr"

    @property
    def height(self) -> float:
        """The box's height in mm: the QR code is square; text takes ``lines`` lines."""
        if self.is_qr:
            return self.width
        return self.lines * self.size * LEADING / MM

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("name")
        return data


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise LayoutError(f"{name}: not a number")
    try:
        number = float(value)
    except ValueError:
        raise LayoutError(f"{name}: not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise LayoutError(f"{name}: not a number")
    return round(number, 1)


def field_from_dict(name: str, data: dict) -> Field:
    """A field from stored or posted data. Raises LayoutError for values that are not numbers at all."""
    if name not in FIELD_NAMES:
        raise LayoutError(f"unknown field {name}")
    base = Field(name=name)
    return Field(
        name=name,
        enabled=bool(data.get("enabled", base.enabled)),
        x=_number(data.get("x", base.x), "x"),
        y=_number(data.get("y", base.y), "y"),
        width=_number(data.get("width", base.width), "width"),
        size=_number(data.get("size", base.size), "size"),
        align=str(data.get("align", base.align)),
        lines=int(_number(data.get("lines", base.lines), "lines")),
        text=printable(str(data.get("text", base.text)))[:500],
    )


def fields_from_dict(data: dict) -> dict[str, Field]:
    return {name: field_from_dict(name, data.get(name) or {}) for name in FIELD_NAMES}


def fields_to_dict(fields: dict[str, Field]) -> dict:
    return {name: fields[name].to_dict() for name in FIELD_NAMES if name in fields}


# ---------------------------------------------------------------- templates

_PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _segments(template: str) -> list[tuple[str, bool]]:
    """Split into (text, optional) pieces; raises LayoutError on unbalanced or nested brackets."""
    pieces: list[tuple[str, bool]] = []
    current, optional = [], False
    for char in template:
        if char == "[":
            if optional:
                raise LayoutError("nested [")
            pieces.append(("".join(current), False))
            current, optional = [], True
        elif char == "]":
            if not optional:
                raise LayoutError("] without [")
            pieces.append(("".join(current), True))
            current, optional = [], False
        else:
            current.append(char)
    if optional:
        raise LayoutError("[ without ]")
    pieces.append(("".join(current), False))
    return [p for p in pieces if p[0]]


def template_problems(field: str, template: str) -> list[Problem]:
    try:
        _segments(template)
    except LayoutError:
        return [Problem(field, "brackets")]
    unknown = [name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS]
    return [Problem(field, "unknown_placeholder", name or "{}") for name in dict.fromkeys(unknown)]


def fill_template(template: str, values: dict[str, str]) -> str:
    """The template with its placeholders filled; optional ``[…]`` segments whose placeholders are not all filled
    are left out. Unknown placeholders stay as typed (``template_problems`` reports them before saving)."""

    def substitute(text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))) if m.group(1) in PLACEHOLDERS
                                else m.group(0), text)

    out = []
    for text, optional in _segments(template):
        if optional and not all(str(values.get(n) or "").strip() for n in _PLACEHOLDER.findall(text)):
            continue
        out.append(substitute(text))
    return "".join(out)


def placeholders_in(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


# ---------------------------------------------------------------- validation


def validate(fields: dict[str, Field], orientation: str) -> list[Problem]:
    """Everything wrong with the enabled fields on an A4 page of ``orientation``; empty when the design prints."""
    page_w, page_h = PAGE_SIZES[orientation]
    problems: list[Problem] = []
    for name in FIELD_NAMES:
        field = fields.get(name)
        if field is None or not field.enabled:
            continue
        if field.is_qr:
            if field.width < MIN_QR:
                problems.append(Problem(name, "qr_too_small", f"{MIN_QR:g}"))
        else:
            if not MIN_SIZE <= field.size <= MAX_SIZE:
                problems.append(Problem(name, "size", f"{MIN_SIZE:g}–{MAX_SIZE:g}"))
            if not 1 <= field.lines <= MAX_LINES:
                problems.append(Problem(name, "lines", f"1–{MAX_LINES}"))
            if field.align not in ALIGNS:
                problems.append(Problem(name, "align"))
            if field.width < MIN_TEXT_WIDTH:
                problems.append(Problem(name, "too_narrow", f"{MIN_TEXT_WIDTH:g}"))
            problems.extend(template_problems(name, field.text))
        if field.x < 0 or field.y < 0 or field.x + field.width > page_w + 1e-6 or \
                field.y + field.height > page_h + 1e-6:
            problems.append(Problem(name, "off_page", f"{page_w:g} × {page_h:g}"))
    return problems


# ---------------------------------------------------------------- fitting text

_NO_START = set("，。、；：？！）》」』】〕〉”’…—·%,.;:?!)]}~～%‰℃")
_NO_END = set("（《「『【〔〈“‘([{")
_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f][A-Za-z0-9\u00c0-\u024f\-_.'@/:&+#]*")


def tokenize(paragraph: str) -> list[str]:
    """Pieces a line may break between: a Latin word, a space, or one CJK character, with punctuation glued to
    its neighbour (no line starts with ， or ）, none ends with （)."""
    raw: list[str] = []
    i = 0
    while i < len(paragraph):
        match = _WORD.match(paragraph, i)
        if match:
            raw.append(match.group(0))
            i = match.end()
        else:
            raw.append(paragraph[i])
            i += 1
    tokens: list[str] = []
    pending_open = ""
    for token in raw:
        if token in _NO_END:
            pending_open += token
            continue
        token = pending_open + token
        pending_open = ""
        if tokens and token[0] in _NO_START and tokens[-1] != " ":
            tokens[-1] += token
        else:
            tokens.append(token)
    if pending_open:
        if tokens:
            tokens[-1] += pending_open
        else:
            tokens.append(pending_open)
    return tokens


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def printable(text: str) -> str:
    r"""Line breaks as ``\n`` (a browser posts a textarea's as ``\r\n``), tabs as spaces, other control characters
    removed: none of them has a glyph, and a font would draw a box for it.

    >>> printable("特此证明。\r\n\t落款\x07")
    '特此证明。\n 落款'
    """
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))


def wrap(text: str, width: float, measure: Measure) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (in the unit of ``measure``); explicit line breaks stay.
    A piece wider than a whole line is cut between characters."""
    lines: list[str] = []
    for paragraph in printable(text).split("\n"):
        current, current_width = "", 0.0
        for token in tokenize(paragraph):
            token_width = measure(token)
            if current and current_width + token_width > width + 1e-9:
                lines.append(current.rstrip(" "))
                if token == " ":
                    current, current_width = "", 0.0
                    continue
                current, current_width = "", 0.0
            if not current and token_width > width + 1e-9:
                for char in token:  # a piece longer than a line: cut between characters
                    char_width = measure(char)
                    if current and current_width + char_width > width + 1e-9:
                        lines.append(current)
                        current, current_width = "", 0.0
                    current += char
                    current_width += char_width
                continue
            current += token
            current_width += token_width
        lines.append(current.rstrip(" "))
    return lines


@dataclass(frozen=True)
class Fitted:
    size: float
    lines: tuple[str, ...]
    overflow: bool  # does not fit even at the smallest size: the preview warns, nothing is cut off silently


def fit(text: str, *, width_mm: float, max_lines: int, size: float, measure: Measure,
        min_ratio: float = MIN_RATIO) -> Fitted:
    """The largest size (≤ ``size``, ≥ ``size × min_ratio``, in steps of 0.1 pt) at which ``text`` fits in
    ``max_lines`` lines of ``width_mm``; ``overflow`` when it does not fit even at the smallest size."""
    width = width_mm * MM
    smallest = max(size * min_ratio, 1.0)
    text = printable(text)
    if not text.strip():
        return Fitted(size, (), False)
    if max_lines == 1 and "\n" not in text:
        natural = measure(text)
        if natural * size <= width:
            return Fitted(size, (text,), False)
        fitted = int(width / natural * 10) / 10  # round down to 0.1 pt
        if fitted >= smallest:
            return Fitted(fitted, (text,), False)
        return Fitted(round(smallest, 1), (text,), True)
    current = size
    while True:
        lines = wrap(text, width / current, measure)
        if len(lines) <= max_lines:
            return Fitted(round(current, 1), tuple(lines), False)
        if current <= smallest:
            return Fitted(round(current, 1), tuple(lines), True)
        current = max(smallest, current * 0.94)


@dataclass(frozen=True)
class Line:
    """One line to draw: its anchor in points from the page's bottom-left corner (left, centre or right end of
    the baseline, as ``align`` says)."""

    x: float
    y: float
    text: str
    size: float
    align: str


def place(field: Field, fitted: Fitted, orientation: str, offset: tuple[float, float] = (0.0, 0.0)) -> list[Line]:
    """The lines of a fitted field on the page. A single-line field keeps its baseline where the design put it
    when its text shrinks (it stays on the printed blank line); a block starts at the top of its box.
    ``offset`` (mm, right and down) moves everything: the printer's calibration for pre-printed paper."""
    _page_w, page_h = PAGE_SIZES[orientation]
    left = (field.x + offset[0]) * MM
    width = field.width * MM
    top = (field.y + offset[1]) * MM
    anchor = {"left": left, "center": left + width / 2, "right": left + width}[field.align]
    first = top + (field.size if field.lines == 1 else fitted.size) * ASCENT
    height = page_h * MM
    return [
        Line(x=round(anchor, 2), y=round(height - (first + i * fitted.size * LEADING), 2), text=text,
             size=fitted.size, align=field.align)
        for i, text in enumerate(fitted.lines)
    ]


def qr_box(field: Field, orientation: str, offset: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float, float]:
    """The QR code's bottom-left corner and side, in points from the page's bottom-left corner."""
    _page_w, page_h = PAGE_SIZES[orientation]
    side = field.width * MM
    return (round((field.x + offset[0]) * MM, 2), round(page_h * MM - (field.y + offset[1]) * MM - side, 2),
            round(side, 2))


# ---------------------------------------------------------------- built-in designs

BASES = ("formal", "portrait", "simple", "custom")
BASE_ORIENTATION = {"formal": "landscape", "portrait": "portrait", "simple": "landscape"}
KINDS = ("award", "participation", "training", "appointment")

# What each kind says by default (the organizer edits these on the design page). Certificates are Chinese
# documents: the defaults are Chinese whatever the language of the pages.
TITLES = {"award": "荣 誉 证 书", "participation": "参 会 证 明", "training": "结 业 证 书", "appointment": "聘　　书"}
TEXTS = {
    "award": {
        "holder": "{holder}：",
        "body": "　　在{event}[“{competition}”赛项][（{group}）]中表现优异，荣获",
        "award": "{award}",
        "closing": "　　特发此证，以资鼓励。",
    },
    "participation": {
        "holder": "{holder}：",
        "body": "　　兹证明[{unit}]{holder}同志于{dates}参加{event}。",
        "award": "",
        "closing": "　　特此证明。",
    },
    "training": {
        "holder": "{holder}：",
        "body": "　　{holder}同志[（{unit}）]于{dates}参加{event}，完成全部培训课程，经考核合格，准予结业。",
        "award": "",
        "closing": "　　特发此证。",
    },
    "appointment": {
        "holder": "{holder}：",
        "body": "　　兹聘请{holder}[（{unit}）]为{event}{role}。",
        "award": "",
        "closing": "　　特发此聘书。",
    },
}
COMMON_TEXTS = {
    "unit": "{unit}", "competition": "{competition}", "group": "{group}", "event": "{event}",
    "organizers": "{organizers}", "date": "{date}", "number": "证书编号：{number}　验证码：{code}", "qr": "",
}


def _landscape() -> dict[str, Field]:
    return {
        "title": Field("title", x=30, y=26, width=237, size=40, align="center"),
        "holder": Field("holder", x=44, y=58, width=150, size=24),
        "body": Field("body", x=44, y=74, width=209, size=18, lines=3),
        "award": Field("award", x=30, y=106, width=237, size=34, align="center"),
        "closing": Field("closing", x=44, y=126, width=209, size=16),
        "unit": Field("unit", enabled=False, x=44, y=50, width=150, size=14),
        "competition": Field("competition", enabled=False, x=44, y=90, width=150, size=16),
        "group": Field("group", enabled=False, x=200, y=90, width=60, size=16),
        "event": Field("event", enabled=False, x=44, y=98, width=209, size=16),
        "organizers": Field("organizers", x=167, y=146, width=100, size=16, align="center", lines=2),
        "date": Field("date", x=167, y=166, width=100, size=14, align="center"),
        "number": Field("number", x=28, y=184, width=150, size=9),
        "qr": Field("qr", x=28, y=156, width=24),
    }


def _portrait() -> dict[str, Field]:
    return {
        "title": Field("title", x=20, y=48, width=170, size=40, align="center"),
        "holder": Field("holder", x=28, y=92, width=150, size=22),
        "body": Field("body", x=28, y=108, width=154, size=17, lines=4),
        "award": Field("award", x=20, y=150, width=170, size=32, align="center"),
        "closing": Field("closing", x=28, y=172, width=154, size=16),
        "unit": Field("unit", enabled=False, x=28, y=84, width=154, size=14),
        "competition": Field("competition", enabled=False, x=28, y=136, width=110, size=16),
        "group": Field("group", enabled=False, x=140, y=136, width=42, size=16),
        "event": Field("event", enabled=False, x=28, y=128, width=154, size=16),
        "organizers": Field("organizers", x=95, y=210, width=90, size=16, align="center", lines=2),
        "date": Field("date", x=95, y=230, width=90, size=14, align="center"),
        "number": Field("number", x=25, y=275, width=160, size=9),
        "qr": Field("qr", x=25, y=246, width=24),
    }


def _simple() -> dict[str, Field]:
    fields = _landscape()
    fields.update(
        title=Field("title", x=26, y=24, width=245, size=34, align="left"),
        holder=Field("holder", x=26, y=56, width=180, size=26),
        body=Field("body", x=26, y=74, width=230, size=17, lines=3),
        award=Field("award", x=26, y=104, width=180, size=30, align="left"),
        closing=Field("closing", x=26, y=124, width=230, size=15),
        organizers=Field("organizers", x=171, y=150, width=100, size=15, align="right", lines=2),
        date=Field("date", x=171, y=169, width=100, size=13, align="right"),
        number=Field("number", x=52, y=181, width=150, size=9),
        qr=Field("qr", x=26, y=166, width=22),
    )
    return fields


def default_fields(base: str, kind: str, orientation: str | None = None) -> dict[str, Field]:
    """A ready-to-print set of fields for ``base`` (a custom design starts from the formal layout of its
    orientation) and ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"unknown certificate kind {kind!r}")
    if base == "custom":
        orientation = orientation or "landscape"
        fields = _landscape() if orientation == "landscape" else _portrait()
    elif base in BASE_ORIENTATION:
        fields = {"formal": _landscape, "portrait": _portrait, "simple": _simple}[base]()
    else:
        raise ValueError(f"unknown design {base!r}")
    texts = {"title": TITLES[kind], **COMMON_TEXTS, **TEXTS[kind]}
    if kind != "award":
        # The holder is named in the sentence, and the closing words follow it as a second paragraph: the
        # sentence moves up and gets more room.
        holder, body = fields["holder"], fields["body"]
        fields["body"] = replace(body, y=holder.y + 4, lines=body.lines + 3, size=body.size + 1)
        texts["body"] = texts["body"] + "\n" + texts.pop("closing")
    out = {}
    for name, field in fields.items():
        text = texts.get(name, "")
        enabled = field.enabled
        if name in ("award", "closing") and not text:
            enabled = False
        if name == "holder" and kind != "award":
            enabled = False  # the holder is named in the sentence
        out[name] = replace(field, text=text, enabled=enabled)
    return out


def orientation_of(base: str, custom_orientation: str | None = None) -> str:
    if base == "custom":
        return custom_orientation if custom_orientation in PAGE_SIZES else "landscape"
    return BASE_ORIENTATION[base]
