"""Rendered certificates checked as a person would: the font is embedded as a subset (pdffonts), the names come
out of the PDF as text (pdftotext), and the QR code decodes (pdftoppm + zxing-cpp)."""
from __future__ import annotations

import pytest

from certificates import layout, render
from tests.certificates.helpers import RARE_NAMES, decode_qr_codes, pdf_fonts, pdf_pages, pdf_text

VALUES = {
    "award": "一等奖", "competition": "云计算", "group": "高职组", "event": "2026年福建省云计算、小程序行业技能大赛",
    "organizers": "福建省信息化协会", "date": "二〇二六年十一月二十四日", "dates": "二〇二六年十一月二十一日至二十三日",
    "organization": "福建省信息化协会", "unit": "厦门大学",
}


def page(name: str, number: str = "〔2026〕闽信协证字第0001号", code: str = "AB23CD45EF") -> render.PageContent:
    return render.PageContent(values={**VALUES, "holder": name, "number": number, "code": code},
                              qr_url=f"http://testserver/verify/{code}")


def design(base="formal", kind="award", **extra) -> render.DesignSpec:
    return render.DesignSpec(base=base, orientation=layout.orientation_of(base),
                             fields=layout.default_fields(base, kind), **extra)


@pytest.mark.parametrize("base", ["formal", "portrait", "simple"])
def test_font_is_embedded_as_a_subset_and_names_are_text(base, tmp_path):
    pdf = render.render_pdf(design(base), [page(n, code=f"CODE{i}2345X") for i, n in enumerate(RARE_NAMES)])
    assert pdf_pages(pdf) == len(RARE_NAMES)
    fonts = pdf_fonts(pdf, tmp_path)
    assert fonts, "no font in the PDF"
    for font in fonts:  # every font is the embedded subset of LXGW WenKai (no standard, unembedded font)
        assert font["emb"] == "yes" and font["sub"] == "yes", font["line"]
        assert "+" in font["name"] and "LXGW" in font["name"], font["line"]
    text = pdf_text(pdf, tmp_path)
    for name in RARE_NAMES:  # 喆 堃 赟 犇 䶮 and a Traditional name come out exactly
        assert name in text
    assert "一等奖" in text and "〔2026〕闽信协证字第0001号" in text


def test_a_name_beyond_the_bmp_is_drawn_and_extracted_exactly(tmp_path):
    """𠮷 (U+20BB7, a variant of 吉): reportlab's own ToUnicode map would turn it into U+20BB."""
    pdf = render.render_pdf(design("simple"), [page("𠮷祥")])
    assert "𠮷祥" in pdf_text(pdf, tmp_path)


@pytest.mark.parametrize("base", ["formal", "portrait", "simple"])
def test_the_qr_code_decodes_to_the_verification_address(base, tmp_path):
    pdf = render.render_pdf(design(base), [page("王喆", code="QR7K9M2PXW")])
    assert decode_qr_codes(pdf, tmp_path) == ["http://testserver/verify/QR7K9M2PXW"]


def test_many_codes_decode(tmp_path):
    """The mask pattern is fixed (for speed): codes of all shapes still decode from a 150 dpi scan."""
    import secrets

    from certificates.services import VERIFY_ALPHABET

    codes = ["".join(secrets.choice(VERIFY_ALPHABET) for _ in range(10)) for _ in range(12)]
    pdf = render.render_pdf(design("simple"), [page("王喆", code=c) for c in codes])
    for number, code in enumerate(codes, start=1):
        assert decode_qr_codes(pdf, tmp_path, page=number) == [f"http://testserver/verify/{code}"]


def test_a_character_the_font_lacks_is_refused_before_drawing():
    with pytest.raises(render.MissingGlyphs) as caught:
        render.render_pdf(design(), [page("王喆"), page("李𠀀")])
    assert [(m.char, m.texts) for m in caught.value.missing] == [("𠀀", ("李𠀀：",))]


def test_pre_printed_paper_prints_only_the_fields_moved_by_the_offset(tmp_path):
    plain = render.render_pdf(design(), [page("王喆")])
    fields_only = render.render_pdf(design(preprinted=True, offset=(2.0, -1.5)), [page("王喆")])
    assert "王喆" in pdf_text(fields_only, tmp_path)
    # The border and its ornaments are not drawn: the page stream is much shorter.
    assert len(fields_only) < len(plain)
    assert decode_qr_codes(fields_only, tmp_path) == ["http://testserver/verify/AB23CD45EF"]


def test_a_custom_background_is_drawn_under_the_fields(tmp_path):
    import io

    from PIL import Image

    image = Image.new("RGB", (1485, 1050), (250, 240, 220))
    for x in range(0, 1485, 40):
        for y in range(0, 1050):
            image.putpixel((x, y), (180, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    spec = render.DesignSpec(base="custom", orientation="landscape", fields=layout.default_fields("custom", "award"),
                             background=buffer.getvalue())
    pdf = render.render_pdf(spec, [page("王喆"), page("李堃")])
    assert pdf.count(b"/Subtype /Image") == 1  # one image object shared by both pages
    assert "李堃" in pdf_text(pdf, tmp_path)
    assert decode_qr_codes(pdf, tmp_path) == ["http://testserver/verify/AB23CD45EF"]


def test_calibration_page(tmp_path):
    labels = render.CalibrationLabels(heading="校准页", instructions=("按100%打印",), offset="当前偏移")
    pdf = render.render_calibration(design(preprinted=True, offset=(1.5, -2.0)), labels,
                                    field_labels={"holder": "获奖者"})
    text = pdf_text(pdf, tmp_path)
    assert "校准页" in text and "获奖者" in text and "+1.5 mm, -2.0 mm" in text


def test_a_missing_or_unusable_font_is_reported(tmp_path):
    with pytest.raises(render.FontError) as missing:
        render.render_pdf(design(), [page("王喆")], font_path=str(tmp_path / "nope.ttf"), check=False)
    assert missing.value.reason == "missing"
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    with pytest.raises(render.FontError) as unusable:
        render.render_pdf(design(), [page("王喆")], font_path=str(broken), check=False)
    assert unusable.value.reason == "unusable"


def test_overflow_is_reported_not_hidden():
    report = render.RenderReport()
    render.render_pdf(design(), [page("王" * 60)], report=report)
    assert (0, "holder") in report.overflow


def test_preview_png():
    png = render.pdf_to_png(render.render_pdf(design(), [page("王喆")]), dpi=30)
    assert png.startswith(b"\x89PNG")
