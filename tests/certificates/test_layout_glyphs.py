"""certificates.layout (fields on the page, templates, fitting) and certificates.glyphs: worked examples with a
fake font whose every character is 1 em wide (so widths are easy to count)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certificates import glyphs, layout
from certificates.layout import MM, Field, fill_template, fit, place, tokenize, validate, wrap

em = len  # every character is 1 em: a text at size s is len(text) * s points wide


def test_templates_fill_and_drop_empty_optional_parts():
    values = {"holder": "王喆", "unit": "", "event": "云计算大赛", "group": "高职组"}
    assert fill_template("{holder}[（{unit}）]：", values) == "王喆："
    assert fill_template("在{event}[（{group}）]中荣获", values) == "在云计算大赛（高职组）中荣获"
    assert fill_template("[{unit}{holder}]同志", values) == "同志"  # one empty placeholder drops the whole part
    assert fill_template("{holder}{nope}", values) == "王喆{nope}"  # unknown placeholders are reported, not lost


def test_template_problems():
    assert layout.template_problems("body", "{holder}[（{unit}）]") == []
    assert layout.template_problems("body", "{holdr}") == [layout.Problem("body", "unknown_placeholder", "holdr")]
    assert layout.template_problems("body", "[{unit}") == [layout.Problem("body", "brackets")]
    assert layout.template_problems("body", "a]b") == [layout.Problem("body", "brackets")]
    assert layout.template_problems("body", "[[{unit}]]") == [layout.Problem("body", "brackets")]


def test_a_long_name_shrinks_on_one_line():
    # 100 mm = 283.46 pt; 10 characters at 36 pt need 360 pt: 28.3 pt fits (10 × 28.3 = 283 pt).
    assert fit("欧阳娜娜买买提艾力江", width_mm=100, max_lines=1, size=36, measure=em) == \
        layout.Fitted(28.3, ("欧阳娜娜买买提艾力江",), False)
    # A short one keeps its size.
    assert fit("王喆", width_mm=100, max_lines=1, size=36, measure=em).size == 36


def test_a_name_too_long_even_at_half_size_is_flagged_not_cut():
    fitted = fit("欧" * 40, width_mm=100, max_lines=1, size=36, measure=em)
    assert fitted.overflow and fitted.size == 18 and fitted.lines == ("欧" * 40,)


def test_a_paragraph_wraps_and_shrinks_to_its_lines():
    text = "在二〇二六年福建省云计算大赛中荣获一等奖"  # 20 characters
    # 50 mm = 141.7 pt: at 14 pt, 10 characters a line → 2 lines.
    fitted = fit(text, width_mm=50, max_lines=2, size=14, measure=em)
    assert fitted == layout.Fitted(14, ("在二〇二六年福建省云", "计算大赛中荣获一等奖"), False)
    # Only one line allowed: it shrinks until the whole text fits (141.7 / 20 = 7.0 pt).
    assert fit(text, width_mm=50, max_lines=1, size=14, measure=em).size == 7.0


def test_wrapping_rules():
    # No line starts with a closing mark or ends with an opening one; Latin words stay whole.
    assert wrap("甲乙丙，丁", 3, em) == ["甲乙", "丙，丁"]
    assert wrap("甲乙（丙丁", 3, em) == ["甲乙", "（丙丁"]
    assert wrap("Saihui platform", 8, em) == ["Saihui", "platform"]
    assert wrap("第一段\n第二段", 10, em) == ["第一段", "第二段"]
    assert wrap("　　缩进两格的段落", 5, em) == ["　　缩进两", "格的段落"]  # the indent is kept
    assert wrap("abcdefghij", 4, em) == ["abcd", "efgh", "ij"]  # a word longer than a line is cut
    assert tokenize("在“云计算”赛项") == ["在", "“云", "计", "算”", "赛", "项"]


@given(st.text(alphabet="王李张喆堃，。（）《》 abc\n", max_size=60), st.integers(min_value=1, max_value=12))
def test_wrapping_never_loses_a_character(text, width):
    lines = wrap(text, width, em)
    assert "".join(lines).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
    for line in lines:  # each line fits, unless it is one unbreakable piece (a character glued to its comma)
        assert em(line) <= width or len(tokenize(line)) == 1, (text, width, lines)


def test_place_puts_lines_in_points_from_the_bottom_left():
    field = Field("holder", x=40, y=60, width=100, size=20, align="center")
    lines = place(field, layout.Fitted(16, ("王喆",), False), "landscape")
    assert lines == [layout.Line(x=round((40 + 50) * MM, 2), y=round(210 * MM - (60 * MM + 20 * 0.88), 2),
                                 text="王喆", size=16, align="center")]
    # Pre-printed paper: the printer's offset moves it right and down.
    moved = place(field, layout.Fitted(20, ("王喆",), False), "landscape", offset=(1.5, -2))
    assert moved[0].x == round((41.5 + 50) * MM, 2)
    assert moved[0].y == round(210 * MM - (58 * MM + 20 * 0.88), 2)
    block = Field("body", x=20, y=30, width=100, size=18, lines=3)
    two = place(block, layout.Fitted(15, ("一", "二"), False), "portrait")
    assert two[0].y - two[1].y == pytest.approx(15 * layout.LEADING)


def test_qr_box():
    x, y, side = layout.qr_box(Field("qr", x=28, y=156, width=24), "landscape")
    assert (x, y, side) == (round(28 * MM, 2), round((210 - 156 - 24) * MM, 2), round(24 * MM, 2))


def test_validation_finds_fields_off_the_page():
    fields = layout.default_fields("formal", "award")
    assert validate(fields, "landscape") == []
    fields["holder"] = Field("holder", x=250, y=60, width=80, size=24)  # 250 + 80 > 297 mm
    fields["qr"] = Field("qr", x=10, y=200, width=12)  # below the bottom, and too small to scan
    fields["title"] = Field("title", x=-1, y=10, width=100, size=200, align="middle", text="{nope}")
    problems = {(p.field, p.code) for p in validate(fields, "landscape")}
    assert problems == {("holder", "off_page"), ("qr", "off_page"), ("qr", "qr_too_small"), ("title", "off_page"),
                        ("title", "size"), ("title", "align"), ("title", "unknown_placeholder")}
    # A switched-off field is not checked.
    fields["holder"] = Field("holder", enabled=False, x=250, y=60, width=80, size=24)
    assert ("holder", "off_page") not in {(p.field, p.code) for p in validate(fields, "landscape")}


@pytest.mark.parametrize("base", ["formal", "portrait", "simple", "custom"])
@pytest.mark.parametrize("kind", layout.KINDS)
def test_every_built_in_design_fits_its_page(base, kind):
    fields = layout.default_fields(base, kind)
    assert validate(fields, layout.orientation_of(base)) == []
    assert fields["qr"].enabled and fields["number"].enabled
    assert ("{holder}" in fields["body"].text) != (kind == "award")  # award: name on its own line


def test_fields_survive_a_round_trip_and_bad_numbers_are_refused():
    fields = layout.default_fields("portrait", "training")
    assert layout.fields_from_dict(layout.fields_to_dict(fields)) == fields
    with pytest.raises(layout.LayoutError):
        layout.field_from_dict("holder", {"x": "left"})
    with pytest.raises(layout.LayoutError):
        layout.field_from_dict("holder", {"x": "nan"})
    with pytest.raises(layout.LayoutError):
        layout.field_from_dict("stamp", {})


# ---------------------------------------------------------------- glyphs


def test_missing_characters_are_listed_with_the_names_that_have_them():
    available = {ord(c) for c in "王喆李张明 "}
    missing = glyphs.missing_characters(["王喆", "李𠀀", "张𠀀明", "王 喆\n", "", "张𠀀明"], available)
    assert [(m.char, m.codepoint, m.texts, m.count) for m in missing] == \
        [("𠀀", "U+20000", ("李𠀀", "张𠀀明", "张𠀀明"), 3)]


def test_the_certificate_font_has_the_rare_characters_of_names():
    from certificates.render import DEFAULT_FONT_PATH

    available = glyphs.font_characters(DEFAULT_FONT_PATH)
    assert glyphs.missing_characters(["喆堃赟犇䶮", "陳錦綉", "〔〕〇·", "SH-2026-0001"], available) == []
    # 𠀀 (U+20000, CJK extension B) is not in LXGW WenKai: it is reported, never printed as a box.
    assert [m.char for m in glyphs.missing_characters(["王𠀀"], available)] == ["𠀀"]


def test_line_breaks_from_a_browser_and_control_characters_never_reach_the_page():
    assert wrap("第一段。\r\n第二段\t完", 20, em) == ["第一段。", "第二段 完"]
    assert layout.field_from_dict("body", {"text": "甲\r\n乙\x07"}).text == "甲\n乙"
    assert fit("甲\r乙", width_mm=100, max_lines=2, size=10, measure=em).lines == ("甲", "乙")
