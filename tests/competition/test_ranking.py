"""competition.ranking: standard competition ranking (1, 2, 2, 4), incomplete entrants apart, tie-break chain."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from competition.ranking import Better, RankEntry, Separation, Skipped, TieBreak, rank_entries

D = Decimal


def entries(**totals) -> list[RankEntry]:
    return [RankEntry(key, None if total is None else D(str(total))) for key, total in totals.items()]


def ranks(ranking) -> dict:
    return {placing.key: placing.rank for placing in ranking.placings}


@pytest.mark.parametrize(
    "totals, expected",
    [
        # 90 > 85 = 85 > 80: the tie shares 2nd, the next rank skips to 4.
        ({"A": 90, "B": 85, "C": 85, "D": 80}, {"A": 1, "B": 2, "C": 2, "D": 4}),
        # a three-way tie at the top: 1, 1, 1, 4
        ({"A": 70, "B": 70, "C": 70, "D": 60}, {"A": 1, "B": 1, "C": 1, "D": 4}),
        # all different
        ({"A": "88.50", "B": "88.25", "C": "88.75"}, {"C": 1, "A": 2, "B": 3}),
        # equal as decimals though written differently: 90.5 = 90.50
        ({"A": "90.5", "B": "90.50", "C": "91"}, {"C": 1, "A": 2, "B": 2}),
        # incomplete entrants are unranked
        ({"A": 80, "B": None, "C": 95}, {"C": 1, "A": 2, "B": None}),
        ({"A": None}, {"A": None}),
        ({}, {}),
    ],
)
def test_standard_competition_ranking(totals, expected):
    assert ranks(rank_entries(entries(**totals))) == expected


def test_order_of_the_list_ties_by_key_and_incomplete_last():
    ranking = rank_entries(entries(E=None, D=85, C=90, B=85, A=None))
    assert [(p.key, p.rank, p.tied) for p in ranking.placings] == [
        ("C", 1, False), ("B", 2, True), ("D", 2, True), ("A", None, False), ("E", None, False)]
    assert [p.key for p in ranking.unranked] == ["A", "E"]
    assert ranking.unresolved == (("B", "D"),)
    assert ranking.rank_of("D") == 2


FINISH = datetime(2025, 5, 17, 9, 0, tzinfo=timezone.utc)


def test_tie_break_chain_worked_example():
    # Totals: A 90, B 85, C 85, D 85, E 80. Chain: module B subtotal (higher), then finish time (earlier).
    # Among B, C, D (85): module B 40, 42, 40 → C is 2nd; B and D still tied at 40 → finish time:
    # B 10:30, D 10:10 → D 3rd, B 4th. E is 5th.
    chain = [TieBreak("module_B", Better.HIGHER), TieBreak("finished_at", Better.LOWER)]
    ranking = rank_entries([
        RankEntry("A", D(90), {"module_B": D(45), "finished_at": FINISH + timedelta(minutes=50)}),
        RankEntry("B", D(85), {"module_B": D(40), "finished_at": FINISH + timedelta(minutes=90)}),
        RankEntry("C", D(85), {"module_B": D(42), "finished_at": FINISH + timedelta(minutes=95)}),
        RankEntry("D", D(85), {"module_B": D(40), "finished_at": FINISH + timedelta(minutes=70)}),
        RankEntry("E", D(80), {"module_B": D(41), "finished_at": FINISH}),
    ], chain)
    assert ranks(ranking) == {"A": 1, "C": 2, "D": 3, "B": 4, "E": 5}
    assert ranking.separations == (
        Separation("module_B", D(85), (("C",), ("B", "D"))),
        Separation("finished_at", D(85), (("D",), ("B",))),
    )
    assert ranking.placing("B").decided_by == ("module_B", "finished_at")
    assert ranking.placing("C").decided_by == ("module_B",)
    assert ranking.placing("A").decided_by == ()  # A was never tied: no tie-break touched it
    assert ranking.unresolved == ()


def test_a_tie_break_that_does_not_separate_leaves_a_shared_rank():
    # B and D both have module B 40 and there is no further tie-break: they share 3rd (并列), 5th follows.
    ranking = rank_entries([
        RankEntry("A", D(90), {"module_B": D(45)}),
        RankEntry("B", D(85), {"module_B": D(40)}),
        RankEntry("C", D(85), {"module_B": D(42)}),
        RankEntry("D", D(85), {"module_B": D(40)}),
        RankEntry("E", D(80), {"module_B": D(41)}),
    ], [TieBreak("module_B")])
    assert ranks(ranking) == {"A": 1, "C": 2, "B": 3, "D": 3, "E": 5}
    assert ranking.unresolved == (("B", "D"),)


def test_lots_and_the_chief_judges_decision_end_the_chain_as_recorded_positions():
    # Still tied after every rule: the recorded drawing of lots (lot 1 first) decides.
    chain = [TieBreak("judgement_total"), TieBreak("lots", Better.LOWER)]
    ranking = rank_entries([
        RankEntry("X", D(75), {"judgement_total": D(30), "lots": 2}),
        RankEntry("Y", D(75), {"judgement_total": D(30), "lots": 1}),
    ], chain)
    assert ranks(ranking) == {"Y": 1, "X": 2}
    assert ranking.separations == (Separation("lots", D(75), (("Y",), ("X",))),)


def test_a_tie_break_without_values_for_every_tied_entrant_is_skipped_not_guessed():
    # Lots have not been drawn for Y yet: the lots tie-break is skipped for this tie, which stays shared.
    ranking = rank_entries([
        RankEntry("X", D(75), {"lots": 1}),
        RankEntry("Y", D(75), {}),
        RankEntry("Z", D(70), {}),  # not tied: missing values do not matter
    ], [TieBreak("lots", Better.LOWER)])
    assert ranks(ranking) == {"X": 1, "Y": 1, "Z": 3}
    assert ranking.skipped == (Skipped("lots", ("X", "Y"), ("Y",)),)
    assert ranking.unresolved == (("X", "Y"),)


def test_bad_input():
    with pytest.raises(ValueError):
        rank_entries(entries(A=1) + entries(A=2))
    with pytest.raises(ValueError):
        rank_entries(entries(A=1), [TieBreak("x"), TieBreak("x")])
    with pytest.raises(TypeError):
        RankEntry("A", 90.5)  # no floats
    with pytest.raises(ValueError):
        TieBreak("x", "sideways")


# -------------------------------------------------------------------------------------------------- properties

totals = st.one_of(st.none(), st.integers(0, 12).map(lambda k: D(k) / 4))  # few distinct values: many ties
fields = st.lists(totals, min_size=0, max_size=25)


@given(fields)
def test_rank_is_one_plus_the_number_strictly_better(values):
    ranking = rank_entries(RankEntry(i, total) for i, total in enumerate(values))
    for i, total in enumerate(values):
        if total is None:
            assert ranking.rank_of(i) is None
        else:
            assert ranking.rank_of(i) == 1 + sum(1 for other in values if other is not None and other > total)


@given(fields)
def test_ranks_rise_as_totals_fall_and_equal_totals_share_a_rank(values):
    ranking = rank_entries(RankEntry(i, total) for i, total in enumerate(values))
    ranked = ranking.ranked
    assert [p.total for p in ranked] == sorted((v for v in values if v is not None), reverse=True)
    for better, worse in zip(ranked, ranked[1:]):
        assert better.rank <= worse.rank
        assert (better.rank == worse.rank) == (better.total == worse.total)
        if better.rank != worse.rank:
            assert worse.rank == ranked.index(worse) + 1  # the next rank skips past the tie: 1, 2, 2, 4
    assert all(p.rank is None for p in ranking.placings[len(ranked):])  # unranked come last


@given(fields, st.randoms(use_true_random=False))
def test_ranks_do_not_depend_on_input_order(values, random):
    given_entries = [RankEntry(i, total) for i, total in enumerate(values)]
    shuffled = list(given_entries)
    random.shuffle(shuffled)
    assert rank_entries(shuffled).placings == rank_entries(given_entries).placings


chained = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(0, 3)), min_size=0, max_size=25)


@given(chained, st.sampled_from(list(Better)), st.sampled_from(list(Better)))
def test_tie_breaks_only_separate_entrants_that_were_tied(rows, first, second):
    plain = rank_entries(RankEntry(i, D(total)) for i, (total, _, _) in enumerate(rows))
    chain = [TieBreak("first", first), TieBreak("second", second)]
    broken = rank_entries([RankEntry(i, D(total), {"first": a, "second": b}) for i, (total, a, b) in enumerate(rows)],
                          chain)
    tie_size = {i: sum(1 for t, _, _ in rows if t == total) for i, (total, _, _) in enumerate(rows)}
    for i, (total, a, b) in enumerate(rows):
        # a tie-break moves an entrant only within its tie: between the tie's shared rank and its last place
        assert plain.rank_of(i) <= broken.rank_of(i) <= plain.rank_of(i) + tie_size[i] - 1

        # and with every value known, rank = 1 + the number strictly better in (total, first, second) order
        def better(j):
            t, x, y = rows[j]
            key_i = (total, a if first is Better.HIGHER else -a, b if second is Better.HIGHER else -b)
            key_j = (t, x if first is Better.HIGHER else -x, y if second is Better.HIGHER else -y)
            return key_j > key_i
        assert broken.rank_of(i) == 1 + sum(1 for j in range(len(rows)) if better(j))
    for separation in broken.separations:  # a separation only ever splits entrants with the same total
        separated = [k for group in separation.groups for k in group]
        assert {rows[k][0] for k in separated} == {separation.total}
