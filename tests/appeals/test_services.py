"""Appeals services: filing within the deadline only, against provisional results only, one per entrant by default;
the arbitration group's decision (final, once), corrections through the audited score path."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.appeals.conftest import DEADLINE
from tests.competition.results_builders import totals
from tests.conftest import NOW

REASON = "A1 评分与现场记录不符，请复核第二位评委的分数。"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _file(case, *, now=NOW, reason=REASON, attachment=None, channel=None, actor=None):
    from appeals import services
    from appeals.models import AppealChannel

    return services.file_appeal(case.entrant, reason=reason, attachment=attachment,
                                channel=channel or AppealChannel.PARTICIPANT, actor=actor, now=now)


def _counts(db):
    from appeals.models import Appeal
    from core.models import AuditEntry

    return (db.session.scalar(sa.select(sa.func.count(Appeal.id))),
            db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action.like("appeal.%"))))


def test_an_appeal_within_the_deadline_is_filed_numbered_and_audited(db, case):
    from appeals import services
    from appeals.models import AppealState
    from core.models import AuditEntry

    appeal = _file(case, now=DEADLINE)  # the deadline itself is still in time
    db.session.commit()
    assert (appeal.number, appeal.slot, appeal.state) == (1, 1, AppealState.OPEN)
    assert appeal.appellant_name == "林领队" and appeal.registration_id == case.registration.id
    assert appeal.deadline == DEADLINE and appeal.filed_by_id is None
    assert services.open_appeal_count(case.scored.competition) == 1
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "appeal.filed"))
    assert entry.object_id == appeal.id and entry.details["entrant_id"] == case.entrant.id


def test_an_appeal_after_the_deadline_is_refused_and_nothing_changes(db, case):
    from appeals import services

    before = _counts(db)
    with pytest.raises(services.AppealError) as refused:
        _file(case, now=DEADLINE + timedelta(seconds=1))
    db.session.rollback()
    assert refused.value.code == "deadline_passed" and refused.value.status == 409
    assert "申诉截止" in refused.value.message or "deadline" in refused.value.message
    assert _counts(db) == before == (0, 0)


@pytest.mark.parametrize("provisional,final,code", [(False, False, "not_published"), (False, True, "final")])
def test_an_appeal_against_unpublished_or_final_results_is_refused(db, case, process, provisional, final, code):
    from appeals import services

    process.provisional, process.final = provisional, final
    with pytest.raises(services.AppealError) as refused:
        _file(case)
    db.session.rollback()
    assert refused.value.code == code and refused.value.status == 409
    assert _counts(db) == (0, 0)


def test_provisional_results_without_a_deadline_are_refused(db, case, process):
    from appeals import services

    process.deadline = None
    with pytest.raises(services.AppealError) as refused:
        _file(case)
    assert refused.value.code == "no_deadline"


def test_a_second_appeal_is_refused_where_the_rules_allow_one_and_allowed_when_set(db, case):
    from appeals import services

    _file(case)
    db.session.commit()
    with pytest.raises(services.AppealError) as refused:
        _file(case)
    db.session.rollback()
    assert refused.value.code == "already_appealed" and refused.value.status == 409
    assert _counts(db) == (1, 1)
    services.update_settings(case.scored.competition, appeals_per_entrant=2, actor=case.scored.organizer, now=NOW)
    second = _file(case)
    db.session.commit()
    assert (second.number, second.slot) == (2, 2)
    with pytest.raises(services.AppealError):
        _file(case)


@pytest.mark.parametrize("reason,code", [("", "reason_required"), ("太短了", "reason_required"),
                                         ("长" * 4001, "reason_too_long")])
def test_the_written_reason_is_required_and_limited(db, case, reason, code):
    from appeals import services

    with pytest.raises(services.AppealError) as refused:
        _file(case, reason=reason)
    assert refused.value.code == code and refused.value.field == "reason"


def test_attachments_are_checked_by_magic_bytes_and_stored_by_random_name(db, case, app):
    from pathlib import Path

    from appeals import services

    with pytest.raises(services.AppealError) as refused:
        _file(case, attachment=services.Upload("evidence.pdf", b"MZ\x90\x00 not a pdf"))
    assert refused.value.code == "attachment_type"
    with pytest.raises(services.AppealError) as refused:
        _file(case, attachment=services.Upload("big.pdf", b"%PDF-" + b"0" * services.ATTACHMENT_MAX_BYTES))
    assert refused.value.code == "attachment_too_large"
    db.session.rollback()
    appeal = _file(case, attachment=services.Upload("C:\\照片\\现场记录.png", PNG))
    db.session.commit()
    assert appeal.attachment_name == "现场记录.png" and appeal.attachment_type == "image/png"
    path = services.attachment_path(appeal)
    assert path.read_bytes() == PNG and path.parent == Path(app.instance_path) / "appeal_files"
    assert "现场" not in path.name and path.suffix == ".png" and len(path.stem) == 32
    path.unlink()


def test_an_organizer_files_on_behalf_and_is_recorded(db, case):
    from appeals.models import AppealChannel

    appeal = _file(case, channel=AppealChannel.ORGANIZER, actor=case.scored.organizer)
    assert appeal.channel == AppealChannel.ORGANIZER and appeal.filed_by_id == case.scored.organizer.id


def _scores(db, entrant):
    from judging.models import Score

    return list(db.session.scalars(sa.select(Score).where(Score.entrant_id == entrant.id).order_by(Score.judge_id)))


def test_a_rejected_appeal_keeps_the_scores_and_the_decision_is_final(db, case):
    from appeals import services
    from appeals.models import AppealState

    appeal = _file(case)
    db.session.commit()
    decided = services.decide_appeal(appeal, upheld=False, decision="经复核，评分无误，申诉不成立。", actor=case.arbitrator,
                                     now=NOW + timedelta(minutes=30))
    db.session.commit()
    assert decided.state == AppealState.REJECTED and decided.decided_by_id == case.arbitrator.id
    assert [s.value for s in _scores(db, case.entrant)] == [Decimal("80"), Decimal("84")]
    assert services.open_appeal_count(case.scored.competition) == 0
    with pytest.raises(services.AppealError) as refused:
        services.decide_appeal(decided, upheld=True, decision="改判",
                               corrections=[services.Correction(_scores(db, case.entrant)[0].id, "85")],
                               actor=case.arbitrator, now=NOW + timedelta(minutes=40))
    db.session.rollback()
    assert refused.value.code == "already_decided"
    assert [s.value for s in _scores(db, case.entrant)] == [Decimal("80"), Decimal("84")]


def test_an_upheld_appeal_corrects_scores_through_the_audited_path(db, case):
    from appeals import services
    from appeals.models import AppealCorrection, AppealState
    from judging.models import ScoreChange

    appeal = _file(case)
    db.session.commit()
    first, second = _scores(db, case.entrant)
    decided = services.decide_appeal(appeal, upheld=True, decision="第一位评委A1录入有误，更正为92。",
                                     corrections=[services.Correction(first.id, "92"),
                                                  services.Correction(second.id, "84")],  # unchanged: ignored
                                     actor=case.arbitrator, now=NOW + timedelta(minutes=30))
    db.session.commit()
    assert decided.state == AppealState.UPHELD
    change = db.session.scalar(sa.select(ScoreChange).where(ScoreChange.score_id == first.id))
    assert (change.old_value, change.new_value) == (Decimal("80"), Decimal("92"))
    assert change.reason.startswith(f"申诉 #{appeal.number}：") and change.changed_by_id == case.arbitrator.id
    if hasattr(change, "kind"):
        assert getattr(change.kind, "value", change.kind) == "appeal"
    rows = list(db.session.scalars(sa.select(AppealCorrection)))
    assert [(r.score_id, r.old_value, r.new_value, r.score_change_id) for r in rows] == [
        (first.id, Decimal("80"), Decimal("92"), change.id)]
    assert totals(case.scored)["飞翔队"][1] == "88.00"  # (92 + 84) / 2: the board follows the corrected score
