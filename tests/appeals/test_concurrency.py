"""Appeals under concurrency, from real threads (each with its own app context, session and connection), on SQLite
and PostgreSQL: two arbitrators deciding the same appeal at once give one decision (the other is told it is
decided, nothing of theirs is saved); the same entrant's appeal sent twice at once is filed once."""
from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from tests.conftest import NOW

REASON = "A1 评分与现场记录不符，请复核第二位评委的分数。"


def _together(app, functions) -> list:
    from core.database import run_write
    from extensions import db

    barrier = threading.Barrier(len(functions))
    outcomes = [None] * len(functions)

    def runner(index, function):
        with app.app_context():
            try:
                barrier.wait()

                def work():
                    function()
                    db.session.commit()

                run_write(db.session, work)
                outcomes[index] = "ok"
            except Exception as error:  # noqa: BLE001 - collected and checked
                db.session.rollback()
                outcomes[index] = getattr(error, "code", repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_two_arbitrators_deciding_at_once_give_one_decision(app, db, case):
    from appeals import services
    from appeals.models import Appeal, AppealChannel, AppealCorrection, AppealState
    from judging import services as js
    from judging.models import JudgeRole, Score, ScoreChange

    second = js.add_judge(case.scored.competition, js.JudgeData(
        name="仲裁员乙", login=f"arb2-{case.scored.competition.id}@judges.example.org", role=JudgeRole.ARBITRATOR,
        password="judge-pass-1"), actor=case.scored.organizer, now=NOW).profile.user
    appeal = services.file_appeal(case.entrant, reason=REASON, channel=AppealChannel.PARTICIPANT, now=NOW)
    db.session.commit()
    appeal_id, score_id = appeal.id, db.session.scalar(sa.select(Score.id).where(
        Score.entrant_id == case.entrant.id, Score.judge_id == case.scored.judges[0].id))
    arbitrator_ids = (case.arbitrator.id, second.id)

    def upheld():
        from accounts.models import User
        from extensions import db as tdb

        services.decide_appeal(tdb.session.get(Appeal, appeal_id), upheld=True, decision="更正为95。",
                               corrections=[services.Correction(score_id, "95")],
                               actor=tdb.session.get(User, arbitrator_ids[0]), now=NOW + timedelta(minutes=5))

    def rejected():
        from accounts.models import User
        from extensions import db as tdb

        services.decide_appeal(tdb.session.get(Appeal, appeal_id), upheld=False, decision="驳回。",
                               actor=tdb.session.get(User, arbitrator_ids[1]), now=NOW + timedelta(minutes=5))

    outcomes = _together(app, [upheld, rejected])
    assert sorted(outcomes) == sorted(["ok", "already_decided"]), outcomes
    db.session.expire_all()
    stored = db.session.get(Appeal, appeal_id)
    changes = db.session.scalar(sa.select(sa.func.count(ScoreChange.id)).where(ScoreChange.score_id == score_id))
    corrections = db.session.scalar(sa.select(sa.func.count(AppealCorrection.id)))
    value = db.session.get(Score, score_id).value
    if outcomes[0] == "ok":
        assert (stored.state, stored.decided_by_id, changes, corrections, value) == (
            AppealState.UPHELD, arbitrator_ids[0], 1, 1, Decimal("95"))
    else:
        assert (stored.state, stored.decided_by_id, changes, corrections, value) == (
            AppealState.REJECTED, arbitrator_ids[1], 0, 0, Decimal("80"))


def test_the_same_appeal_sent_twice_at_once_is_filed_once(app, db, case):
    from appeals import services
    from appeals.models import Appeal, AppealChannel
    from competition.models import Entrant
    from extensions import db as tdb

    entrant_id = case.entrant.id

    def file():
        services.file_appeal(tdb.session.get(Entrant, entrant_id), reason=REASON,
                             channel=AppealChannel.PARTICIPANT, now=NOW)

    outcomes = _together(app, [file, file, file])
    assert sorted(outcomes) == ["already_appealed", "already_appealed", "ok"], outcomes
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Appeal.id))) == 1
