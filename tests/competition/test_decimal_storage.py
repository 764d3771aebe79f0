"""Scores, maxima, steps and weights are exact Decimals on both databases (core.types.ScaledDecimal): no binary
float on the way in or out, more places than the column keeps refused, never rounded silently."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from competition import services
from competition.models import Criterion, CriterionKind, Module
from core.types import ScaledDecimal
from tests.competition.builders import make_competition
from tests.conftest import NOW

VALUES = ["0.1", "0.2", "0.3", "2.675", "0.0001", "9999.9999", "33.3333", "1", "7.5", "1234567890.1234"]


@pytest.mark.parametrize("text", VALUES)
def test_values_come_back_exactly(db, factory, text):
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, kind="competition")
    competition = make_competition(event, organizer, entrants=0, rubric=False)
    rubric = services.rubric_for(competition.rounds[0])
    module = services.add_module(rubric, services.ModuleData(code="A"), actor=organizer, now=NOW)
    value = Decimal(text)
    # maximum/step go through the services' limits; write the column directly to test the type's full range
    criterion = Criterion(rubric_id=rubric.id, module_id=module.id, code="A1", name="x", maximum=value, step=value,
                          kind=CriterionKind.MEASUREMENT, levels=[])
    module_weight = Decimal("33.3333")
    db.session.add(criterion)
    module.weight = module_weight
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Criterion, criterion.id)
    assert stored.maximum == value and isinstance(stored.maximum, Decimal)
    assert stored.maximum.as_tuple().exponent == -4
    assert db.session.get(Module, module.id).weight == module_weight
    # sums in SQL stay exact too (scaled integers)
    assert db.session.scalar(sa.select(sa.func.sum(Criterion.maximum + Criterion.step))) == 2 * value * 10**4


def test_0_1_plus_0_2_is_0_3(db, factory):
    """The classic float trap, through the database."""
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    competition = make_competition(factory.event(org, kind="competition"), organizer, entrants=0, rubric=False)
    rubric = services.rubric_for(competition.rounds[0])
    module = services.add_module(rubric, services.ModuleData(code="A"), actor=organizer, now=NOW)
    for code, value in (("A1", "0.1"), ("A2", "0.2")):
        services.add_criterion(module, services.CriterionData(code=code, name=code, maximum=value, step=value,
                                                              kind=CriterionKind.MEASUREMENT), actor=organizer, now=NOW)
    db.session.commit()
    db.session.expire_all()
    assert services.rubric_total(services.rubric_for(competition.rounds[0])) == Decimal("0.3")


@pytest.mark.parametrize(("value", "error"), [(Decimal("0.00001"), ValueError), (0.5, TypeError), (True, TypeError),
                                              (Decimal("NaN"), ValueError), (Decimal("Infinity"), ValueError),
                                              (Decimal("1E+20"), ValueError)])
def test_refused_values(value, error):
    with pytest.raises(error):
        ScaledDecimal(4).process_bind_param(value, None)


def test_accepted_inputs_and_places():
    two = ScaledDecimal(2)
    assert two.process_bind_param(Decimal("7.50"), None) == 750
    assert two.process_bind_param("7.5", None) == 750
    assert two.process_bind_param(7, None) == 700
    assert two.process_bind_param(Decimal("-0.25"), None) == -25
    assert two.process_result_value(750, None) == Decimal("7.50")
    assert str(two.process_result_value(5, None)) == "0.05"
    assert two.process_bind_param(None, None) is None and two.process_result_value(None, None) is None
    with pytest.raises(ValueError):
        ScaledDecimal(9)
