"""Appeals on the real lock chain (judging.process): a strict competition walked to provisional results (公示), an
appeal within the deadline, the arbitration group's correction through the locked round (kind appeal), the final
step held while an appeal is open; after the deadline and once final, filing is refused and nothing changes."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.conftest import NOW
from tests.judging.process_builders import build_chain, walk_to

REASON = "第一项评分与现场记录不符，请仲裁组复核。"


def _appeal_count(db):
    from appeals.models import Appeal

    return db.session.scalar(sa.select(sa.func.count(Appeal.id)))


def test_before_provisional_an_appeal_is_refused(db, factory):
    from appeals import services
    from appeals.models import AppealChannel

    chain = build_chain(db, factory, entrants=4)
    walk_to(db, chain, "decrypt")
    entrant = chain.scored.entrants["选手01"]
    with pytest.raises(services.AppealError) as refused:
        services.file_appeal(entrant, reason=REASON, channel=AppealChannel.PARTICIPANT, now=NOW)
    assert refused.value.code == "not_published"
    assert _appeal_count(db) == 0


def test_appeal_on_provisional_results_corrects_a_locked_score_and_holds_the_final_step(db, factory):
    from appeals import services
    from appeals.models import AppealChannel, AppealState
    from judging import process
    from judging.models import Score, ScoreChange

    chain = build_chain(db, factory, entrants=4)
    walk_to(db, chain, "provisional")
    deadline = process.appeal_deadline(chain.competition)
    assert deadline is not None and process.results_are_provisional(chain.competition)
    entrant = chain.scored.entrants["选手02"]
    appeal = services.file_appeal(entrant, reason=REASON, channel=AppealChannel.PARTICIPANT,
                                  now=deadline - timedelta(minutes=1))
    db.session.commit()
    with pytest.raises(process.ProcessError) as held:  # the deadline has passed, but an appeal is open
        process.finalize(chain.competition, actor=chain.chief, now=deadline + timedelta(minutes=1))
    db.session.rollback()
    assert held.value.code == "open_appeals"
    score = db.session.scalar(sa.select(Score).where(Score.entrant_id == entrant.id,
                                                     Score.criterion_id == chain.scored.criteria["A1"].id))
    assert score.value == Decimal("9.9")
    services.decide_appeal(appeal, upheld=True, decision="复核现场记录，A1 应为 9.95。",
                           corrections=[services.Correction(score.id, "9.95")], actor=chain.arbitrator,
                           now=deadline + timedelta(minutes=5))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Score, score.id).value == Decimal("9.95")
    change = db.session.scalar(sa.select(ScoreChange).where(ScoreChange.score_id == score.id))
    assert getattr(change.kind, "value", change.kind) == "appeal" and change.reason.startswith("申诉 #1：")
    assert db.session.get(type(appeal), appeal.id).state == AppealState.UPHELD
    process.finalize(chain.competition, actor=chain.chief, now=deadline + timedelta(minutes=10))
    db.session.commit()
    # final: filing is refused and nothing changes
    with pytest.raises(services.AppealError) as refused:
        services.file_appeal(chain.scored.entrants["选手03"], reason=REASON, channel=AppealChannel.PARTICIPANT,
                             now=deadline + timedelta(minutes=11))
    assert refused.value.code == "final"
    db.session.rollback()
    assert _appeal_count(db) == 1


def test_after_the_deadline_an_appeal_is_refused_on_the_real_chain(db, factory):
    from appeals import services
    from appeals.models import AppealChannel
    from judging import process

    chain = build_chain(db, factory, entrants=4)
    walk_to(db, chain, "provisional")
    deadline = process.appeal_deadline(chain.competition)
    with pytest.raises(services.AppealError) as refused:
        services.file_appeal(chain.scored.entrants["选手01"], reason=REASON, channel=AppealChannel.PARTICIPANT,
                             now=deadline + timedelta(seconds=1))
    db.session.rollback()
    assert refused.value.code == "deadline_passed" and refused.value.status == 409
    assert _appeal_count(db) == 0
