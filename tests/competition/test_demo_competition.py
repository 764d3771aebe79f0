"""The demo's competition is set up: groups, a 决赛 round with a ready rubric (客观 and 主观 with the 0–3 ladder),
the approved teams as entrants, and the station numbers drawn."""
from __future__ import annotations

import sqlalchemy as sa

from competition import services
from competition.draw import codes_by_entrant
from competition.models import Competition, CriterionKind
from demo.data import COMPETITION_TITLE, load_demo
from registration.models import Registration, RegistrationState
from tests.conftest import NOW


def test_demo_competition_is_ready_for_judging(db, demo):
    competition = db.session.scalar(sa.select(Competition).where(Competition.title == COMPETITION_TITLE))
    assert [g.name for g in competition.groups] == ["中职组", "高职组", "企业组"]
    assert [r.name for r in competition.rounds] == ["决赛"]
    rubric = services.rubric_for(competition.rounds[0])
    assert services.rubric_problems(rubric) == []
    a, b = rubric.modules
    assert (a.code, a.name, {c.kind for c in a.criteria}) == ("A", "客观", {CriterionKind.MEASUREMENT})
    assert (b.code, b.name, {c.kind for c in b.criteria}) == ("B", "主观", {CriterionKind.JUDGEMENT})
    assert any(c.ladder and len(c.levels) == 4 for c in b.criteria)
    approved = db.session.scalar(sa.select(sa.func.count(Registration.id)).where(
        Registration.event_id == competition.event_id, Registration.status == RegistrationState.APPROVED))
    entrants = services.list_entrants(competition)
    assert len(entrants) == approved > 20
    assert {e.group_id for e in entrants} == {g.id for g in competition.groups}
    codes = codes_by_entrant(competition)
    assert set(codes) == {e.id for e in entrants} and len(set(codes.values())) == len(entrants)
    # loading again changes nothing
    load_demo(now=NOW)
    db.session.commit()
    assert codes_by_entrant(competition) == codes


def test_demo_competition_round_trips_through_the_workbook(db, demo):
    """The demo has two teams of one school with the same name in one group (different leaders): they are two
    entrants, and the export imports into an empty competition as the same rubric and entrants."""
    from competition import workbook
    from competition.workbook import read_workbook

    source = db.session.scalar(sa.select(Competition).where(Competition.title == COMPETITION_TITLE))
    content = workbook.export_workbook(source)
    target = services.create_competition(source.event, services.CompetitionData(title="导入副本"), actor=None, now=NOW)
    outcome = workbook.import_workbook(target, read_workbook("demo.xlsx", content), actor=None, now=NOW)
    db.session.commit()
    assert outcome.entrants == len(services.list_entrants(source))
    assert workbook.rubric_rows(target) == workbook.rubric_rows(source)
    assert workbook.entrant_rows(target) == workbook.entrant_rows(source)
