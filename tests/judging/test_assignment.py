"""Conflicts (回避) and the balanced assignment of entrants to judges (judging/assignment.py): worked examples
computed by hand, and properties checked by hypothesis against a brute-force optimum."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judging.assignment import (
    EntrantIdentity,
    JudgeIdentity,
    conflict_reasons,
    find_conflicts,
    normalize_unit,
    suggest_assignment,
    units_match,
)

# ---------------------------------------------------------------- conflicts


@pytest.mark.parametrize(("text", "expected"), [
    (" 厦门大学（思明校区） ", "厦门大学思明校区"),
    ("ＡＢＣ　Company", "abccompany"),
    ("集美·大学", "集美大学"),
    ("", ""),
    (None, ""),
])
def test_normalize_unit(text, expected):
    assert normalize_unit(text) == expected


@pytest.mark.parametrize(("judge_unit", "entrant_unit", "expected"), [
    ("厦门大学", "厦门大学", True),
    ("厦门大学", " 厦门大学 ", True),
    ("厦门大学", "厦门大学信息学院", True),  # 4 characters contained in the longer name
    ("厦门大学信息学院", "厦门大学", True),  # either way round
    ("集美", "集美大学", False),  # 2 characters: too short to match inside another name
    ("福州大学", "厦门大学", False),
    ("", "厦门大学", False),
    ("厦门大学", "", False),
    ("Xiamen University", "XIAMEN  UNIVERSITY", True),
])
def test_units_match(judge_unit, entrant_unit, expected):
    assert units_match(judge_unit, entrant_unit) is expected


def test_conflict_reasons_unit_coach_link_and_coach_name():
    judge = JudgeIdentity(key="j", name="王 老师", units=("福州职业技术学院", "厦门软件园"), coached=frozenset({7}))
    assert conflict_reasons(judge, EntrantIdentity(key=1, unit="福州职业技术学院", coaches=())) == ["unit"]
    assert conflict_reasons(judge, EntrantIdentity(key=7, unit="泉州信息学院")) == ["coach"]
    assert conflict_reasons(judge, EntrantIdentity(key=2, unit="泉州信息学院", coaches=("李明", "王老师"))) == ["coach_name"]
    assert conflict_reasons(judge, EntrantIdentity(key=7, unit="厦门软件园", coaches=("王老师",))) == [
        "unit", "coach", "coach_name"]
    assert conflict_reasons(judge, EntrantIdentity(key=3, unit="漳州职业技术学院", coaches=("王芳",))) == []


def test_find_conflicts_lists_every_pair():
    judges = [JudgeIdentity(key="A", units=("甲校",)), JudgeIdentity(key="B", units=("乙校",))]
    entrants = [EntrantIdentity(key=1, unit="甲校"), EntrantIdentity(key=2, unit="乙校"), EntrantIdentity(key=3, unit="丙校")]
    assert find_conflicts(judges, entrants) == {("A", 1): ["unit"], ("B", 2): ["unit"]}


# ---------------------------------------------------------------- worked examples


def test_module_docstring_example():
    # 4 entrants x 2 judges = 8 slots over 3 judges: loads 3, 3, 2. Entrant 1 cannot have A, so it gets B and C;
    # then (entrants with 3 eligible judges, in order) 2 -> A, B (loads A1 B2 C1), 3 -> A, C (A2 B2 C2),
    # 4 -> A, B (A3 B3 C2). No chain can move work from a judge with 3 to one with <= 1: balanced.
    plan = suggest_assignment(["A", "B", "C"], [1, 2, 3, 4], per_entrant=2, conflicts={("A", 1)})
    assert plan.pairs == [("B", 1), ("C", 1), ("A", 2), ("B", 2), ("A", 3), ("C", 3), ("A", 4), ("B", 4)]
    assert plan.loads == {"A": 3, "B": 3, "C": 2}
    assert plan.short == {}
    assert plan.excluded == {1: ["A"]}


def test_every_judge_scores_everyone_minus_conflicts():
    # per_entrant=None: a panel of 5 where everyone scores everyone, except their own unit's entrant.
    plan = suggest_assignment(["A", "B", "C", "D", "E"], [1, 2, 3], per_entrant=None, conflicts={("C", 2)})
    assert plan.judges_of(1) == ["A", "B", "C", "D", "E"]
    assert plan.judges_of(2) == ["A", "B", "D", "E"]  # C excluded, the others cover it
    assert plan.loads == {"A": 3, "B": 3, "C": 2, "D": 3, "E": 3}
    assert plan.short == {}


def test_expert_review_100_proposals_10_experts_3_each():
    # 300 slots / 10 experts = 30 each, even though expert A may not review proposals 0-49 (their own unit):
    # A takes 30 of 50-99, the others make up the rest.
    judges = list("ABCDEFGHIJ")
    conflicts = {("A", i) for i in range(50)}
    plan = suggest_assignment(judges, list(range(100)), per_entrant=3, conflicts=conflicts)
    assert set(plan.loads.values()) == {30}
    assert not conflicts & set(plan.pairs)
    assert all(len(plan.judges_of(i)) == 3 for i in range(100))


def test_a_judge_excluded_from_almost_everything_gets_less_and_the_rest_stay_balanced():
    # A may score only entrant 1. 6 entrants x 2 = 12 slots: A 1, and B, C, D share 11 -> 4, 4, 3.
    conflicts = {("A", e) for e in range(2, 7)}
    plan = suggest_assignment(["A", "B", "C", "D"], [1, 2, 3, 4, 5, 6], per_entrant=2, conflicts=conflicts)
    assert plan.loads["A"] == 1
    assert sorted(plan.loads[j] for j in "BCD") == [3, 4, 4]


def test_short_entrants_are_reported():
    # Entrant 2 conflicts with A and B: only C is left, one judge short of the two asked.
    plan = suggest_assignment(["A", "B", "C"], [1, 2], per_entrant=2, conflicts={("A", 2), ("B", 2)})
    assert plan.judges_of(2) == ["C"]
    assert plan.short == {2: 1}
    plan = suggest_assignment(["A"], [1, 2], per_entrant=None, conflicts={("A", 2)})
    assert plan.short == {2: 1}
    assert plan.judges_of(2) == []


def test_current_pairs_are_kept_when_still_balanced():
    current = {("C", 1), ("C", 2), ("A", 3), ("B", 4)}
    plan = suggest_assignment(["A", "B", "C"], [1, 2, 3, 4], per_entrant=1, current=current)
    assert set(plan.pairs) == current  # already balanced (2, 1, 1 is within one of 4/3): nothing moves


def test_current_pairs_that_became_conflicts_are_dropped():
    plan = suggest_assignment(["A", "B"], [1, 2], per_entrant=1, conflicts={("A", 1)}, current={("A", 1), ("A", 2)})
    assert plan.pairs == [("B", 1), ("A", 2)]


def test_unbalanced_current_assignment_is_rebalanced():
    current = {("A", e) for e in range(1, 7)}
    plan = suggest_assignment(["A", "B", "C"], list(range(1, 7)), per_entrant=1, current=current)
    assert plan.loads == {"A": 2, "B": 2, "C": 2}


def test_bad_per_entrant():
    with pytest.raises(ValueError):
        suggest_assignment(["A"], [1], per_entrant=0)


def test_no_judges_or_no_entrants():
    assert suggest_assignment([], [1, 2], per_entrant=2).short == {1: 2, 2: 2}
    assert suggest_assignment(["A", "B"], [], per_entrant=2).pairs == []


# ---------------------------------------------------------------- properties


def _brute_force_min_square_sum(judges, entrants, per_entrant, conflicts):
    options = []
    for e in entrants:
        eligible = [j for j in judges if (j, e) not in conflicts]
        k = min(per_entrant, len(eligible))
        options.append(list(itertools.combinations(eligible, k)))
    best = None
    for choice in itertools.product(*options):
        load = {j: 0 for j in judges}
        for group in choice:
            for j in group:
                load[j] += 1
        value = sum(v * v for v in load.values())
        best = value if best is None else min(best, value)
    return best


problems = st.integers(min_value=1, max_value=4).flatmap(lambda n_judges: st.integers(0, 5).flatmap(
    lambda n_entrants: st.tuples(
        st.just(list("ABCD"[:n_judges])),
        st.just(list(range(1, n_entrants + 1))),
        st.integers(1, n_judges + 1),
        st.sets(st.tuples(st.sampled_from(list("ABCD"[:n_judges])), st.integers(1, max(n_entrants, 1)))),
        st.sets(st.tuples(st.sampled_from(list("ABCD"[:n_judges])), st.integers(1, max(n_entrants, 1)))),
    )))


@settings(max_examples=300, deadline=None)
@given(problems)
def test_plan_is_valid_and_optimally_balanced(problem):
    judges, entrants, per_entrant, conflicts, current = problem
    plan = suggest_assignment(judges, entrants, per_entrant=per_entrant, conflicts=conflicts, current=current)
    pairs = set(plan.pairs)
    assert len(pairs) == len(plan.pairs)  # a judge never twice on one entrant
    assert not pairs & conflicts  # no conflicted pair, ever
    for e in entrants:
        eligible = [j for j in judges if (j, e) not in conflicts]
        assert len(plan.judges_of(e)) == min(per_entrant, len(eligible))
        assert plan.short.get(e, 0) == per_entrant - min(per_entrant, len(eligible))
    assert plan.loads == {j: sum(1 for jj, _ in plan.pairs if jj == j) for j in judges}
    assert sum(v * v for v in plan.loads.values()) == _brute_force_min_square_sum(judges, entrants, per_entrant,
                                                                                   conflicts)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8), st.integers(0, 40), st.integers(1, 8), st.data())
def test_without_conflicts_every_judge_is_within_one_of_the_average(n_judges, n_entrants, per_entrant, data):
    judges = list(range(100, 100 + n_judges))
    entrants = list(range(n_entrants))
    current = data.draw(st.sets(st.tuples(st.sampled_from(judges), st.integers(0, max(n_entrants - 1, 0)))))
    plan = suggest_assignment(judges, entrants, per_entrant=per_entrant, current=current)
    total = n_entrants * min(per_entrant, n_judges)
    assert sum(plan.loads.values()) == total
    average = total / n_judges
    assert all(abs(load - average) < 1 for load in plan.loads.values())
    assert not plan.short if per_entrant <= n_judges else len(plan.short) == n_entrants


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(0, 25), st.data())
def test_everyone_mode_assigns_exactly_the_allowed_pairs(n_judges, n_entrants, data):
    judges = list(range(n_judges))
    entrants = list(range(100, 100 + n_entrants))
    conflicts = data.draw(st.sets(st.tuples(st.sampled_from(judges), st.sampled_from(entrants or [0]))))
    plan = suggest_assignment(judges, entrants, per_entrant=None, conflicts=conflicts)
    assert set(plan.pairs) == {(j, e) for j in judges for e in entrants if (j, e) not in conflicts}
