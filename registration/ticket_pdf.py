"""A one-page PDF ticket (A4): the event, the holder, the QR code and the token text.

Chinese text needs a CJK font embedded in the PDF: LXGW WenKai, registered once by ``core.pdf`` (see there why).

Pure module: no Flask. The caller passes the texts (already translated and formatted) and the font's path.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

from core.pdf import DEFAULT_FONT_PATH, FONT_LOCK, FONT_PACKAGE, FontError, cjk_font  # noqa: F401 (callers' names)

BRAND = colors.HexColor("#b3261e")
TOKEN_FONT = "Courier-Bold"  # the token is ASCII: a standard PDF font, nothing to embed


class TicketFontError(FontError):
    """The CJK font cannot be used: ``reason`` is ``missing`` (no such file) or ``unusable`` (not TrueType)."""

    what = "ticket font"


@dataclass(frozen=True)
class TicketLabels:
    """The words printed on the ticket, in the reader's language."""

    heading: str = "Admission ticket"
    time: str = "Time"
    venue: str = "Venue"
    token: str = "Ticket code"
    instructions: str = "Show this code at the entrance."


@dataclass(frozen=True)
class TicketContent:
    event_title: str
    when: str
    venue: str
    holder: str  # the person, or a team's leader
    token: str
    qr_png: bytes
    details: list[tuple[str, str]] = field(default_factory=list)  # (label, value): unit, team, group, members
    organization: str = ""
    labels: TicketLabels = TicketLabels()


_lock = FONT_LOCK  # reportlab keeps per-font state while a document is built: one document at a time


def _font(path: str) -> str:
    """The registered font's name (core.pdf); TicketFontError when it cannot be used."""
    return cjk_font(path, error=TicketFontError)


def check_font(path: str) -> None:
    """Raise TicketFontError if the font at ``path`` cannot be embedded."""
    with _lock:
        _font(path)


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def render_ticket_pdf(content: TicketContent, *, font_path: str = DEFAULT_FONT_PATH) -> bytes:
    """The ticket as PDF bytes. Raises TicketFontError when the font is missing or cannot be embedded."""
    with _lock:
        font = _font(font_path)
        return _render(content, font)


def _render(content: TicketContent, font: str) -> bytes:
    labels = content.labels
    width, height = A4
    margin = 20 * mm
    inner = width - 2 * margin
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=font)
    pdf.setTitle(f"{labels.heading} · {content.event_title}")
    pdf.setAuthor(content.organization or "Saihui")
    pdf.setCreator("Saihui")
    pdf.setSubject(content.holder)

    # The ticket is a card with a coloured band, drawn top down; y is the next free line's top.
    card_top = height - margin
    band = 16 * mm
    pdf.setFillColor(BRAND)
    pdf.roundRect(margin, card_top - band, inner, band, 4 * mm, stroke=0, fill=1)
    pdf.rect(margin, card_top - band, inner, band / 2, stroke=0, fill=1)  # square off the band's lower corners
    pdf.setFillColor(colors.white)
    pdf.setFont(font, 14)
    pdf.drawString(margin + 8 * mm, card_top - band / 2 - 5, labels.heading)
    if content.organization:
        pdf.setFont(font, 10)
        pdf.drawRightString(width - margin - 8 * mm, card_top - band / 2 - 4,
                            _fit(content.organization, font, 10, inner / 2))

    pad = 10 * mm
    text_width = inner - 2 * pad
    y = card_top - band - 9 * mm
    title_style = ParagraphStyle("title", fontName=font, fontSize=20, leading=27, wordWrap="CJK",
                                 textColor=colors.black)
    y = _draw(pdf, _paragraph(content.event_title, title_style), margin + pad, y, text_width)

    meta_style = ParagraphStyle("meta", fontName=font, fontSize=11.5, leading=16, wordWrap="CJK",
                                textColor=colors.HexColor("#333333"))
    y -= 2 * mm
    y = _draw(pdf, _paragraph(f"{labels.time}：{content.when}", meta_style), margin + pad, y, text_width)
    if content.venue:
        y = _draw(pdf, _paragraph(f"{labels.venue}：{content.venue}", meta_style), margin + pad, y, text_width)

    # The QR code, centred and large: a door scanner reads it from a print-out or a phone held up.
    y -= 6 * mm
    qr_size = 72 * mm
    pdf.drawImage(ImageReader(io.BytesIO(content.qr_png)), (width - qr_size) / 2, y - qr_size, qr_size, qr_size)
    y -= qr_size + 3 * mm
    pdf.setFillColor(colors.black)
    pdf.setFont(TOKEN_FONT, 13)
    pdf.drawCentredString(width / 2, y - 11, content.token)
    y -= 18
    small_centre = ParagraphStyle("hint", fontName=font, fontSize=10, leading=14, alignment=TA_CENTER,
                                  wordWrap="CJK", textColor=colors.HexColor("#555555"))
    y = _draw(pdf, _paragraph(f"{labels.token} · {labels.instructions}", small_centre), margin + pad, y, text_width)

    # The holder, big enough to read across a desk; then unit, team and group.
    y -= 6 * mm
    pdf.setStrokeColor(colors.HexColor("#dddddd"))
    pdf.setDash(3, 3)
    pdf.line(margin + pad, y, width - margin - pad, y)
    pdf.setDash()
    y -= 6 * mm
    name_style = ParagraphStyle("holder", fontName=font, fontSize=24, leading=30, alignment=TA_CENTER,
                                wordWrap="CJK", textColor=colors.black)
    y = _draw(pdf, _paragraph(content.holder, name_style), margin + pad, y, text_width)
    detail_style = ParagraphStyle("details", fontName=font, fontSize=12, leading=17, alignment=TA_CENTER,
                                  wordWrap="CJK", textColor=colors.HexColor("#333333"))
    for label, value in content.details:
        y = _draw(pdf, _paragraph(f"{label}：{value}", detail_style), margin + pad, y - 1 * mm, text_width)

    card_bottom = min(y - 8 * mm, card_top - 120 * mm)
    pdf.setStrokeColor(BRAND)
    pdf.setLineWidth(1.2)
    pdf.roundRect(margin, card_bottom, inner, card_top - card_bottom, 4 * mm, stroke=1, fill=0)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _draw(pdf: canvas.Canvas, paragraph: Paragraph, x: float, top: float, width: float) -> float:
    """Draw ``paragraph`` with its top at ``top``; return the y below it."""
    _w, h = paragraph.wrap(width, 10_000)
    paragraph.drawOn(pdf, x, top - h)
    return top - h


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Shorten ``text`` with an ellipsis so that it fits in ``width`` points on one line."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"
