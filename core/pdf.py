"""The CJK font embedded in every PDF the app makes (tickets, badges, certificates, results lists, judging reports).

Chinese text needs a CJK font embedded in the PDF: a printer or phone without it would show empty boxes, and names
with rare characters (王喆, 李堃, 张赟, 𠮷) must print exactly. reportlab embeds TrueType fonts as a subset (only the
characters used), so the files stay small. It cannot embed CFF-flavoured OpenType fonts (Noto CJK ``.otf`` /
``.ttc``); we use LXGW WenKai (霞鹜文楷), a TrueType CJK font under the OFL, packaged by Debian as
``fonts-lxgw-wenkai`` (``scripts/system-deps.sh`` installs it).

``cjk_font(path)`` registers the font with reportlab once per process and returns its name; every module uses that
one registration. reportlab keeps per-document state in the shared font object (the subset being collected, the
font file's read position), so a document that uses it is built under ``FONT_LOCK``, one at a time.

Pure module: no Flask.
"""
from __future__ import annotations

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

DEFAULT_FONT_PATH = "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf"
FONT_PACKAGE = "fonts-lxgw-wenkai"

# Held while a document using a registered font is built, and while registering. Re-entrant: a renderer holding it
# may call cjk_font.
FONT_LOCK = threading.RLock()
_names: dict[str, str] = {}  # font path -> registered reportlab font name


class FontError(RuntimeError):
    """The font cannot be used: ``reason`` is ``missing`` (no such file) or ``unusable`` (not TrueType).

    Each kind of document has its subclass (``TicketFontError``, ``ResultsFontError``, ...), which its views catch;
    ``what`` names the font in the message."""

    what = "font"

    def __init__(self, path: str, reason: str):
        super().__init__(f"{self.what} {path}: {reason}")
        self.path = path
        self.reason = reason


def cjk_font(path: str = DEFAULT_FONT_PATH, *, error: type[FontError] = FontError) -> str:
    """Register the TrueType font at ``path`` with reportlab (once per process) and return its reportlab name.
    Raises ``error(path, "missing" | "unusable")`` when the file is absent or cannot be embedded."""
    with FONT_LOCK:
        name = _names.get(path)
        if name is not None:
            return name
        if not Path(path).is_file():
            raise error(path, "missing")
        name = f"SaihuiCJK{len(_names) + 1}"
        try:
            pdfmetrics.registerFont(TTFont(name, path))
        except (TTFError, OSError, ValueError) as failure:  # e.g. a CFF-flavoured .otf, or not a font at all
            raise error(path, "unusable") from failure
        _names[path] = name
        return name
