"""judging.desk: progress matrix, spread flags and outlying judges, with worked examples computed by hand."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from judging import desk
from judging.desk import CellState, CriterionInfo, SlotRow, Thresholds

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
T1 = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)

B1 = CriterionInfo("B1", D(20))
B2 = CriterionInfo("B2", D(6), ladder=True)
CRITERIA = {"B1": B1, "B2": B2}


@pytest.mark.parametrize("row, state", [
    (SlotRow("w", 1, required=4), CellState.NOT_STARTED),
    (SlotRow("w", 1, required=4, filled=2), CellState.DRAFT),
    (SlotRow("w", 1, required=4, filled=4), CellState.DRAFT),  # complete but not submitted
    (SlotRow("w", 1, required=4, filled=4, submitted=3, reopened=True), CellState.DRAFT),  # one score unlocked
    (SlotRow("w", 1, required=4, filled=4, submitted=4), CellState.SUBMITTED),
    (SlotRow("w", 1, required=0), CellState.NOT_STARTED),
])
def test_cell_state(row, state):
    assert desk.cell_state(row) is state


def test_progress_matrix_waiting_on_one_judge_and_behind():
    rows = [
        SlotRow("li", "A01", 2, 2, 2, T0), SlotRow("zhang", "A01", 2, 2, 2, T0), SlotRow("chen", "A01", 2, 1, 0, T1),
        SlotRow("li", "A02", 2, 2, 2, T0), SlotRow("zhang", "A02", 2, 2, 2, T1), SlotRow("chen", "A02", 2, 0, 0),
        SlotRow("li", "A03", 2, 2, 2, T0), SlotRow("zhang", "A03", 2, 0, 0), SlotRow("chen", "A03", 2, 0, 0),
    ]
    p = desk.compute_progress(rows, judges=["li", "zhang", "chen"], entrants=["A01", "A02", "A03"])
    assert p.cells[("chen", "A01")].state is CellState.DRAFT
    assert p.cells[("chen", "A02")].state is CellState.NOT_STARTED
    assert p.by_entrant["A01"].waiting_on == "chen"
    assert p.by_entrant["A02"].waiting_on == "chen"
    assert p.by_entrant["A03"].waiting_on is None  # two judges missing: nobody singled out
    # shares: li 3/3, zhang 2/3, chen 0/3; median 2/3 → chen is behind by 0.67 > 0.2, zhang is not
    assert [j for j, jp in p.by_judge.items() if jp.behind] == ["chen"]
    assert p.by_judge["zhang"].last_change == T1
    assert (p.submitted, p.slots) == (5, 9)
    assert p.last_change == T1


def test_progress_single_judge_entrant_never_waiting():
    p = desk.compute_progress([SlotRow("li", "A01", 2)])
    assert p.by_entrant["A01"].waiting_on is None
    assert not p.by_judge["li"].behind


@pytest.mark.parametrize("values, flagged, spread", [
    ({"w": 12, "l": D("18.5"), "z": 15}, True, D("6.5")),  # 6.5 > 30% of 20 = 6
    ({"w": 12, "l": 18, "z": 15}, False, None),  # exactly 6: not more than the limit
    ({"w": 12}, False, None),  # one value: nothing to compare
    ({"w": 12, "l": None}, False, None),
])
def test_spread_points(values, flagged, spread):
    flags = desk.spread_flags({"A01": {"B1": values}}, CRITERIA)
    assert bool(flags) is flagged
    if flagged:
        assert flags[0].spread == spread and flags[0].limit == D("6.0")
        assert flags[0].high == ["l"] and flags[0].low == ["w"]


@pytest.mark.parametrize("levels, flagged", [((1, 3, 2), True), ((2, 3, 3), False), ((0, 1, 1), False),
                                             ((0, 2, 1), True)])
def test_spread_ladder_levels(levels, flagged):
    values = dict(zip("wlz", levels))
    assert bool(desk.spread_flags({"A01": {"B2": values}}, CRITERIA)) is flagged


def test_spread_thresholds_configurable():
    values = {"A01": {"B1": {"w": 12, "l": 16}, "B2": {"w": 1, "l": 3}}}
    assert desk.spread_flags(values, CRITERIA, Thresholds(spread_share=D("0.30"), ladder_levels=D(2))) == []
    flags = desk.spread_flags(values, CRITERIA, Thresholds(spread_share=D("0.10")))
    assert [(f.criterion, f.spread) for f in flags] == [("B1", D(4)), ("B2", D(2))]


def test_floats_refused():
    with pytest.raises(TypeError):
        desk.spread_flags({"A01": {"B1": {"w": 1.5, "l": 3}}}, CRITERIA)
    with pytest.raises(TypeError):
        Thresholds(spread_share=0.3)


def test_outlier_judge_worked_example():
    # Five entrants; judge "w" always gives 18 on B1 where the others gave 12 and 13: (18 − 12.5) / 20 = 0.275.
    values = {f"A0{i}": {"B1": {"w": 18, "l": 12, "z": 13}} for i in range(1, 6)}
    deviations = desk.judge_deviations(values, CRITERIA)
    w = deviations["w"]
    assert (w.entrants, w.comparisons) == (5, 5)
    assert w.mean_abs == D("0.275") and w.mean_signed == D("0.275")
    # l: 12 − (18 + 13) / 2 = −3.5 → 0.175 (stricter), also beyond 0.15
    assert deviations["l"].mean_signed == D("-0.175")
    # z: 13 − 15 = −2 → 0.1: within
    assert [d.judge for d in desk.outlier_judges(values, CRITERIA)] == ["w", "l"]


def test_outlier_needs_enough_entrants():
    values = {f"A0{i}": {"B1": {"w": 18, "l": 12, "z": 13}} for i in range(1, 5)}  # four entrants
    assert desk.outlier_judges(values, CRITERIA) == []
    assert [d.judge for d in desk.outlier_judges(values, CRITERIA, Thresholds(outlier_min_entrants=4))] == ["w", "l"]


def test_outlier_ladder_counts_levels():
    # ladder: 3 against 1 and 1 → deviation (3 − 1) / 3 levels
    values = {f"A0{i}": {"B2": {"w": 3, "l": 1, "z": 1}} for i in range(5)}
    assert desk.judge_deviations(values, CRITERIA)["w"].mean_abs.quantize(D("0.0001")) == D("0.6667")
