"""judging.aggregation: worked examples computed by hand (written out beside each case) and invariants."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judging.aggregation import (
    CombineRule,
    Method,
    MissingScore,
    NormalizationMethod,
    NormalizationRule,
    RoundScheme,
    RoundTotal,
    Rubric,
    RubricCriterion,
    aggregate,
    combine,
    combine_rounds,
    compute_results,
    compute_total,
    normalize,
    score_entrant,
)
from judging.values import CriterionKind, Precision, Rounding

D = Decimal
FIVE = {"J1": D("7.5"), "J2": D("8.0"), "J3": D("9.0"), "J4": D("9.5"), "J5": D("6.0")}
FOUR = {"J1": D("7.5"), "J2": D("8.0"), "J3": D("9.0"), "J4": D("6.0")}


def values(*numbers) -> dict[str, Decimal]:
    return {f"J{i}": None if n is None else D(str(n)) for i, n in enumerate(numbers, start=1)}


# ------------------------------------------------------------------------------------------ one panel, by hand


@pytest.mark.parametrize(
    "panel, rule, exact, score, dropped",
    [
        # Trimmed mean, 5 judges (≥ N = 5): sorted 6.0 7.5 8.0 9.0 9.5 → drop 6.0 (J5) and 9.5 (J4);
        # (7.5 + 8.0 + 9.0) / 3 = 24.5 / 3 = 8.1666… → 8.17 half-up.
        (FIVE, CombineRule(Method.TRIMMED_MEAN), D("24.5") / 3, D("8.17"), ("J5", "J4")),
        # Trimmed mean, 4 judges (< N = 5): the plain mean, nothing dropped:
        # (7.5 + 8.0 + 9.0 + 6.0) / 4 = 30.5 / 4 = 7.625 → 7.63 half-up.
        (FOUR, CombineRule(Method.TRIMMED_MEAN), D("7.625"), D("7.63"), ()),
        # … rounded down instead: 7.62; up: 7.63.
        (FOUR, CombineRule(Method.TRIMMED_MEAN, precision=Precision(2, Rounding.DOWN)), D("7.625"), D("7.62"), ()),
        (FOUR, CombineRule(Method.TRIMMED_MEAN, precision=Precision(2, Rounding.UP)), D("7.625"), D("7.63"), ()),
        # Trimmed mean, 4 judges with N configured to 4: drop 6.0 (J4) and 9.0 (J3): (7.5 + 8.0) / 2 = 7.75.
        (FOUR, CombineRule(Method.TRIMMED_MEAN, trim_min_judges=4), D("7.75"), D("7.75"), ("J4", "J3")),
        # Trimmed mean, 5 judges, two share the highest value 9.5: only one of them is dropped (the first by key):
        # sorted 6.0 7.5 8.0 9.5 9.5 → (7.5 + 8.0 + 9.5) / 3 = 25 / 3 = 8.333… → 8.33.
        (values("7.5", "8.0", "9.5", "9.5", "6.0"), CombineRule(Method.TRIMMED_MEAN), D(25) / 3, D("8.33"),
         ("J5", "J4")),
        # Two closest, 3 judges: 7.0 8.5 9.0 — gaps 1.5 and 0.5 → (8.5 + 9.0) / 2 = 8.75, J1 not used.
        (values("7.0", "8.5", "9.0"), CombineRule(Method.TWO_CLOSEST), D("8.75"), D("8.75"), ("J1",)),
        # Two closest, pairs tied: 6 8 10 — gaps 2 and 2 → average of the pair means (7 + 9) / 2 = 8 (the middle).
        (values(6, 8, 10), CombineRule(Method.TWO_CLOSEST), D(8), D("8.00"), ()),
        # 6.5 7.5 8.5 — gaps 1 and 1 → (7.0 + 8.0) / 2 = 7.5.
        (values("6.5", "7.5", "8.5"), CombineRule(Method.TWO_CLOSEST), D("7.5"), D("7.50"), ()),
        # Two equal values are the closest pair: 7 9 9 → 9, J1 not used.
        (values(7, 9, 9), CombineRule(Method.TWO_CLOSEST), D(9), D("9.00"), ("J1",)),
        # Two closest with 2 judges: plain mean (7 + 8) / 2 = 7.5.
        (values(7, 8), CombineRule(Method.TWO_CLOSEST), D("7.5"), D("7.50"), ()),
        # Median, 5 judges: sorted 6.0 7.5 [8.0] 9.0 9.5 → 8.0 (J2 used, the rest not).
        (FIVE, CombineRule(Method.MEDIAN), D("8.0"), D("8.00"), ("J5", "J1", "J3", "J4")),
        # Median, 4 judges: sorted 6.0 [7.5 8.0] 9.0 → (7.5 + 8.0) / 2 = 7.75.
        (FOUR, CombineRule(Method.MEDIAN), D("7.75"), D("7.75"), ("J4", "J3")),
        # Mean, 3 judges: (7 + 8 + 8) / 3 = 23 / 3 = 7.666… → 7.67 half-up.
        (values(7, 8, 8), CombineRule(Method.MEAN), D(23) / 3, D("7.67"), ()),
        (values(7, 8, 8), CombineRule(Method.MEAN, precision=Precision(2, Rounding.DOWN)), D(23) / 3, D("7.66"), ()),
        (values(7, 8, 8), CombineRule(Method.MEAN, precision=Precision(1)), D(23) / 3, D("7.7"), ()),
        # One judge (a measurement criterion entered once): the value itself.
        ({"M": D("3.75")}, CombineRule(Method.TRIMMED_MEAN), D("3.75"), D("3.75"), ()),
    ],
)
def test_combine_worked_examples(panel, rule, exact, score, dropped):
    result = combine(panel, rule)
    assert abs(result.exact - exact) < D("1e-25")  # the hand value 24.5 / 3 is only computed to 28 digits
    assert result.score == score and str(result.score) == str(score)
    assert set(result.dropped) == set(dropped)
    assert set(result.used) | set(result.dropped) == set(panel)
    assert result.spread == max(panel.values()) - min(panel.values())


def test_decimal_half_up_where_floats_would_round_down():
    # Two judges give 2.67 and 2.68: the mean is exactly 2.675, which half-up makes 2.68.
    # In binary floats 2.675 is 2.67499999…, so round((2.67 + 2.68) / 2, 2) gives 2.67.
    assert round((2.67 + 2.68) / 2, 2) == 2.67
    assert combine(values("2.67", "2.68")).score == D("2.68")
    assert combine(values("2.67", "2.68"), CombineRule(precision=Precision(2, Rounding.DOWN))).score == D("2.67")
    assert combine(values("2.67", "2.68"), CombineRule(precision=Precision(2, Rounding.UP))).score == D("2.68")
    with pytest.raises(TypeError):
        combine({"J1": 2.67, "J2": 2.68})  # a float never enters the arithmetic


def test_combine_refuses_nonsense():
    with pytest.raises(ValueError):
        combine({})
    with pytest.raises(ValueError):
        CombineRule(Method.TRIMMED_MEAN, trim_min_judges=2)


# ------------------------------------------------------------------------------------------ entrants and totals

# Theory (module A, 30%) is one measured criterion out of 100; practice (module B, 70%) has two judged criteria,
# B1 out of 40 and B2 out of 60, scored by three judges.
WEIGHTED = Rubric(
    criteria=(
        RubricCriterion("A1", "A", D(100), CriterionKind.MEASUREMENT),
        RubricCriterion("B1", "B", D(40)),
        RubricCriterion("B2", "B", D(60)),
    ),
    module_weights={"A": D(30), "B": D(70)},
)
PLAIN = Rubric(criteria=WEIGHTED.criteria)
SHEET = {
    "A1": {"M": D(78)},
    "B1": {"J1": D(30), "J2": D(32), "J3": D(33)},
    "B2": {"J1": D(50), "J2": D(51), "J3": D(55)},
}


def test_weighted_total_30_70_by_hand():
    # B1 = (30 + 32 + 33) / 3 = 95 / 3 = 31.666… → 31.67;  B2 = (50 + 51 + 55) / 3 = 52.00.
    # Module A = 78 (of 100); module B = 31.67 + 52.00 = 83.67 (of 100).
    # Total = 78 / 100 × 30 + 83.67 / 100 × 70 = 23.4 + 58.569 = 81.969 → 81.97.
    result = score_entrant(WEIGHTED, "E1", SHEET)
    assert result.complete and result.missing == ()
    assert result.criteria["B1"].score == D("31.67")
    assert result.criteria["B2"].score == D("52.00")
    assert result.modules == {"A": D(78), "B": D("83.67")}
    assert result.total == D("81.97")
    assert WEIGHTED.maximum == 100


def test_plain_sum_without_weights():
    # 78 + 31.67 + 52.00 = 161.67 (of 200).
    result = score_entrant(PLAIN, "E1", SHEET)
    assert result.total == D("161.67") and PLAIN.maximum == 200


def test_weights_equal_to_the_module_maxima_give_the_plain_sum():
    rubric = Rubric(
        criteria=(RubricCriterion("A1", "A", D(30)), RubricCriterion("B1", "B", D(70))),
        module_weights={"A": D(30), "B": D(70)},
    )
    # 21.5 / 30 × 30 + 60.25 / 70 × 70 = 81.75, as 21.5 + 60.25.
    assert compute_total(rubric, {"A1": D("21.5"), "B1": D("60.25")})[1] == D("81.75")


def test_rounding_happens_at_the_end_of_each_step_not_only_at_the_end():
    # Three criteria, each scored 0, 0, 1 by three judges: each combined score is 1/3 = 0.333… → 0.33;
    # the total is the sum of the rounded scores, 0.99 — not round(1/3 + 1/3 + 1/3) = 1.00.
    rubric = Rubric(criteria=tuple(RubricCriterion(f"C{i}", "A", D(1)) for i in range(3)))
    sheet = {f"C{i}": values(0, 0, 1) for i in range(3)}
    assert score_entrant(rubric, "E1", sheet).total == D("0.99")


def test_missing_scores_make_an_entrant_incomplete_never_averaged_over_fewer_judges():
    sheet = {
        "A1": {"M": D(78)},
        "B1": {"J1": D(30), "J2": D(32), "J3": None},  # J3 has not submitted B1
        # B2: nobody assigned at all
    }
    result = score_entrant(WEIGHTED, "E1", sheet)
    assert not result.complete
    assert result.missing == (MissingScore("B1", "J3"), MissingScore("B2", None))
    assert result.criteria["B1"].score is None  # not (30 + 32) / 2 = 31
    assert result.criteria["A1"].score == D(78)  # what is complete is still shown
    assert result.modules == {"A": D(78), "B": None}
    assert result.total is None


def test_scores_for_unknown_criteria_are_refused():
    with pytest.raises(ValueError):
        score_entrant(PLAIN, "E1", {**SHEET, "Z9": {"J1": D(1)}})


def test_per_criterion_method_overrides_the_rule():
    rubric = Rubric(criteria=(RubricCriterion("C1", "A", D(10), method=Method.MEDIAN),
                              RubricCriterion("C2", "A", D(10))))
    # C1 median of 1, 2, 9 = 2; C2 mean of 1, 2, 9 = 4 → total 6.
    result = score_entrant(rubric, "E1", {"C1": values(1, 2, 9), "C2": values(1, 2, 9)})
    assert (result.criteria["C1"].score, result.criteria["C2"].score, result.total) == (D(2), D(4), D(6))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"criteria": ()},
        {"criteria": (RubricCriterion("A1", "A", D(10)), RubricCriterion("A1", "A", D(10)))},
        {"criteria": (RubricCriterion("A1", "A", D(10)),), "module_weights": {"A": D(90)}},
        {"criteria": (RubricCriterion("A1", "A", D(10)),), "module_weights": {"A": D(100), "B": D(0)}},
        {"criteria": (RubricCriterion("A1", "A", D(10)), RubricCriterion("B1", "B", D(10))),
         "module_weights": {"A": D(-10), "B": D(110)}},
    ],
)
def test_invalid_rubrics(kwargs):
    with pytest.raises(ValueError):
        Rubric(**kwargs)


# -------------------------------------------------------------------------------------------------- rounds


@pytest.mark.parametrize(
    "totals, scheme, expected, missing",
    [
        # 40% × 85.50 / 100 + 60% × 90.25 / 100 of 100 = 34.2 + 54.15 = 88.35
        ({"pre": RoundTotal(D("85.50"), D(100)), "final": RoundTotal(D("90.25"), D(100))},
         RoundScheme(weights={"pre": D(40), "final": D(60)}), D("88.35"), ()),
        # different maxima: 42 / 60 × 30 + 90 / 100 × 70 = 21 + 63 = 84.00
        ({"pre": RoundTotal(D(42), D(60)), "final": RoundTotal(D(90), D(100))},
         RoundScheme(weights={"pre": D(30), "final": D(70)}), D("84.00"), ()),
        # the final round alone
        ({"pre": RoundTotal(D("85.50"), D(100)), "final": RoundTotal(D("90.25"), D(100))},
         RoundScheme(final_round="final"), D("90.25"), ()),
        # the final round alone does not need the preliminary round
        ({"pre": RoundTotal(None, D(100)), "final": RoundTotal(D("90.25"), D(100))},
         RoundScheme(final_round="final"), D("90.25"), ()),
        # a missing round makes the combination incomplete
        ({"pre": RoundTotal(D("85.50"), D(100)), "final": RoundTotal(None, D(100))},
         RoundScheme(weights={"pre": D(40), "final": D(60)}), None, ("final",)),
        ({"pre": RoundTotal(D("85.50"), D(100))}, RoundScheme(final_round="final"), None, ("final",)),
    ],
)
def test_combine_rounds(totals, scheme, expected, missing):
    result = combine_rounds(totals, scheme)
    assert result.total == expected and result.missing == missing


def test_round_scheme_needs_exactly_one_rule():
    for kwargs in ({}, {"final_round": "f", "weights": {"f": D(100)}}, {"weights": {"a": D(50), "b": D(40)}}):
        with pytest.raises(ValueError):
            RoundScheme(**kwargs)


# ------------------------------------------------------------------------------------------- normalization

ONE = Rubric(criteria=(RubricCriterion("C1", "A", D(10)),))


def sheets(**by_entrant) -> dict:
    """sheets(E1=(5, 10), …): criterion C1 scored by J1 and J2."""
    return {entrant: {"C1": values(*scores)} for entrant, scores in by_entrant.items()}


def test_z_score_normalization_worked_example():
    # J1 is strict and narrow: 5 5 7 7 (mean 6, population SD 1).
    # J2 is lenient and wide: 10 6 6 10 (mean 8, population SD 2).
    # Panel scale: centre (6 + 8) / 2 = 7, spread (1 + 2) / 2 = 1.5.
    # J1: 7 + (x − 6) / 1 × 1.5 → 5 ↦ 5.5, 7 ↦ 8.5.   J2: 7 + (x − 8) / 2 × 1.5 → 10 ↦ 8.5, 6 ↦ 5.5.
    #           raw mean             normalized mean
    # E1  5, 10  7.50   J1 5.5, J2 8.5  7.00
    # E2  5,  6  5.50   J1 5.5, J2 5.5  5.50
    # E3  7,  6  6.50   J1 8.5, J2 5.5  7.00
    # E4  7, 10  8.50   J1 8.5, J2 8.5  8.50
    scores = sheets(E1=(5, 10), E2=(5, 6), E3=(7, 6), E4=(7, 10))
    result = aggregate(ONE, scores, normalization=NormalizationRule(min_scores=4))
    assert {e: r.total for e, r in result.results.items()} == {
        "E1": D("7.50"), "E2": D("5.50"), "E3": D("6.50"), "E4": D("8.50")}  # the raw results stay
    assert not result.normalized.refused
    assert {e: r.total for e, r in result.normalized.results.items()} == {
        "E1": D("7.00"), "E2": D("5.50"), "E3": D("7.00"), "E4": D("8.50")}
    assert result.normalized.values["C1"]["E1"] == {"J1": D("5.5"), "J2": D("8.5")}
    # the median/MAD way gives the same here: medians 6 and 8, MADs 1 and 2
    mad = normalize(ONE, scores, normalization=NormalizationRule(NormalizationMethod.MEDIAN_MAD, min_scores=4))
    assert {e: r.total for e, r in mad.results.items()} == {e: r.total for e, r in result.normalized.results.items()}


def test_median_mad_normalization_worked_example_with_an_odd_score():
    # J1: 4 5 6 7 8 → median 6; |x − 6| = 2 1 0 1 2 → MAD 1.
    # J2: 7 8 9 10 0 (one odd zero) → sorted 0 7 8 9 10, median 8; |x − 8| = 1 0 1 2 8 → MAD 1.
    # Panel: centre (6 + 8) / 2 = 7, spread 1. J1 ↦ x + 1, J2 ↦ x − 1, clipped to 0 … 10:
    # E1 (5, 6) 5.50   E2 (6, 7) 6.50   E3 (7, 8) 7.50   E4 (8, 9) 8.50   E5 (9, −1 → 0) 4.50
    scores = sheets(E1=(4, 7), E2=(5, 8), E3=(6, 9), E4=(7, 10), E5=(8, 0))
    result = normalize(ONE, scores, normalization=NormalizationRule(NormalizationMethod.MEDIAN_MAD))
    assert {e: r.total for e, r in result.results.items()} == {
        "E1": D("5.50"), "E2": D("6.50"), "E3": D("7.50"), "E4": D("8.50"), "E5": D("4.50")}
    assert result.values["C1"]["E5"] == {"J1": D(9), "J2": D(0)}


def test_normalization_refuses_with_too_few_scores_and_says_why():
    # Each judge scored 4 entrants; the default minimum is 5: refused for both judges, raw results untouched.
    scores = sheets(E1=(5, 10), E2=(5, 6), E3=(7, 6), E4=(7, 10))
    result = aggregate(ONE, scores, normalization=NormalizationRule())
    assert result.normalized.refused and result.normalized.results is None
    assert [(p.code, p.judge, p.count, p.needed) for p in result.normalized.problems] == [
        ("too_few_scores", "J1", 4, 5), ("too_few_scores", "J2", 4, 5)]
    assert "J1 has 4 scores" in result.normalized.problems[0].message
    assert result.results["E1"].total == D("7.50")


def test_normalization_refuses_a_judge_without_spread():
    scores = sheets(E1=(7, 1), E2=(7, 2), E3=(7, 3), E4=(7, 4), E5=(7, 5))  # J1 gave everyone 7
    result = normalize(ONE, scores)
    assert [(p.code, p.judge) for p in result.problems] == [("no_spread", "J1")]


def test_normalization_leaves_measurement_criteria_raw_and_keeps_incomplete_entrants_incomplete():
    rubric = Rubric(criteria=(RubricCriterion("M1", "A", D(10), CriterionKind.MEASUREMENT),
                              RubricCriterion("C1", "A", D(10))))
    # M1 is measured once (a single "M" slot for each entrant, so too few per judge if it were normalized).
    scores = {e: {"M1": {"M": D(m)}, "C1": values(*c)} for e, m, c in
              [("E1", 1, (5, 10)), ("E2", 2, (5, 6)), ("E3", 3, (7, 6)), ("E4", 4, (7, 10)), ("E5", 5, (6, None))]}
    result = normalize(rubric, scores, normalization=NormalizationRule(min_scores=4))
    assert not result.refused
    # J1: 5 5 7 7 6 (mean 6, SD √0.8); J2: 10 6 6 10 (mean 8, SD 2): all that matters here is M1 stays raw
    assert set(result.values) == {"C1"}
    assert result.results["E1"].criteria["M1"].score == D(1)
    assert result.results["E5"].total is None and result.results["E5"].missing == (MissingScore("C1", "J2"),)


# -------------------------------------------------------------------------------------------------- properties

score_values = st.integers(0, 200).map(lambda k: D(k) / 20)  # 0 … 10 in steps of 0.05
panels = st.lists(score_values, min_size=1, max_size=9)
methods = st.sampled_from(list(Method))
roundings = st.sampled_from(list(Rounding))


@given(panels, methods, st.integers(3, 7))
def test_combined_score_lies_within_the_panels_range(numbers, method, n):
    result = combine(values(*numbers), CombineRule(method, trim_min_judges=n))
    assert min(numbers) <= result.exact <= max(numbers)
    assert min(numbers) <= result.score <= max(numbers)  # values have 2 places, so rounding cannot leave the range


@given(panels, methods, st.randoms(use_true_random=False))
def test_combining_does_not_depend_on_order_or_on_who_gave_which_value(numbers, method, random):
    panel = values(*numbers)
    result = combine(panel, CombineRule(method))
    shuffled_items = list(panel.items())
    random.shuffle(shuffled_items)
    assert combine(dict(shuffled_items), CombineRule(method)) == result  # same judges, other order: identical
    shuffled_values = list(panel.values())
    random.shuffle(shuffled_values)
    relabelled = combine(dict(zip(panel, shuffled_values)), CombineRule(method))
    assert (relabelled.exact, relabelled.score) == (result.exact, result.score)


@given(st.lists(score_values, min_size=5, max_size=9))
def test_trimmed_mean_of_a_full_panel_drops_exactly_one_lowest_and_one_highest(numbers):
    result = combine(values(*numbers), CombineRule(Method.TRIMMED_MEAN))
    middle = sorted(numbers)[1:-1]
    assert abs(result.exact - sum(middle) / len(middle)) < D("1e-25")
    assert result.score == Precision().quantize(sum(middle) / len(middle))
    assert len(result.dropped) == 2


@given(panels, methods, roundings, st.integers(0, 3))
def test_score_is_the_exact_result_rounded_once(numbers, method, rounding, places):
    precision = Precision(places, rounding)
    result = combine(values(*numbers), CombineRule(method, precision=precision))
    assert result.score == precision.quantize(result.exact)
    step = D(1).scaleb(-places)
    assert abs(result.score - result.exact) < step
    if rounding is Rounding.DOWN:
        assert result.score <= result.exact
    if rounding is Rounding.UP:
        assert result.score >= result.exact
    if rounding is Rounding.HALF_UP:
        assert abs(result.score - result.exact) <= step / 2


@given(st.lists(st.lists(st.one_of(st.none(), score_values), min_size=1, max_size=4), min_size=1, max_size=4))
def test_total_exists_exactly_when_every_slot_is_filled(criteria_slots):
    rubric = Rubric(criteria=tuple(RubricCriterion(f"C{i}", "A", D(10)) for i in range(len(criteria_slots))))
    sheet = {f"C{i}": values(*slots) for i, slots in enumerate(criteria_slots)}
    result = compute_results(rubric, {"E": sheet})["E"]
    filled = all(value is not None for slots in criteria_slots for value in slots)
    assert result.complete == filled == (result.total is not None)
    if filled:
        assert result.total == sum(result.criteria[key].score for key in sheet)
    else:
        assert len(result.missing) == sum(value is None for slots in criteria_slots for value in slots)
