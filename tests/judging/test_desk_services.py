"""The chief judge's desk services: unlock → correct, re-score requests, keeping a flag, paper sheets, the append-only
trail, re-authentication; each refusal changes nothing."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from accounts.reauth import ReauthError, confirm_password, keep_failure
from competition.models import Round, RoundState
from core.models import AuditEntry
from judging import desk_services as ds
from judging import services as js
from judging.desk_models import DisagreementFlag, FlagResolution, FlagState, RescoreRequest, RescoreState
from judging.models import Score, ScoreChange, ScoreChangeKind, ScoreSource, ScoreState
from tests.conftest import NOW
from tests.judging.desk_builders import CHIEF_PASSWORD, add_chief, score, sheet

LATER = NOW + timedelta(minutes=10)


def _score(db, contest, judge, entrant, code) -> Score:
    return db.session.scalar(sa.select(Score).where(
        Score.judge_id == contest.judges[judge].id, Score.entrant_id == contest.entrants[entrant].id,
        Score.criterion_id == contest.criteria[code].id))


def _disagree(contest):
    """晨光队 B1 (max 20): 12 / 19 / 15 → spread 7 > 6; B2 levels 2, 2, 3 → within."""
    score(contest, "王评委", "晨光队", sheet(b1="12"))
    score(contest, "李评委", "晨光队", sheet(b1="19", b2="3"))
    score(contest, "张评委", "晨光队", sheet(b1="15"))


def test_unlock_then_judge_corrects_keeps_old_new_who_why(db, contest):
    chief = add_chief(db, contest)
    score(contest, "李评委", "星火队", sheet(b1="17.5"))
    target = _score(db, contest, "李评委", "星火队", "B1")
    ds.unlock_score(target, actor=chief, reason="计分错误，评委确认应为15.5", now=NOW)
    db.session.commit()
    assert target.state == ScoreState.DRAFT
    sheet_ = js.judge_sheet(contest.judges["李评委"], contest.round.id, now=NOW)
    [entry] = [e for e in sheet_["entrants"] if e["id"] == contest.entrants["星火队"].id]
    assert entry["reopened"] == [{"criterion_id": contest.criteria["B1"].id, "kind": "unlock",
                                  "reason": "计分错误，评委确认应为15.5", "at": NOW.isoformat()}]
    # only B1 is open again: the other criteria stay submitted
    with pytest.raises(js.JudgingError) as refused:
        js.save_draft(contest.judges["李评委"], round_id=contest.round.id, entrant_id=contest.entrants["星火队"].id,
                      criterion_id=contest.criteria["B2"].id, value="1", nonce=None, now=LATER)
    assert refused.value.code == "submitted"
    score(contest, "李评委", "星火队", {"B1": "15.5"}, now=LATER)
    trail = ds.score_trail(contest.round, contest.entrants["星火队"].id)
    assert [(t.change.kind, t.change.old_value, t.change.new_value, t.by.name, t.change.reason) for t in trail] == [
        (ScoreChangeKind.UNLOCK, Decimal("17.5"), Decimal("17.5"), "赵裁判长", "计分错误，评委确认应为15.5"),
        (ScoreChangeKind.CORRECTION, Decimal("17.5"), Decimal("15.5"), "李评委", "计分错误，评委确认应为15.5"),
    ]
    assert trail[1].change.changed_at == LATER
    assert js.judge_sheet(contest.judges["李评委"], contest.round.id, now=LATER)["entrants"][1]["reopened"] == []
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"desk.unlock", "desk.corrected"} <= actions


def test_the_start_page_counts_an_entrant_with_a_reopened_score_as_not_submitted(db, contest):
    """The judge's start page and the tablet count alike: 2 of 2 submitted, then 1 after an unlock, 2 again."""
    chief = add_chief(db, contest)
    judge = contest.judges["李评委"]
    mine = [e for e in js.judge_sheet(judge, contest.round.id, now=NOW)["entrants"]][:2]
    names = {e.id: name for name, e in contest.entrants.items()}
    for entry in mine:
        score(contest, "李评委", names[entry["id"]], sheet())

    def counts():
        [row] = [r for r in js.judge_rounds(judge) if r["round"].id == contest.round.id]
        tablet = js.judge_sheet(judge, contest.round.id, now=NOW)["progress"]["submitted"]
        return row["submitted"], tablet

    assert counts() == (2, 2)
    target = _score(db, contest, "李评委", names[mine[0]["id"]], "B1")
    ds.unlock_score(target, actor=chief, reason="复查", now=NOW)
    db.session.commit()
    assert counts() == (1, 1)
    score(contest, "李评委", names[mine[0]["id"]], {"B1": "14"}, now=LATER)
    assert counts() == (2, 2)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_unlock_without_reason_refused_nothing_changes(db, contest, reason):
    chief = add_chief(db, contest)
    score(contest, "李评委", "星火队", sheet())
    target = _score(db, contest, "李评委", "星火队", "B1")
    with pytest.raises(js.JudgingError) as refused:
        ds.unlock_score(target, actor=chief, reason=reason, now=NOW)
    db.session.rollback()
    assert refused.value.code == "reason_required" and refused.value.status == 422
    assert "理由" in refused.value.message or "why" in refused.value.message.lower()
    db.session.refresh(target)
    assert target.state == ScoreState.SUBMITTED
    assert db.session.scalar(sa.select(sa.func.count(ScoreChange.id))) == 0


def test_unlock_refused_in_locked_round_and_twice(db, contest):
    chief = add_chief(db, contest)
    score(contest, "李评委", "星火队", sheet())
    target = _score(db, contest, "李评委", "星火队", "A1")
    ds.unlock_score(target, actor=chief, reason="复查", now=NOW)
    db.session.commit()
    with pytest.raises(js.JudgingError) as twice:
        ds.unlock_score(target, actor=chief, reason="复查", now=NOW)
    assert twice.value.code == "not_submitted" and twice.value.status == 409
    db.session.rollback()
    other = _score(db, contest, "李评委", "星火队", "B1")
    db.session.execute(sa.update(Round).where(Round.id == contest.round.id).values(state=RoundState.LOCKED))
    db.session.commit()
    with pytest.raises(js.JudgingError) as locked:
        ds.unlock_score(other, actor=chief, reason="复查", now=NOW)
    assert locked.value.code == "locked" and locked.value.status == 409
    db.session.rollback()
    assert db.session.get(Score, other.id).state == ScoreState.SUBMITTED


def test_score_changes_cannot_be_edited(db, contest):
    chief = add_chief(db, contest)
    score(contest, "李评委", "星火队", sheet())
    change = ds.unlock_score(_score(db, contest, "李评委", "星火队", "B1"), actor=chief, reason="复查", now=NOW)
    db.session.commit()
    change.reason = "改写"
    with pytest.raises(ValueError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(ScoreChange, change.id))
    with pytest.raises(ValueError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError):  # the database's trigger, past the ORM
        db.session.execute(sa.text("UPDATE score_changes SET new_value = 0 WHERE id = :id"), {"id": change.id})
    db.session.rollback()
    assert db.session.get(ScoreChange, change.id).reason == "复查"
    # a user reference may still be cleared (ON DELETE SET NULL of an account)
    db.session.execute(sa.text("UPDATE score_changes SET changed_by_id = NULL WHERE id = :id"), {"id": change.id})
    db.session.rollback()


def test_flags_progress_and_rescore_cycle(db, contest):
    chief = add_chief(db, contest)
    _disagree(contest)
    overview = ds.desk_overview(contest.round)
    [flag] = overview.flags
    assert (flag.flag.entrant, flag.criterion.code, flag.flag.spread, flag.status) == (
        contest.entrants["晨光队"].id, "B1", Decimal(7), "open")
    assert flag.code == contest.code("晨光队")
    panel = [p for p in overview.panels if p.panel.id == contest.panels["高职组"].id][0]
    cell = panel.progress.cells[(contest.judges["陈明"].id, contest.entrants["晨光队"].id)]
    assert cell.state.value == "not_started"
    assert panel.progress.by_entrant[contest.entrants["晨光队"].id].waiting_on == contest.judges["陈明"].id
    data = ds.progress_json(overview, now=NOW)
    assert "晨光队" not in str(data) and "漳州" not in str(data)

    request = ds.ask_rescore(contest.round, contest.entrants["晨光队"].id, contest.criteria["B1"].id,
                             reason="请再看一遍方案设计", actor=chief, now=NOW)
    db.session.commit()
    assert {a.judge_id for a in request.judges} == {contest.judges[n].id for n in ("王评委", "李评委", "张评委")}
    assert _score(db, contest, "王评委", "晨光队", "B1").state == ScoreState.DRAFT
    row = db.session.scalar(sa.select(DisagreementFlag))
    assert row.state == FlagState.RESCORE
    reopened = js.judge_sheet(contest.judges["王评委"], contest.round.id, now=NOW)["entrants"]
    assert [r["kind"] for e in reopened for r in e["reopened"]] == ["rescore"]
    # the flag is held: a second chief judge asking again is refused
    with pytest.raises(js.JudgingError) as again:
        ds.ask_rescore(contest.round, contest.entrants["晨光队"].id, contest.criteria["B1"].id, reason="再评",
                       actor=chief, now=NOW)
    assert again.value.code == "flag_handled"
    db.session.rollback()
    # scores are drafts now: the flag is computed from submitted values only
    for name, value in (("王评委", "14"), ("李评委", "17"), ("张评委", "15")):
        score(contest, name, "晨光队", {"B1": value}, now=LATER)
    request = db.session.get(RescoreRequest, request.id)
    db.session.refresh(request)
    assert request.state == RescoreState.DONE
    db.session.refresh(row)
    assert (row.state, row.resolution) == (FlagState.RESOLVED, FlagResolution.RESCORED)
    assert ds.desk_overview(contest.round).flags == []  # 14 / 17 / 15: within 6
    kinds = [t.change.kind for t in ds.score_trail(contest.round, contest.entrants["晨光队"].id)]
    assert kinds.count(ScoreChangeKind.RESCORE) == 3 and kinds.count(ScoreChangeKind.CORRECTION) == 3


def test_keep_flag_with_note_and_refusals(db, contest):
    chief = add_chief(db, contest)
    _disagree(contest)
    entrant, b1 = contest.entrants["晨光队"].id, contest.criteria["B1"].id
    with pytest.raises(js.JudgingError) as no_note:
        ds.keep_flag(contest.round, entrant, b1, note=" ", actor=chief, now=NOW)
    assert no_note.value.code == "reason_required"
    db.session.rollback()
    with pytest.raises(js.JudgingError) as no_flag:
        ds.keep_flag(contest.round, entrant, contest.criteria["B2"].id, note="ok", actor=chief, now=NOW)
    assert no_flag.value.code == "no_flag"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(DisagreementFlag.id))) == 0
    ds.keep_flag(contest.round, entrant, b1, note="评分尺度不同，已与评委沟通", actor=chief, now=NOW)
    db.session.commit()
    [flag] = ds.desk_overview(contest.round).flags
    assert flag.status == "kept" and flag.stored.note == "评分尺度不同，已与评委沟通"
    with pytest.raises(js.JudgingError) as twice:
        ds.keep_flag(contest.round, entrant, b1, note="again", actor=chief, now=NOW)
    assert twice.value.code == "flag_handled"


def test_close_rescore_request(db, contest):
    chief = add_chief(db, contest)
    _disagree(contest)
    request = ds.ask_rescore(contest.round, contest.entrants["晨光队"].id, contest.criteria["B1"].id,
                             reason="再评", actor=chief, now=NOW)
    db.session.commit()
    ds.close_rescore(request, note="王评委已离场", actor=chief, now=LATER)
    db.session.commit()
    assert request.state == RescoreState.CLOSED and request.close_note == "王评委已离场"
    flag = db.session.scalar(sa.select(DisagreementFlag))
    assert (flag.state, flag.resolution) == (FlagState.RESOLVED, FlagResolution.KEPT)
    with pytest.raises(js.JudgingError) as closed:
        ds.close_rescore(request, note="x", actor=chief, now=LATER)
    assert closed.value.code == "request_closed"


def test_paper_sheet_on_behalf(db, contest):
    chief = add_chief(db, contest)
    round_, entrant = contest.round, contest.entrants["海燕队"].id
    judge = contest.judges["张评委"]
    score(contest, "张评委", "海燕队", {"A1": "3"}, submit=False)  # a draft from the tablet is replaced
    values = {contest.criteria[c].id: v for c, v in sheet(a1="9", b1="16.5", b2="3").items()}
    bad = {**values, contest.criteria["B1"].id: "16.3"}
    with pytest.raises(js.JudgingError) as refused:
        ds.enter_paper_sheet(round_, judge.id, entrant, bad, actor=chief, now=NOW)
    assert refused.value.code == "invalid_sheet"
    assert str(contest.criteria["B1"].id) in refused.value.details["problems"]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Score.id)).where(Score.state == ScoreState.SUBMITTED)) == 0
    saved = ds.enter_paper_sheet(round_, judge.id, entrant, values, actor=chief, now=NOW)
    db.session.commit()
    assert {s.state for s in saved} == {ScoreState.SUBMITTED} and {s.source for s in saved} == {ScoreSource.PAPER}
    assert {s.updated_by_id for s in saved} == {chief.id}
    trail = ds.score_trail(round_, entrant)
    assert {(t.change.kind, t.by.id, t.on_behalf_of.id) for t in trail} == {(ScoreChangeKind.ON_BEHALF, chief.id, judge.id)}
    assert {t.change.old_value for t in trail if t.criterion.code == "A1"} == {Decimal(3)}
    with pytest.raises(js.JudgingError) as twice:
        ds.enter_paper_sheet(round_, judge.id, entrant, values, actor=chief, now=NOW)
    assert twice.value.code == "already_submitted"
    db.session.rollback()
    with pytest.raises(js.JudgingError) as conflict:  # 王评委 must not score 云帆队 (own unit)
        ds.enter_paper_sheet(round_, contest.judges["王评委"].id, contest.entrants["云帆队"].id, values,
                             actor=chief, now=NOW)
    assert conflict.value.code in ("not_assigned", "conflict")


def test_access_chief_and_organizer_only(db, contest):
    chief = add_chief(db, contest)
    assert ds.can_use_desk(chief, contest.competition)
    assert ds.can_use_desk(contest.organizer, contest.competition)
    assert not ds.can_use_desk(contest.judges["李评委"], contest.competition)
    assert ds.desk_competitions(chief) == [contest.competition]


def test_settings_validate(db, contest):
    with pytest.raises(js.JudgingError) as bad:
        ds.update_settings(contest.competition, ladder_levels="abc", spread_percent="30", outlier_percent="15",
                           outlier_min_entrants="5", actor=contest.organizer, now=NOW)
    assert bad.value.field == "ladder_levels"
    db.session.rollback()
    t = ds.update_settings(contest.competition, ladder_levels="2", spread_percent="25", outlier_percent="10",
                           outlier_min_entrants="3", actor=contest.organizer, now=NOW)
    db.session.commit()
    assert (t.ladder_levels, t.spread_share, t.outlier_share, t.outlier_min_entrants) == (
        Decimal(2), Decimal("0.25"), Decimal("0.1"), 3)


def test_reauth_wrong_password_throttled(app, db, contest):
    chief = add_chief(db, contest)
    confirm_password(chief, CHIEF_PASSWORD, now=NOW)
    with pytest.raises(ReauthError) as missing:
        confirm_password(chief, "", now=NOW)
    assert missing.value.code == "password_required" and missing.value.status == 422
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        with pytest.raises(ReauthError) as wrong:
            confirm_password(chief, "nope", now=NOW)
        assert wrong.value.code == "wrong_password" and wrong.value.status == 403
        keep_failure(wrong.value)  # what the view does: roll back, keep the failure
    with pytest.raises(ReauthError) as throttled:
        confirm_password(chief, CHIEF_PASSWORD, now=NOW)
    assert throttled.value.code == "throttled" and throttled.value.status == 429
    confirm_password(chief, CHIEF_PASSWORD, now=NOW + timedelta(hours=1))  # the window has passed
