"""The printable results list (成绩公示) as PDF: A4, one table per group (header row repeated on every page), the
entrants not fully scored listed under it, and lines for the chief judge's and the arbitration group's signatures.

Chinese text needs a CJK font embedded in the PDF: LXGW WenKai, registered once by ``core.pdf``, which reportlab
embeds as a subset. Pure module: no Flask, no database; the caller passes the texts
(``competition.results.gongshi_content``) and the font's path.
"""
from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.pdf import FONT_LOCK, FontError, cjk_font

BRAND = colors.HexColor("#b3261e")


class ResultsFontError(FontError):
    """The CJK font cannot be used: ``reason`` is ``missing`` (no such file) or ``unusable`` (not TrueType)."""

    what = "results font"


_lock = FONT_LOCK  # for modules that import it from here


def _font(path: str) -> str:
    """The registered font's name (core.pdf); ResultsFontError when it cannot be used."""
    return cjk_font(path, error=ResultsFontError)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text or "").replace("\n", "<br/>"), style)


def render_results_pdf(content, *, font_path: str) -> bytes:
    """The 成绩公示 as PDF bytes. Raises ResultsFontError when the font is missing or cannot be embedded."""
    with FONT_LOCK:  # reportlab keeps per-font state while a document is built: one document at a time
        return _render(content, _font(font_path))


def _render(content, font: str) -> bytes:
    buffer = io.BytesIO()
    width, _height = A4
    margin = 15 * mm
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=content.title, author=content.organization or "Saihui",
                            creator="Saihui", subject=content.event_title)
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=24, alignment=TA_CENTER, wordWrap="CJK")
    sub = ParagraphStyle("sub", fontName=font, fontSize=10.5, leading=15, alignment=TA_CENTER, wordWrap="CJK",
                         textColor=colors.HexColor("#444444"))
    heading = ParagraphStyle("heading", fontName=font, fontSize=13, leading=18, spaceBefore=8, spaceAfter=4,
                             textColor=BRAND, wordWrap="CJK")
    cell = ParagraphStyle("cell", fontName=font, fontSize=9.5, leading=12.5, wordWrap="CJK")
    head = ParagraphStyle("head", parent=cell, textColor=colors.white)
    small = ParagraphStyle("small", fontName=font, fontSize=9, leading=13, wordWrap="CJK",
                           textColor=colors.HexColor("#444444"))
    sign = ParagraphStyle("sign", fontName=font, fontSize=11, leading=22, wordWrap="CJK")
    inner = width - 2 * margin
    widths = [inner * f for f in (0.08, 0.10, 0.30, 0.28, 0.11, 0.13)]
    story = [_p(content.title, title), Spacer(1, 2 * mm), _p(content.event_title, sub),
             _p(f"{content.status} · {content.generated}", sub), Spacer(1, 4 * mm)]
    for section in content.sections:
        rows = [[_p(h, head) for h in content.headers]] + [[_p(str(v), cell) for v in row] for row in section.rows]
        if len(rows) == 1:
            rows.append([_p("—", cell)] + [_p("", cell)] * (len(content.headers) - 1))
        table = Table(rows, colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, 0), BRAND),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f2f1")]),
            ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]))
        story += [_p(section.name, heading), table]
        if section.incomplete:
            story += [Spacer(1, 2 * mm), _p(f"{content.incomplete_label}：" + "；".join(section.incomplete), small)]
    signature_lines = [_p(f"{label}：" + "_" * 22, sign) for label in content.signoffs]
    story += [Spacer(1, 6 * mm), _p(content.note, small), Spacer(1, 8 * mm), KeepTogether(signature_lines)]

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont(font, 8.5)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(margin, 9 * mm, content.title[:60])
        canvas.drawRightString(width - margin, 9 * mm, f"{document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
