"""The form builder's pure rules: option lines, definitions, visibility and answers."""
import pytest
from hypothesis import given, settings, strategies as st

from registration.fields import (
    FieldKind,
    FieldSpec,
    Option,
    is_visible,
    parse_option_lines,
    validate_answers,
    validate_definitions,
)

WORKSHOP = FieldSpec("ws", FieldKind.CHOICE, "工作坊", required=True,
                     options=(Option("上午", "上午", 30), Option("下午", "下午")))
LUNCH = FieldSpec("lunch", FieldKind.TEXT, "忌口", required=True, condition_key="ws", condition_value="上午")
TOPICS = FieldSpec("topics", FieldKind.MULTI_CHOICE, "关注方向", options=(Option("云", "云"), Option("AI", "AI"), Option("安全", "安全")))


@pytest.mark.parametrize("text, expected", [
    ("上午工作坊 | 30\n下午参观", [Option("上午工作坊", "上午工作坊", 30), Option("下午参观", "下午参观", None)]),
    ("  A｜5 \n\n B ", [Option("A", "A", 5), Option("B", "B", None)]),
    ("", []),
    ("只有名字 | ", [Option("只有名字 |", "只有名字 |", None)]),
])
def test_option_lines(text, expected):
    assert parse_option_lines(text) == expected


@pytest.mark.parametrize("specs, problems", [
    ([WORKSHOP, LUNCH], []),
    ([LUNCH, WORKSHOP], [("lunch", "condition_field")]),  # depends on a later question
    ([WORKSHOP, FieldSpec("x", FieldKind.TEXT, "x", condition_key="ws", condition_value="晚上")], [("x", "condition_value")]),
    ([FieldSpec("c", FieldKind.CHOICE, "c")], [("c", "options_required")]),
    ([FieldSpec("c", FieldKind.CHOICE, "c", options=(Option("a", "a"), Option("a", "a")))], [("c", "duplicate_option")]),
    ([WORKSHOP, WORKSHOP], [("ws", "duplicate_key")]),
])
def test_definitions(specs, problems):
    assert validate_definitions(specs) == problems


@pytest.mark.parametrize("raw, answers, errors", [
    ({"ws": "上午", "lunch": "不吃辣"}, {"ws": "上午", "lunch": "不吃辣"}, {}),
    ({"ws": "上午", "lunch": ""}, {"ws": "上午"}, {"lunch": "required"}),
    ({"ws": "下午", "lunch": "sent anyway"}, {"ws": "下午"}, {}),  # hidden: dropped, not required
    ({"ws": "晚上"}, {}, {"ws": "unknown_option"}),
    ({}, {}, {"ws": "required"}),
    ({"ws": "下午", "topics": ["安全", "云", "云"]}, {"ws": "下午", "topics": ["云", "安全"]}, {}),
    ({"ws": "下午", "topics": ["区块链"]}, {"ws": "下午"}, {"topics": "unknown_option"}),
])
def test_answers(raw, answers, errors):
    result = validate_answers([WORKSHOP, LUNCH, TOPICS], raw)
    assert (result.answers, result.errors) == (answers, errors)


@pytest.mark.parametrize("kind, raw, expected", [
    (FieldKind.PHONE, "138 0013 8000", "13800138000"),
    (FieldKind.PHONE, "12345", "invalid_phone"),
    (FieldKind.EMAIL, "Wang@Example.ORG", "Wang@example.org"),
    (FieldKind.EMAIL, "not-an-email", "invalid_email"),
    (FieldKind.ID_NUMBER, "11010519491231002X", "11010519491231002X"),
    (FieldKind.ID_NUMBER, "110105194912310021", "id_checksum"),
    (FieldKind.NUMBER, "1,234.50", "1234.50"),
    (FieldKind.NUMBER, "NaN", "not_a_number"),
    (FieldKind.NUMBER, "1e30", "not_a_number"),
    (FieldKind.DATE, "2026-05-20", "2026-05-20"),
    (FieldKind.DATE, "2026-02-30", "not_a_date"),
    (FieldKind.TEXT, "x" * 201, "too_long"),
    (FieldKind.TEXT, "bell\x07", "control_characters"),
])
def test_kinds(kind, raw, expected):
    result = validate_answers([FieldSpec("q", kind, "q")], {"q": raw})
    assert result.answers.get("q", result.errors.get("q")) == expected


def test_visibility_with_multiple_choice_condition():
    follow = FieldSpec("sec", FieldKind.TEXT, "安全方向细节", condition_key="topics", condition_value="安全")
    assert is_visible(follow, {"topics": ["云", "安全"]})
    assert not is_visible(follow, {"topics": ["云"]})
    assert not is_visible(follow, {})


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["ws", "lunch", "topics", "other"]),
                       st.one_of(st.text(max_size=300), st.lists(st.text(max_size=20), max_size=5)), max_size=4))
def test_answers_never_crash_and_only_keep_known_visible_keys(raw):
    result = validate_answers([WORKSHOP, LUNCH, TOPICS], raw)
    assert set(result.answers) <= {"ws", "lunch", "topics"}
    assert not set(result.answers) & set(result.errors)
    if "lunch" in result.answers:
        assert result.answers["ws"] == "上午"
