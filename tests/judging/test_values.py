"""judging.values: a judge's value is parsed strictly but helpfully and checked against its criterion."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judging.values import (
    CriterionKind,
    CriterionSpec,
    Precision,
    Rounding,
    ValueProblem,
    decimal_places,
    ladder_to_marks,
    marks_of,
    parse_number,
    validate_optional_value,
    validate_value,
)

D = Decimal
HALF = CriterionSpec(maximum=D(10), step=D("0.5"))  # a judgement criterion: 0–10 in steps of 0.5, 2 places
FREE = CriterionSpec(maximum=D(20))  # no step: any value with at most 2 decimals
FULL_OR_ZERO = CriterionSpec.full_or_zero(D(5))  # measurement: 0 or 5 only
MEASURED = CriterionSpec(maximum=D(4), step=D("0.25"), kind=CriterionKind.MEASUREMENT)  # measurement on a step
LADDER = CriterionSpec.on_ladder(D(6))  # WorldSkills 0–3 ladder, 6 marks


def problem(spec, value) -> str:
    with pytest.raises(ValueProblem) as caught:
        validate_value(spec, value)
    return caught.value.code


@pytest.mark.parametrize(
    "spec, value, expected",
    [
        (HALF, "7.5", D("7.50")),
        (HALF, 7, D("7.00")),
        (HALF, D("7.5"), D("7.50")),
        (HALF, 7.5, D("7.50")),  # a JSON float, read by its shortest form
        (HALF, "７.５", D("7.50")),  # full-width digits (Chinese input method)
        (HALF, "７．５", D("7.50")),  # full-width digits and full-width point
        (HALF, "7。5", D("7.50")),  # the ideographic full stop typed for "."
        (HALF, " 8 ", D("8.00")),
        (HALF, "\u30008\u3000", D("8.00")),  # ideographic spaces around
        (HALF, "＋8", D("8.00")),
        (HALF, ".5", D("0.50")),
        (HALF, "7.", D("7.00")),
        (HALF, "7.500000", D("7.50")),  # trailing zeros are not extra decimals
        (HALF, "0", D("0.00")),  # zero is a value
        (HALF, "-0", D("0.00")),  # and minus zero is zero, not negative
        (HALF, "10", D("10.00")),  # the maximum itself
        (FREE, "13.37", D("13.37")),
        (FREE, 0, D("0.00")),
        (FULL_OR_ZERO, "5", D("5.00")),
        (FULL_OR_ZERO, "0", D("0.00")),
        (MEASURED, "3.75", D("3.75")),
        (LADDER, "2", D(2)),  # a ladder criterion stores the level
        (LADDER, "３", D(3)),
        (LADDER, "0", D(0)),
        (LADDER, D("2.0"), D(2)),
    ],
)
def test_valid_values(spec, value, expected):
    result = validate_value(spec, value)
    assert result == expected
    assert str(result) == str(expected)  # quantized to the precision, so stored and shown alike


@pytest.mark.parametrize(
    "spec, value, code",
    [
        (HALF, None, "blank"),
        (HALF, "", "blank"),
        (HALF, "   ", "blank"),
        (HALF, "\u3000", "blank"),
        (HALF, "abc", "not_a_number"),
        (HALF, "1e1", "not_a_number"),  # exponents are not how people write scores
        (HALF, "7.5.1", "not_a_number"),
        (HALF, "7 .5", "not_a_number"),
        (HALF, "NaN", "not_a_number"),
        (HALF, "Infinity", "not_a_number"),
        (HALF, float("nan"), "not_a_number"),
        (HALF, float("inf"), "not_a_number"),
        (HALF, D("NaN"), "not_a_number"),
        (HALF, True, "not_a_number"),  # bool is an int in Python, but not a score
        (HALF, [7], "not_a_number"),
        (HALF, "7" * 50, "not_a_number"),  # absurdly long
        (HALF, "8,5", "decimal_comma"),
        (HALF, "８，５", "decimal_comma"),
        (HALF, "1,000", "decimal_comma"),
        (HALF, "-1", "negative"),
        (HALF, "－0.5", "negative"),
        (HALF, "10.5", "above_maximum"),
        (HALF, "11", "above_maximum"),
        (HALF, D("1E+30"), "above_maximum"),
        (HALF, "7.125", "too_many_decimals"),  # 3 places > precision 2 (checked before the step)
        (HALF, 2.675, "too_many_decimals"),
        (HALF, D("1E-30"), "too_many_decimals"),
        (HALF, "7.25", "off_step"),  # step 0.5: 7.25 refused
        (HALF, "0.1", "off_step"),
        (FREE, "13.333", "too_many_decimals"),
        (FULL_OR_ZERO, "2.5", "not_allowed"),
        (FULL_OR_ZERO, "4.99", "not_allowed"),
        (MEASURED, "3.8", "off_step"),
        (LADDER, "4", "not_a_level"),
        (LADDER, "1.5", "not_a_level"),
        (LADDER, "-1", "not_a_level"),
        (LADDER, None, "blank"),
        (LADDER, "x", "not_a_number"),
    ],
)
def test_refused_values(spec, value, code):
    assert problem(spec, value) == code


def test_messages_help_to_correct_the_value():
    with pytest.raises(ValueProblem) as caught:
        validate_value(HALF, "7.25")
    assert caught.value.params == {"step": "0.5", "lower": "7", "upper": "7.5"}
    assert "7 or 7.5" in caught.value.message
    with pytest.raises(ValueProblem) as caught:
        validate_value(HALF, "8,5")
    assert caught.value.params == {"suggestion": "8.5"} and "8.5" in caught.value.message
    with pytest.raises(ValueProblem) as caught:
        validate_value(FULL_OR_ZERO, "3")
    assert caught.value.params == {"allowed": "0 or 5"}
    with pytest.raises(ValueProblem) as caught:
        validate_value(HALF, "12")
    assert caught.value.params == {"maximum": "10"}


def test_blank_is_not_zero():
    assert validate_optional_value(HALF, None) is None
    assert validate_optional_value(HALF, " ") is None
    assert validate_optional_value(HALF, "0") == 0
    assert validate_optional_value(HALF, 0) is not None
    with pytest.raises(ValueProblem):
        validate_optional_value(HALF, "7.25")  # a draft may be blank, but not wrong


def test_a_float_is_read_by_its_shortest_form_not_its_binary_value():
    # 7.1 as a binary float is 7.0999999999999996447…; read as 7.1 it is on a 0.1 step.
    tenth = CriterionSpec(maximum=D(10), step=D("0.1"))
    assert validate_value(tenth, 7.1) == D("7.10")
    assert parse_number(0.1 + 0.2) == D("0.30000000000000004")  # and a float's real noise is not hidden


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"maximum": D(0)}, "maximum"),
        ({"maximum": D(-5)}, "maximum"),
        ({"maximum": "ten"}, "maximum"),
        ({"maximum": 10.0}, "maximum"),  # floats are not accepted in definitions either
        ({"maximum": D("10.125")}, "maximum"),
        ({"maximum": D(10), "step": D(0)}, "step"),
        ({"maximum": D(10), "step": D(11)}, "step"),
        ({"maximum": D(10), "step": D(3)}, "step"),  # 10 is not reachable in steps of 3
        ({"maximum": D(10), "step": D("0.125")}, "step"),
        ({"maximum": D(10), "ladder": True, "kind": CriterionKind.MEASUREMENT}, "ladder"),
        ({"maximum": D(10), "allowed": (D(0), D(11))}, "allowed"),
        ({"maximum": D(10), "allowed": ()}, "allowed"),
        ({"maximum": D(10), "ladder": True, "allowed": (D(0),)}, "allowed"),
        ({"maximum": D(10), "places": 9}, "places"),
    ],
)
def test_invalid_criteria_are_reported_with_their_field(kwargs, field):
    with pytest.raises(ValueProblem) as caught:
        CriterionSpec(**kwargs)
    assert caught.value.code == "invalid_criterion"
    assert caught.value.params["field"] == field


@pytest.mark.parametrize(
    "level, maximum, places, expected",
    [
        # level / 3 × maximum, by hand:
        (0, D(6), 2, D("0.00")),
        (1, D(6), 2, D("2.00")),
        (2, D(6), 2, D("4.00")),
        (3, D(6), 2, D("6.00")),
        (1, D(5), 2, D("1.67")),  # 5/3 = 1.666… → 1.67 half-up
        (2, D(5), 2, D("3.33")),  # 10/3 = 3.333… → 3.33
        (2, D(5), 1, D("3.3")),
        (1, D(10), 0, D("3")),  # 3.333… → 3
        (2, D(10), 0, D("7")),  # 6.666… → 7
    ],
)
def test_ladder_to_marks(level, maximum, places, expected):
    assert ladder_to_marks(level, maximum, Precision(places)) == expected


def test_ladder_to_marks_unrounded_and_rounding_rules():
    assert ladder_to_marks(1, D(5)) == D(5) / 3  # exact to 28 digits: aggregation rounds later, once
    assert ladder_to_marks(2, D(5), Precision(2, Rounding.UP)) == D("3.34")
    assert ladder_to_marks(2, D(5), Precision(2, Rounding.DOWN)) == D("3.33")
    for level in (4, -1, D("1.5"), True, "2"):
        with pytest.raises(ValueProblem) as caught:
            ladder_to_marks(level, D(5))
        assert caught.value.code == "not_a_level"


def test_marks_of_a_stored_value():
    assert marks_of(HALF, D("7.50")) == D("7.5")
    assert marks_of(LADDER, D(2)) == D(4)


@pytest.mark.parametrize(
    "value, rounding, expected",
    [
        # The float trap: round(2.675, 2) == 2.67 because 2.675 is 2.67499999… in binary. Decimal half-up: 2.68.
        (D("2.675"), Rounding.HALF_UP, D("2.68")),
        (D("2.674"), Rounding.HALF_UP, D("2.67")),
        (D("2.671"), Rounding.UP, D("2.68")),
        (D("2.679"), Rounding.DOWN, D("2.67")),
        (D("2.670"), Rounding.UP, D("2.67")),
        (D("-0.001"), Rounding.HALF_UP, D("0.00")),
    ],
)
def test_precision_quantize(value, rounding, expected):
    result = Precision(2, rounding).quantize(value)
    assert result == expected and str(result) == str(expected)
    assert round(2.675, 2) == 2.67  # what floats would have done


def test_decimal_places_ignores_trailing_zeros():
    assert [decimal_places(D(text)) for text in ("7", "7.50", "7.125", "700", "1E+2", "0.000")] == [0, 1, 3, 0, 0, 0]


@given(st.integers(0, 20).map(lambda k: D(k) / 2))
def test_every_value_on_the_step_is_accepted_in_any_spelling(value):
    assert validate_value(HALF, value) == value
    assert validate_value(HALF, format(value, "f")) == value
    full_width = format(value, "f").translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    assert validate_value(HALF, full_width) == value


@given(st.one_of(st.none(), st.text(max_size=12), st.integers(), st.floats(allow_nan=True), st.decimals()))
def test_anything_is_either_a_valid_value_or_a_problem(value):
    try:
        result = validate_value(HALF, value)
    except ValueProblem as refused:
        assert refused.code in {"blank", "not_a_number", "decimal_comma", "negative", "above_maximum",
                                "too_many_decimals", "off_step"}
        assert refused.message
    else:
        assert 0 <= result <= 10 and result % D("0.5") == 0 and result.as_tuple().exponent == -2
