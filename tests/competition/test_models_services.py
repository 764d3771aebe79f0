"""Competition set-up services: competitions, groups, rounds, rubrics, entrants from sign-ups, roll call, scoring
start. Each refusal has a stable error code; nothing is half-saved (the caller rolls back)."""
from __future__ import annotations

import random
from decimal import Decimal

import pytest
import sqlalchemy as sa

from competition import services
from competition.draw import draw
from competition.models import (
    AggregationMethod,
    Competition,
    CriterionKind,
    Entrant,
    EntrantSource,
    Group,
    RollCall,
    RollCallSource,
    RoundState,
    Rubric,
)
from competition.services import CompetitionError
from core.models import AuditEntry
from tests.competition.builders import make_competition
from tests.conftest import NOW


@pytest.fixture()
def setup(db, factory):
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, title="云计算技能大赛", kind="competition", requires_approval=True)
    return org, organizer, event


def code_of(call) -> str:
    with pytest.raises(CompetitionError) as info:
        call()
    return info.value.code


# ---------------------------------------------------------------- competitions


def test_create_competition_with_groups_and_defaults(db, setup):
    _org, organizer, event = setup
    competition = services.create_competition(
        event, services.CompetitionData(title=" 云计算 ", groups=["中职组", "高职组"]), actor=organizer, now=NOW)
    db.session.commit()
    db.session.expire_all()
    competition = db.session.get(Competition, competition.id)
    assert competition.title == "云计算"
    assert [g.name for g in competition.groups] == ["中职组", "高职组"]
    assert competition.places == 2 and competition.rounding.value == "half_up"
    assert competition.aggregation == AggregationMethod.TRIMMED_MEAN and competition.trim_threshold == 5
    assert competition.award_rules["tiers"][0] == {"name": "一等奖", "value": "10"}
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.object_type == "Competition")) == \
        "competition.create"


def test_duplicate_title_and_archived_event_are_refused(db, setup, factory):
    org, organizer, event = setup
    services.create_competition(event, services.CompetitionData(title="云计算"), actor=organizer, now=NOW)
    assert code_of(lambda: services.create_competition(event, services.CompetitionData(title="云计算"),
                                                       actor=organizer, now=NOW)) == "duplicate_title"
    archived = factory.event(org, title="往届大赛", kind="competition", status="archived")
    assert code_of(lambda: services.create_competition(archived, services.CompetitionData(title="云计算"),
                                                       actor=organizer, now=NOW)) == "archived"


@pytest.mark.parametrize(("data", "code"), [
    ({"title": ""}, "required"),
    ({"title": "x" * 201}, "too_long"),
    ({"title": "t", "places": 5}, "places"),
    ({"title": "t", "trim_threshold": 2}, "trim_threshold"),
    ({"title": "t", "normalization_min_scores": 1}, "normalization_min_scores"),
    ({"title": "t", "award_rules": {"basis": "lottery", "tiers": []}}, "award_basis"),
    ({"title": "t", "award_rules": {"basis": "share", "tiers": [{"name": "一等奖", "value": "60"},
                                                                 {"name": "二等奖", "value": "50"}]}}, "award_shares"),
    ({"title": "t", "award_rules": {"basis": "count", "tiers": [{"name": "一等奖", "value": "1.5"}]}}, "award_count_whole"),
    ({"title": "t", "award_rules": {"basis": "threshold", "tiers": [{"name": "一等奖", "value": "80"},
                                                                     {"name": "二等奖", "value": "90"}]}}, "award_thresholds"),
    ({"title": "t", "award_rules": {"basis": "share", "tiers": [{"name": "奖", "value": "10"},
                                                                 {"name": "奖", "value": "10"}]}}, "award_duplicate"),
    ({"title": "t", "award_rules": {"basis": "share", "tiers": [{"name": "奖", "value": "abc"}]}}, "not_a_number"),
])
def test_bad_competition_settings_are_refused(db, setup, data, code):
    _org, organizer, event = setup
    assert code_of(lambda: services.create_competition(event, services.CompetitionData(**data), actor=organizer,
                                                       now=NOW)) == code


def test_award_tiers_are_read_from_lines():
    assert services.parse_award_tiers("一等奖 10\n二等奖：20%\n\n三等奖=３０％") == [
        {"name": "一等奖", "value": "10"}, {"name": "二等奖", "value": "20"}, {"name": "三等奖", "value": "30"}]
    with pytest.raises(CompetitionError) as info:
        services.parse_award_tiers("一等奖")
    assert info.value.code == "award_line"
    rules = services.validate_award_rules({"basis": "share", "tiers": services.parse_award_tiers("金奖 10.50")})
    assert rules["tiers"] == [{"name": "金奖", "value": "10.5"}]
    assert services.award_tiers_text(rules) == "金奖 10.5"


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(("text", "expected"), [("10", Decimal(10)), ("0.5", Decimal("0.5")), ("７．５", Decimal("7.5")),
                                                ("2.2500", Decimal("2.25")), ("30%", Decimal(30))])
def test_parse_decimal_accepts(text, expected):
    assert services.parse_decimal(text) == expected


@pytest.mark.parametrize(("text", "code"), [("", "not_a_number"), ("abc", "not_a_number"), ("NaN", "not_a_number"),
                                            ("1,5", "not_a_number"), ("0", "not_positive"), ("-1", "not_positive"),
                                            ("0.00001", "too_many_places"), ("10001", "too_large"),
                                            ("1e400", "too_large")])
def test_parse_decimal_refuses(text, code):
    assert code_of(lambda: services.parse_decimal(text)) == code


def test_is_multiple():
    assert services.is_multiple(Decimal(10), Decimal("0.5"))
    assert services.is_multiple(Decimal("7.5"), Decimal("2.5"))
    assert not services.is_multiple(Decimal(10), Decimal(3))
    assert not services.is_multiple(Decimal("0.7"), Decimal("0.5"))


# ---------------------------------------------------------------- groups and rounds


def test_groups_duplicate_rename_and_delete_in_use(db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=2)
    first, second = competition.groups
    assert code_of(lambda: services.add_group(competition, "中职组", actor=organizer, now=NOW)) == "duplicate_group"
    assert code_of(lambda: services.rename_group(second, "中职组", actor=organizer, now=NOW)) == "duplicate_group"
    services.rename_group(second, "高职组（专科）", actor=organizer, now=NOW)
    assert code_of(lambda: services.delete_group(first, actor=organizer, now=NOW)) == "group_in_use"
    empty = services.add_group(competition, "企业组", actor=organizer, now=NOW)
    services.delete_group(empty, actor=organizer, now=NOW)
    db.session.commit()
    assert [g.name for g in db.session.scalars(sa.select(Group).where(Group.competition_id == competition.id)
                                               .order_by(Group.position))] == ["中职组", "高职组（专科）"]


def test_rounds_rules(db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0, rubric=False)
    assert code_of(lambda: services.add_round(competition, services.RoundData(name="初赛"), actor=organizer,
                                              now=NOW)) == "duplicate_round"
    assert code_of(lambda: services.add_round(competition, services.RoundData(name="决赛", weight=Decimal(60)),
                                              actor=organizer, now=NOW)) == "weight_without_carry"
    assert code_of(lambda: services.add_round(
        competition, services.RoundData(name="决赛", starts_at=NOW, ends_at=NOW.replace(hour=1)), actor=organizer,
        now=NOW)) == "ends_before_starts"
    final = services.add_round(competition, services.RoundData(name="决赛", carries_scores_forward=True,
                                                               weight=Decimal("70")), actor=organizer, now=NOW)
    db.session.commit()
    assert final.position == 2 and final.weight == Decimal(70)
    assert services.rubric_for(final).version == 1  # every round has its rubric
    services.delete_round(final, actor=organizer, now=NOW)
    db.session.commit()
    assert [r.name for r in db.session.get(Competition, competition.id).rounds] == ["初赛"]


# ---------------------------------------------------------------- rubric


def test_rubric_edits_count_versions_and_stop_once_locked(db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0)
    round_ = competition.rounds[0]
    rubric = services.rubric_for(round_)
    assert rubric.version == 5  # two modules, two criteria
    assert services.rubric_total(rubric) == Decimal(16)
    assert services.rubric_problems(rubric) == []
    assert not services.rubric_is_locked(round_)
    assert services.lock_rubric(rubric, actor=organizer, now=NOW) is True
    assert services.lock_rubric(rubric, actor=organizer, now=NOW) is False
    assert services.rubric_is_locked(round_) and services.rubric_is_locked(rubric)
    module = rubric.modules[0]
    criterion = module.criteria[0]
    for call in (
        lambda: services.add_module(rubric, services.ModuleData(code="C"), actor=organizer, now=NOW),
        lambda: services.update_module(module, services.ModuleData(code="A", name="x"), actor=organizer, now=NOW),
        lambda: services.delete_module(module, actor=organizer, now=NOW),
        lambda: services.add_criterion(module, services.CriterionData(code="A2", name="x", maximum="1", step="1",
                                                                      kind=CriterionKind.MEASUREMENT),
                                       actor=organizer, now=NOW),
        lambda: services.update_criterion(criterion, services.CriterionData(code="A1", name="x", maximum="1", step="1",
                                                                            kind=CriterionKind.MEASUREMENT),
                                          actor=organizer, now=NOW),
        lambda: services.delete_criterion(criterion, actor=organizer, now=NOW),
        lambda: services.replace_rubric(round_, [], actor=organizer, now=NOW),
    ):
        assert code_of(call) == "rubric_locked"
    assert db.session.get(Rubric, rubric.id).version == 5


@pytest.mark.parametrize(("data", "code"), [
    ({"code": "A1", "maximum": "10", "step": "1"}, "duplicate_criterion"),
    ({"code": "A 2", "maximum": "10", "step": "1"}, "criterion_code"),
    ({"maximum": "10", "step": "3"}, "max_not_multiple"),
    ({"maximum": "1", "step": "2"}, "step_above_max"),
    ({"maximum": "0", "step": "1"}, "not_positive"),
    ({"maximum": "10", "step": "0.00001"}, "too_many_places"),
    ({"ladder": True, "levels": ["a", "b", "c", "d"]}, "ladder_needs_judgement"),
    ({"kind": CriterionKind.JUDGEMENT, "ladder": True, "levels": ["a", "b", "c"]}, "ladder_levels"),
    ({"kind": CriterionKind.JUDGEMENT, "ladder": True, "levels": ["a", "", "c", "d"]}, "ladder_levels"),
    ({"kind": CriterionKind.JUDGEMENT, "full_or_zero": True}, "full_or_zero_needs_measurement"),
    ({"name": ""}, "required"),
])
def test_bad_criteria_are_refused(db, setup, data, code):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0)
    module = services.rubric_for(competition.rounds[0]).modules[0]
    values = {"code": "A2", "name": "网络配置", "maximum": "10", "step": "0.5", "kind": CriterionKind.MEASUREMENT}
    values.update(data)
    assert code_of(lambda: services.add_criterion(module, services.CriterionData(**values), actor=organizer,
                                                  now=NOW)) == code


def test_module_codes_and_weights(db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0)
    rubric = services.rubric_for(competition.rounds[0])
    assert code_of(lambda: services.add_module(rubric, services.ModuleData(code="a"), actor=organizer,
                                               now=NOW)) == "duplicate_module"  # codes are upper-cased
    assert code_of(lambda: services.add_module(rubric, services.ModuleData(code="1A"), actor=organizer,
                                               now=NOW)) == "module_code"
    module_c = services.add_module(rubric, services.ModuleData(code="C", name="职业素养"), actor=organizer, now=NOW)
    codes = [code for code, _message in services.rubric_problems(rubric)]
    assert codes == ["empty_module", "weights_partial"]
    services.update_module(module_c, services.ModuleData(code="C", weight=Decimal(10)), actor=organizer, now=NOW)
    services.add_criterion(module_c, services.CriterionData(code="C1", name="安全文明", maximum="2", step="2",
                                                            kind=CriterionKind.MEASUREMENT, full_or_zero=True),
                           actor=organizer, now=NOW)
    problems = services.rubric_problems(rubric)
    assert [code for code, _m in problems] == ["weights_sum"] and "110" in problems[0][1]
    assert code_of(lambda: services.lock_rubric(rubric, actor=organizer, now=NOW)) == "rubric_incomplete"
    services.delete_module(module_c, actor=organizer, now=NOW)
    assert services.rubric_problems(rubric) == []


def test_empty_rubric_is_a_problem(db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0, rubric=False)
    assert [c for c, _m in services.rubric_problems(services.rubric_for(competition.rounds[0]))] == ["empty"]


# ---------------------------------------------------------------- entrants


def _team_signup(event, name, phone, group, *, approve=True, organizer=None):
    from registration.models import MemberRole
    from registration.services import MemberData, SignupData, approve_registration, register_participant

    registration, _key = register_participant(event, SignupData(
        name=f"{name}领队", phone=phone, unit=f"{name}学院", group_name=group, team_name=name,
        members=[MemberData(MemberRole.MEMBER, f"{name}队员", phone[:-1] + "9"),
                 MemberData(MemberRole.COACH, f"{name}教师", None)]), now=NOW, ignore_window=True)
    if approve and registration.status.value != "approved":
        approve_registration(registration, now=NOW, actor=organizer)
    return registration


def _team_event(event, organizer):
    from registration.models import RegistrationKind
    from registration.services import save_settings

    save_settings(event, kind=RegistrationKind.TEAM, team_min_members=1, team_max_members=3, team_max_coaches=1,
                  groups=["中职组", "高职组", "企业组"], ask_id_number=False, ask_email=False, ask_job_title=False,
                  allow_session_choice=False, actor=organizer, now=NOW)


def test_entrants_from_signups_are_idempotent_and_keep_team_details(db, setup):
    _org, organizer, event = setup
    _team_event(event, organizer)
    first = _team_signup(event, "飞翔队", "13900000010", "中职组", organizer=organizer)
    _team_signup(event, "启航队", "13900000020", "企业组", organizer=organizer)
    _team_signup(event, "待审队", "13900000030", "中职组", approve=False)
    competition = services.create_competition(event, services.CompetitionData(title="云计算", groups=["中职组"]),
                                              actor=organizer, now=NOW)
    outcome = services.add_entrants_from_registrations(competition, actor=organizer, now=NOW)
    db.session.commit()
    assert [e.name for e in outcome.added] == ["飞翔队", "启航队"]
    assert outcome.groups_created == ["企业组"] and outcome.already == 0
    entrant = db.session.scalar(sa.select(Entrant).where(Entrant.registration_id == first.id))
    assert entrant.is_team and entrant.source == EntrantSource.REGISTRATION
    assert entrant.members == ["飞翔队领队", "飞翔队队员"] and entrant.coaches == ["飞翔队教师"]
    assert entrant.unit == "飞翔队学院" and entrant.phone == "13900000010" and entrant.group.name == "中职组"

    again = services.add_entrants_from_registrations(competition, actor=organizer, now=NOW)
    assert again.added == [] and again.already == 2
    _team_signup(event, "后来队", "13900000040", "高职组", organizer=organizer)
    third = services.add_entrants_from_registrations(competition, actor=organizer, now=NOW)
    db.session.commit()
    assert [e.name for e in third.added] == ["后来队"] and third.already == 2
    assert db.session.scalar(sa.select(sa.func.count(Entrant.id)).where(
        Entrant.competition_id == competition.id)) == 3


def test_a_signup_enters_a_competition_once_by_constraint(db, setup):
    from sqlalchemy.exc import IntegrityError

    _org, organizer, event = setup
    _team_event(event, organizer)
    registration = _team_signup(event, "飞翔队", "13900000010", "中职组", organizer=organizer)
    competition = services.create_competition(event, services.CompetitionData(title="云计算"), actor=organizer, now=NOW)
    for _ in range(2):
        db.session.add(Entrant(competition_id=competition.id, registration_id=registration.id, name="飞翔队",
                               source=EntrantSource.REGISTRATION, created_at=NOW))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(("data", "code"), [
    ({"name": ""}, "required"),
    ({"group_id": None}, "group_required"),
    ({"group_id": -1}, "unknown_group"),
    ({"phone": "12345"}, "invalid_phone"),
    ({"members": [f"m{i}" for i in range(21)]}, "too_many_names"),
])
def test_bad_entrants_are_refused(db, setup, data, code):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0)
    values = {"name": "飞翔队", "unit": "厦门职业学校", "group_id": competition.groups[0].id}
    values.update(data)
    assert code_of(lambda: services.add_entrant(competition, services.EntrantData(**values), actor=organizer,
                                                now=NOW)) == code


def test_entrant_group_and_removal_are_fixed_once_scoring_starts(db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=2)
    entrant = services.list_entrants(competition)[0]
    draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(1))
    services.start_scoring(competition.rounds[0], actor=organizer, now=NOW)
    db.session.commit()
    other_group = competition.groups[1].id
    assert code_of(lambda: services.update_entrant(entrant, services.EntrantData(
        name=entrant.name, group_id=other_group), actor=organizer, now=NOW)) == "scoring_started"
    db.session.rollback()
    entrant = services.list_entrants(db.session.get(Competition, competition.id))[0]
    services.update_entrant(entrant, services.EntrantData(name="飞翔队（更名）", unit=entrant.unit,
                                                         group_id=entrant.group_id), actor=organizer, now=NOW)
    assert code_of(lambda: services.delete_entrant(entrant, actor=organizer, now=NOW)) == "scoring_started"


# ---------------------------------------------------------------- scoring start


def test_start_scoring_needs_rubric_entrants_and_draw_then_locks(db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0, rubric=False)
    round_ = competition.rounds[0]
    assert code_of(lambda: services.start_scoring(round_, actor=organizer, now=NOW)) == "rubric_incomplete"
    db.session.rollback()
    competition = make_competition(event, organizer, title="小程序赛项", entrants=2)
    round_ = competition.rounds[0]
    assert code_of(lambda: services.start_scoring(round_, actor=organizer, now=NOW)) == "draw_first"
    draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(3))
    assert not services.scoring_has_started(competition)
    services.start_scoring(round_, actor=organizer, now=NOW)
    db.session.commit()
    assert round_.state == RoundState.SCORING and round_.scoring_started_at == NOW
    assert services.rubric_is_locked(round_) and services.scoring_has_started(competition)
    assert code_of(lambda: services.start_scoring(round_, actor=organizer, now=NOW)) == "already_started"
    assert code_of(lambda: services.delete_round(round_, actor=organizer, now=NOW)) == "round_started"


def test_scoring_rules_fixed_once_a_round_is_final(db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=0)
    competition.rounds[0].state = RoundState.LOCKED
    db.session.commit()
    data = services.CompetitionData(title=competition.title, places=3)
    assert code_of(lambda: services.update_competition(competition, data, actor=organizer, now=NOW)) == "results_locked"
    db.session.rollback()
    competition = db.session.get(Competition, competition.id)
    services.update_competition(competition, services.CompetitionData(title="云计算（新）"), actor=organizer, now=NOW)
    assert competition.title == "云计算（新）"


# ---------------------------------------------------------------- roll call


def test_roll_call_is_one_row_and_says_whether_it_changed(db, setup):
    _org, organizer, event = setup
    competition = make_competition(event, organizer, entrants=2)
    round_ = competition.rounds[0]
    entrant = services.list_entrants(competition)[0]
    assert services.set_roll_call(entrant, round_, True, actor=organizer, now=NOW).changed is True
    assert services.set_roll_call(entrant, round_, True, actor=organizer, now=NOW).changed is False
    db.session.commit()
    assert services.present_entrant_ids(round_) == {entrant.id}
    assert services.set_roll_call(entrant, round_, False, actor=organizer, now=NOW).changed is True
    db.session.commit()
    rows = list(db.session.scalars(sa.select(RollCall).where(RollCall.entrant_id == entrant.id)))
    assert len(rows) == 1 and rows[0].present is False and rows[0].by_id == organizer.id
    assert services.present_entrant_ids(round_) == set()
    round_.state = RoundState.LOCKED
    assert code_of(lambda: services.set_roll_call(entrant, round_, True, actor=organizer, now=NOW)) == "round_locked"


def test_scanner_marks_the_entrant_of_a_signup_present(db, setup):
    _org, organizer, event = setup
    _team_event(event, organizer)
    registration = _team_signup(event, "飞翔队", "13900000010", "中职组", organizer=organizer)
    other = _team_signup(event, "启航队", "13900000020", "中职组", organizer=organizer)
    competition = services.create_competition(event, services.CompetitionData(title="云计算"), actor=organizer, now=NOW)
    first = services.add_round(competition, services.RoundData(name="初赛"), actor=organizer, now=NOW)
    final = services.add_round(competition, services.RoundData(name="决赛"), actor=organizer, now=NOW)
    services.add_entrants_from_registrations(competition, actor=organizer, now=NOW)
    db.session.commit()

    outcomes = services.mark_present_by_registration(event, registration.id, actor=organizer, now=NOW)
    assert [(o.entrant.name, o.round.name, o.changed) for o in outcomes] == [("飞翔队", "初赛", True)]
    again = services.mark_present_by_registration(event, registration.id, actor=organizer, now=NOW)
    assert again[0].changed is False
    named = services.mark_present_by_registration(event, registration.id, actor=organizer, now=NOW, round_id=final.id)
    assert named[0].round.id == final.id
    db.session.commit()
    rows = db.session.scalars(sa.select(RollCall).order_by(RollCall.round_id)).all()
    assert [(r.round_id, r.present, r.source) for r in rows] == [
        (first.id, True, RollCallSource.SCAN), (final.id, True, RollCallSource.SCAN)]
    assert services.present_entrant_ids(first) == {outcomes[0].entrant.id}
    # a sign-up that is no entrant, and a round of another competition: nothing happens
    assert services.mark_present_by_registration(event, other.id + 1000, actor=organizer, now=NOW) == []
    first.state = RoundState.LOCKED
    final.state = RoundState.LOCKED
    db.session.flush()
    assert services.mark_present_by_registration(event, other.id, actor=organizer, now=NOW) == []
