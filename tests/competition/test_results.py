"""Results from scores to awards, worked by hand: aggregation of submitted scores, totals, ranks with ties and the
tie-break chain (lots, the chief judge's decision), award tiers with all three rounding rules and ties at the
boundaries, manual overrides, the medal table, entrants listed apart, the version and the cache, the freeze and
the ranking history. ``build_scored`` (one judge unless told) makes each total what the test writes."""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from competition import results
from competition.result_models import AwardOverride, ChainEnd, CompetitionResults, RankMove, ResultChange
from core.models import AuditEntry
from judging import aggregation
from judging.values import Precision
from tests.competition.results_builders import build_scored, submit_scores, totals
from tests.conftest import NOW


def team(i: int, group: str | None = "高职组", unit: str | None = None):
    return (f"队{i:02d}", unit or f"学校{i:02d}", group)


def scored(db, factory, values: list[str], **options):
    """Entrants 队01… with one total each (one criterion A1 out of 100, one judge); '' leaves one unscored."""
    built = build_scored(db, factory, entrants=[team(i + 1) for i in range(len(values))], **options)
    submit_scores(db, built, {f"队{i + 1:02d}": {"A1": v} for i, v in enumerate(values) if v != ""})
    return built


def awards_of(built, board=None) -> dict[str, str | None]:
    return {name: award for name, (_rank, _total, award) in totals(built, board).items()}


def ranks_of(built, board=None) -> dict[str, int | None]:
    return {name: rank for name, (rank, _total, _award) in totals(built, board).items()}


def set_settings(db, built, **changes):
    state = results.ensure_state(built.competition)
    data = results.SettingsData(tiebreaks=list(state.tiebreaks or []), chain_end=state.chain_end,
                                overall=state.overall, lift_ties=state.lift_ties, rest_tier=state.rest_tier,
                                points=list(state.points), before_publish=state.before_publish)
    for key, value in changes.items():
        setattr(data, key, value)
    results.update_settings(built.competition, data, actor=built.organizer, now=NOW)
    db.session.commit()


# ---------------------------------------------------------------- end to end through the judging services


def test_scores_submitted_through_the_judging_services_make_the_board(db, factory):
    from judging import services as js
    from tests.judging.conftest import build_contest

    contest = build_contest(db, factory)
    # 海燕队 is scored by all four judges (no conflict): [王评委, 李评委, 张评委, 陈明]
    values = {"A1": ["8", "8.5", "9", "9"], "A2": ["5", "5", "5", "0"], "B1": ["16", "17", "18", "17.5"],
              "B2": ["2", "2", "3", "1"]}
    entrant = contest.entrants["海燕队"]
    for index, judge_name in enumerate(("王评委", "李评委", "张评委", "陈明")):
        judge = contest.judges[judge_name]
        for code, per_judge in values.items():
            js.save_draft(judge, round_id=contest.round.id, entrant_id=entrant.id,
                          criterion_id=contest.criteria[code].id, value=per_judge[index], nonce=None, now=NOW)
        js.submit_entrant(judge, round_id=contest.round.id, entrant_id=entrant.id, nonce=None, now=NOW)
        db.session.commit()
    # 晨光队: one judge's draft only — drafts do not count
    js.save_draft(contest.judges["李评委"], round_id=contest.round.id, entrant_id=contest.entrants["晨光队"].id,
                  criterion_id=contest.criteria["A1"].id, value="9", nonce=None, now=NOW)
    db.session.commit()

    computed = results.standings(contest.competition)
    board = computed.board(f"g{contest.groups['高职组'].id}")
    line = next(line for line in board.lines if line.entrant.id == entrant.id)
    # mean of four (trimmed mean needs 5): A1 8.625 → 8.63 (half up), A2 3.75, B1 17.125 → 17.13,
    # B2 mean level 2 → 2/3 × 6 = 4.00; A = 12.38, B = 21.13; total 33.51
    criteria = {code: line.result.criteria[contest.criteria[code].id] for code in values}
    assert criteria == {"A1": Decimal("8.63"), "A2": Decimal("3.75"), "B1": Decimal("17.13"), "B2": Decimal("4.00")}
    assert line.result.modules[(contest.round.id, "A")] == Decimal("12.38")
    assert line.result.total == Decimal("33.51") and line.rank == 1
    assert [l.entrant.name for l in board.ranked] == ["海燕队"]
    unranked = {l.entrant.name: l for l in board.unranked}
    assert set(unranked) == {"云帆队", "星火队", "晨光队"}
    # 云帆队 is scored by three judges (王评委 is excluded, 回避): 3 judges × 4 criteria missing
    assert len(unranked["云帆队"].result.missing) == 12
    assert contest.judges["王评委"].id not in {j for _c, j in unranked["云帆队"].result.missing}


def test_each_submit_bumps_the_version_in_its_own_transaction(db, factory):
    from judging import services as js
    from tests.judging.conftest import build_contest

    contest = build_contest(db, factory)
    judge, entrant = contest.judges["李评委"], contest.entrants["青松队"]
    js.save_draft(judge, round_id=contest.round.id, entrant_id=entrant.id, criterion_id=contest.criteria["A1"].id,
                  value="6", nonce=None, now=NOW)  # the first draft starts scoring (audited: a bump)
    db.session.commit()
    before = results.get_state(contest.competition.id).version
    for code, value in {"A1": "7", "A2": "5", "B1": "12", "B2": "2"}.items():
        js.save_draft(judge, round_id=contest.round.id, entrant_id=entrant.id,
                      criterion_id=contest.criteria[code].id, value=value, nonce=None, now=NOW)
    db.session.commit()
    assert db.session.scalar(sa.select(CompetitionResults.version)) == before  # drafts: no change
    js.submit_entrant(judge, round_id=contest.round.id, entrant_id=entrant.id, nonce=None, now=NOW)
    db.session.rollback()  # the submit is rolled back: so is the bump
    assert db.session.scalar(sa.select(CompetitionResults.version)) == before
    js.submit_entrant(judge, round_id=contest.round.id, entrant_id=entrant.id, nonce=None, now=NOW)
    db.session.commit()
    assert db.session.scalar(sa.select(CompetitionResults.version)) == before + 1
    change = db.session.scalar(sa.select(ResultChange).order_by(ResultChange.version.desc()))
    assert (change.action, change.scope, change.entrant_id, change.actor_id) == (
        "judging.submit", "entrant", entrant.id, judge.id)


# ---------------------------------------------------------------- ranks and the SPEC's award example


def test_spec_example_ten_entrants_with_a_tie_across_the_second_cutoff(db, factory):
    """SPEC: n = 10, 10/20/30 % → cut-offs 1, 3, 6; ranks 1, 2, 3, 3, 5, 6, 7 … → 一等奖 ×1, 二等奖 ×3, 三等奖 ×2."""
    built = scored(db, factory, ["95", "90", "85", "85", "80", "75", "70", "65", "60", "55"])
    found = totals(built)
    assert [found[f"队{i:02d}"][0] for i in range(1, 11)] == [1, 2, 3, 3, 5, 6, 7, 8, 9, 10]
    assert [found[f"队{i:02d}"][2] for i in range(1, 11)] == [
        "一等奖", "二等奖", "二等奖", "二等奖", "三等奖", "三等奖", None, None, None, None]
    assert found["队03"][1] == "85.00"
    board = results.standings(built.competition).board(None)
    assert [(s.tier, s.quota, s.cutoff, s.awarded) for s in board.summary] == [
        ("一等奖", 1, 1, 1), ("二等奖", 2, 3, 3), ("三等奖", 3, 6, 2)]
    # the tie at the boundary of 二等奖 is reported (lifted by the default rule)
    assert [(t.rank, t.at_boundary) for t in board.ties] == [(3, "二等奖")]
    assert {built.name_of(e) for e in board.ties[0].entrant_ids} == {"队03", "队04"}


def test_ties_share_a_rank_and_the_next_rank_is_skipped(db, factory):
    built = scored(db, factory, ["80", "90.5", "90.50", "70", "90.5"])
    assert ranks_of(built) == {"队01": 4, "队02": 1, "队03": 1, "队04": 5, "队05": 1}


@pytest.mark.parametrize(("rounding", "expected"), [
    # n = 13: 10 % → 1.3, 20 % → 2.6, 30 % → 3.9
    ("half_up", {"一等奖": 1, "二等奖": 3, "三等奖": 4}),  # 1, 3, 4 → cut-offs 1, 4, 8
    ("up", {"一等奖": 2, "二等奖": 3, "三等奖": 4}),  # 2, 3, 4 → cut-offs 2, 5, 9
    ("down", {"一等奖": 1, "二等奖": 2, "三等奖": 3}),  # 1, 2, 3 → cut-offs 1, 3, 6
])
def test_share_quotas_round_half_up_up_or_down(db, factory, rounding, expected):
    rules = {"basis": "share", "rounding": rounding,
             "tiers": [{"name": "一等奖", "value": "10"}, {"name": "二等奖", "value": "20"},
                       {"name": "三等奖", "value": "30"}]}
    built = scored(db, factory, [str(100 - i) for i in range(13)], award_rules=rules)
    awards = awards_of(built)
    counts = {tier: sum(1 for a in awards.values() if a == tier) for tier in expected}
    assert counts == expected
    ordered = [awards[f"队{i:02d}"] for i in range(1, 14)]  # strictly descending totals: tiers in order
    assert ordered == sorted(ordered, key=lambda a: ["一等奖", "二等奖", "三等奖", None].index(a))


def test_half_up_rounds_a_half_up_not_to_even(db, factory):
    """n = 25, 10 % → 2.5 → 3 (half up; banker's rounding would give 2)."""
    rules = {"basis": "share", "rounding": "half_up", "tiers": [{"name": "金奖", "value": "10"}]}
    built = scored(db, factory, [str(100 - i) for i in range(25)], award_rules=rules)
    assert sum(1 for a in awards_of(built).values() if a == "金奖") == 3


def test_a_tie_at_a_boundary_lifts_or_drops_together(db, factory):
    # n = 10 → cut-offs 1, 3, 6; 队06 and 队07 tie across the cut-off 6
    values = ["95", "90", "85", "80", "75", "70", "70", "65", "60", "55"]
    built = scored(db, factory, values)
    lifted = awards_of(built)
    assert lifted["队06"] == lifted["队07"] == "三等奖"
    assert sum(1 for a in lifted.values() if a) == 7  # above c_3 = 6 only through the tie at the last boundary
    set_settings(db, built, lift_ties=False)
    dropped = awards_of(built)
    assert dropped["队06"] is None and dropped["队07"] is None
    assert sum(1 for a in dropped.values() if a) == 5
    board = results.standings(built.competition).board(None)
    assert board.ties[0].at_boundary == "三等奖"


def test_rest_tier_and_count_and_threshold_schemes(db, factory):
    rules = {"basis": "count", "rounding": "half_up", "tiers": [{"name": "金奖", "value": "1"},
                                                                 {"name": "银奖", "value": "2"}]}
    built = scored(db, factory, ["90", "80", "70", "60", ""], award_rules=rules)
    set_settings(db, built, rest_tier="优秀奖")
    assert awards_of(built) == {"队01": "金奖", "队02": "银奖", "队03": "银奖", "队04": "优秀奖", "队05": None}
    rules = {"basis": "threshold", "rounding": "half_up", "tiers": [{"name": "一等奖", "value": "85"},
                                                                     {"name": "二等奖", "value": "70"}]}
    built = scored(db, factory, ["90", "85", "84.99", "70", "69.99"], award_rules=rules,
                   organization=built.organization, organizer=built.organizer)
    assert awards_of(built) == {"队01": "一等奖", "队02": "一等奖", "队03": "二等奖", "队04": "二等奖", "队05": None}


def test_incomplete_entrants_are_listed_apart_and_do_not_count_for_quotas(db, factory):
    built = scored(db, factory, ["90", "80", "", "70", ""])
    found = totals(built)
    assert found["队03"] == (None, None, None) and found["队05"] == (None, None, None)
    board = results.standings(built.competition).board(None)
    assert [built.name_of(l.entrant.id) for l in board.unranked] == ["队03", "队05"]
    assert board.unranked[0].result.missing == ((built.criteria["A1"].id, built.judges[0].id),)
    # n = 3 ranked → 10 % of 3 = 0.3 → 0 first prizes; 20 % → 0.6 → 1; 30 % → 0.9 → 1
    assert [(s.tier, s.quota) for s in board.summary] == [("一等奖", 0), ("二等奖", 1), ("三等奖", 1)]


# ---------------------------------------------------------------- aggregation


def test_trimmed_mean_two_closest_median_and_the_precision(db, factory):
    entrants = [team(1), team(2)]
    built = build_scored(db, factory, entrants=entrants, judges=5, aggregation="trimmed_mean", places=1,
                         rounding="down")
    submit_scores(db, built, {"队01": {"A1": ["70", "80", "90", "85", "99"]},  # drop 70 and 99: 85 → 85.0
                              "队02": {"A1": ["60", "61", "62", "63", "100"]}})  # drop 60, 100: 62
    # n = 2: 10 % and 20 % of 2 round to 0, 30 % (0.6) to 1 — the one award is a 三等奖
    assert totals(built) == {"队01": (1, "85.0", "三等奖"), "队02": (2, "62.0", None)}
    built = build_scored(db, factory, entrants=[team(1)], judges=3, aggregation="two_closest",
                         organization=built.organization, organizer=built.organizer, title="小程序赛项")
    submit_scores(db, built, {"队01": {"A1": ["60", "80", "100"]}})  # equally close pairs: (70 + 90) / 2 = 80
    assert totals(built)["队01"][1] == "80.00"
    built = build_scored(db, factory, entrants=[team(1)], judges=4, aggregation="median",
                         organization=built.organization, organizer=built.organizer, title="网络安全赛项")
    submit_scores(db, built, {"队01": {"A1": ["60", "70", "75", "100"]}})  # (70 + 75) / 2
    assert totals(built)["队01"][1] == "72.50"


@pytest.mark.parametrize(("rounding", "expected"), [("half_up", "66.67"), ("up", "66.67"), ("down", "66.66")])
def test_combined_scores_round_once_by_the_competition_rule(db, factory, rounding, expected):
    built = build_scored(db, factory, entrants=[team(1)], judges=3, rounding=rounding)
    submit_scores(db, built, {"队01": {"A1": ["66", "67", "67"]}})  # 66.666…
    assert totals(built)["队01"][1] == expected


def test_ladder_levels_become_marks_exactly_before_rounding(db, factory):
    """Levels 1, 1, 1, 3 of a 5-mark criterion: mean level 1.5 → 2.5 marks exactly. Rounding each 1/3 × 5 to 28
    digits first would make 2.50000…0025 and round *up* to 2.51."""
    built = build_scored(db, factory, entrants=[team(1)], judges=4, rounding="up",
                         modules={"B": [("B1", "5", "judgement")]}, ladders=("B1",))
    submit_scores(db, built, {"队01": {"B1": ["1", "1", "1", "3"]}})
    assert totals(built)["队01"][1] == "2.50"


ints = st.integers(min_value=0, max_value=20)


@settings(max_examples=150, deadline=None)
@given(panels=st.lists(st.lists(ints, min_size=1, max_size=7), min_size=1, max_size=4),
       method=st.sampled_from(list(aggregation.Method)), trim=st.integers(min_value=3, max_value=6),
       places=st.integers(min_value=0, max_value=3),
       rounding=st.sampled_from(["half_up", "up", "down"]))
def test_integer_aggregation_equals_judging_aggregation(panels, method, trim, places, rounding):
    """The set-based path (integers, inlined totals) gives what ``judging.aggregation`` gives for the same panels
    (values in half points), criterion by criterion and in total."""
    criteria = [results.CriterionInfo(i + 1, 1, f"A{i + 1}", "", "A" if i % 2 else "B", Decimal(10),
                                      aggregation.CriterionKind.JUDGEMENT, False, 10 * results.UNITS)
                for i in range(len(panels))]
    rubric = aggregation.Rubric(tuple(aggregation.RubricCriterion(c.id, c.module, c.maximum) for c in criteria))
    round_ = results.RoundInfo(1, "决赛", 0, True, None, criteria, rubric,
                               module_max={m: rubric.module_maximum(m) for m in rubric.modules})
    judges = {c.id: list(range(1, len(panels[i]) + 1)) for i, c in enumerate(criteria)}
    everyone = frozenset(range(1, max(len(p) for p in panels) + 1))
    partial = {c.id: set(judges[c.id]) for c in criteria}
    inputs = results.Inputs(1, "t", places, results.Rounding(rounding), method, trim, {}, [round_], [round_],
                            aggregation.RoundScheme(final_round=1), [], [], {}, {(1, 7): (frozenset(), partial)},
                            {c.id: c for c in criteria}, results.RankInputs(results.Settings(), {}, [], {}))
    scores = {(7, c.id): {j: v * 5000 for j, v in zip(judges[c.id], panels[i])} for i, c in enumerate(criteria)}
    ours = results.compute_entrants(inputs, scores, [7])[7]
    rule = aggregation.CombineRule(method=method, trim_min_judges=trim, precision=Precision(places, rounding))
    sheet = {c.id: {j: Decimal(v) / 2 for j, v in zip(judges[c.id], panels[i])} for i, c in enumerate(criteria)}
    theirs = aggregation.score_entrant(rubric, 7, sheet, rule)
    assert ours.criteria == {k: v.score for k, v in theirs.criteria.items()}
    assert ours.total == theirs.total
    assert everyone  # (all judges have a share here; the slots are per criterion)


@settings(max_examples=80, deadline=None)
@given(levels=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=7),
       maximum=st.sampled_from(["5", "6", "7.5", "10", "9"]), method=st.sampled_from(list(aggregation.Method)),
       rounding=st.sampled_from(["half_up", "up", "down"]))
def test_ladder_criteria_equal_an_exact_fraction_reference(levels, maximum, method, rounding):
    numerator, denominator = results.combine_units(levels, method, 5)
    exact = Fraction(numerator, denominator) * Fraction(maximum) / 3
    expected = Precision(2, rounding).quantize(Decimal(exact.numerator) / Decimal(exact.denominator)) \
        if exact.denominator in (1, 2, 4, 5, 8, 10, 20, 25, 50, 100) else None
    criterion = results.CriterionInfo(1, 1, "B1", "", "B", Decimal(maximum), aggregation.CriterionKind.JUDGEMENT,
                                      True, int(Decimal(maximum) * results.UNITS))
    got = results._combined({j: level * results.UNITS for j, level in enumerate(levels)}, criterion, method, 5,
                            Decimal("0.01"), Precision(2, rounding).rounding.decimal_rounding)
    if expected is not None:  # a terminating exact value: must be met exactly
        assert got == expected
    else:  # otherwise the rounded exact fraction
        scaled = exact * 100
        floor = Fraction(int(scaled))
        if rounding == "down":
            want = floor
        elif rounding == "up":
            want = floor if scaled == floor else floor + 1
        else:
            want = floor + 1 if scaled - floor >= Fraction(1, 2) else floor
        assert got == Decimal(want.numerator) / 100


def test_weighted_modules_and_weighted_rounds(db, factory):
    from competition import services as cs

    built = build_scored(db, factory, entrants=[team(1)], modules={"A": [("A1", "50", "measurement")],
                                                                   "B": [("B1", "100", "judgement")]})
    # module weights A 30 %, B 70 %: 40/50 × 30 + 90/100 × 70 = 24 + 63 = 87
    from competition.models import Module, Rubric

    modules = {m.code: m for m in db.session.scalars(sa.select(Module).join(Rubric, Rubric.id == Module.rubric_id)
                                                     .where(Rubric.competition_id == built.competition.id))}
    db.session.execute(sa.update(Module).where(Module.id == modules["A"].id).values(weight=Decimal(30)))
    db.session.execute(sa.update(Module).where(Module.id == modules["B"].id).values(weight=Decimal(70)))
    results.touch(built.competition.id, action="test.weights")
    db.session.commit()
    submit_scores(db, built, {"队01": {"A1": "40", "B1": "90"}})
    assert totals(built)["队01"][1] == "87.00"
    # a first round that counts 40 % beside the final's 60 %: the final alone is scored → no total yet, a problem
    # names the weights when they do not add up
    first = cs.add_round(built.competition, cs.RoundData(name="初赛", carries_scores_forward=True,
                                                         weight=Decimal(40)), actor=built.organizer, now=NOW)
    db.session.execute(sa.update(type(first)).where(type(first).id == built.round.id).values(
        carries_scores_forward=True, weight=Decimal(50), position=9))
    results.touch(built.competition.id, action="test.rounds")
    db.session.commit()
    computed = results.standings(built.competition)
    assert computed.problems == [("round_weights", {"rounds": "初赛、决赛"}), ("no_criteria", {"round": "初赛"})]
    assert computed.board(None).lines[0].total is None


# ---------------------------------------------------------------- tie-breaks and their end


def test_tie_break_chain_separates_only_tied_entrants(db, factory):
    modules = {"A": [("A1", "50", "measurement")], "B": [("B1", "50", "judgement")]}
    built = build_scored(db, factory, entrants=[team(i) for i in range(1, 5)], modules=modules)
    submit_scores(db, built, {"队01": {"A1": "40", "B1": "40"},  # 80, B 40
                              "队02": {"A1": "35", "B1": "45"},  # 80, B 45
                              "队03": {"A1": "30", "B1": "45"},  # 75, B 45: higher B does not lift past 80
                              "队04": {"A1": "45", "B1": "35"}})  # 80, B 35
    assert ranks_of(built) == {"队01": 1, "队02": 1, "队03": 4, "队04": 1}
    set_settings(db, built, tiebreaks=["module:B"])
    assert ranks_of(built) == {"队02": 1, "队01": 2, "队04": 3, "队03": 4}
    line = results.standings(built.competition).lines_by_entrant[built.id("队02")]
    assert line.decided_by == ("module:B",)


def test_completion_time_breaks_a_tie_and_is_skipped_while_missing(db, factory):
    built = scored(db, factory, ["80", "80", "70"])
    set_settings(db, built, tiebreaks=["time"])
    results.set_times(built.competition, built.round, {built.id("队01"): "1:05:30"}, actor=built.organizer, now=NOW)
    db.session.commit()
    computed = results.standings(built.competition)
    assert ranks_of(built) == {"队01": 1, "队02": 1, "队03": 3}  # 队02 has no time: the tie-break is skipped
    assert computed.board(None).skipped[0].tiebreak == "time"
    results.set_times(built.competition, built.round, {built.id("队02"): "65:29.5"}, actor=built.organizer,
                      now=NOW)
    db.session.commit()
    assert ranks_of(built) == {"队02": 1, "队01": 2, "队03": 3}  # shorter time first


def test_lots_are_drawn_once_recorded_with_their_seed_and_reproducible(db, factory):
    built = scored(db, factory, ["90", "85", "85", "85", "60"])
    set_settings(db, built, chain_end=ChainEnd.LOTS)
    board = results.standings(built.competition).board(None)
    tie = board.ties[0]
    assert {built.name_of(e) for e in tie.entrant_ids} == {"队02", "队03", "队04"}
    assert tie.at_boundary == "二等奖"  # n = 5: cut-offs 1 (0.5 → 1), 2 (1 → 1 … ) — the tie straddles one
    decision = results.draw_lots(built.competition, board.key, tie.key, actor=built.organizer, now=NOW,
                                 seed="2026-demo-seed")
    db.session.commit()
    assert decision.order == results.lots_order(tie.entrant_ids, "2026-demo-seed")
    found = ranks_of(built)
    assert sorted(found[built.name_of(e)] for e in tie.entrant_ids) == [2, 3, 4]
    assert [found[built.name_of(e)] for e in decision.order] == [2, 3, 4]
    assert not results.standings(built.competition).board(None).ties
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "results.lots"))
    assert entry.details["seed"] == "2026-demo-seed" and entry.actor_id == built.organizer.id
    with pytest.raises(results.ResultsError) as refused:  # no tie left to draw for
        results.draw_lots(built.competition, board.key, tie.key, actor=built.organizer, now=NOW)
    assert refused.value.code == "no_such_tie"


def test_the_chief_judges_decision_needs_a_reason_and_goes_stale_when_scores_change(db, factory):
    built = scored(db, factory, ["90", "85", "85", "60"])
    board = results.standings(built.competition).board(None)
    tie = board.ties[0]
    with pytest.raises(results.ResultsError) as refused:
        results.decide_tie(built.competition, board.key, tie.key, list(tie.entrant_ids), "x", actor=built.organizer,
                           now=NOW)
    assert refused.value.code == "not_chief"  # the chain ends in shared ranks
    set_settings(db, built, chain_end=ChainEnd.CHIEF)
    with pytest.raises(results.ResultsError) as refused:
        results.decide_tie(built.competition, board.key, tie.key, list(tie.entrant_ids), "  ", actor=built.organizer,
                           now=NOW)
    assert refused.value.code == "reason_required"
    with pytest.raises(results.ResultsError) as refused:
        results.decide_tie(built.competition, board.key, tie.key, [tie.entrant_ids[0]], "复核", actor=built.organizer,
                           now=NOW)
    assert refused.value.code == "order"
    order = [built.id("队03"), built.id("队02")]
    results.decide_tie(built.competition, board.key, tie.key, order, "B模块现场答辩表现更好",
                       actor=built.organizer, now=NOW)
    db.session.commit()
    assert ranks_of(built)["队03"] == 2 and ranks_of(built)["队02"] == 3
    submit_scores(db, built, {"队02": {"A1": "86"}})  # the tie is gone: the decision no longer applies
    computed = results.standings(built.competition)
    assert ranks_of(built) == {"队01": 1, "队02": 2, "队03": 3, "队04": 4}
    assert [d.reason for d in computed.stale_decisions] == ["B模块现场答辩表现更好"]


# ---------------------------------------------------------------- overrides and the medal table


def test_manual_override_with_reason_is_audited_and_can_be_withdrawn(db, factory):
    built = scored(db, factory, ["95", "90", "85", "80", "75", "70", "65", "60", "55", "50"])
    entrant = built.entrants["队07"]
    with pytest.raises(results.ResultsError) as refused:
        results.set_override(built.competition, entrant, "特等奖", "复议", actor=built.organizer, now=NOW)
    assert refused.value.code == "unknown_tier"
    results.set_override(built.competition, entrant, "三等奖", "仲裁组裁定：计分错误已更正", actor=built.organizer,
                         now=NOW)
    db.session.commit()
    assert awards_of(built)["队07"] == "三等奖"
    line = results.standings(built.competition).lines_by_entrant[entrant.id]
    assert line.computed_award is None and line.override.reason == "仲裁组裁定：计分错误已更正"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "results.award_override"))
    assert entry.details["reason"] == "仲裁组裁定：计分错误已更正" and entry.details["tier"] == "三等奖"
    results.set_override(built.competition, built.entrants["队01"], "", "取消资格", actor=built.organizer, now=NOW)
    db.session.commit()
    assert awards_of(built)["队01"] is None
    results.clear_override(built.competition, entrant, "撤回", actor=built.organizer, now=NOW)
    db.session.commit()
    assert awards_of(built)["队07"] is None
    assert db.session.scalar(sa.select(sa.func.count(AwardOverride.id))) == 1


def test_medal_table_counts_tiers_per_unit_and_ranks_by_points(db, factory):
    entrants = [("甲1", "甲校", "高职组"), ("乙1", "乙校", "高职组"), ("甲2", "甲校", "高职组"), ("丙1", "丙校", "高职组"),
                ("乙2", "乙校", "中职组"), ("丙2", "丙校", "中职组")]
    rules = {"basis": "count", "rounding": "half_up",
             "tiers": [{"name": "一等奖", "value": "1"}, {"name": "二等奖", "value": "1"},
                       {"name": "三等奖", "value": "1"}]}
    built = build_scored(db, factory, entrants=entrants, award_rules=rules)
    submit_scores(db, built, {"甲1": {"A1": "90"}, "乙1": {"A1": "80"}, "甲2": {"A1": "70"}, "丙1": {"A1": "60"},
                              "乙2": {"A1": "95"}, "丙2": {"A1": "85"}})
    set_settings(db, built, rest_tier="优秀奖", points=["5", "3", "2", "1"])
    table = results.standings(built.competition).medal_table
    # 甲: 一等 + 三等 = 7; 乙: 二等 (高职) + 一等 (中职) = 8; 丙: 优秀 (高职) + 二等 (中职) = 4
    assert [(u.unit, u.rank, u.points) for u in table] == [("乙校", 1, Decimal(8)), ("甲校", 2, Decimal(7)),
                                                          ("丙校", 3, Decimal(4))]
    assert table[0].counts == {"一等奖": 1, "二等奖": 1, "三等奖": 0, "优秀奖": 0}


def test_overall_list_beside_the_groups_shows_each_entrants_group_award(db, factory):
    entrants = [("甲", "A校", "高职组"), ("乙", "B校", "中职组"), ("丙", "C校", "中职组")]
    built = build_scored(db, factory, entrants=entrants)
    submit_scores(db, built, {"甲": {"A1": "70"}, "乙": {"A1": "90"}, "丙": {"A1": "80"}})
    set_settings(db, built, overall=True)
    computed = results.standings(built.competition)
    overall = computed.board("overall")
    assert [(built.name_of(l.entrant.id), l.rank) for l in overall.ranked] == [("乙", 1), ("丙", 2), ("甲", 3)]
    assert not overall.has_awards
    assert overall.ranked[2].award == computed.board(f"g{built.groups['高职组'].id}").ranked[0].award


# ---------------------------------------------------------------- version, cache and the incremental recompute


def test_incremental_recompute_equals_a_full_recompute(db, factory):
    rng = random.Random(5)
    names = [f"队{i:02d}" for i in range(1, 13)]
    built = build_scored(db, factory, entrants=[(n, f"校{i % 4}", "高职组" if i % 2 else "中职组")
                                                for i, n in enumerate(names)], judges=3,
                         modules={"A": [("A1", "10", "measurement"), ("A2", "10", "measurement")],
                                  "B": [("B1", "6", "judgement")]}, ladders=("B1",))
    submit_scores(db, built, {n: {"A1": str(rng.randint(0, 10)), "A2": str(rng.randint(0, 10)),
                                  "B1": [str(rng.randint(0, 3)) for _ in range(3)]} for n in names[:-2]})
    results.standings(built.competition)  # cached
    for _step in range(8):
        name = rng.choice(names)
        submit_scores(db, built, {name: {"A1": str(rng.randint(0, 10)), "B1": [str(rng.randint(0, 3))] * 3}})
        cached = results.standings(built.competition)
        results.clear_cache()
        fresh = results.standings(built.competition)
        assert cached.version == fresh.version
        for old, new in zip(cached.boards, fresh.boards):
            assert [(l.entrant.id, l.rank, l.total, l.award) for l in old.lines] == \
                   [(l.entrant.id, l.rank, l.total, l.award) for l in new.lines]


def test_a_state_change_needs_no_recompute_and_a_cache_hit_is_the_same_object(db, factory):
    built = scored(db, factory, ["90", "80"])
    first = results.standings(built.competition)
    assert results.standings(built.competition) is first
    results.publish(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    after = results.standings(built.competition)
    assert after.version == first.version + 1 and after.boards is first.boards


# ---------------------------------------------------------------- publishing, freezing, history


def test_public_view_nothing_codes_names_and_the_frozen_board(db, factory):
    built = scored(db, factory, ["90", "80"])
    view = results.public_view(built.competition)
    assert view.mode == "nothing" and view.boards == [] and view.token == "1"
    set_settings(db, built, before_publish=results.BeforePublish.CODES)
    view = results.public_view(built.competition)
    assert view.mode == "codes"
    assert view.board(None)["entries"][0] == {"rank": 1, "code": built_code(built, "队01"), "total": "90.00",
                                              "award": "三等奖"}  # n = 2: only 30 % of 2 rounds to one award
    results.publish(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    assert results.public_view(built.competition).board(None)["entries"][0]["name"] == "队01"
    results.freeze(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    frozen_token = results.public_view(built.competition).token
    submit_scores(db, built, {"队02": {"A1": "99"}})  # scoring goes on
    view = results.public_view(built.competition)
    assert view.token == frozen_token
    assert [(e["name"], e["total"]) for e in view.board(None)["entries"]] == [("队01", "90.00"), ("队02", "80.00")]
    assert results.standings(built.competition).board(None).ranked[0].entrant.name == "队02"  # organizers: live
    results.unfreeze(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    assert results.public_view(built.competition).board(None)["entries"][0]["name"] == "队02"


def built_code(built, name):
    return results.standings(built.competition).lines_by_entrant[built.id(name)].entrant.code


def test_state_changes_are_conditional(db, factory):
    built = scored(db, factory, ["90"])
    with pytest.raises(results.ResultsError) as refused:
        results.mark_final(built.competition, actor=built.organizer, now=NOW)
    assert refused.value.code == "not_published"
    results.publish(built.competition, actor=built.organizer, now=NOW)
    with pytest.raises(results.ResultsError) as refused:
        results.publish(built.competition, actor=built.organizer, now=NOW)
    assert refused.value.code == "already_published"
    results.mark_final(built.competition, actor=built.organizer, now=NOW)
    with pytest.raises(results.ResultsError) as refused:
        results.unpublish(built.competition, actor=built.organizer, now=NOW)
    assert refused.value.code == "final"
    results.freeze(built.competition, actor=built.organizer, now=NOW)
    with pytest.raises(results.ResultsError) as refused:
        results.freeze(built.competition, actor=built.organizer, now=NOW)
    assert refused.value.code == "already_frozen"
    db.session.commit()
    state = results.get_state(built.competition.id)
    assert state.published and state.final and state.frozen_at is not None
    assert results.is_identity_released(built.competition) and results.results_final(built.competition)


def test_ranking_history_records_who_moved_and_why(db, factory):
    from judging import services as js
    from judging.models import Score

    built = scored(db, factory, ["90", "85", "80"])
    computed = results.read_standings(built.competition)  # the first recorded board
    score = db.session.scalar(sa.select(Score).where(Score.entrant_id == built.id("队03")))
    js.change_submitted_score(score, "95", actor=built.organizer, reason="复核：漏计一个检查点", now=NOW)
    db.session.commit()
    results.read_standings(built.competition)
    steps = results.history(built.competition)
    assert len(steps) == 1 and steps[0].from_version == computed.version
    moves = {built.name_of(m.entrant_id): (m.old_rank, m.new_rank, m.old_total, m.new_total) for m in steps[0].moves}
    assert moves == {"队03": (3, 1, "80.00", "95.00"), "队01": (1, 2, "90.00", "90.00"),
                     "队02": (2, 3, "85.00", "85.00")}
    assert [(c.action, c.entrant_id, c.details.get("old"), c.details.get("new")) for c in steps[0].causes] == [
        ("judging.score_change", built.id("队03"), "80", "95")]
    assert not results.record_history(built.competition, results.standings(built.competition), now=NOW)
    # another process (empty cache) records the next step from the stored board
    results.clear_cache()
    submit_scores(db, built, {"队02": {"A1": "96"}})
    results.read_standings(built.competition)
    assert db.session.scalar(sa.select(sa.func.count(RankMove.id))) == 3 + 3


def test_completion_times_are_parsed_all_or_nothing(db, factory):
    built = scored(db, factory, ["90", "80"])
    with pytest.raises(results.ResultsError) as refused:
        results.set_times(built.competition, built.round, {built.id("队01"): "1:02:03", built.id("队02"): "1:75"},
                          actor=built.organizer, now=NOW)
    assert refused.value.field == f"time-{built.id('队02')}"
    db.session.rollback()
    assert results.times_of(built.round) == {}
    assert results.set_times(built.competition, built.round, {built.id("队01"): "1:02:03.5"},
                             actor=built.organizer, now=NOW) == 1
    db.session.commit()
    assert results.times_of(built.round) == {built.id("队01"): Decimal("3723.5")}
    assert results.format_time(Decimal("3723.5")) == "1:02:03.5"


@pytest.mark.parametrize(("text", "seconds"), [("1:02:03", "3723"), ("62:03.5", "3723.5"), ("3723", "3723"),
                                                ("１：０５：３０", "3930"), ("0:59.999", "59.999"), ("", None)])
def test_parse_time(text, seconds):
    assert results.parse_time(text) == (Decimal(seconds) if seconds else None)


@pytest.mark.parametrize("text", ["1:60", "1:61:00", "abc", "1:2:3:4", "1.5:00", "9999:00:00", "-5"])
def test_parse_time_refuses(text):
    with pytest.raises(results.ResultsError):
        results.parse_time(text)


def test_settings_refuse_unknown_or_repeated_tie_breaks_and_bad_points(db, factory):
    built = scored(db, factory, ["90"])
    for tiebreaks, code in ((["module:Z"], "tiebreak_unknown"), (["time", "time"], "tiebreak_twice")):
        with pytest.raises(results.ResultsError) as refused:
            results.update_settings(built.competition, results.SettingsData(tiebreaks=tiebreaks),
                                    actor=built.organizer, now=NOW)
        assert refused.value.code == code
    with pytest.raises(results.ResultsError):
        results.parse_points("4/三/2")
    assert results.parse_points("4 3，2/1.5") == ["4", "3", "2", "1.5"]
    with pytest.raises(results.ResultsError) as refused:
        results.update_settings(built.competition, results.SettingsData(rest_tier="一等奖"), actor=built.organizer,
                                now=NOW)
    assert refused.value.code == "rest_tier"


def test_certificates_receive_published_awards_only(db, factory):
    built = scored(db, factory, ["95", "90", "85", "80", "75", "70", "65", "60", "55", "50"])
    assert results.published_awards(built.competition) is None
    results.publish(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    awarded = results.published_awards(built.competition)
    assert [(a.entrant.name, a.award) for a in awarded][:2] == [("队01", "一等奖"), ("队02", "二等奖")]
    assert len(awarded) == 6
    results.freeze(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    assert results.published_awards(built.competition) is None
    from certificates.sources import award_holders

    results.unfreeze(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    holders = award_holders(built.competition)
    assert holders[0].name == "队01" and holders[0].award == "一等奖"


def test_recorded_changes_outlive_nothing_secret(db, factory):
    """Excel export and the 成绩公示 are downloads with names: logged, and they do not bump the version."""
    built = scored(db, factory, ["90"])
    version = results.get_state(built.competition.id).version
    results.log_download(built.competition, "results.export", actor=built.organizer, now=NOW + timedelta(minutes=1))
    db.session.commit()
    assert results.get_state(built.competition.id).version == version
    assert db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.action == "results.export")) is not None


def test_concurrent_changes_each_get_their_own_version(app, db, factory):
    """Eight writers at once (threads with their own sessions and connections): every bump is counted once, the log
    has one row per version, none lost or doubled (on PostgreSQL the results row's lock orders them)."""
    import threading

    from extensions import db as database

    built = scored(db, factory, ["90", "80"])
    start = results.get_state(built.competition.id).version
    barrier = threading.Barrier(8)
    errors = []

    def writer(i):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                from core.database import run_write

                def work():
                    results.touch(built.competition.id, action=f"test.writer{i}", now=NOW)
                    database.session.commit()

                run_write(database.session, work)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))
            finally:
                database.session.remove()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    db.session.expire_all()
    assert results.get_state(built.competition.id).version == start + 8
    versions = sorted(db.session.scalars(sa.select(ResultChange.version).where(
        ResultChange.competition_id == built.competition.id, ResultChange.action.like("test.writer%"))))
    assert versions == list(range(start + 1, start + 9))


@settings(max_examples=200, deadline=None)
@given(totals=st.lists(st.one_of(st.none(), st.integers(min_value=50, max_value=60)), min_size=0, max_size=30),
       basis=st.sampled_from(["share", "count", "threshold"]), rounding=st.sampled_from(["half_up", "up", "down"]),
       lift=st.booleans(), rest=st.sampled_from([None, "优秀奖"]), overridden=st.integers(min_value=0, max_value=40))
def test_the_plain_board_equals_ranking_and_awards(totals, basis, rounding, lift, rest, overridden):
    """The fast board (no tie-break chain) gives exactly what ``rank_entries`` + ``assign_awards`` give: ranks,
    ties, awards, boundary ties, summaries, rest tier, overrides, unresolved ties."""
    from competition.awards import scheme_from_rules

    values = {"share": ["10", "20", "30"], "count": ["1", "2", "3"], "threshold": ["58", "55", "52"]}[basis]
    scheme = scheme_from_rules({"basis": basis, "rounding": rounding, "lift_ties": lift, "rest": rest,
                                "tiers": [{"name": n, "value": v} for n, v in zip(["一等奖", "二等奖", "三等奖"], values)]})
    members = [results.EntrantInfo(100 + i, None, f"队{i}", "校", True, i, f"{i:02d}", None) for i in range(len(totals))]
    half = {t: (Decimal(t) / 2).quantize(Decimal("0.1")) for t in totals if t is not None}  # 1 place, as computed
    entrant_results = {m.id: results.EntrantResult(m.id, half.get(t), {}, {}, {}, (), (),
                                                   None if t is None else format(half[t], "f"))
                       for m, t in zip(members, totals)}
    overrides = {100 + overridden: AwardOverride(entrant_id=100 + overridden, tier="二等奖", reason="复议")}
    inputs = results.Inputs(1, "t", 1, results.Rounding.HALF_UP, aggregation.Method.MEAN, 5, {}, [], [], None, [], [],
                            {m.id: m for m in members}, {}, {}, results.RankInputs(results.Settings(), {}, [], overrides))

    def shape(board):
        return ([(l.entrant.id, l.rank, l.tied, l.award, l.computed_award, l.boundary_tie, l.override is not None)
                 for l in board.lines], board.summary, board.rest_awarded,
                [(t.rank, t.total, t.entrant_ids, t.key, t.at_boundary) for t in board.ties])

    fast = results._plain_rank_board("all", None, members, inputs, entrant_results, scheme)
    slow = results._chain_rank_board("all", None, members, inputs, entrant_results, [], scheme)
    assert shape(fast) == shape(slow)
