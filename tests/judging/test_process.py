"""The lock chain (issue 7): round lock → review (复核) → decryption (解密) → provisional (公示) → final snapshot.

Walked in order with the right people; every step tried out of order and by the wrong role (refused, nothing
changes); the review sample's composition and the 5 % rule; decryption by two different people; the final snapshot
immutable except by an audited revision. On SQLite and PostgreSQL (the suite runs on both)."""
from __future__ import annotations

import sys
import threading
import types
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from competition import results
from competition.models import Round, RoundState
from core.models import AuditEntry
from judging import process
from judging import services as js
from judging.models import Score, ScoreChange
from judging.process_models import (
    Decryption,
    JudgingProcess,
    ProcessStage,
    ResultSnapshot,
    ReviewItem,
    ReviewPhase,
    ReviewState,
    RoundLockEvent,
    SnapshotImmutable,
)
from tests.conftest import IS_POSTGRES, NOW
from tests.judging.process_builders import PASSWORD, build_chain, walk_to


def _refused(db, code: str, status: int, action) -> process.ProcessError:
    with pytest.raises(process.ProcessError) as caught:
        action()
    db.session.rollback()
    assert (caught.value.code, caught.value.status) == (code, status), caught.value.message
    assert caught.value.message
    return caught.value


def _stage(db, chain) -> ProcessStage:
    db.session.expire_all()
    return db.session.get(JudgingProcess, chain.competition.id).stage


def _actions(db, competition_id: int) -> list[str]:
    return [e.action for e in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
            if (e.details or {}).get("competition_id") == competition_id and e.action in CHAIN_ACTIONS]


CHAIN_ACTIONS = {"judging.process_strict", "judging.round_lock", "judging.round_unlock", "judging.review_start",
                 "judging.review_item", "judging.full_review", "judging.review_complete", "judging.decrypt_start",
                 "judging.decrypt", "judging.decrypt_withdraw", "judging.provisional", "judging.final",
                 "judging.revision"}


# ---------------------------------------------------------------- pure rules


def test_sample_size_is_at_least_fifteen_percent_rounded_up():
    assert [process.sample_size(n) for n in (0, 1, 6, 7, 13, 14, 20, 21, 100)] == [0, 1, 1, 2, 2, 3, 3, 4, 15]
    for n in range(0, 300):
        assert process.sample_size(n) * 100 >= 15 * n > (process.sample_size(n) - 1) * 100 or n == 0


def test_error_rate_above_five_percent_forces_full_review():
    assert process.needs_full_review(3, 50)  # 6 %
    assert process.needs_full_review(6, 100)
    assert not process.needs_full_review(5, 100)  # exactly 5 %: no
    assert not process.needs_full_review(1, 20)
    assert not process.needs_full_review(0, 0)


def test_the_sample_is_the_same_for_the_same_seed():
    others = list(range(100, 140))
    first = process.draw_sample(others, "seed-1")
    assert first == process.draw_sample(list(reversed(others)), "seed-1")
    assert len(first) == 6 and set(first) <= set(others)
    assert any(process.draw_sample(others, f"seed-{i}") != first for i in range(2, 6))


# ---------------------------------------------------------------- the whole chain, in order


def test_walk_every_lock_in_order(db, factory):
    chain = build_chain(db, factory, entrants=10)
    competition, round_ = chain.competition, chain.scored.round
    assert process.is_strict(competition) and not process.results_are_provisional(competition)
    assert process.appeal_deadline(competition) is None and not process.is_final(competition)

    # 1. lock: the round's scores no longer change
    process.lock_round(round_, actor=chain.chief, now=NOW)
    db.session.commit()
    assert db.session.get(Round, round_.id).state == RoundState.LOCKED
    lock = db.session.scalar(sa.select(RoundLockEvent))
    assert (lock.action, lock.actor_id, lock.at) == ("lock", chain.chief.id, NOW)
    score = db.session.scalar(sa.select(Score).where(Score.entrant_id == chain.scored.entrants["选手01"].id))
    with pytest.raises(js.JudgingError) as caught:
        js.change_submitted_score(score, "9", actor=chain.chief, reason="改分", now=NOW)
    assert caught.value.code == "locked"
    db.session.rollback()

    # 2. review: top band (一等奖, 二等奖) and ceil(15 % of 8) = 2 others
    drawn = process.start_review(competition, actor=chain.chief, now=NOW + timedelta(minutes=1), seed="s")
    db.session.commit()
    assert _stage(db, chain) == ProcessStage.REVIEW
    assert len(drawn.top) == 2 and len(drawn.others) == 8 and len(drawn.sample) == 2
    items = process.review_items(competition)
    assert len(items) == 4 * 2  # 4 entrants × 2 criteria × 1 judge
    assert not process.is_decrypted(competition)
    for item in items:
        process.decide_item(item, actor=chain.supervisor, now=NOW + timedelta(minutes=2))
    db.session.commit()
    assert _stage(db, chain) == ProcessStage.REVIEWED
    assert {i.state for i in process.review_items(competition)} == {ReviewState.CONFIRMED}
    assert {i.decided_by_id for i in process.review_items(competition)} == {chain.supervisor.id}

    # 3. decryption: encryptor + supervisor
    decryption = process.start_decryption(competition, PASSWORD, actor=chain.encryptor, now=NOW + timedelta(minutes=3))
    db.session.commit()
    assert _stage(db, chain) == ProcessStage.REVIEWED
    process.confirm_decryption(decryption, PASSWORD, actor=chain.supervisor2, now=NOW + timedelta(minutes=4))
    db.session.commit()
    assert _stage(db, chain) == ProcessStage.DECRYPTED and process.is_decrypted(competition)
    stored = db.session.get(Decryption, decryption.id)
    assert (stored.started_by_id, stored.confirmed_by_id) == (chain.encryptor.id, chain.supervisor2.id)
    assert results.public_view(competition).mode == "nothing"  # decrypted, not yet published

    # 4. provisional: published with names, deadline two hours on
    published_at = NOW + timedelta(minutes=5)
    deadline = process.publish_provisional(competition, actor=chain.chief, now=published_at)
    db.session.commit()
    assert deadline == published_at + timedelta(hours=2)
    assert process.results_are_provisional(competition) and process.appeal_deadline(competition) == deadline
    assert results.is_identity_released(competition)
    view = results.public_view(competition)
    assert view.mode == "names" and not view.final
    assert view.boards[0]["entries"][0]["name"] == "选手01"

    # 5. final: after the deadline; snapshot revision 1
    snap = process.finalize(competition, actor=chain.chief, now=deadline + timedelta(seconds=1))
    db.session.commit()
    assert process.is_final(competition) and not process.results_are_provisional(competition)
    assert process.appeal_deadline(competition) is None
    assert results.results_final(competition) and results.public_view(competition).final
    assert snap.revision == 1 and snap.created_by_id == chain.chief.id
    entries = snap.data["boards"][0]["entries"]
    assert [(e["rank"], e["name"], e["award"]) for e in entries[:3]] == [(1, "选手01", "一等奖"), (2, "选手02", "二等奖"),
                                                                        (3, "选手03", None)]
    assert entries[0]["total"] == "15.00"
    assert len(snap.data["scores"]) == 10 * 2

    assert _actions(db, competition.id) == [
        "judging.process_strict", "judging.round_lock", "judging.review_start"] + ["judging.review_item"] * 8 + [
        "judging.review_complete", "judging.decrypt_start", "judging.decrypt", "judging.provisional", "judging.final"]
    steps = {s.key: s for s in process.chain(competition)}
    assert {k: s.state for k, s in steps.items()} == {k: "done" for k in steps}
    assert steps["decrypt"].who == [chain.encryptor.id, chain.supervisor2.id]


def test_no_step_can_be_skipped(db, factory):
    chain = build_chain(db, factory, entrants=6)
    competition, round_ = chain.competition, chain.scored.round
    organizer = chain.organizer

    def later_steps():
        return [
            lambda: process.start_review(competition, actor=chain.chief, now=NOW),
            lambda: process.start_decryption(competition, PASSWORD, actor=chain.encryptor, now=NOW),
            lambda: process.publish_provisional(competition, actor=chain.chief, now=NOW),
            lambda: process.finalize(competition, actor=chain.chief, now=NOW + timedelta(days=1)),
        ]

    # nothing locked yet
    first = later_steps()
    _refused(db, "rounds_open", 409, first[0])
    for action in first[1:]:
        _refused(db, "out_of_order", 409, action)
    with pytest.raises(results.ResultsError) as caught:
        results.publish(competition, actor=organizer, now=NOW)
    assert caught.value.code == "strict_process"
    db.session.rollback()
    with pytest.raises(results.ResultsError):
        results.mark_final(competition, actor=organizer, now=NOW)
    db.session.rollback()
    assert _stage(db, chain) == ProcessStage.SCORING and not results.is_identity_released(competition)

    # locked, review not started: decryption and publication still refused
    walk_to(db, chain, "lock")
    _refused(db, "already_locked", 409, lambda: process.lock_round(round_, actor=chain.chief, now=NOW))
    for action in later_steps()[1:]:
        _refused(db, "out_of_order", 409, action)

    # review running with items pending: decryption refused; unlock refused
    process.start_review(competition, actor=chain.chief, now=NOW, seed="x")
    db.session.commit()
    _refused(db, "out_of_order", 409,
             lambda: process.start_decryption(competition, PASSWORD, actor=chain.encryptor, now=NOW))
    _refused(db, "review_started", 409, lambda: process.unlock_round(round_, "重新评分", actor=chain.chief, now=NOW))
    _refused(db, "already_done", 409, lambda: process.start_review(competition, actor=chain.chief, now=NOW))
    assert _stage(db, chain) == ProcessStage.REVIEW
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decryption)) == 0

    # reviewed and decrypted: the deadline must pass before final
    for item in process.review_items(competition):
        process.decide_item(item, actor=chain.supervisor, now=NOW)
    db.session.commit()
    walk_to_after_review(db, chain)
    _refused(db, "out_of_order", 409, lambda: process.finalize(competition, actor=chain.chief, now=NOW + timedelta(days=1)))
    process.publish_provisional(competition, actor=chain.chief, now=NOW)
    db.session.commit()
    error = _refused(db, "appeal_period", 409,
                     lambda: process.finalize(competition, actor=chain.chief, now=NOW + timedelta(minutes=119)))
    assert "2026-11-24 12:00" in error.message  # the deadline in Beijing time
    with pytest.raises(results.ResultsError):
        results.unpublish(competition, actor=organizer, now=NOW)
    db.session.rollback()
    assert process.results_are_provisional(competition)


def walk_to_after_review(db, chain):
    decryption = process.start_decryption(chain.competition, PASSWORD, actor=chain.encryptor, now=NOW)
    process.confirm_decryption(decryption, PASSWORD, actor=chain.supervisor, now=NOW)
    db.session.commit()


def test_open_appeals_hold_the_results_provisional(db, factory, monkeypatch):
    chain = build_chain(db, factory, entrants=6)
    walk_to(db, chain, "provisional")
    counts = {"open": 2}
    try:
        import appeals.services as appeal_services
    except ModuleNotFoundError:
        appeal_services = types.ModuleType("appeals.services")
        monkeypatch.setitem(sys.modules, "appeals", types.ModuleType("appeals"))
        monkeypatch.setitem(sys.modules, "appeals.services", appeal_services)
    monkeypatch.setattr(appeal_services, "open_appeal_count", lambda competition: counts["open"], raising=False)
    later = NOW + timedelta(hours=5)
    error = _refused(db, "open_appeals", 409, lambda: process.finalize(chain.competition, actor=chain.chief, now=later))
    assert "2" in error.message
    assert process.results_are_provisional(chain.competition)
    counts["open"] = 0
    process.finalize(chain.competition, actor=chain.chief, now=later)
    db.session.commit()
    assert process.is_final(chain.competition)


# ---------------------------------------------------------------- roles


def test_every_step_refuses_the_wrong_role(db, factory):
    chain = build_chain(db, factory, entrants=6)
    competition, round_ = chain.competition, chain.scored.round
    stranger = factory.user("stranger@example.org", "路人")
    wrong = {
        "lock": [chain.judge, chain.supervisor, chain.encryptor, chain.arbitrator, stranger],
        "review": [chain.chief, chain.organizer, chain.encryptor, chain.judge],
        "decrypt_start": [chain.chief, chain.organizer, chain.supervisor],
        "decrypt_confirm": [chain.chief, chain.organizer, chain.arbitrator],
        "publish": [chain.supervisor, chain.encryptor, chain.judge, chain.arbitrator],
        "finalize": [chain.supervisor, chain.encryptor, chain.judge, chain.arbitrator],
        "revise": [chain.supervisor, chain.encryptor, chain.judge],
    }
    for user in wrong["lock"]:
        _refused(db, "wrong_role", 403, lambda: process.lock_round(round_, actor=user, now=NOW))
        _refused(db, "wrong_role", 403, lambda: process.start_review(competition, actor=user, now=NOW))
    assert db.session.get(Round, round_.id).state == RoundState.SCORING
    process.lock_round(round_, actor=chain.organizer, now=NOW)  # organizers may run the chief judge's steps
    process.start_review(competition, actor=chain.chief, now=NOW, seed="r")
    db.session.commit()
    item = process.review_items(competition)[0]
    for user in wrong["review"]:
        _refused(db, "wrong_role", 403, lambda: process.decide_item(item, actor=user, now=NOW))
    assert db.session.get(ReviewItem, item.id).state == ReviewState.PENDING
    for item in process.review_items(competition):
        process.decide_item(item, actor=chain.supervisor2, now=NOW)
    db.session.commit()
    for user in wrong["decrypt_start"]:
        _refused(db, "wrong_role", 403,
                 lambda: process.start_decryption(competition, PASSWORD, actor=user, now=NOW))
    decryption = process.start_decryption(competition, PASSWORD, actor=chain.encryptor, now=NOW)
    db.session.commit()
    for user in wrong["decrypt_confirm"]:
        _refused(db, "wrong_role", 403,
                 lambda: process.confirm_decryption(decryption, PASSWORD, actor=user, now=NOW))
    assert _stage(db, chain) == ProcessStage.REVIEWED
    process.confirm_decryption(decryption, PASSWORD, actor=chain.supervisor, now=NOW)
    db.session.commit()
    for user in wrong["publish"]:
        _refused(db, "wrong_role", 403, lambda: process.publish_provisional(competition, actor=user, now=NOW))
    process.publish_provisional(competition, actor=chain.organizer, now=NOW)
    db.session.commit()
    for user in wrong["finalize"]:
        _refused(db, "wrong_role", 403,
                 lambda: process.finalize(competition, actor=user, now=NOW + timedelta(hours=3)))
    process.finalize(competition, actor=chain.organizer, now=NOW + timedelta(hours=3))
    db.session.commit()
    for user in wrong["revise"]:
        _refused(db, "wrong_role", 403, lambda: process.revise_final(competition, "仲裁决定", actor=user, now=NOW))
    assert [s.revision for s in process.snapshots(competition)] == [1]
    process.revise_final(competition, "仲裁组决定：维持原成绩", actor=chain.arbitrator, now=NOW + timedelta(hours=4))
    db.session.commit()
    assert [s.revision for s in process.snapshots(competition)] == [1, 2]


# ---------------------------------------------------------------- review sample and the 5 % rule


def test_review_sample_composition_and_recorded_seed(db, factory):
    # 21 entrants, 一等奖 ×1 and 二等奖 ×1 by count, plus a rest tier: top band 2, others 19 -> 3 drawn
    chain = build_chain(db, factory, entrants=21, criteria=1)
    competition = chain.competition
    state = results.ensure_state(competition)
    state.rest_tier = "优秀奖"
    db.session.commit()
    results.clear_cache()
    walk_to(db, chain, "lock")
    drawn = process.start_review(competition, actor=chain.chief, now=NOW, seed="composition")
    db.session.commit()
    ids = {name: e.id for name, e in chain.scored.entrants.items()}
    assert drawn.top == sorted([ids["选手01"], ids["选手02"]])  # 优秀奖 (rest tier) is not the top band
    assert len(drawn.others) == 19 and len(drawn.sample) == 3 == process.sample_size(19)
    assert set(drawn.sample) <= set(drawn.others)
    stored = db.session.get(JudgingProcess, competition.id)
    assert stored.review_seed == "composition"
    assert stored.review_sample["top"] == drawn.top and stored.review_sample["sample"] == drawn.sample
    assert process.draw_sample(drawn.others, stored.review_seed) == drawn.sample  # anyone can redo it
    items = process.review_items(competition)
    assert {i.entrant_id for i in items if i.phase == ReviewPhase.TOP} == set(drawn.top)
    assert {i.entrant_id for i in items if i.phase == ReviewPhase.SAMPLE} == set(drawn.sample)
    assert len(items) == 5  # one judge, one criterion
    audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "judging.review_start"))
    assert audit.details["seed"] == "composition" and audit.details["sampled"] == 3


def _review_with_errors(db, chain, errors: int, *, seed: str = "rate") -> process.ReviewCounts:
    competition = chain.competition
    walk_to(db, chain, "lock")
    process.start_review(competition, actor=chain.chief, now=NOW, seed=seed)
    db.session.commit()
    items = process.review_items(competition)
    for n, item in enumerate(items):
        if n < errors:
            score = db.session.get(Score, item.score_id)
            process.decide_item(item, value=str(Decimal(score.value) - Decimal("0.5")), reason="与评分表不符",
                                actor=chain.supervisor, now=NOW)
        else:
            process.decide_item(item, actor=chain.supervisor, now=NOW)
        db.session.commit()
    return process.review_counts(competition)


def test_six_percent_errors_force_a_full_review(db, factory):
    # 20 entrants: top 2, others 18 -> 3 drawn; 5 entrants × 10 criteria = 50 items; 3 corrected = 6 %
    chain = build_chain(db, factory, entrants=20, criteria=10)
    counts = _review_with_errors(db, chain, 3)
    assert (counts.sample_items, counts.sample_errors) == (50, 3)
    stored = db.session.get(JudgingProcess, chain.competition.id)
    assert stored.full_review and stored.stage == ProcessStage.REVIEW
    full = [i for i in process.review_items(chain.competition) if i.phase == ReviewPhase.FULL]
    assert len(full) == 15 * 10 and all(i.state == ReviewState.PENDING for i in full)
    assert {i.entrant_id for i in full}.isdisjoint({i.entrant_id for i in process.review_items(chain.competition)
                                                    if i.phase != ReviewPhase.FULL})
    _refused(db, "out_of_order", 409,
             lambda: process.start_decryption(chain.competition, PASSWORD, actor=chain.encryptor, now=NOW))
    corrected = db.session.scalars(sa.select(ScoreChange).where(ScoreChange.reason == "与评分表不符")).all()
    assert len(corrected) == 3 and all(c.kind.value == "review" for c in corrected)
    for item in full:
        process.decide_item(item, actor=chain.supervisor2, now=NOW)
    db.session.commit()
    assert _stage(db, chain) == ProcessStage.REVIEWED
    assert "judging.full_review" in _actions(db, chain.competition.id)


def test_five_percent_errors_do_not(db, factory):
    # 20 entrants × 4 criteria: 5 entrants sampled = 20 items; 1 corrected = 5 %
    chain = build_chain(db, factory, entrants=20, criteria=4)
    counts = _review_with_errors(db, chain, 1)
    assert (counts.sample_items, counts.sample_errors) == (20, 1)
    stored = db.session.get(JudgingProcess, chain.competition.id)
    assert not stored.full_review and stored.stage == ProcessStage.REVIEWED
    assert counts.items == 20


def test_a_correction_needs_a_reason_and_a_valid_value(db, factory):
    chain = build_chain(db, factory, entrants=6)
    walk_to(db, chain, "lock")
    process.start_review(chain.competition, actor=chain.chief, now=NOW, seed="v")
    db.session.commit()
    item = process.review_items(chain.competition)[0]
    _refused(db, "reason_required", 422, lambda: process.decide_item(item, value="1", actor=chain.supervisor, now=NOW))
    _refused(db, "above_maximum", 422,
             lambda: process.decide_item(item, value="11", reason="x", actor=chain.supervisor, now=NOW))
    _refused(db, "not_a_number", 422,
             lambda: process.decide_item(item, value="九", reason="x", actor=chain.supervisor, now=NOW))
    assert db.session.get(ReviewItem, item.id).state == ReviewState.PENDING
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreChange)) == 0
    process.decide_item(item, actor=chain.supervisor, now=NOW)
    db.session.commit()
    _refused(db, "already_decided", 409, lambda: process.decide_item(item, actor=chain.supervisor2, now=NOW))


# ---------------------------------------------------------------- decryption: two people


def test_decryption_needs_two_different_people(db, factory):
    from accounts.reauth import ReauthError

    chain = build_chain(db, factory, entrants=6)
    walk_to(db, chain, "review")
    competition = chain.competition
    with pytest.raises(ReauthError) as caught:
        process.start_decryption(competition, "wrong-password", actor=chain.encryptor, now=NOW)
    assert caught.value.code == "wrong_password"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decryption)) == 0
    decryption = process.start_decryption(competition, PASSWORD, actor=chain.encryptor, now=NOW)
    db.session.commit()
    _refused(db, "pending", 409, lambda: process.start_decryption(competition, PASSWORD, actor=chain.encryptor,
                                                                   now=NOW))
    _refused(db, "same_person", 403,
             lambda: process.confirm_decryption(decryption, PASSWORD, actor=chain.encryptor, now=NOW))
    with pytest.raises(ReauthError):
        process.confirm_decryption(decryption, "nope", actor=chain.supervisor, now=NOW)
    db.session.rollback()
    assert _stage(db, chain) == ProcessStage.REVIEWED and not process.is_decrypted(competition)
    # the database itself refuses one person in both places
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.update(Decryption).where(Decryption.id == decryption.id)
                           .values(confirmed_by_id=chain.encryptor.id))
        db.session.flush()
    db.session.rollback()
    process.withdraw_decryption(decryption, actor=chain.encryptor, now=NOW)
    db.session.commit()
    _refused(db, "not_pending", 409,
             lambda: process.confirm_decryption(decryption, PASSWORD, actor=chain.supervisor, now=NOW))
    again = process.start_decryption(competition, PASSWORD, actor=chain.encryptor, now=NOW)
    process.confirm_decryption(again, PASSWORD, actor=chain.supervisor, now=NOW)
    db.session.commit()
    assert process.is_decrypted(competition)


# ---------------------------------------------------------------- final snapshot: revisions only


def test_final_snapshot_changes_only_by_an_audited_revision(db, factory):
    chain = build_chain(db, factory, entrants=6)
    walk_to(db, chain, "final")
    competition = chain.competition
    first = process.latest_snapshot(competition)
    before = dict(first.data)
    score = db.session.scalar(sa.select(Score).where(Score.entrant_id == chain.scored.entrants["选手03"].id)
                              .order_by(Score.criterion_id))

    # the ORM and the database refuse to edit a stored revision
    first.reason = "篡改"
    with pytest.raises(SnapshotImmutable):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.DBAPIError):
        db.session.execute(sa.text("UPDATE judging_result_snapshots SET reason = 'x' WHERE id = :id"),
                           {"id": first.id})
    db.session.rollback()

    # the ordinary correction paths are closed
    for kind in ("correction", "review", "appeal", "revision"):
        with pytest.raises(js.JudgingError):
            js.change_submitted_score(score, "10", actor=chain.chief, reason="改分", now=NOW, kind=kind)
        db.session.rollback()
    with pytest.raises(js.JudgingError):
        js.reopen_entrant(chain.scored.round, chain.judge.id, score.entrant_id, actor=chain.chief, reason="x", now=NOW)
    db.session.rollback()
    with pytest.raises(results.ResultsError):
        results.mark_provisional(competition, actor=chain.organizer, now=NOW)
    db.session.rollback()
    _refused(db, "reason_required", 422, lambda: process.revise_final(competition, " ", actor=chain.chief, now=NOW))

    # a revision: 选手03 gains 5 points and overtakes 选手01
    later = NOW + timedelta(days=1)
    second = process.revise_final(competition, "仲裁组裁定：A1 评分登记错误", actor=chain.chief, now=later,
                                  corrections=[process.Correction(score.id, "10")])
    db.session.commit()
    assert second.revision == 2 and second.reason == "仲裁组裁定：A1 评分登记错误"
    assert second.changes[0]["score_id"] == score.id and second.changes[0]["new"] == "10"
    board = second.data["boards"][0]["entries"]
    assert {(e["name"], e["rank"], e["total"]) for e in board[:2]} == {("选手01", 1, "15.00"), ("选手03", 1, "15.00")}
    assert {(e["name"], e["rank"]) for e in first.data["boards"][0]["entries"][:3]} == {
        ("选手01", 1), ("选手02", 2), ("选手03", 3)}
    db.session.expire_all()
    kept = db.session.get(ResultSnapshot, first.id)
    assert kept.revision == 1 and kept.data == before  # the old revision stays as it was
    change = db.session.scalar(sa.select(ScoreChange).where(ScoreChange.score_id == score.id))
    assert change.kind.value == "revision" and change.changed_by_id == chain.chief.id
    audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "judging.revision"))
    assert audit.details["revision"] == 2 and audit.actor_id == chain.chief.id
    # the public sees the latest revision
    view = results.public_view(competition)
    names = [e["name"] for e in view.boards[0]["entries"]]
    assert names == [e["name"] for e in board]


def test_the_public_sees_the_snapshot_not_the_live_board(db, factory):
    chain = build_chain(db, factory, entrants=6)
    walk_to(db, chain, "final")
    competition = chain.competition
    entrant = chain.scored.entrants["选手06"]
    results.set_override(competition, entrant, "一等奖", "补录", actor=chain.organizer, now=NOW)
    db.session.commit()
    live = results.standings(competition).lines_by_entrant[entrant.id].award
    shown = {e["name"]: e["award"] for e in results.public_view(competition).boards[0]["entries"]}
    assert live == "一等奖" and shown["选手06"] is None
    process.revise_final(competition, "奖项调整经仲裁组确认", actor=chain.chief, now=NOW + timedelta(days=1))
    db.session.commit()
    shown = {e["name"]: e["award"] for e in results.public_view(competition).boards[0]["entries"]}
    assert shown["选手06"] == "一等奖"


# ---------------------------------------------------------------- round locks


def test_locking_and_unlocking_are_logged(db, factory):
    chain = build_chain(db, factory, entrants=6)
    round_ = chain.scored.round
    process.lock_round(round_, actor=chain.chief, now=NOW)
    db.session.commit()
    _refused(db, "reason_required", 422, lambda: process.unlock_round(round_, "", actor=chain.chief, now=NOW))
    process.unlock_round(round_, "评委漏评一项，需补评", actor=chain.chief, now=NOW + timedelta(minutes=1))
    db.session.commit()
    assert db.session.get(Round, round_.id).state == RoundState.SCORING
    events = process.lock_events(chain.competition)
    assert [(e.action, e.reason, e.actor_id) for e in events] == [
        ("lock", "", chain.chief.id), ("unlock", "评委漏评一项，需补评", chain.chief.id)]
    _refused(db, "not_locked", 409, lambda: process.unlock_round(round_, "再次", actor=chain.chief, now=NOW))


def test_a_round_with_drafts_is_not_locked(db, factory):
    chain = build_chain(db, factory, entrants=6)
    score = db.session.scalar(sa.select(Score))
    db.session.execute(sa.update(Score).where(Score.id == score.id).values(state="draft"))
    db.session.commit()
    _refused(db, "drafts", 409, lambda: process.lock_round(chain.scored.round, actor=chain.chief, now=NOW))
    assert db.session.get(Round, chain.scored.round.id).state == RoundState.SCORING


def test_a_round_with_an_entrant_waiting_on_one_judge_is_not_locked(db, factory):
    from tests.competition.results_builders import build_scored, submit_scores

    scored = build_scored(db, factory, entrants=[("甲队", "单位1", None), ("乙队", "单位2", None),
                                                 ("丙队", "单位3", None)], judges=2)
    # 甲队 by both judges, 乙队 by the first judge only (waiting on the second), 丙队 by nobody (absent)
    submit_scores(db, scored, {"甲队": {"A1": ["80", "82"]}, "乙队": {"A1": ["70", None]}})
    error = _refused(db, "incomplete", 409, lambda: process.lock_round(scored.round, actor=scored.organizer,
                                                                        now=NOW))
    assert "1" in error.message
    assert db.session.get(Round, scored.round.id).state == RoundState.SCORING
    submit_scores(db, scored, {"乙队": {"A1": ["70", "72"]}})
    process.lock_round(scored.round, actor=scored.organizer, now=NOW)  # nobody's entrant does not hold the lock
    db.session.commit()
    assert db.session.get(Round, scored.round.id).state == RoundState.LOCKED


def test_a_round_with_open_disagreement_flags_is_not_locked_until_the_chief_judge_keeps_them(db, factory):
    from competition.draw import codes_by_entrant
    from judging import desk_services as ds
    from tests.competition.results_builders import build_scored, submit_scores

    scored = build_scored(db, factory, entrants=[("甲队", "单位1", None), ("乙队", "单位2", None),
                                                 ("丙队", "单位3", None)], judges=3,
                          modules={"A": [("A1", "10", "judgement"), ("A2", "10", "judgement")]})
    # 甲队's A1 and 乙队's A2 are far apart (7 and 5 of 10; the limit is 30 % of the maximum); 丙队 agrees
    submit_scores(db, scored, {"甲队": {"A1": ["9", "2", "8"], "A2": ["6", "6", "6"]},
                               "乙队": {"A1": ["7", "7", "7"], "A2": ["8", "3", "7"]},
                               "丙队": {"A1": ["5", "5", "6"], "A2": ["4", "4", "4"]}})
    codes = codes_by_entrant(scored.competition)
    first, second = codes[scored.entrants["甲队"].id], codes[scored.entrants["乙队"].id]
    flags = process.open_flags(scored.round)
    assert [(f.code, f.criterion_code, f.status) for f in flags] == sorted(
        [(first, "A1", "open"), (second, "A2", "open")], key=lambda f: js.natural_key(f[0]))
    error = _refused(db, "open_flags", 409, lambda: process.lock_round(scored.round, actor=scored.organizer,
                                                                        now=NOW))
    assert "2" in error.message and f"{first} · A1 评分项A1" in error.message
    assert f"{second} · A2 评分项A2" in error.message and "甲队" not in error.message  # codes, never names
    assert db.session.get(Round, scored.round.id).state == RoundState.SCORING
    assert not process.lock_events(scored.competition)
    # the chief judge keeps one: the other still holds the lock
    ds.keep_flag(scored.round, scored.entrants["甲队"].id, scored.criteria["A1"].id, note="评分表核对无误",
                 actor=scored.organizer, now=NOW)
    db.session.commit()
    error = _refused(db, "open_flags", 409, lambda: process.lock_round(scored.round, actor=scored.organizer,
                                                                        now=NOW))
    assert f"{first} · A1" not in error.message and f"{second} · A2 评分项A2" in error.message
    assert [f.code for f in process.open_flags(scored.round)] == [second]
    # asked to re-score: the flag stays open (and the scores are drafts) until the panel re-submits or it is kept
    ds.ask_rescore(scored.round, scored.entrants["乙队"].id, scored.criteria["A2"].id, reason="请重新评分",
                   actor=scored.organizer, now=NOW)
    db.session.commit()
    assert [(f.code, f.status) for f in process.open_flags(scored.round)] == [(second, "rescore")]
    ds.keep_flag(scored.round, scored.entrants["乙队"].id, scored.criteria["A2"].id, note="维持原分",
                 actor=scored.organizer, now=NOW)
    db.session.commit()
    assert process.open_flags(scored.round) == []
    # the kept re-score left drafts behind: the judges submit them before the lock
    from judging.models import ScoreState

    db.session.execute(sa.update(Score).where(Score.round_id == scored.round.id, Score.state == ScoreState.DRAFT)
                       .values(state=ScoreState.SUBMITTED, submitted_at=NOW))
    db.session.commit()
    process.lock_round(scored.round, actor=scored.organizer, now=NOW)
    db.session.commit()
    assert db.session.get(Round, scored.round.id).state == RoundState.LOCKED


def test_the_review_step_names_the_supervisors_who_checked(db, factory):
    chain = build_chain(db, factory, entrants=4)
    walk_to(db, chain, "lock")
    process.start_review(chain.competition, actor=chain.chief, now=NOW, seed="fixed-seed")
    items = process.review_items(chain.competition)
    for i, item in enumerate(items):
        process.decide_item(item, actor=chain.supervisor if i < 3 else chain.supervisor2, now=NOW)
    db.session.commit()
    assert len(items) > 3
    assert process.reviewers(chain.competition) == [(chain.supervisor.id, 3), (chain.supervisor2.id, len(items) - 3)]
    [review] = [s for s in process.chain(chain.competition) if s.key == "review"]
    assert review.who == [chain.chief.id] and review.reviewers == process.reviewers(chain.competition)


def test_the_simple_mode_stays_as_it_was(db, factory):
    chain = build_chain(db, factory, entrants=6, strict=False)
    competition = chain.competition
    assert not process.is_strict(competition)
    results.publish(competition, actor=chain.organizer, now=NOW)
    db.session.commit()
    assert results.is_identity_released(competition) and process.results_are_provisional(competition)
    _refused(db, "not_strict", 409, lambda: process.start_review(competition, actor=chain.chief, now=NOW))
    _refused(db, "published", 409, lambda: process.set_strict(competition, True, actor=chain.organizer, now=NOW))
    results.mark_final(competition, actor=chain.organizer, now=NOW)
    db.session.commit()
    assert process.is_final(competition)


@pytest.mark.skipif(not IS_POSTGRES, reason="row locks between real connections: PostgreSQL")
def test_two_chiefs_lock_at_once(app, db, factory):
    chain = build_chain(db, factory, entrants=6)
    round_id, competition_id = chain.scored.round.id, chain.competition.id
    chief2 = js.add_judge(chain.competition, js.JudgeData(name="副裁判长", login="chief2@judges.example.org",
                                                          role=js.JudgeRole.CHIEF, password=PASSWORD),
                          actor=chain.organizer, now=NOW).profile.user
    db.session.commit()
    chiefs = [chain.chief.id, chief2.id]
    barrier = threading.Barrier(2)
    outcomes = []

    def press(user_id):
        from accounts.models import User
        from extensions import db as _db

        with app.app_context():
            try:
                user = _db.session.get(User, user_id)
                round_ = _db.session.get(Round, round_id)
                barrier.wait()
                process.lock_round(round_, actor=user, now=NOW)
                _db.session.commit()
                outcomes.append("locked")
            except process.ProcessError as error:
                _db.session.rollback()
                outcomes.append(error.code)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=press, args=(c,)) for c in chiefs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["already_locked", "locked"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoundLockEvent)) == 1
    assert _actions(db, competition_id).count("judging.round_lock") == 1
