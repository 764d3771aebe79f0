"""competition.awards: tiers by share, count or threshold; ties across a boundary lift every tied entrant."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from competition.awards import (
    AwardBasis,
    AwardProblem,
    AwardScheme,
    Tier,
    assign_awards,
    medal_table,
    quota_counts,
    scheme_from_rules,
)
from competition.ranking import RankEntry, rank_entries
from judging.values import Rounding

D = Decimal
FIRST, SECOND, THIRD, MERIT = "一等奖", "二等奖", "三等奖", "优秀奖"


def share_scheme(*shares, rounding=Rounding.HALF_UP, lift_ties=True, rest=None) -> AwardScheme:
    names = [FIRST, SECOND, THIRD][: len(shares)]
    return AwardScheme(AwardBasis.SHARE, tuple(Tier(n, D(s)) for n, s in zip(names, shares)), rounding, lift_ties,
                       rest)


def ranking_of(*totals):
    """Entrants E01, E02, … with these totals (None: incomplete)."""
    return rank_entries(RankEntry(f"E{i:02d}", None if t is None else D(str(t))) for i, t in enumerate(totals, 1))


def tiers(result) -> list:
    return [award.tier for award in result.awards]


SPEC_TOTALS = (100, 95, 90, 90, 85, 80, 75, 70, 65, 60)  # ranks 1, 2, 3, 3, 5, 6, 7, 8, 9, 10


def test_spec_example():
    # n = 10, 10 / 20 / 30 % → counts 1, 2, 3 → cut-offs 1, 3, 6.
    # Ranks 1, 2, 3, 3, 5, 6, 7 … → 一等奖 ×1 (rank 1), 二等奖 ×3 (ranks 2, 3, 3: the tie across 3 is lifted),
    # 三等奖 ×2 (ranks 5, 6).
    ranking = ranking_of(*SPEC_TOTALS)
    assert [p.rank for p in ranking.placings] == [1, 2, 3, 3, 5, 6, 7, 8, 9, 10]
    result = assign_awards(ranking, share_scheme(10, 20, 30))
    assert [(s.quota, s.cutoff) for s in result.summary] == [(1, 1), (2, 3), (3, 6)]
    assert result.counts == {FIRST: 1, SECOND: 3, THIRD: 2}
    assert tiers(result) == [FIRST, SECOND, SECOND, SECOND, THIRD, THIRD, None, None, None, None]
    assert result.boundary_ties == ((SECOND, ("E03", "E04")),)
    assert result.award("E04").boundary_tie and not result.award("E02").boundary_tie
    assert result.ranked == 10


def test_without_lifting_a_tie_across_a_cut_off_goes_down_together():
    # The same field with lift_ties off: the two 3rds (positions 3 and 4) do not fit within cut-off 3, so both get
    # 三等奖 (positions up to 6): 一等奖 ×1, 二等奖 ×1, 三等奖 ×4 (ranks 3, 3, 5, 6) — no cut-off is exceeded.
    result = assign_awards(ranking_of(*SPEC_TOTALS), share_scheme(10, 20, 30, lift_ties=False))
    assert result.counts == {FIRST: 1, SECOND: 1, THIRD: 4}


def test_a_tie_at_the_last_boundary_exceeds_the_last_cut_off():
    # Ranks 1 … 5, then 6, 6 (positions 6 and 7), 8, 9, 10; cut-off 6 → both 6ths get 三等奖: 7 awards, not 6.
    result = assign_awards(ranking_of(100, 95, 90, 85, 80, 75, 75, 70, 65, 60), share_scheme(10, 20, 30))
    assert result.counts == {FIRST: 1, SECOND: 2, THIRD: 4}
    assert result.boundary_ties == ((THIRD, ("E06", "E07")),)


@pytest.mark.parametrize(
    "n, shares, rounding, expected_counts",
    [
        # n = 13: 13 × 10% = 1.3, 13 × 20% = 2.6, 13 × 30% = 3.9
        (13, (10, 20, 30), Rounding.HALF_UP, (1, 3, 4)),
        (13, (10, 20, 30), Rounding.UP, (2, 3, 4)),
        (13, (10, 20, 30), Rounding.DOWN, (1, 2, 3)),
        # n = 25: 2.5, 5, 7.5 — half-up gives 3 and 8 (Python's round() would give 2 and 8: half to even)
        (25, (10, 20, 30), Rounding.HALF_UP, (3, 5, 8)),
        (25, (10, 20, 30), Rounding.DOWN, (2, 5, 7)),
        (25, (10, 20, 30), Rounding.UP, (3, 5, 8)),
        # n = 3: 0.3, 0.6, 0.9 — a small group may have no 一等奖 at all
        (3, (10, 20, 30), Rounding.HALF_UP, (0, 1, 1)),
        (3, (10, 20, 30), Rounding.UP, (1, 1, 1)),
        (3, (10, 20, 30), Rounding.DOWN, (0, 0, 0)),
        (0, (10, 20, 30), Rounding.UP, (0, 0, 0)),
        # shares with decimals: 40 × 12.5% = 5
        (40, ("12.5", "25"), Rounding.HALF_UP, (5, 10)),
    ],
)
def test_quota_counts_by_rounding_rule(n, shares, rounding, expected_counts):
    assert quota_counts(n, share_scheme(*shares, rounding=rounding)) == expected_counts
    result = assign_awards(ranking_of(*range(n, 0, -1)), share_scheme(*shares, rounding=rounding))
    assert tuple(s.awarded for s in result.summary) == expected_counts  # all totals differ: exactly the quotas


def test_small_group_with_an_empty_first_tier():
    # n = 3, half-up → counts 0, 1, 1 → cut-offs 0, 1, 2: rank 1 gets 二等奖, rank 2 三等奖, rank 3 nothing.
    result = assign_awards(ranking_of(90, 80, 70), share_scheme(10, 20, 30))
    assert tiers(result) == [SECOND, THIRD, None]
    assert [s.cutoff for s in result.summary] == [0, 1, 2]


def test_by_count():
    scheme = AwardScheme(AwardBasis.COUNT, (Tier("金", D(1)), Tier("银", D(2)), Tier("铜", D(3))))
    result = assign_awards(ranking_of(*SPEC_TOTALS), scheme)
    assert result.counts == {"金": 1, "银": 3, "铜": 2}  # the same cut-offs 1, 3, 6 as the SPEC example
    # more places than entrants: everyone gets something, cut-offs beyond n do no harm
    small = assign_awards(ranking_of(90, 80), scheme)
    assert tiers(small) == ["金", "银"]


def test_by_threshold():
    # 一等奖 from 90, 二等奖 from 80, 三等奖 from 70: ties never straddle a threshold.
    scheme = AwardScheme(AwardBasis.THRESHOLD, (Tier(FIRST, D(90)), Tier(SECOND, D(80)), Tier(THIRD, D(70))))
    result = assign_awards(ranking_of(95, 90, "89.99", 80, 79, 70, "69.99", None), scheme)
    assert tiers(result) == [FIRST, FIRST, SECOND, SECOND, THIRD, THIRD, None, None]
    assert [(s.threshold, s.awarded, s.quota) for s in result.summary] == [(90, 2, None), (80, 2, None), (70, 2, None)]


def test_rest_tier_and_incomplete_entrants():
    # 优秀奖 for every other *ranked* entrant; the incomplete E05 is unranked: no award, and not counted in n.
    result = assign_awards(ranking_of(90, 80, 70, 60, None), share_scheme(25, 25, rest=MERIT))
    # n = 4 (not 5): 4 × 25% = 1 each → 一等奖 E01, 二等奖 E02, 优秀奖 E03 and E04
    assert result.ranked == 4
    assert tiers(result) == [FIRST, SECOND, MERIT, MERIT, None]
    assert result.counts == {FIRST: 1, SECOND: 1, MERIT: 2}


@pytest.mark.parametrize(
    "rules, code",
    [
        ({"basis": "share", "tiers": []}, "no_tiers"),
        ({"basis": "share", "tiers": "10"}, "no_tiers"),
        ({"basis": "share", "tiers": [{"name": "一等奖", "value": "60"}, {"name": "二等奖", "value": "50"}]},
         "shares_above_100"),
        ({"basis": "share", "tiers": [{"name": "一等奖", "value": "120"}]}, "invalid_value"),
        ({"basis": "share", "tiers": [{"name": "一等奖", "value": "-5"}]}, "invalid_value"),
        ({"basis": "share", "tiers": [{"name": "一等奖", "value": "ten"}]}, "invalid_value"),
        ({"basis": "share", "tiers": [{"name": "一等奖", "value": 10.5}]}, "invalid_value"),
        ({"basis": "share", "tiers": [{"name": "一等奖", "value": "10"}, {"name": "一等奖", "value": "20"}]},
         "duplicate_tier"),
        ({"basis": "share", "tiers": [{"name": "", "value": "10"}]}, "duplicate_tier"),
        ({"basis": "share", "tiers": [{"name": "一等奖", "value": "10"}], "rest": "一等奖"}, "duplicate_tier"),
        ({"basis": "count", "tiers": [{"name": "金", "value": "1.5"}]}, "invalid_value"),
        ({"basis": "threshold", "tiers": [{"name": "一等奖", "value": "80"}, {"name": "二等奖", "value": "90"}]},
         "thresholds_not_descending"),
        ({"basis": "threshold", "tiers": [{"name": "一等奖", "value": "80"}, {"name": "二等奖", "value": "80"}]},
         "thresholds_not_descending"),
        ({"basis": "lottery", "tiers": [{"name": "一等奖", "value": "10"}]}, "invalid_basis"),
        ({"basis": "share", "rounding": "even", "tiers": [{"name": "一等奖", "value": "10"}]}, "invalid_rounding"),
    ],
)
def test_schemes_that_make_no_sense_are_refused_with_a_code(rules, code):
    with pytest.raises(AwardProblem) as caught:
        scheme_from_rules(rules)
    assert caught.value.code == code


def test_scheme_from_the_stored_default_rules():
    scheme = scheme_from_rules({"basis": "share", "rounding": "half_up", "tiers": [
        {"name": "一等奖", "value": "10"}, {"name": "二等奖", "value": "20"}, {"name": "三等奖", "value": "30"}]})
    assert scheme == share_scheme(10, 20, 30)
    assert scheme_from_rules({"tiers": [{"name": "金", "value": 1}], "basis": "count", "rest": "优秀奖",
                              "lift_ties": False}) == AwardScheme(AwardBasis.COUNT, (Tier("金", D(1)),),
                                                                  lift_ties=False, rest="优秀奖")


def test_medal_table_by_points():
    # The SPEC field: 一等奖 E01; 二等奖 E02 E03 E04; 三等奖 E05 E06.   Points 4 / 3 / 2, nothing else.
    # Units: 一中 E01, E05 → 4 + 2 = 6;  二中 E02, E03 → 3 + 3 = 6;  三中 E04, E06, E07 → 3 + 2 = 5;
    # E08 … E10 have no unit. 一中 and 二中 tie on 6 points: 一中 has one 一等奖, 二中 none → 一中 1st, 二中 2nd.
    result = assign_awards(ranking_of(*SPEC_TOTALS), share_scheme(10, 20, 30))
    assert result.counts == {FIRST: 1, SECOND: 3, THIRD: 2}
    units = {"E01": "一中", "E05": "一中", "E02": "二中", "E03": "二中", "E04": "三中", "E06": "三中", "E07": "三中"}
    table = medal_table([result], units, {FIRST: 4, SECOND: 3, THIRD: 2})
    assert [(u.unit, u.rank, u.points, u.entrants) for u in table] == [
        ("一中", 1, D(6), 2), ("二中", 2, D(6), 2), ("三中", 3, D(5), 3)]
    assert table[2].counts == {FIRST: 0, SECOND: 1, THIRD: 1}


def test_medal_table_shares_a_rank_when_counts_are_equal_too():
    result = assign_awards(ranking_of(90, 80, 70, 60), AwardScheme(
        AwardBasis.COUNT, (Tier("金", D(2)), Tier("银", D(2)))))
    table = medal_table([result], {"E01": "甲", "E02": "乙", "E03": "甲", "E04": "乙"}, {"金": 3, "银": 1})
    # 甲: E01 金 + E03 银 = 3 + 1 = 4; 乙: E02 金 + E04 银 = 4; one 金 and one 银 each → shared 1st
    assert {(u.unit, u.rank, u.points) for u in table} == {("甲", 1, D(4)), ("乙", 1, D(4))}


# -------------------------------------------------------------------------------------------------- properties

fields = st.lists(st.one_of(st.integers(0, 8), st.none()), min_size=0, max_size=30)  # small range: many ties
share_lists = st.lists(st.integers(0, 40), min_size=1, max_size=3).filter(lambda s: sum(s) <= 100)
roundings = st.sampled_from(list(Rounding))
ORDER = [FIRST, SECOND, THIRD, None]


@given(fields, share_lists, roundings)
def test_quotas_are_met_and_exceeded_only_by_lifting_ties(totals, shares, rounding):
    ranking = ranking_of(*totals)
    result = assign_awards(ranking, share_scheme(*shares, rounding=rounding))
    n = result.ranked
    ranks = [p.rank for p in ranking.ranked]
    awarded_so_far = 0
    for k, summary in enumerate(result.summary):
        awarded_so_far += summary.awarded
        # up to each cut-off every position is filled: the cumulative count is never below the quota …
        assert awarded_so_far >= min(summary.cutoff, n)
        # … and exceeds it only when a tie straddles the cut-off — by exactly that tie's overflow
        overflow = sum(1 for r in ranks if r <= summary.cutoff) - summary.cutoff
        assert awarded_so_far == min(summary.cutoff, n) + max(overflow, 0)
        assert (awarded_so_far > summary.cutoff) == bool(summary.boundary_tie)
        if summary.awarded < summary.quota and summary.cutoff <= n:
            assert k > 0 and result.summary[k - 1].boundary_tie  # shrunk only by a tie lifted into the tier above


@given(fields, share_lists, roundings, st.booleans())
def test_a_better_rank_never_gets_a_worse_tier_and_ties_get_the_same(totals, shares, rounding, lift):
    result = assign_awards(ranking_of(*totals), share_scheme(*shares, rounding=rounding, lift_ties=lift))
    ranked = [a for a in result.awards if a.rank is not None]
    for better, worse in zip(ranked, ranked[1:]):
        assert ORDER.index(better.tier) <= ORDER.index(worse.tier)
        if better.rank == worse.rank:
            assert better.tier == worse.tier
    assert all(a.tier is None for a in result.awards if a.rank is None)


@given(fields, share_lists, roundings)
def test_without_lifting_no_cut_off_is_ever_exceeded(totals, shares, rounding):
    result = assign_awards(ranking_of(*totals), share_scheme(*shares, rounding=rounding, lift_ties=False))
    awarded_so_far = 0
    for summary in result.summary:
        awarded_so_far += summary.awarded
        assert awarded_so_far <= summary.cutoff


@given(fields, share_lists, st.integers(0, 2), st.integers(1, 20), roundings)
def test_a_larger_share_never_gives_fewer_awards(totals, shares, index, extra, rounding):
    index = min(index, len(shares) - 1)
    larger = list(shares)
    larger[index] = min(larger[index] + extra, 100 - sum(shares) + larger[index])
    before = assign_awards(ranking_of(*totals), share_scheme(*shares, rounding=rounding))
    after = assign_awards(ranking_of(*totals), share_scheme(*larger, rounding=rounding))
    assert sum(after.counts.values()) >= sum(before.counts.values())
    for b, a in zip(before.awards, after.awards):  # and nobody moves to a worse tier
        assert ORDER.index(a.tier) <= ORDER.index(b.tier)
