"""The draw (抽签): unique random codes per competition and stage, redo until scoring starts, the second draw,
late entrants, the audit log without the mapping."""
from __future__ import annotations

import itertools
import random

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from competition import draw as draw_module
from competition import services
from competition.draw import code_width, draw, free_codes, sealed_mapping, shuffled_codes
from competition.models import Draw, DrawCode, Entrant
from competition.services import CompetitionError
from core.models import AuditEntry
from tests.competition.builders import make_competition
from tests.conftest import NOW


@pytest.fixture()
def setup(db, factory):
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, title="云计算技能大赛", kind="competition")
    return organizer, event


def codes(competition, stage=1) -> dict[int, str]:
    from extensions import db

    return dict(db.session.execute(sa.select(DrawCode.entrant_id, DrawCode.code).where(
        DrawCode.competition_id == competition.id, DrawCode.stage == stage)).all())


# ---------------------------------------------------------------- pure parts


@settings(deadline=None)  # the machine may be busy: no time limit per example
@given(count=st.integers(min_value=1, max_value=2000), seed=st.integers(), prefix=st.sampled_from(["", "A", "GW"]))
def test_shuffled_codes_are_unique_and_cover_one_to_n(count, seed, prefix):
    result = shuffled_codes(count, random.Random(seed), prefix=prefix)
    assert len(result) == len(set(result)) == count
    width = max(2, len(str(count)))
    assert all(c.startswith(prefix) and len(c) == len(prefix) + width for c in result)
    assert sorted(int(c[len(prefix):]) for c in result) == list(range(1, count + 1))


@settings(deadline=None)
@given(taken=st.sets(st.integers(min_value=1, max_value=120), max_size=80), count=st.integers(1, 30),
       seed=st.integers())
def test_free_codes_never_reuse_a_taken_code(taken, count, seed):
    taken_codes = {f"{n:03d}" for n in taken}
    found = free_codes(taken_codes, count, random.Random(seed), prefix="", width=3)
    assert len(found) == len(set(found)) == count
    assert not set(found) & taken_codes
    lowest_free = sorted(n for n in range(1, 200) if n not in taken)[:count]
    assert sorted(int(c) for c in found) == lowest_free


def test_code_width():
    assert code_width(1) == 2 and code_width(25) == 2 and code_width(99) == 2 and code_width(100) == 3
    assert code_width(25, 3) == 3
    with pytest.raises(CompetitionError) as info:
        code_width(120, 2)
    assert info.value.code == "width_too_small"
    with pytest.raises(CompetitionError) as info:
        code_width(5, 7)
    assert info.value.code == "width_too_large"
    with pytest.raises(CompetitionError) as info:
        free_codes({str(n) for n in range(1, 10)}, 1, random.Random(1), prefix="", width=1)
    assert info.value.code == "codes_exhausted"


@pytest.mark.parametrize(("prefix", "ok"), [("", ""), ("a", "A"), (" GW ", "GW"), ("ABCD", None), ("A1", None),
                                            ("工", None)])
def test_prefixes(prefix, ok):
    if ok is None:
        with pytest.raises(CompetitionError):
            draw_module.clean_prefix(prefix)
    else:
        assert draw_module.clean_prefix(prefix) == ok


# ---------------------------------------------------------------- drawing in the database


def test_draw_gives_every_entrant_a_unique_code_and_logs_without_mapping(db, setup):
    organizer, event = setup
    competition = make_competition(event, organizer, entrants=12)
    outcome = draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(7), prefix="a")
    db.session.commit()
    assert outcome.drawn == 12 and not outcome.redo
    given_codes = codes(competition)
    assert len(given_codes) == 12 and len(set(given_codes.values())) == 12
    assert sorted(given_codes.values()) == [f"A{n:02d}" for n in range(1, 13)]
    record = db.session.scalar(sa.select(Draw).where(Draw.competition_id == competition.id))
    assert (record.stage, record.prefix, record.width, record.times, record.drawn_by_id) == (1, "A", 2, 1, organizer.id)
    audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "competition.draw"))
    assert audit.actor_id == organizer.id and audit.at == NOW and audit.details["stage"] == 1
    text = repr(audit.details)
    assert not any(code in text for code in given_codes.values())  # the mapping is never in the log


@pytest.mark.parametrize("only_missing", [False, True])
def test_first_draw_with_an_expired_actor(db, setup, only_missing):
    """Regression: the draw read ``actor.id`` after adding its new ``Draw`` row, before setting ``drawn_at``. An
    actor expired by a commit (as in a view after a commit, or a task) reloads on that read, the reload autoflushes
    the half-filled row and the NOT NULL ``drawn_at`` failed."""
    organizer, event = setup
    competition = make_competition(event, organizer, entrants=4)
    db.session.commit()  # expires every loaded object, the organizer too
    assert "id" not in sa.inspect(organizer).dict
    outcome = draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(5), only_missing=only_missing)
    db.session.commit()
    record = db.session.scalar(sa.select(Draw).where(Draw.competition_id == competition.id))
    assert outcome.drawn == 4 and record.drawn_at is not None and record.drawn_by_id == organizer.id
    assert record.times == 1 and len(codes(competition)) == 4
    services.add_entrant(competition, services.EntrantData(name="迟到队", unit="第九职业学校",
                                                           group_id=competition.groups[0].id), actor=organizer, now=NOW)
    db.session.commit()
    late = draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(6), only_missing=True)  # expired again
    db.session.commit()
    assert late.drawn == 1 and len(codes(competition)) == 5


def test_redo_changes_codes_until_scoring_starts(db, setup):
    organizer, event = setup
    competition = make_competition(event, organizer, entrants=20)
    draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(1))
    first = codes(competition)
    outcome = draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(2))
    db.session.commit()
    second = codes(competition)
    assert outcome.redo and outcome.draw.times == 2
    assert first != second and sorted(first.values()) == sorted(second.values())
    services.start_scoring(competition.rounds[0], actor=organizer, now=NOW)
    db.session.commit()
    with pytest.raises(CompetitionError) as info:
        draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(3))
    assert info.value.code == "scoring_started" and info.value.status == 409
    db.session.rollback()
    assert codes(competition) == second


def test_redo_is_refused_once_a_rubric_is_locked(db, setup):
    organizer, event = setup
    competition = make_competition(event, organizer, entrants=3)
    draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(1))
    services.lock_rubric(services.rubric_for(competition.rounds[0]), actor=organizer, now=NOW)
    with pytest.raises(CompetitionError) as info:
        draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(3))
    assert info.value.code == "scoring_started"


def test_second_draw_maps_station_numbers_and_a_station_redo_clears_it(db, setup):
    organizer, event = setup
    competition = make_competition(event, organizer, entrants=5)
    with pytest.raises(CompetitionError) as info:
        draw(competition, 2, actor=organizer, now=NOW)
    assert info.value.code == "station_draw_first"
    draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(1))
    draw(competition, 2, actor=organizer, now=NOW, rng=random.Random(2))
    db.session.commit()
    stations, results = codes(competition, 1), codes(competition, 2)
    assert set(stations) == set(results)
    assert all(code.startswith("J") for code in results.values()) and len(set(results.values())) == 5
    rows = sealed_mapping(competition)
    assert [r.station for r in rows] == sorted(stations.values())
    assert all(r.result == results[r.entrant.id] for r in rows)

    outcome = draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(3))
    db.session.commit()
    assert outcome.cleared_result_codes
    assert codes(competition, 2) == {}
    assert db.session.scalar(sa.select(Draw).where(Draw.competition_id == competition.id, Draw.stage == 2)) is None


def test_late_entrants_get_free_codes_without_changing_others(db, setup):
    organizer, event = setup
    competition = make_competition(event, organizer, entrants=4)
    draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(1))
    before = codes(competition)
    services.start_scoring(competition.rounds[0], actor=organizer, now=NOW)
    late = services.add_entrant(competition, services.EntrantData(name="迟到队", group_id=competition.groups[0].id),
                                actor=organizer, now=NOW)
    outcome = draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(2), only_missing=True)
    db.session.commit()
    after = codes(competition)
    assert outcome.drawn == 1 and after[late.id] == "05"
    assert {k: v for k, v in after.items() if k != late.id} == before
    with pytest.raises(CompetitionError) as info:
        draw(competition, 1, actor=organizer, now=NOW, only_missing=True)
    assert info.value.code == "nothing_to_draw"


def test_no_entrants_and_unknown_stage(db, setup):
    organizer, event = setup
    competition = make_competition(event, organizer, entrants=0)
    for stage, code in ((1, "no_entrants"), (3, "bad_stage")):
        with pytest.raises(CompetitionError) as info:
            draw(competition, stage, actor=organizer, now=NOW)
        assert info.value.code == code


def test_codes_are_unique_per_competition_by_constraint(db, setup):
    from sqlalchemy.exc import IntegrityError

    organizer, event = setup
    competition = make_competition(event, organizer, entrants=2)
    first, second = db.session.scalars(sa.select(Entrant.id).where(Entrant.competition_id == competition.id)).all()
    db.session.add_all([DrawCode(competition_id=competition.id, entrant_id=first, stage=1, code="01", drawn_at=NOW),
                        DrawCode(competition_id=competition.id, entrant_id=second, stage=1, code="01", drawn_at=NOW)])
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


_EXAMPLES = itertools.count(1)  # the database is shared by the examples of one test: one title each


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(count=st.integers(min_value=1, max_value=120), redraws=st.integers(0, 2), seed=st.integers(0, 10**6),
       late=st.integers(0, 3))
def test_any_size_any_redo_codes_stay_unique(db, setup, count, redraws, seed, late):
    """Property: for any number of entrants, redraws and late entrants, every entrant has exactly one code per
    stage, codes are unique, and after scoring starts a redo is refused and changes nothing."""
    organizer, event = setup
    competition = make_competition(event, organizer, title=f"赛项{next(_EXAMPLES)}", entrants=count)
    rng = random.Random(seed)
    for _ in range(redraws + 1):
        draw(competition, 1, actor=organizer, now=NOW, rng=rng)
    draw(competition, 2, actor=organizer, now=NOW, rng=rng)
    services.start_scoring(competition.rounds[0], actor=organizer, now=NOW)
    for i in range(late):
        services.add_entrant(competition, services.EntrantData(name=f"迟到{i}", group_id=competition.groups[0].id),
                             actor=organizer, now=NOW)
    capacity = 10 ** max(2, len(str(count))) - 1  # codes of the width the first draw chose
    if late and count + late > capacity:  # no free code of that width is left: refused, nothing changed
        with pytest.raises(CompetitionError) as info:
            draw(competition, 1, actor=organizer, now=NOW, rng=rng, only_missing=True)
        assert info.value.code == "codes_exhausted"
        db.session.rollback()
        return
    if late:
        draw(competition, 1, actor=organizer, now=NOW, rng=rng, only_missing=True)
        draw(competition, 2, actor=organizer, now=NOW, rng=rng, only_missing=True)
    db.session.commit()
    for stage in (1, 2):
        stage_codes = codes(competition, stage)
        assert len(stage_codes) == count + late
        assert len(set(stage_codes.values())) == count + late
    frozen = codes(competition, 1)
    with pytest.raises(CompetitionError):
        draw(competition, 1, actor=organizer, now=NOW, rng=rng)
    db.session.rollback()
    assert codes(competition, 1) == frozen
