"""Judging services: scores (draft, submit, every error code, history), judges (accounts, invitations, 回避) and
panels (assignments, suggestions). The world is tests/judging/conftest.py's contest."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from competition.models import Entrant, RollCall, Round, RoundState, Rubric
from judging import services as js
from judging.models import Assignment, JudgeRole, Score, ScoreChange, ScoreRequest, ScoreState
from tests.conftest import NOW
from tests.judging.conftest import build_contest, full_marks


def _save(db, contest, judge: str, entrant: str, code: str, value, *, nonce=None, note=None, now=NOW):
    outcome = js.save_draft(contest.judges[judge], round_id=contest.round.id, entrant_id=contest.entrants[entrant].id,
                            criterion_id=contest.criteria[code].id, value=value, note=note, nonce=nonce, now=now)
    db.session.commit()
    return outcome


def _submit(db, contest, judge: str, entrant: str, *, nonce=None, now=NOW):
    outcome = js.submit_entrant(contest.judges[judge], round_id=contest.round.id,
                                entrant_id=contest.entrants[entrant].id, nonce=nonce, now=now)
    db.session.commit()
    return outcome


def _refused(db, code: str, status: int, action):
    with pytest.raises(js.JudgingError) as caught:
        action()
    db.session.rollback()
    assert (caught.value.code, caught.value.status) == (code, status), caught.value.message
    return caught.value


def _scores(db, contest, judge: str | None = None) -> list[Score]:
    db.session.expire_all()
    query = sa.select(Score).where(Score.round_id == contest.round.id)
    if judge:
        query = query.where(Score.judge_id == contest.judges[judge].id)
    return list(db.session.scalars(query))


# ---------------------------------------------------------------- drafts


def test_first_draft_starts_scoring_and_locks_the_rubric(db, contest):
    assert contest.round.state == RoundState.SETUP
    outcome = _save(db, contest, "李评委", "星火队", "A1", "7.5", nonce="first")
    assert outcome.status == 200
    assert outcome.body["status"] == "draft"
    assert outcome.body["score"]["value"] == "7.50"
    assert outcome.body["entrant"] == {"id": contest.entrants["星火队"].id, "code": contest.code("星火队"),
                                       "state": "draft", "scored": 1, "required": 4, "submitted_at": None}
    db.session.expire_all()
    assert db.session.get(Round, contest.round.id).state == RoundState.SCORING
    assert db.session.scalar(sa.select(Rubric.locked).where(Rubric.round_id == contest.round.id)) is True
    [score] = _scores(db, contest)
    assert (score.value, score.state, score.rubric_version) == (Decimal("7.5"), ScoreState.DRAFT, 1 + 4 + 2)


def test_blank_is_not_zero(db, contest):
    _save(db, contest, "李评委", "星火队", "A1", "0")
    _save(db, contest, "李评委", "星火队", "B1", None)
    _save(db, contest, "李评委", "星火队", "A2", "  ")
    values = {s.criterion_id: s.value for s in _scores(db, contest)}
    assert values[contest.criteria["A1"].id] == Decimal(0)
    assert values[contest.criteria["B1"].id] is None
    assert values[contest.criteria["A2"].id] is None
    sheet = js.judge_sheet(contest.judges["李评委"], contest.round.id, now=NOW)
    entrant = next(e for e in sheet["entrants"] if e["code"] == contest.code("星火队"))
    assert entrant["scored"] == 1  # the zero counts, the blanks do not
    assert entrant["scores"][str(contest.criteria["A1"].id)]["value"] == "0.00"
    assert entrant["scores"][str(contest.criteria["B1"].id)]["value"] is None


def test_drafts_are_last_write_wins_and_notes_are_kept(db, contest):
    _save(db, contest, "李评委", "星火队", "B1", "12", note="思路清晰")
    _save(db, contest, "李评委", "星火队", "B1", "13.5", now=NOW + timedelta(seconds=5))
    [score] = _scores(db, contest)
    assert score.value == Decimal("13.5")
    assert score.note == "思路清晰"  # a value without a note keeps the note
    assert score.updated_at == NOW + timedelta(seconds=5)
    _save(db, contest, "李评委", "星火队", "B1", "13.5", note="")
    assert _scores(db, contest)[0].note == ""


@pytest.mark.parametrize(("code", "value", "error"), [
    ("A1", "10.5", "above_maximum"),
    ("A1", "-1", "negative"),
    ("A1", "7.25", "off_step"),
    ("A1", "7.125", "too_many_decimals"),
    ("A1", "abc", "not_a_number"),
    ("A1", "8,5", "decimal_comma"),
    ("A2", "3", "not_allowed"),  # full mark or zero: 0 or 5
    ("B2", "4", "not_a_level"),  # ladder 0-3
    ("B2", "1.5", "not_a_level"),
])
def test_invalid_values_are_refused_with_422_and_nothing_is_saved(db, contest, code, value, error):
    refused = _refused(db, error, 422, lambda: _save(db, contest, "李评委", "星火队", code, value))
    assert refused.field == "value"
    assert _scores(db, contest) == []
    assert db.session.get(Round, contest.round.id).state == RoundState.SETUP  # no score: scoring did not start


@pytest.mark.parametrize(("code", "value", "stored"), [
    ("A1", "７.５", Decimal("7.5")),  # full-width, typed with a Chinese input method
    ("A1", 10, Decimal(10)),
    ("A1", 9.5, Decimal("9.5")),
    ("A2", "0", Decimal(0)),
    ("A2", "5", Decimal(5)),
    ("B2", 3, Decimal(3)),  # the level is stored
])
def test_valid_values(db, contest, code, value, stored):
    _save(db, contest, "李评委", "星火队", code, value)
    assert _scores(db, contest)[0].value == stored


# ---------------------------------------------------------------- who may score what


def test_not_assigned_conflict_and_unknown(db, contest):
    # 王评委 declared 厦门城市职业学院: 云帆队 was never assigned to them (回避).
    _refused(db, "not_assigned", 403, lambda: _save(db, contest, "王评委", "云帆队", "A1", "5"))
    # 陈明 is named as 星火队's coach: excluded as well.
    _refused(db, "not_assigned", 403, lambda: _save(db, contest, "陈明", "星火队", "A1", "5"))
    # an entrant id that does not exist
    _refused(db, "not_assigned", 403, lambda: js.save_draft(
        contest.judges["李评委"], round_id=contest.round.id, entrant_id=999999, criterion_id=contest.criteria["A1"].id,
        value="5", nonce=None, now=NOW))
    # a criterion of no rubric of this round
    _refused(db, "unknown_criterion", 422, lambda: js.save_draft(
        contest.judges["李评委"], round_id=contest.round.id, entrant_id=contest.entrants["星火队"].id,
        criterion_id=999999, value="5", nonce=None, now=NOW))
    assert _scores(db, contest) == []


def test_identity_changed_after_assignment_is_a_conflict_at_scoring_time(db, contest):
    # The organizer corrects 海燕队's unit: it is 李评委's own. The assignment stays until fixed, but scoring is
    # refused, checked against the sealed identity.
    entrant = db.session.get(Entrant, contest.entrants["海燕队"].id)
    entrant.unit = "厦门软件园"
    db.session.commit()
    _refused(db, "conflict", 403, lambda: _save(db, contest, "李评委", "海燕队", "A1", "5"))
    sheet = js.judge_sheet(contest.judges["李评委"], contest.round.id, now=NOW)
    assert contest.code("海燕队") not in [e["code"] for e in sheet["entrants"]]
    overview = js.panel_overview(db.session.merge(contest.panels["高职组"]))
    assert any(x.assigned and x.entrant.name == "海燕队" for x in overview.exclusions)


def test_a_judge_of_another_competition_or_organization(db, contest, factory):
    from competition import services as cs

    other = cs.create_competition(contest.event, cs.CompetitionData(title="小程序赛项"), actor=contest.organizer, now=NOW)
    outsider = js.add_judge(other, js.JudgeData(name="赵评委", login="zhao@judges.example.org", password="judge-pass-1"),
                            actor=contest.organizer, now=NOW).profile.user
    db.session.commit()
    _refused(db, "not_a_judge", 403, lambda: js.save_draft(
        outsider, round_id=contest.round.id, entrant_id=contest.entrants["星火队"].id,
        criterion_id=contest.criteria["A1"].id, value="5", nonce=None, now=NOW))
    org_b = factory.organization("乙市软件行业协会")
    stranger = factory.user("judge@b.example.org", "钱评委", organization=org_b, role="judge")
    _refused(db, "not_found", 404, lambda: js.save_draft(
        stranger, round_id=contest.round.id, entrant_id=contest.entrants["星火队"].id,
        criterion_id=contest.criteria["A1"].id, value="5", nonce=None, now=NOW))
    _refused(db, "not_found", 404, lambda: js.judge_sheet(stranger, contest.round.id, now=NOW))
    # an organizer is no judge unless added as one
    _refused(db, "not_a_judge", 403, lambda: js.judge_sheet(contest.organizer, contest.round.id, now=NOW))


def test_share_limits_criteria(db, contest):
    # 张评委 only measures (A1, A2) on the 高职组 panel.
    panel = db.session.merge(contest.panels["高职组"])
    member = next(m for m in panel.judges if m.profile.user.name == "张评委")
    js.set_judge_share(member, [contest.criteria["A1"].id, contest.criteria["A2"].id], actor=contest.organizer, now=NOW)
    db.session.commit()
    _refused(db, "not_your_criterion", 403, lambda: _save(db, contest, "张评委", "星火队", "B1", "10"))
    assert _save(db, contest, "张评委", "星火队", "A2", "5").body["entrant"]["required"] == 2
    sheet = js.judge_sheet(contest.judges["张评委"], contest.round.id, now=NOW)
    by_code = {e["code"]: e for e in sheet["entrants"]}
    ids = {c["id"]: c["code"] for c in sheet["criteria"]}
    assert [ids[c] for c in by_code[contest.code("星火队")]["criteria"]] == ["A1", "A2"]
    # on the 中职组 panel 张评委 still scores every criterion: the sheet lists the union
    assert [ids[c] for c in by_code[contest.code("青松队")]["criteria"]] == ["A1", "A2", "B1", "B2"]


def test_absent_entrants_are_not_scored_unless_the_round_needs_no_roll_call(db, contest):
    db.session.execute(sa.update(RollCall).where(RollCall.entrant_id == contest.entrants["星火队"].id)
                       .values(present=False))
    db.session.commit()
    _refused(db, "absent", 409, lambda: _save(db, contest, "李评委", "星火队", "A1", "5"))
    sheet = js.judge_sheet(contest.judges["李评委"], contest.round.id, now=NOW)
    assert [e["present"] for e in sheet["entrants"] if e["code"] == contest.code("星火队")] == [False]
    js.update_round_settings(db.session.merge(contest.round), requires_roll_call=False, code_stage=1,
                             actor=contest.organizer, now=NOW)
    db.session.commit()
    assert _save(db, contest, "李评委", "星火队", "A1", "5").status == 200


def test_locked_round_refuses_everything(db, contest):
    _save(db, contest, "李评委", "星火队", "A1", "5")
    db.session.execute(sa.update(Round).where(Round.id == contest.round.id).values(state=RoundState.LOCKED))
    db.session.commit()
    _refused(db, "locked", 409, lambda: _save(db, contest, "李评委", "星火队", "A1", "6"))
    _refused(db, "locked", 409, lambda: _submit(db, contest, "李评委", "星火队"))
    assert _scores(db, contest)[0].value == Decimal(5)


def test_round_not_ready_refuses_the_first_score(db, contest):
    from competition.models import Module

    # An empty module makes the rubric incomplete: scoring cannot start, nothing is saved.
    db.session.add(Module(rubric_id=contest.criteria["A1"].rubric_id, code="C", name="空模块", position=9))
    db.session.commit()
    refused = _refused(db, "not_ready", 409, lambda: _save(db, contest, "李评委", "星火队", "A1", "5"))
    assert "C" in refused.message
    assert _scores(db, contest) == []


# ---------------------------------------------------------------- submit


def test_submit_needs_every_criterion_then_locks(db, contest):
    _save(db, contest, "李评委", "星火队", "A1", "8.5")
    _save(db, contest, "李评委", "星火队", "B1", "0")
    refused = _refused(db, "incomplete", 422, lambda: _submit(db, contest, "李评委", "星火队"))
    assert refused.details == {"missing": ["A2", "B2"]}
    assert {s.state for s in _scores(db, contest)} == {ScoreState.DRAFT}  # nothing half-submitted
    _save(db, contest, "李评委", "星火队", "A2", "5")
    _save(db, contest, "李评委", "星火队", "B2", "2")
    outcome = _submit(db, contest, "李评委", "星火队", nonce="submit-1", now=NOW + timedelta(minutes=1))
    assert outcome.body["status"] == "submitted"
    assert outcome.body["entrant"]["state"] == "submitted"
    scores = _scores(db, contest)
    assert {s.state for s in scores} == {ScoreState.SUBMITTED}
    assert {s.submitted_at for s in scores} == {NOW + timedelta(minutes=1)}
    _refused(db, "submitted", 409, lambda: _save(db, contest, "李评委", "星火队", "A1", "9"))
    _refused(db, "submitted", 409, lambda: _save(db, contest, "李评委", "星火队", "A1", "8.5"))
    _refused(db, "submitted", 409, lambda: _submit(db, contest, "李评委", "星火队"))
    assert _submit(db, contest, "李评委", "星火队", nonce="submit-1").replayed  # the same request again
    assert {s.value for s in _scores(db, contest)} == {Decimal("8.5"), Decimal(5), Decimal(0), Decimal(2)}


def test_submit_blank_after_value_is_incomplete(db, contest):
    for code, value in full_marks().items():
        _save(db, contest, "李评委", "星火队", code, value)
    _save(db, contest, "李评委", "星火队", "B1", None)  # blanked again
    assert _refused(db, "incomplete", 422, lambda: _submit(db, contest, "李评委", "星火队")).details == {
        "missing": ["B1"]}


def test_other_judges_scores_are_independent(db, contest):
    for code, value in full_marks().items():
        _save(db, contest, "李评委", "星火队", code, value)
    _submit(db, contest, "李评委", "星火队")
    assert _save(db, contest, "张评委", "星火队", "A1", "3").status == 200


# ---------------------------------------------------------------- nonces


def test_same_nonce_returns_the_first_answer_and_changes_nothing(db, contest):
    first = _save(db, contest, "李评委", "星火队", "A1", "7", nonce="tablet-1-0001")
    _save(db, contest, "李评委", "星火队", "A1", "8", nonce="tablet-1-0002")
    again = _save(db, contest, "李评委", "星火队", "A1", "7", nonce="tablet-1-0001")
    assert again.replayed and again.body == first.body
    assert _scores(db, contest)[0].value == Decimal(8)  # the replay did not write 7 back
    assert db.session.scalar(sa.select(sa.func.count(ScoreRequest.id))) == 2


def test_nonce_reused_for_another_request_or_by_another_judge(db, contest):
    _save(db, contest, "李评委", "星火队", "A1", "7", nonce="n-1")
    _refused(db, "nonce_reused", 409, lambda: _save(db, contest, "李评委", "星火队", "A1", "7.5", nonce="n-1"))
    _refused(db, "nonce_reused", 409, lambda: _save(db, contest, "张评委", "星火队", "A1", "7", nonce="n-1"))
    assert _scores(db, contest, "张评委") == []


def test_refused_requests_are_not_stored_under_their_nonce(db, contest):
    _refused(db, "above_maximum", 422, lambda: _save(db, contest, "李评委", "星火队", "A1", "11", nonce="n-x"))
    assert db.session.scalar(sa.select(sa.func.count(ScoreRequest.id))) == 0


# ---------------------------------------------------------------- changes to submitted scores


def _submitted(db, contest, judge="李评委", entrant="星火队"):
    for code, value in full_marks().items():
        _save(db, contest, judge, entrant, code, value)
    _submit(db, contest, judge, entrant)
    return {s.criterion_id: s for s in _scores(db, contest, judge)}


def test_change_submitted_score_keeps_history(db, contest):
    scores = _submitted(db, contest)
    score = scores[contest.criteria["B1"].id]
    chief = contest.organizer
    _refused(db, "reason_required", 422, lambda: js.change_submitted_score(score, "18", actor=chief, reason=" ", now=NOW))
    _refused(db, "off_step", 422, lambda: js.change_submitted_score(score, "18.2", actor=chief, reason="复核", now=NOW))
    change = js.change_submitted_score(score, "18", actor=chief, reason="复核：漏计一项", now=NOW + timedelta(hours=1))
    db.session.commit()
    assert (change.old_value, change.new_value, change.changed_by_id, change.reason) == (
        Decimal("17.5"), Decimal(18), chief.id, "复核：漏计一项")
    db.session.expire_all()
    score = db.session.get(Score, score.id)
    assert (score.value, score.state) == (Decimal(18), ScoreState.SUBMITTED)
    assert [c.new_value for c in js.score_history(score)] == [Decimal(18)]
    draft = next(s for s in _scores(db, contest, "李评委") if s.criterion_id == contest.criteria["A1"].id)
    db.session.execute(sa.update(Score).where(Score.id == draft.id).values(state=ScoreState.DRAFT))
    db.session.commit()
    _refused(db, "not_submitted", 409, lambda: js.change_submitted_score(
        db.session.get(Score, draft.id), "5", actor=chief, reason="x", now=NOW))


def test_reopen_gives_scores_back_as_drafts_with_history(db, contest):
    _submitted(db, contest)
    reopened = js.reopen_entrant(db.session.get(Round, contest.round.id), contest.judges["李评委"].id,
                                 contest.entrants["星火队"].id, actor=contest.organizer, reason="评委申请更正",
                                 now=NOW + timedelta(hours=1))
    db.session.commit()
    assert reopened == 4
    assert {s.state for s in _scores(db, contest)} == {ScoreState.DRAFT}
    changes = list(db.session.scalars(sa.select(ScoreChange)))
    assert {(c.old_state, c.new_state, c.reason) for c in changes} == {
        (ScoreState.SUBMITTED, ScoreState.DRAFT, "评委申请更正")}
    assert _save(db, contest, "李评委", "星火队", "B1", "19").status == 200
    assert _submit(db, contest, "李评委", "星火队").status == 200
    _refused(db, "not_submitted", 409, lambda: js.reopen_entrant(
        db.session.get(Round, contest.round.id), contest.judges["张评委"].id, contest.entrants["星火队"].id,
        actor=contest.organizer, reason="x", now=NOW))


# ---------------------------------------------------------------- the sheet never names an entrant


def test_sheet_carries_codes_only(db, contest):
    for judge in contest.judges.values():
        sheet = js.judge_sheet(judge, contest.round.id, now=NOW)
        text = json.dumps(sheet, ensure_ascii=False)
        for entrant in contest.entrants.values():
            for secret in [entrant.name, entrant.unit, *entrant.members, *entrant.coaches]:
                assert secret not in text, (judge.name, secret)  # (陈明 is a judge and 星火队's coach)
    sheet = js.judge_sheet(contest.judges["李评委"], contest.round.id, now=NOW)
    codes = [e["code"] for e in sheet["entrants"]]
    assert codes == sorted(codes)
    assert len(codes) == 5  # four of 高职组 and one of 中职组
    assert [c["code"] for c in sheet["criteria"]] == ["A1", "A2", "B1", "B2"]
    b2 = sheet["criteria"][3]
    assert (b2["ladder"], b2["levels"], b2["maximum"]) == (True, ["未达到", "基本达到", "良好", "优秀"], "6")
    assert sheet["criteria"][1]["full_or_zero"] is True
    wang = js.judge_sheet(contest.judges["王评委"], contest.round.id, now=NOW)
    assert contest.code("云帆队") not in [e["code"] for e in wang["entrants"]]


def test_sheet_uses_result_codes_when_the_round_says_so(db, contest):
    from competition.draw import draw
    import random

    _refused(db, "no_result_codes", 409, lambda: js.update_round_settings(
        db.session.merge(contest.round), requires_roll_call=True, code_stage=2, actor=contest.organizer, now=NOW))
    assert contest.organizer.id  # loaded: competition.draw reads actor.id after adding its Draw row
    draw(db.session.merge(contest.competition), 2, actor=contest.organizer, now=NOW, rng=random.Random(3))
    js.update_round_settings(db.session.merge(contest.round), requires_roll_call=True, code_stage=2,
                             actor=contest.organizer, now=NOW)
    db.session.commit()
    from competition.models import DrawCode

    result_codes = set(db.session.scalars(sa.select(DrawCode.code).where(DrawCode.stage == 2)))
    sheet = js.judge_sheet(contest.judges["李评委"], contest.round.id, now=NOW)
    assert {e["code"] for e in sheet["entrants"]} <= result_codes


# ---------------------------------------------------------------- judges and invitations


def test_add_judge_with_invitation_single_use(db, contest):
    competition = db.session.merge(contest.competition)
    added = js.add_judge(competition, js.JudgeData(name="孙评委", login="138 0013 8000", units=["厦门大学、集美大学"]),
                         actor=contest.organizer, now=NOW)
    db.session.commit()
    assert added.created_account and added.invitation_token
    user = added.profile.user
    assert user.login == "13800138000"
    assert not user.check_password("judge-pass-1")
    _refused(db, "password_too_short", 422, lambda: js.accept_invitation(added.invitation_token, "short", now=NOW))
    js.accept_invitation(added.invitation_token, "a-good-password", now=NOW + timedelta(days=1))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(type(user), user.id).check_password("a-good-password")
    _refused(db, "invitation_used", 410, lambda: js.accept_invitation(added.invitation_token, "another-password",
                                                                      now=NOW + timedelta(days=1)))
    # the account has a password now: no new invitation can take it over
    _refused(db, "not_invitable", 409, lambda: js.invite_judge(db.session.merge(added.profile), actor=contest.organizer,
                                                               now=NOW))


def test_invitations_expire_forged_links_fail_and_new_links_replace_old_ones(db, contest):
    competition = db.session.merge(contest.competition)
    added = js.add_judge(competition, js.JudgeData(name="孙评委", login="sun@judges.example.org"),
                         actor=contest.organizer, now=NOW)
    db.session.commit()
    token = added.invitation_token
    _refused(db, "invitation_expired", 410, lambda: js.accept_invitation(token, "a-good-password",
                                                                         now=NOW + timedelta(days=8)))
    _refused(db, "invalid_invitation", 404, lambda: js.accept_invitation(token[:-2] + "xx", "a-good-password", now=NOW))
    _refused(db, "invalid_invitation", 404, lambda: js.accept_invitation("garbage", "a-good-password", now=NOW))
    newer = js.invite_judge(db.session.merge(added.profile), actor=contest.organizer, now=NOW)
    db.session.commit()
    _refused(db, "invitation_expired", 410, lambda: js.accept_invitation(token, "a-good-password", now=NOW))
    js.accept_invitation(newer, "a-good-password", now=NOW)
    db.session.commit()


def test_existing_account_keeps_its_password_and_is_not_invitable(db, contest, factory):
    existing = factory.user("expert@univ.example.org", "冯专家")
    competition = db.session.merge(contest.competition)
    added = js.add_judge(competition, js.JudgeData(name="冯", login="Expert@Univ.example.org", units=[]),
                         actor=contest.organizer, now=NOW)
    db.session.commit()
    assert not added.created_account and added.invitation_token is None
    assert added.profile.user_id == existing.id
    assert db.session.get(type(existing), existing.id).check_password(factory.PASSWORD)
    _refused(db, "not_invitable", 409, lambda: js.invite_judge(db.session.merge(added.profile),
                                                               actor=contest.organizer, now=NOW))
    _refused(db, "duplicate_judge", 409, lambda: js.add_judge(
        db.session.merge(contest.competition), js.JudgeData(name="冯", login="expert@univ.example.org"),
        actor=contest.organizer, now=NOW))


@pytest.mark.parametrize(("login", "code"), [("", "login_required"), ("not a login", "invalid_login"),
                                             ("12345", "invalid_login")])
def test_add_judge_bad_login(db, contest, login, code):
    _refused(db, code, 422, lambda: js.add_judge(db.session.merge(contest.competition),
                                                 js.JudgeData(name="某评委", login=login), actor=contest.organizer,
                                                 now=NOW))


def test_declaring_a_unit_removes_conflicting_assignments_and_drafts(db, contest):
    _save(db, contest, "李评委", "海燕队", "A1", "5")  # a draft
    profile = db.session.merge(contest.profiles["李评委"])
    removed = js.update_judge(profile, units=["厦门软件园", "泉州信息工程学院"], coached_entrant_ids=[],
                              role=JudgeRole.JUDGE, actor=contest.organizer, now=NOW)
    db.session.commit()
    assert removed == 1
    assert _scores(db, contest, "李评委") == []
    assert not db.session.scalar(sa.select(Assignment.id).where(
        Assignment.judge_id == contest.judges["李评委"].id, Assignment.entrant_id == contest.entrants["海燕队"].id))


def test_declaring_a_unit_is_refused_when_scores_were_submitted(db, contest):
    _submitted(db, contest, "李评委", "海燕队")
    profile = db.session.merge(contest.profiles["李评委"])
    _refused(db, "conflict_scored", 409, lambda: js.update_judge(
        profile, units=["泉州信息工程学院"], coached_entrant_ids=[], role=JudgeRole.JUDGE, actor=contest.organizer,
        now=NOW))


def test_coached_entrants_are_conflicts(db, contest):
    profile = db.session.merge(contest.profiles["张评委"])
    removed = js.update_judge(profile, units=[], coached_entrant_ids=[contest.entrants["晨光队"].id],
                              role=JudgeRole.JUDGE, actor=contest.organizer, now=NOW)
    db.session.commit()
    assert removed == 1
    _refused(db, "not_assigned", 403, lambda: _save(db, contest, "张评委", "晨光队", "A1", "5"))
    _refused(db, "unknown_entrant", 422, lambda: js.update_judge(
        db.session.merge(contest.profiles["张评委"]), units=[], coached_entrant_ids=[987654], role=JudgeRole.JUDGE,
        actor=contest.organizer, now=NOW))


def test_remove_judge_refused_with_scores(db, contest):
    _save(db, contest, "李评委", "星火队", "A1", "5")
    _refused(db, "has_scores", 409, lambda: js.remove_judge(db.session.merge(contest.profiles["李评委"]),
                                                            actor=contest.organizer, now=NOW))
    js.remove_judge(db.session.merge(contest.profiles["张评委"]), actor=contest.organizer, now=NOW)
    db.session.commit()
    assert not db.session.scalar(sa.select(Assignment.id).where(Assignment.judge_id == contest.judges["张评委"].id))


# ---------------------------------------------------------------- panels and assignments


def test_exclusions_are_listed_with_who_covers_them(db, contest):
    overview = js.panel_overview(db.session.merge(contest.panels["高职组"]))
    found = {(x.entrant.name, x.member.profile.user.name, tuple(x.reasons), x.assigned) for x in overview.exclusions}
    assert found == {("云帆队", "王评委", ("unit",), False), ("星火队", "陈明", ("coach_name",), False)}
    covering = {m.profile.user.name for m in overview.covered_by[contest.entrants["云帆队"].id]}
    assert covering == {"李评委", "张评委", "陈明"}


def test_set_assignments_refuses_conflicts_and_removing_scored_pairs(db, contest):
    panel = db.session.merge(contest.panels["高职组"])
    members = {m.profile.user.name: m for m in panel.judges}
    current = {(a.panel_judge_id, a.entrant_id) for a in js.panel_assignments(panel)}
    _refused(db, "conflict", 409, lambda: js.set_assignments(
        panel, current | {(members["王评委"].id, contest.entrants["云帆队"].id)}, actor=contest.organizer, now=NOW))
    _save(db, contest, "李评委", "星火队", "A1", "5")
    panel = db.session.merge(contest.panels["高职组"])
    _refused(db, "has_scores", 409, lambda: js.set_assignments(
        panel, current - {(members["李评委"].id, contest.entrants["星火队"].id)}, actor=contest.organizer, now=NOW))
    _refused(db, "unknown_pair", 422, lambda: js.set_assignments(
        db.session.merge(contest.panels["高职组"]), current | {(members["李评委"].id, contest.entrants["青松队"].id)},
        actor=contest.organizer, now=NOW))


def test_balanced_suggestion_with_two_judges_per_entrant(db, factory):
    contest = build_contest(db, factory, per_entrant=2)
    panel = db.session.merge(contest.panels["高职组"])
    overview = js.panel_overview(panel)
    # 4 entrants x 2 = 8 slots over 4 judges: 2 each, no conflicted pair
    assert sorted(overview.loads.values()) == [2, 2, 2, 2]
    assert not set(overview.conflicts) & overview.assigned
    assert all(len(overview.covered_by[e.id]) == 2 for e in overview.entrants)


def test_a_judge_never_scores_an_entrant_twice_in_a_round(db, contest):
    from competition.models import Group  # noqa: F401

    second = js.create_panel(db.session.merge(contest.competition), js.PanelData(
        name="复核组", round_id=contest.round.id, group_id=contest.groups["高职组"].id), actor=contest.organizer, now=NOW)
    member = js.add_panel_judge(second, db.session.merge(contest.profiles["李评委"]), [], actor=contest.organizer, now=NOW)
    _refused(db, "assigned_elsewhere", 409, lambda: js.set_assignments(
        second, {(member.id, contest.entrants["星火队"].id)}, actor=contest.organizer, now=NOW))
    overview = js.panel_overview(db.session.merge(second)) if False else None  # noqa: F841


def test_panel_validation(db, contest):
    competition = db.session.merge(contest.competition)
    _refused(db, "name_required", 422, lambda: js.create_panel(competition, js.PanelData(name=" ", round_id=contest.round.id),
                                                               actor=contest.organizer, now=NOW))
    _refused(db, "unknown_round", 422, lambda: js.create_panel(competition, js.PanelData(name="x", round_id=999999),
                                                               actor=contest.organizer, now=NOW))
    _refused(db, "duplicate_panel", 409, lambda: js.create_panel(
        db.session.merge(contest.competition), js.PanelData(name="高职组评委组", round_id=contest.round.id),
        actor=contest.organizer, now=NOW))
    _refused(db, "judges_per_entrant", 422, lambda: js.create_panel(
        db.session.merge(contest.competition), js.PanelData(name="x", round_id=contest.round.id, judges_per_entrant=0),
        actor=contest.organizer, now=NOW))
    _refused(db, "panel_in_use", 409, lambda: js.update_panel(
        db.session.merge(contest.panels["高职组"]), js.PanelData(name="高职组评委组", round_id=contest.round.id,
                                                                  group_id=contest.groups["中职组"].id),
        actor=contest.organizer, now=NOW))
    _save(db, contest, "李评委", "星火队", "A1", "5")
    _refused(db, "has_scores", 409, lambda: js.delete_panel(db.session.merge(contest.panels["高职组"]),
                                                            actor=contest.organizer, now=NOW))
    js.delete_panel(db.session.merge(contest.panels["中职组"]), actor=contest.organizer, now=NOW)
    db.session.commit()


def test_judge_rounds_lists_progress(db, contest):
    _submitted(db, contest)
    rounds = js.judge_rounds(contest.judges["李评委"])
    assert [(r["round"].name, r["assigned"], r["submitted"]) for r in rounds] == [("初赛", 5, 1)]
    assert js.judge_rounds(contest.organizer) == []
