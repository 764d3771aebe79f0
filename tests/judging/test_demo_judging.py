"""The demo's judging: five judges and the chief judge, a panel per group with a measuring judge, exclusions from
declared units, 中职组 scored and submitted, 高职组 partly, 企业组 not yet; the judge's sheet names no entrant."""
from __future__ import annotations

import json

import sqlalchemy as sa

from competition.models import Competition, Entrant, Group
from demo.data import COMPETITION_TITLE
from judging import services as js
from judging.models import JudgeProfile, JudgeRole, Panel, Score, ScoreState
from tests.conftest import NOW


def test_demo_judging(db, demo):
    competition = db.session.scalar(sa.select(Competition).where(Competition.title == COMPETITION_TITLE))
    profiles = list(db.session.scalars(sa.select(JudgeProfile).where(JudgeProfile.competition_id == competition.id)))
    assert sorted(p.role.value for p in profiles) == ["chief"] + ["judge"] * 5
    panels = list(db.session.scalars(sa.select(Panel).where(Panel.competition_id == competition.id)))
    assert len(panels) == 3 and all(len(p.judges) == 5 for p in panels)
    exclusions = sum(len(js.panel_overview(p).exclusions) for p in panels)
    assert exclusions >= 1
    groups = {g.id: g.name for g in db.session.scalars(sa.select(Group).where(Group.competition_id == competition.id))}
    by_group: dict[str, set] = {}
    for score, entrant in db.session.execute(sa.select(Score, Entrant).join(Entrant, Entrant.id == Score.entrant_id)):
        by_group.setdefault(groups[entrant.group_id], set()).add(score.state)
    assert by_group["中职组"] == {ScoreState.SUBMITTED}
    assert by_group["高职组"] == {ScoreState.DRAFT}
    assert "企业组" not in by_group
    judge = next(p for p in profiles if p.user.login == "judge@demo.saihui")
    sheet = json.dumps(js.judge_sheet(judge.user, competition.rounds[0].id, now=NOW), ensure_ascii=False)
    for entrant in db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id)):
        for secret in (entrant.name, entrant.unit, *entrant.members, *entrant.coaches):
            assert secret not in sheet
    assert next(p for p in profiles if p.role == JudgeRole.CHIEF).user.login == "chief@demo.saihui"
