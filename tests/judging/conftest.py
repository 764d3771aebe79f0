"""A small competition ready for judging, built through the real services: one event, one competition (高职组 and
中职组), round 初赛 with a rubric of measurement and judgement criteria, entrants with units and coaches, the draw
done, everyone present at roll call, judges with declared units, and one panel per group."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from tests.conftest import NOW


@dataclass
class Contest:
    organization: object
    organizer: object
    event: object
    competition: object
    round: object
    groups: dict  # name -> Group
    criteria: dict  # code -> Criterion
    entrants: dict  # name -> Entrant
    codes: dict  # entrant id -> station code
    judges: dict  # name -> User
    profiles: dict  # name -> JudgeProfile
    panels: dict  # group name -> Panel
    extra: dict = field(default_factory=dict)

    def code(self, name: str) -> str:
        return self.codes[self.entrants[name].id]


ENTRANTS = [
    # name, group, unit, coaches
    ("云帆队", "高职组", "厦门城市职业学院", ["林老师"]),
    ("星火队", "高职组", "福州职业技术学院", ["陈明"]),
    ("海燕队", "高职组", "泉州信息工程学院", ["黄老师"]),
    ("晨光队", "高职组", "漳州职业技术学院", ["吴老师"]),
    ("青松队", "中职组", "厦门工商旅游学校", ["郑老师"]),
]
JUDGES = [
    # name, login, units
    ("王评委", "wang@judges.example.org", ["厦门城市职业学院"]),  # 回避: 云帆队
    ("李评委", "li@judges.example.org", ["厦门软件园"]),
    ("张评委", "zhang@judges.example.org", []),
    ("陈明", "chen@judges.example.org", []),  # named as 星火队's coach
]


def build_contest(db, factory, *, per_entrant=None, requires_roll_call=True) -> Contest:
    from competition import services as cs
    from competition.draw import draw
    from competition.models import CriterionKind, RollCallSource
    from judging import services as js

    org = factory.organization("福建省信息行业协会")
    organizer = factory.user("organizer@fjia.example.org", "周组织", organization=org, role="organizer")
    event = factory.event(org, title="云计算、小程序行业技能大赛", kind="competition", status="published")
    competition = cs.create_competition(event, cs.CompetitionData(title="云计算赛项", groups=["高职组", "中职组"]),
                                        actor=organizer, now=NOW)
    round_ = cs.add_round(competition, cs.RoundData(name="初赛"), actor=organizer, now=NOW)
    rubric = cs.rubric_for(round_)
    a = cs.add_module(rubric, cs.ModuleData(code="A", name="客观评分"), actor=organizer, now=NOW)
    cs.add_criterion(a, cs.CriterionData(code="A1", name="云主机部署", maximum="10", step="0.5",
                                         kind=CriterionKind.MEASUREMENT), actor=organizer, now=NOW)
    cs.add_criterion(a, cs.CriterionData(code="A2", name="服务可用", maximum="5", step="5",
                                         kind=CriterionKind.MEASUREMENT, full_or_zero=True), actor=organizer, now=NOW)
    b = cs.add_module(rubric, cs.ModuleData(code="B", name="主观评分"), actor=organizer, now=NOW)
    cs.add_criterion(b, cs.CriterionData(code="B1", name="方案设计", maximum="20", step="0.5",
                                         kind=CriterionKind.JUDGEMENT), actor=organizer, now=NOW)
    cs.add_criterion(b, cs.CriterionData(code="B2", name="现场展示", maximum="6", step="1", kind=CriterionKind.JUDGEMENT,
                                         ladder=True, levels=["未达到", "基本达到", "良好", "优秀"]),
                     actor=organizer, now=NOW)
    groups = {g.name: g for g in competition.groups}
    entrants = {}
    for name, group, unit, coaches in ENTRANTS:
        entrants[name] = cs.add_entrant(competition, cs.EntrantData(
            name=name, unit=unit, group_id=groups[group].id, is_team=True, members=[f"{name}队长", f"{name}队员"],
            coaches=coaches), actor=organizer, now=NOW)
    draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(7))
    for entrant in entrants.values():
        cs.set_roll_call(entrant, round_, True, actor=organizer, now=NOW, source=RollCallSource.MANUAL)
    if not requires_roll_call:
        js.update_round_settings(round_, requires_roll_call=False, code_stage=1, actor=organizer, now=NOW)
    judges, profiles = {}, {}
    for name, login, units in JUDGES:
        added = js.add_judge(competition, js.JudgeData(name=name, login=login, units=units, password="judge-pass-1"),
                             actor=organizer, now=NOW)
        profiles[name] = added.profile
        judges[name] = added.profile.user
    panels = {}
    for group_name, group in groups.items():
        panel = js.create_panel(competition, js.PanelData(name=f"{group_name}评委组", round_id=round_.id,
                                                          group_id=group.id, judges_per_entrant=per_entrant),
                                actor=organizer, now=NOW)
        for name in ("王评委", "李评委", "张评委", "陈明"):
            js.add_panel_judge(panel, profiles[name], [], actor=organizer, now=NOW)
        js.apply_suggestion(panel, actor=organizer, now=NOW)
        panels[group_name] = panel
    db.session.commit()
    from competition.models import Criterion, DrawCode

    criteria = {c.code: c for c in db.session.query(Criterion).filter_by(rubric_id=rubric.id)}
    codes = {d.entrant_id: d.code for d in db.session.query(DrawCode).filter_by(competition_id=competition.id, stage=1)}
    return Contest(organization=org, organizer=organizer, event=event, competition=competition, round=round_,
                   groups=groups, criteria=criteria, entrants=entrants, codes=codes, judges=judges,
                   profiles=profiles, panels=panels)


@pytest.fixture()
def contest(db, factory) -> Contest:
    return build_contest(db, factory)


def full_marks() -> dict[str, str]:
    """A valid value for every criterion of the rubric above."""
    return {"A1": "8.5", "A2": "5", "B1": "17.5", "B2": "2"}


def decimal(text: str) -> Decimal:
    return Decimal(text)
