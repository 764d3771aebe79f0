"""Bad input never ends in a 500 nor in anything half-saved: property tests over the workbook checks and the forms."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from competition import workbook
from competition.models import Criterion, Entrant, Module
from competition.workbook import Context, check_sheets
from tests.competition.builders import make_competition
from tests.conftest import csrf_token

HEADERS = list(workbook.RUBRIC_HEADERS) + list(workbook.ENTRANT_HEADERS) + ["备注", "No.", "round", "max"]
CELLS = st.one_of(
    st.sampled_from(["", "初赛", "决赛", "A", "A 客观", "B：主观", "A1", "a1", "客观", "主观", "measurement", "是", "否",
                     "10", "0.5", "7.25", "-1", "0", "1e3", "NaN", "∞", "１０", "中职组", "高职组", "张三、李四",
                     "13800138000", "12345", "=1+1", "x" * 250]),
    st.text(max_size=12),
)
ROWS = st.lists(st.lists(CELLS, max_size=16), max_size=12)


@settings(max_examples=300, deadline=None)
@given(rubric_header=st.lists(st.sampled_from(HEADERS), max_size=16), rubric=ROWS,
       entrant_header=st.lists(st.sampled_from(HEADERS), max_size=8), entrants=ROWS,
       groups=st.sampled_from([[], ["中职组", "高职组"]]), rounds=st.sampled_from([[], ["初赛"]]))
def test_any_sheet_is_checked_without_an_exception(rubric_header, rubric, entrant_header, entrants, groups, rounds):
    sheets = [("评分标准", [(i, cells) for i, cells in enumerate([rubric_header] + rubric, start=1) if cells]),
              ("参赛者", [(i, cells) for i, cells in enumerate([entrant_header] + entrants, start=1) if cells])]
    plan = check_sheets(sheets, Context(rounds=rounds, locked_rounds=set(), groups=groups, entrants=set()))
    for sheet in plan.sheets:
        for row in sheet.rows:
            for problem in row.problems:
                assert workbook.problem_message(problem)
    if plan.ok:
        assert all(criteria for modules in plan.rubrics.values() for _m, criteria in modules)
        assert all(group in groups for group, _data in plan.entrants) if groups else True


def log_in(client, user) -> None:
    """Put the user in the session (the login form is rate-limited, and tested elsewhere)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@pytest.fixture()
def criterion_page(app, db, factory):
    """One competition for all the examples of a test (the database is emptied after the test, not per example)."""
    from competition import services

    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, kind="competition")
    competition = make_competition(event, organizer, entrants=0)
    module = services.rubric_for(competition.rounds[0]).modules[0]
    db.session.commit()
    client = app.test_client()
    log_in(client, organizer)
    return client, f"/manage/events/{event.id}/competitions/{competition.id}/rubric/modules/{module.id}/criteria/new"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(code=CELLS, name=CELLS, maximum=CELLS, step=CELLS, kind=st.sampled_from(["measurement", "judgement", "x", ""]),
       ladder=st.sampled_from(["", "y"]), level=CELLS)
def test_criterion_form_never_fails_and_saves_only_valid(db, criterion_page, code, name, maximum, step, kind, ladder,
                                                         level):
    client, page = criterion_page
    before = db.session.scalar(sa.select(sa.func.count(Criterion.id)))
    db.session.commit()
    response = client.post(page, data={"csrf_token": csrf_token(client, page), "code": code, "name": name,
                                       "maximum": maximum, "step": step, "kind": kind, "ladder": ladder,
                                       "level0": level, "level1": level, "level2": level, "level3": level})
    assert response.status_code in (302, 409, 422), response.get_data(as_text=True)[:500]
    after = db.session.scalar(sa.select(sa.func.count(Criterion.id)))
    db.session.commit()
    assert after == before + (1 if response.status_code == 302 else 0)


@pytest.mark.parametrize("field", ["weight", "code"])
def test_module_form_with_junk(app, db, factory, field):
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    competition = make_competition(factory.event(org, kind="competition"), organizer, entrants=0, rubric=False)
    db.session.commit()
    client = app.test_client()
    log_in(client, organizer)
    base = f"/manage/events/{competition.event_id}/competitions/{competition.id}/rounds/{competition.rounds[0].id}"
    for junk in ("\x00", "1e999", "9" * 40, "-0", "‮A", "NaN"):
        data = {"code": "C", "name": "x", "weight": ""}
        data[field] = junk
        response = client.post(f"{base}/rubric/modules", data={"csrf_token": csrf_token(client, f"{base}/rubric"),
                                                                **data})
        assert response.status_code in (302, 422), (junk, response.status_code)
    assert db.session.scalar(sa.select(sa.func.count(Module.id))) <= 1
    assert db.session.scalar(sa.select(sa.func.count(Entrant.id))) == 0
