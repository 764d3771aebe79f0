"""Builders for competition test data, shared by the competition tests and the access / tenant-isolation tables."""
from __future__ import annotations

from decimal import Decimal

from competition import services
from competition.models import CriterionKind
from tests.conftest import NOW


def make_competition(event, actor, *, title: str = "云计算赛项", groups=("中职组", "高职组"), entrants: int = 3,
                     rubric: bool = True, now=NOW):
    """A competition with groups, one round (初赛) with a two-module rubric, and ``entrants`` typed-in entrants.
    Flushed, not committed."""
    competition = services.create_competition(
        event, services.CompetitionData(title=title, groups=list(groups)), actor=actor, now=now)
    round_ = services.add_round(competition, services.RoundData(name="初赛"), actor=actor, now=now)
    if rubric:
        rubric_row = services.rubric_for(round_)
        a = services.add_module(rubric_row, services.ModuleData(code="A", name="客观", weight=Decimal(40)),
                                actor=actor, now=now)
        services.add_criterion(a, services.CriterionData(code="A1", name="云主机部署", maximum="10", step="0.5",
                                                         kind=CriterionKind.MEASUREMENT), actor=actor, now=now)
        b = services.add_module(rubric_row, services.ModuleData(code="B", name="主观", weight=Decimal(60)),
                                actor=actor, now=now)
        services.add_criterion(b, services.CriterionData(
            code="B1", name="方案展示", maximum="6", step="1", kind=CriterionKind.JUDGEMENT, ladder=True,
            levels=["未完成", "基本完成", "完成良好", "超出预期"]), actor=actor, now=now)
    group_ids = [g.id for g in competition.groups]
    for i in range(entrants):
        services.add_entrant(competition, services.EntrantData(
            name=f"参赛队{i + 1}", unit=f"第{i + 1}职业学校", group_id=group_ids[i % len(group_ids)] if group_ids else None,
            is_team=True, members=[f"队员{i}甲", f"队员{i}乙"], coaches=[f"教师{i}"], phone=f"1390000{i:04d}"),
            actor=actor, now=now)
    return competition


def competition_url_values(competition) -> dict[str, int]:
    """Values for the URL parameters of the competition pages (competition_id, group_id, round_id, …)."""
    from competition.models import Entrant
    from extensions import db

    round_ = competition.rounds[0]
    rubric = services.rubric_for(round_)
    module = rubric.modules[0] if rubric.modules else None
    criterion = module.criteria[0] if module is not None and module.criteria else None
    entrant = db.session.query(Entrant).filter_by(competition_id=competition.id).order_by(Entrant.id).first()
    return {
        "competition_id": competition.id,
        "group_id": competition.groups[0].id if competition.groups else 0,
        "round_id": round_.id,
        "module_id": module.id if module is not None else 0,
        "criterion_id": criterion.id if criterion is not None else 0,
        "entrant_id": entrant.id if entrant is not None else 0,
        "stage": 1,
    }
