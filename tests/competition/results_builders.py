"""Scored competitions for the results tests, set up through the real services (competition, groups, round,
rubric, entrants, draw, judges, one panel with every judge assigned to every entrant, scoring started); the
submitted scores themselves are inserted in bulk (``submit_scores``), as a judge's tablet would leave them after
submitting, followed by one ``touch`` — or through the judging services (``submit_through_services``)."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from tests.conftest import NOW


@dataclass
class Scored:
    organization: object
    organizer: object
    event: object
    competition: object
    round: object
    groups: dict  # name -> Group
    criteria: dict  # code -> Criterion
    entrants: dict  # name -> Entrant
    judges: list  # Users, in order
    panel: object = None
    extra: dict = field(default_factory=dict)

    def id(self, name: str) -> int:
        return self.entrants[name].id

    def name_of(self, entrant_id: int) -> str:
        return next(n for n, e in self.entrants.items() if e.id == entrant_id)


def build_scored(db, factory, *, entrants, modules=None, judges: int = 1, places: int = 2, rounding: str = "half_up",
                 aggregation: str = "mean", trim_threshold: int = 5, award_rules: dict | None = None,
                 groups=None, event_status: str = "published", title: str = "云计算赛项", organization=None,
                 organizer=None, criterion_step: str = "0.01", ladders=(), event=None) -> Scored:
    """``entrants``: [(name, unit, group name or None)]; ``modules``: {"A": [("A1", maximum, kind)], …}
    (default one module A with A1 out of 100). Groups are made from the names used (or ``groups``)."""
    from competition import services as cs
    from competition.draw import draw
    from competition.models import AggregationMethod, CriterionKind, Rounding
    from judging import services as js

    modules = modules or {"A": [("A1", "100", "judgement")]}
    org = organization or factory.organization(f"福建省信息行业协会{random.randint(1, 10**9)}")
    organizer = organizer or factory.user(f"organizer{random.randint(1, 10**9)}@fjia.example.org", "周组织",
                                          organization=org, role="organizer")
    event = event or factory.event(org, title="云计算、小程序行业技能大赛", kind="competition", status=event_status)
    group_names = list(groups) if groups is not None else list(dict.fromkeys(g for _n, _u, g in entrants if g))
    competition = cs.create_competition(event, cs.CompetitionData(
        title=title, groups=group_names, places=places, rounding=Rounding(rounding),
        aggregation=AggregationMethod(aggregation), trim_threshold=trim_threshold, award_rules=award_rules),
        actor=organizer, now=NOW)
    round_ = cs.add_round(competition, cs.RoundData(name="决赛"), actor=organizer, now=NOW)
    rubric = cs.rubric_for(round_)
    for code, criteria in modules.items():
        module = cs.add_module(rubric, cs.ModuleData(code=code, name=f"模块{code}"), actor=organizer, now=NOW)
        for c_code, maximum, kind in criteria:
            ladder = c_code in ladders
            cs.add_criterion(module, cs.CriterionData(
                code=c_code, name=f"评分项{c_code}", maximum=maximum, step="1" if ladder else criterion_step,
                kind=CriterionKind(kind), ladder=ladder, levels=["差", "中", "良", "优"] if ladder else []),
                actor=organizer, now=NOW)
    group_ids = {g.name: g.id for g in competition.groups}
    made = {}
    for name, unit, group in entrants:
        made[name] = cs.add_entrant(competition, cs.EntrantData(name=name, unit=unit, group_id=group_ids.get(group),
                                                                is_team=True, members=[f"{name}甲", f"{name}乙"]),
                                    actor=organizer, now=NOW)
    draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(11))
    js.update_round_settings(round_, requires_roll_call=False, code_stage=1, actor=organizer, now=NOW)
    users = []
    panel = js.create_panel(competition, js.PanelData(name="评委组", round_id=round_.id), actor=organizer, now=NOW)
    members = []
    for i in range(judges):
        added = js.add_judge(competition, js.JudgeData(
            name=f"评委{i + 1}", login=f"judge{i + 1}-{competition.id}@judges.example.org", password="judge-pass-1"),
            actor=organizer, now=NOW)
        users.append(added.profile.user)
        members.append(js.add_panel_judge(panel, added.profile, [], actor=organizer, now=NOW))
    js.set_assignments(panel, {(m.id, e.id) for m in members for e in made.values()}, actor=organizer, now=NOW)
    cs.start_scoring(round_, actor=organizer, now=NOW)
    db.session.commit()
    from competition.models import Criterion

    criteria = {c.code: c for c in db.session.scalars(sa.select(Criterion).where(Criterion.rubric_id == rubric.id))}
    return Scored(org, organizer, event, competition, round_, {g.name: g for g in competition.groups}, criteria,
                  made, users, panel)


def submit_scores(db, scored: Scored, values: dict, *, now=NOW) -> None:
    """``values``: {entrant name: {criterion code: value or [one value per judge]}} inserted as submitted scores
    (replacing what those judges had for those criteria), then one touch per entrant; committed."""
    from competition import results
    from judging.models import Score, ScoreState

    rows = []
    for name, by_code in values.items():
        entrant = scored.entrants[name]
        for code, value in by_code.items():
            criterion = scored.criteria[code]
            per_judge = value if isinstance(value, (list, tuple)) else [value] * len(scored.judges)
            for judge, item in zip(scored.judges, per_judge):
                db.session.execute(sa.delete(Score).where(Score.judge_id == judge.id, Score.entrant_id == entrant.id,
                                                          Score.criterion_id == criterion.id))
                if item is None:
                    continue
                rows.append({"round_id": scored.round.id, "judge_id": judge.id, "entrant_id": entrant.id,
                             "criterion_id": criterion.id, "value": Decimal(str(item)), "note": "",
                             "state": ScoreState.SUBMITTED, "source": "tablet", "rubric_version": 1,
                             "created_at": now, "updated_at": now, "submitted_at": now})
    if rows:
        db.session.execute(sa.insert(Score), rows)
    for name in values:
        results.touch(scored.competition.id, action="judging.submit", scope="entrant",
                      entrant_id=scored.entrants[name].id, now=now)
    db.session.commit()


def totals(scored: Scored, board_key: str | None = None) -> dict[str, tuple]:
    """{entrant name: (rank, total text, award)} of one board (default: the first)."""
    from competition import results

    computed = results.standings(scored.competition)
    board = computed.board(board_key)
    return {scored.name_of(line.entrant.id): (line.rank, results.decimal_text(line.total, computed.inputs.places),
                                             line.award) for line in board.lines}
