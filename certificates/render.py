"""Certificates as PDF, drawn with reportlab; previews as PNG through poppler's ``pdftoppm``.

The CJK font is embedded as a subset (only the glyphs used), so a certificate looks the same on every phone and
printer and stays small. reportlab embeds TrueType-outline fonts only; we use LXGW WenKai (霞鹜文楷, a Kai face, OFL),
Debian's ``fonts-lxgw-wenkai``, registered once by ``core.pdf`` — see docs/certificates.md for the choice. Texts are checked against the font's
character map first (certificates.glyphs): a character the font lacks raises ``MissingGlyphs`` instead of being
printed as an empty box.

Nothing here knows Flask or the database: the caller passes a ``DesignSpec`` (where the fields go) and one
``PageContent`` per certificate (the placeholder values and the verification address for the QR code).
"""
from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab import rl_config
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase import ttfonts
from reportlab.pdfgen import canvas

from certificates import glyphs, layout
from certificates.layout import MM, FIELD_NAMES, Field
from core import pdf as core_pdf
from core.pdf import DEFAULT_FONT_PATH, FONT_PACKAGE  # noqa: F401 (callers' names)

RED = HexColor("#9b1c1c")
GOLD = HexColor("#b08a2e")
INK = HexColor("#1f1f1f")
GREY = HexColor("#6b6b6b")
TITLE_COLOR = {"formal": RED, "portrait": RED, "simple": HexColor("#1d3557"), "custom": INK}  # title and award


class FontError(core_pdf.FontError):
    """The font cannot be used: ``reason`` is ``missing`` (no such file) or ``unusable`` (not TrueType)."""

    what = "certificate font"


class MissingGlyphs(ValueError):
    """Texts to print contain characters the font has no glyph for (never printed as empty boxes)."""

    def __init__(self, missing: list[glyphs.MissingCharacter]):
        super().__init__("the font lacks " + " ".join(f"{m.char} ({m.codepoint})" for m in missing))
        self.missing = missing


@dataclass(frozen=True)
class DesignSpec:
    base: str  # layout.BASES
    orientation: str  # landscape | portrait
    fields: dict[str, Field]
    preprinted: bool = False
    offset: tuple[float, float] = (0.0, 0.0)  # mm, right and down; used on pre-printed paper only
    background: bytes | None = None  # a JPEG or PNG (custom designs)

    @property
    def page_size(self) -> tuple[float, float]:
        w, h = layout.PAGE_SIZES[self.orientation]
        return w * MM, h * MM

    @property
    def field_offset(self) -> tuple[float, float]:
        return self.offset if self.preprinted else (0.0, 0.0)


@dataclass(frozen=True)
class PageContent:
    values: dict[str, str]  # placeholder -> text (layout.PLACEHOLDERS)
    qr_url: str | None = None
    # shown as the PDF's subject (a single certificate: the holder)
    subject: str = ""


@dataclass
class RenderReport:
    """What fitting did, page by page: fields that did not fit even at the smallest size (``overflow``)."""

    overflow: list[tuple[int, str]] = field(default_factory=list)  # (page index, field name)


# ---------------------------------------------------------------- font


def _to_unicode_cmap(fontname: str, subset) -> str:
    """reportlab's ToUnicode CMap, corrected for characters beyond the BMP.

    reportlab writes each character as ``<%04X>``: U+20BB7 (𠮷, a variant of 吉 common in names) becomes five hex
    digits, which PDF readers take as U+20BB, so copying, searching and ``pdftotext`` show a wrong character (the
    glyph itself is drawn right). PDF wants UTF-16BE there: a surrogate pair, ``<D842DFB7>``.
    """
    def utf16(code: int) -> str:
        if code <= 0xFFFF:
            return "%04X" % code
        code -= 0x10000
        return "%04X%04X" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))

    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap", "/CIDSystemInfo",
        "<< /Registry (%s)" % fontname, "/Ordering (%s)" % fontname, "/Supplement 0", ">> def",
        "/CMapName /%s def" % fontname, "/CMapType 2 def", "1 begincodespacerange",
        "<00> <%02X>" % (len(subset) - 1), "endcodespacerange", "%d beginbfchar" % len(subset),
        *["<%02X> <%s>" % (i, utf16(v)) for i, v in enumerate(subset)],
        "endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
    ])


ttfonts.makeToUnicodeCMap = _to_unicode_cmap  # used by TTFont.addObjects when a document is saved

_lock = core_pdf.FONT_LOCK  # reportlab keeps per-document state in the shared font object: one document at a time


def font_name(path: str) -> str:
    """Register the TrueType font at ``path`` with reportlab (once, core.pdf) and return its name."""
    return core_pdf.cjk_font(path, error=FontError)


@contextmanager
def _binary_streams():
    """Compressed streams without reportlab's default ASCII85 layer (``rl_config.useA85``): a quarter smaller, and
    the pure-Python ASCII85 encoder costs more than drawing a page. Every PDF reader takes binary streams."""
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = previous


def _measure(font: str):
    face = pdfmetrics.getFont(font)

    @lru_cache(maxsize=8192)
    def measure(text: str) -> float:
        return face.stringWidth(text, 1.0)

    return measure


# ---------------------------------------------------------------- QR code


@lru_cache(maxsize=4096)
def qr_runs(data: str) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """The QR code of ``data`` as (modules per side, dark runs (row, first column, length)).

    Error correction M (15 %, survives a fold or a stamp's edge). The mask pattern is fixed instead of chosen by
    trying all eight: any mask is valid QR, and choosing costs ten times the drawing of the whole page. The tests
    decode the printed codes with zxing.
    """
    code = qrcode.QRCode(border=0, error_correction=ERROR_CORRECT_M, mask_pattern=2)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    runs = []
    for r, row in enumerate(matrix):
        c, n = 0, len(row)
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return len(matrix), tuple(runs)


@lru_cache(maxsize=4096)
def _qr_operators(data: str) -> tuple[int, str]:
    """The QR code as PDF path operators in module units (``col row len 1 re`` … ``f``): whole numbers, written
    once per code (the merged PDF and the one-page PDF of a certificate share them)."""
    modules, runs = qr_runs(data)
    return modules, " ".join(f"{col} {row} {length} 1 re" for row, col, length in runs) + " f"


def draw_qr(pdf: canvas.Canvas, data: str, x: float, y: float, side: float) -> None:
    """The QR code with its bottom-left corner at (x, y), ``side`` points wide, with a white quiet zone drawn
    around it (so that a coloured background does not stop a scanner)."""
    modules, operators = _qr_operators(data)
    quiet = side / modules * 2
    pdf.saveState()
    pdf.setFillColor(Color(1, 1, 1))
    pdf.rect(x - quiet, y - quiet, side + 2 * quiet, side + 2 * quiet, stroke=0, fill=1)
    pdf.translate(x, y + side)
    scale = side / modules
    pdf.scale(scale, -scale)  # one unit per module, rows downward
    pdf.setFillColor(Color(0, 0, 0))
    pdf.addLiteral(operators)
    pdf.restoreState()


# ---------------------------------------------------------------- decoration of the built-in designs


def _corner(pdf: canvas.Canvas, x: float, y: float, dx: int, dy: int) -> None:
    """A corner ornament with its outer corner at (x, y), opening toward (dx, dy): two nested brackets (gold,
    then red) and a small diamond."""
    pdf.setStrokeColor(GOLD)
    pdf.setLineWidth(1.0)
    long, short = 16 * MM, 10 * MM
    pdf.lines([(x, y, x + dx * long, y), (x, y, x, y + dy * long)])
    inset = 2.2 * MM
    pdf.setStrokeColor(RED)
    pdf.setLineWidth(1.4)
    xi, yi = x + dx * inset, y + dy * inset
    pdf.lines([(xi, yi, xi + dx * short, yi), (xi, yi, xi, yi + dy * short)])
    cx, cy, d = x + dx * 5.6 * MM, y + dy * 5.6 * MM, 1.3 * MM
    pdf.setFillColor(GOLD)
    path = pdf.beginPath()
    path.moveTo(cx, cy + d)
    path.lineTo(cx + d, cy)
    path.lineTo(cx, cy - d)
    path.lineTo(cx - d, cy)
    path.close()
    pdf.drawPath(path, stroke=0, fill=1)


def _frame(pdf: canvas.Canvas, w: float, h: float) -> None:
    outer, inner = 9 * MM, 12 * MM
    pdf.setStrokeColor(RED)
    pdf.setLineWidth(2.4)
    pdf.rect(outer, outer, w - 2 * outer, h - 2 * outer, stroke=1, fill=0)
    pdf.setStrokeColor(GOLD)
    pdf.setLineWidth(0.6)
    pdf.rect(inner, inner, w - 2 * inner, h - 2 * inner, stroke=1, fill=0)
    c = inner + 2 * MM
    for x, y, dx, dy in ((c, c, 1, 1), (w - c, c, -1, 1), (c, h - c, 1, -1), (w - c, h - c, -1, -1)):
        _corner(pdf, x, y, dx, dy)


def _title_rule(pdf: canvas.Canvas, title: Field, w: float, h: float, color: Color) -> None:
    """A thin rule with a diamond under the title (formal designs)."""
    y = h - (title.y * MM + title.size * 1.25)
    cx = (title.x + title.width / 2) * MM
    half = min(title.width * MM * 0.22, 60 * MM)
    pdf.setStrokeColor(color)
    pdf.setFillColor(color)
    pdf.setLineWidth(0.7)
    pdf.line(cx - half, y, cx - 3 * MM, y)
    pdf.line(cx + 3 * MM, y, cx + half, y)
    d = 1.6 * MM
    path = pdf.beginPath()
    path.moveTo(cx, y + d)
    path.lineTo(cx + d, y)
    path.lineTo(cx, y - d)
    path.lineTo(cx - d, y)
    path.close()
    pdf.drawPath(path, stroke=0, fill=1)


NAVY = HexColor("#1d3557")
ACCENT = HexColor("#e63946")


def _simple_decoration(pdf: canvas.Canvas, fields: dict[str, Field], w: float, h: float) -> None:
    """A navy bar down the left edge with a red accent, and a short red rule under the title."""
    pdf.setFillColor(NAVY)
    pdf.rect(10 * MM, 10 * MM, 3.2 * MM, h - 20 * MM, stroke=0, fill=1)
    pdf.setFillColor(ACCENT)
    pdf.rect(10 * MM, h - 10 * MM - 30 * MM, 3.2 * MM, 30 * MM, stroke=0, fill=1)
    title = fields.get("title")
    if title is not None and title.enabled:
        y = h - (title.y * MM + title.size * 1.3)
        x = {"left": title.x * MM, "center": (title.x + title.width / 2) * MM - 12 * MM,
             "right": (title.x + title.width) * MM - 24 * MM}.get(title.align, title.x * MM)
        pdf.rect(x, y, 24 * MM, 1.2 * MM, stroke=0, fill=1)


def _background(pdf: canvas.Canvas, design: DesignSpec, images: dict, w: float, h: float) -> None:
    if design.base == "custom":
        if design.background:
            reader = images.get("bg")
            if reader is None:
                reader = images["bg"] = ImageReader(io.BytesIO(design.background))
            pdf.drawImage(reader, 0, 0, w, h)
        return
    if design.base in ("formal", "portrait"):
        _frame(pdf, w, h)
        title = design.fields.get("title")
        if title is not None and title.enabled:
            _title_rule(pdf, title, w, h, GOLD)
    elif design.base == "simple":
        _simple_decoration(pdf, design.fields, w, h)


# ---------------------------------------------------------------- pages


def texts_of(design: DesignSpec, content: PageContent) -> dict[str, str]:
    """The filled text of every enabled text field."""
    return {
        name: layout.fill_template(f.text, content.values)
        for name, f in design.fields.items() if f.enabled and not f.is_qr
    }


def check_glyphs(texts: Iterable[str], font_path: str) -> None:
    missing = glyphs.missing_characters(texts, glyphs.font_characters(font_path))
    if missing:
        raise MissingGlyphs(missing)


def _draw_page(pdf: canvas.Canvas, design: DesignSpec, content: PageContent, font: str, measure, images: dict,
               report: RenderReport, index: int) -> None:
    w, h = design.page_size
    if not design.preprinted:
        _background(pdf, design, images, w, h)
    offset = design.field_offset
    for name in FIELD_NAMES:
        f = design.fields.get(name)
        if f is None or not f.enabled:
            continue
        if f.is_qr:
            if content.qr_url:
                x, y, side = layout.qr_box(f, design.orientation, offset)
                draw_qr(pdf, content.qr_url, x, y, side)
            continue
        text = layout.fill_template(f.text, content.values)
        if not text.strip():
            continue
        fitted = layout.fit(text, width_mm=f.width, max_lines=f.lines, size=f.size, measure=measure)
        if fitted.overflow:
            report.overflow.append((index, name))
        color = TITLE_COLOR.get(design.base, INK) if name in ("title", "award") and not design.preprinted else INK
        if name == "number":
            color = GREY if not design.preprinted else INK
        pdf.setFillColor(color)
        pdf.setFont(font, fitted.size)
        for line in layout.place(f, fitted, design.orientation, offset):
            if line.align == "center":
                pdf.drawCentredString(line.x, line.y, line.text)
            elif line.align == "right":
                pdf.drawRightString(line.x, line.y, line.text)
            else:
                pdf.drawString(line.x, line.y, line.text)


def render_pdf(design: DesignSpec, pages: Iterable[PageContent], *, font_path: str = DEFAULT_FONT_PATH,
               title: str = "", author: str = "", check: bool = True,
               report: RenderReport | None = None) -> bytes:
    """One PDF with a page per ``PageContent``. Raises FontError, or MissingGlyphs (with ``check``) before
    drawing anything when a text has a character the font lacks."""
    pages = list(pages)
    font = font_name(font_path)
    if check:
        check_glyphs((t for content in pages for t in texts_of(design, content).values()), font_path)
    report = report if report is not None else RenderReport()
    buffer = io.BytesIO()
    with _lock, _binary_streams():
        pdf = canvas.Canvas(buffer, pagesize=design.page_size, pageCompression=1, initialFontName=font,
                            invariant=1)
        pdf.setTitle(title)
        pdf.setAuthor(author or "Saihui")
        pdf.setCreator("Saihui")
        if len(pages) == 1 and pages[0].subject:
            pdf.setSubject(pages[0].subject)
        measure = _measure(font)
        images: dict = {}
        for index, content in enumerate(pages):
            _draw_page(pdf, design, content, font, measure, images, report, index)
            pdf.showPage()
        pdf.save()
    return buffer.getvalue()


# ---------------------------------------------------------------- calibration page for pre-printed paper


@dataclass(frozen=True)
class CalibrationLabels:
    heading: str = "Calibration page"
    instructions: tuple[str, ...] = ()
    offset: str = "Offset"


def render_calibration(design: DesignSpec, labels: CalibrationLabels, *, font_path: str = DEFAULT_FONT_PATH,
                       field_labels: dict[str, str] | None = None) -> bytes:
    """A page to print on plain paper at 100 %: rulers along the top and left edges, a cross 20 mm from each
    corner, and every enabled field's box (moved by the current offset) with its name. Laid on the pre-printed
    sheet against the light, it shows how far the printer shifts: that shift is the offset to enter."""
    font = font_name(font_path)
    w, h = design.page_size
    offset = design.offset
    field_labels = field_labels or {}
    check_glyphs([labels.heading, labels.offset, *labels.instructions, *field_labels.values()], font_path)
    buffer = io.BytesIO()
    with _lock, _binary_streams():
        pdf = canvas.Canvas(buffer, pagesize=(w, h), pageCompression=1, initialFontName=font, invariant=1)
        pdf.setTitle(labels.heading)
        pdf.setCreator("Saihui")
        pdf.setStrokeColor(INK)
        pdf.setFillColor(INK)
        pdf.setLineWidth(0.3)
        page_w_mm, page_h_mm = layout.PAGE_SIZES[design.orientation]
        pdf.setFont(font, 6)
        for mm in range(0, int(page_w_mm) + 1):  # ruler along the top edge
            length = 5 if mm % 10 == 0 else (3 if mm % 5 == 0 else 1.5)
            pdf.line(mm * MM, h, mm * MM, h - length * MM)
            if mm % 10 == 0 and 0 < mm < page_w_mm:
                pdf.drawCentredString(mm * MM, h - 8 * MM, str(mm))
        for mm in range(0, int(page_h_mm) + 1):  # ruler along the left edge, measured from the top
            length = 5 if mm % 10 == 0 else (3 if mm % 5 == 0 else 1.5)
            pdf.line(0, h - mm * MM, length * MM, h - mm * MM)
            if mm % 10 == 0 and 0 < mm < page_h_mm:
                pdf.drawString(6 * MM, h - mm * MM - 2, str(mm))
        for cx, cy in ((20, 20), (page_w_mm - 20, 20), (20, page_h_mm - 20), (page_w_mm - 20, page_h_mm - 20)):
            x, y = cx * MM, h - cy * MM
            pdf.line(x - 6 * MM, y, x + 6 * MM, y)
            pdf.line(x, y - 6 * MM, x, y + 6 * MM)
            pdf.circle(x, y, 2 * MM, stroke=1, fill=0)
        pdf.setStrokeColor(RED)
        pdf.setFillColor(RED)
        pdf.setDash(2, 2)
        for name in FIELD_NAMES:
            f = design.fields.get(name)
            if f is None or not f.enabled:
                continue
            x = (f.x + offset[0]) * MM
            top = h - (f.y + offset[1]) * MM
            height = f.height * MM
            pdf.rect(x, top - height, f.width * MM, height, stroke=1, fill=0)
            pdf.setFont(font, 7)
            pdf.drawString(x + 1 * MM, top - 7.5, field_labels.get(name, name))
        pdf.setDash()
        pdf.setFillColor(INK)
        pdf.setFont(font, 12)
        pdf.drawString(30 * MM, h / 2 + 18, labels.heading)
        pdf.setFont(font, 9)
        y = h / 2
        for line in labels.instructions:
            pdf.drawString(30 * MM, y, line)
            y -= 13
        pdf.drawString(30 * MM, y - 4, f"{labels.offset}: {offset[0]:+.1f} mm, {offset[1]:+.1f} mm")
        pdf.showPage()
        pdf.save()
    return buffer.getvalue()


# ---------------------------------------------------------------- preview


class PreviewError(RuntimeError):
    pass


def pdf_to_png(pdf: bytes, *, dpi: int = 60, timeout: float = 20) -> bytes:
    """The first page of ``pdf`` as PNG, made by poppler's pdftoppm (poppler-utils)."""
    with tempfile.TemporaryDirectory(prefix="saihui-preview-") as tmp:
        source = Path(tmp) / "page.pdf"
        source.write_bytes(pdf)
        target = Path(tmp) / "page"
        try:
            subprocess.run(
                ["pdftoppm", "-png", "-r", str(int(dpi)), "-f", "1", "-l", "1", "-singlefile", str(source),
                 str(target)],
                check=True, capture_output=True, timeout=timeout,
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise PreviewError(str(error)) from error
        return (Path(tmp) / "page.png").read_bytes()
