"""core.pdf: the CJK font registered once for every PDF, each kind of document keeping its own error class."""
from __future__ import annotations

from pathlib import Path

import pytest

from core import pdf


def font_or_skip() -> str:
    if not Path(pdf.DEFAULT_FONT_PATH).is_file():
        pytest.skip(f"the CJK font is not installed (apt-get install {pdf.FONT_PACKAGE})")
    return pdf.DEFAULT_FONT_PATH


def test_the_font_is_registered_once_and_shared_by_every_kind_of_document():
    from certificates import render
    from competition import results_pdf
    from registration import ticket_pdf

    path = font_or_skip()
    name = pdf.cjk_font(path)
    assert pdf.cjk_font(path) == name
    assert ticket_pdf._font(path) == results_pdf._font(path) == render.font_name(path) == name
    assert ticket_pdf._lock is results_pdf._lock is render._lock is pdf.FONT_LOCK


@pytest.mark.parametrize(("module", "error", "what"), [
    ("registration.ticket_pdf", "TicketFontError", "ticket font"),
    ("competition.results_pdf", "ResultsFontError", "results font"),
    ("certificates.render", "FontError", "certificate font"),
])
def test_each_kind_of_document_raises_its_own_error(tmp_path, module, error, what):
    import importlib

    mod = importlib.import_module(module)
    error_class = getattr(mod, error)
    assert issubclass(error_class, pdf.FontError)
    missing = str(tmp_path / "none.ttf")
    with pytest.raises(error_class) as info:
        pdf.cjk_font(missing, error=error_class)
    assert (info.value.path, info.value.reason, str(info.value)) == (missing, "missing", f"{what} {missing}: missing")
    not_a_font = tmp_path / "fake.ttf"
    not_a_font.write_bytes(b"this is not a TrueType font")
    with pytest.raises(error_class) as info:
        pdf.cjk_font(str(not_a_font), error=error_class)
    assert info.value.reason == "unusable"
    # a failed attempt registers nothing: the same path fails again, it is not taken as a font later
    with pytest.raises(pdf.FontError):
        pdf.cjk_font(str(not_a_font))


def test_the_lock_is_reentrant_so_a_renderer_holding_it_may_register():
    path = font_or_skip()
    with pdf.FONT_LOCK:
        assert pdf.cjk_font(path) == pdf.cjk_font(path)
