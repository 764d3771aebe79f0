"""Several organizers (or stations) doing the same thing at the same moment: real threads, each with its own
session and connection, released together by a barrier, through the pages' unit-of-work runner
(``competition.views.run``: ``run_write`` plus one more run after an IntegrityError). On SQLite and PostgreSQL."""
from __future__ import annotations

import random
import threading

import pytest
import sqlalchemy as sa

from competition import services
from competition.draw import draw
from competition.models import Competition, DrawCode, Entrant, RollCall, Round
from tests.competition.builders import make_competition
from tests.conftest import NOW

THREADS = 6


def together(app, work_for_thread) -> list[str]:
    """Run ``work_for_thread(i)`` (a unit of work that commits) in THREADS threads at once; return each answer."""
    from competition.views import run
    from extensions import db

    answers = [""] * THREADS
    barrier = threading.Barrier(THREADS)

    def worker(i: int) -> None:
        with app.app_context():
            db.session.commit()
            barrier.wait()
            try:
                answers[i] = str(run(lambda: work_for_thread(i)))
            except services.CompetitionError as error:
                db.session.rollback()
                answers[i] = f"refused: {error.code}"
            except Exception as error:  # noqa: BLE001 - reported by the assertions
                db.session.rollback()
                answers[i] = f"error: {type(error).__name__}: {str(error)[:300]}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return answers


@pytest.fixture()
def setup(db, factory):
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, title="云计算技能大赛", kind="competition", status="published")
    return organizer, event


def test_adding_signups_at_once_adds_each_once(app, db, setup):
    from registration.services import SignupData, register_participant

    organizer, event = setup
    for i in range(10):
        register_participant(event, SignupData(name=f"选手{i}", phone=f"1390000{i:04d}", unit="一中"), now=NOW,
                             ignore_window=True)
    competition = make_competition(event, organizer, entrants=0, groups=())
    db.session.commit()
    competition_id, organizer_id = competition.id, organizer.id

    def work(_i):
        from accounts.models import User
        from extensions import db as _db

        outcome = services.add_entrants_from_registrations(_db.session.get(Competition, competition_id),
                                                           actor=_db.session.get(User, organizer_id), now=NOW)
        return len(outcome.added)

    answers = together(app, work)
    assert not [a for a in answers if a.startswith("error")], answers
    assert sum(int(a) for a in answers) == 10
    db.session.expire_all()
    linked = db.session.scalars(sa.select(Entrant.registration_id).where(Entrant.competition_id == competition_id)).all()
    assert len(linked) == len(set(linked)) == 10


def test_ticking_one_entrant_at_once_makes_one_row(app, db, setup):
    organizer, event = setup
    competition = make_competition(event, organizer, entrants=1)
    db.session.commit()
    entrant_id = services.list_entrants(competition)[0].id
    round_id = competition.rounds[0].id

    def work(_i):
        from extensions import db as _db

        return services.set_roll_call(_db.session.get(Entrant, entrant_id), _db.session.get(Round, round_id), True,
                                      actor=None, now=NOW).changed

    answers = together(app, work)
    assert sorted(answers) == ["False"] * (THREADS - 1) + ["True"], answers
    assert db.session.scalar(sa.select(sa.func.count(RollCall.id))) == 1


def test_drawing_at_once_leaves_one_consistent_draw(app, db, setup):
    organizer, event = setup
    competition = make_competition(event, organizer, entrants=30)
    db.session.commit()
    competition_id = competition.id

    def work(i):
        from extensions import db as _db

        return draw(_db.session.get(Competition, competition_id), 1, actor=None, now=NOW,
                    rng=random.Random(i)).drawn

    answers = together(app, work)
    assert answers == ["30"] * THREADS, answers
    codes = db.session.scalars(sa.select(DrawCode.code).where(DrawCode.competition_id == competition_id)).all()
    assert len(codes) == len(set(codes)) == 30


def test_a_redraw_racing_the_start_of_scoring_never_changes_codes_after_it(app, db, setup):
    """Half the threads redraw, half start scoring: whatever the order, once scoring has started the codes are
    those of the last draw before it, and every redraw after it was refused."""
    organizer, event = setup
    competition = make_competition(event, organizer, entrants=12)
    draw(competition, 1, actor=None, now=NOW, rng=random.Random(0))
    db.session.commit()
    competition_id, round_id = competition.id, competition.rounds[0].id

    def work(i):
        from extensions import db as _db

        if i % 2:
            services.start_scoring(_db.session.get(Round, round_id), actor=None, now=NOW)
            return "started:" + repr(sorted(_db.session.execute(sa.select(DrawCode.entrant_id, DrawCode.code).where(
                DrawCode.competition_id == competition_id)).all()))
        return draw(_db.session.get(Competition, competition_id), 1, actor=None, now=NOW,
                    rng=random.Random(i + 1)).drawn

    answers = together(app, work)
    assert not [a for a in answers if a.startswith("error")], answers
    started = [a for a in answers if a.startswith("started:")]
    assert len(started) == 1, answers  # one thread started scoring, the others were refused
    assert answers.count("refused: already_started") == THREADS // 2 - 1
    db.session.expire_all()
    final = repr(sorted(db.session.execute(sa.select(DrawCode.entrant_id, DrawCode.code).where(
        DrawCode.competition_id == competition_id)).all()))
    assert started[0] == "started:" + final
