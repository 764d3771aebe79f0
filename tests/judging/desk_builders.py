"""A contest (tests/judging/conftest.py) with a chief judge and helpers to score through the real services."""
from __future__ import annotations

from judging import services as js
from judging.models import JudgeRole
from tests.conftest import NOW

CHIEF_PASSWORD = "chief-pass-1"


def add_chief(db, contest, *, login="chief@judges.example.org", name="赵裁判长"):
    added = js.add_judge(contest.competition, js.JudgeData(name=name, login=login, role=JudgeRole.CHIEF,
                                                           password=CHIEF_PASSWORD),
                         actor=contest.organizer, now=NOW)
    db.session.commit()
    return added.profile.user


def score(contest, judge_name: str, entrant_name: str, values: dict[str, str], *, submit=True, now=NOW):
    """The judge's values by criterion code (the criteria of their share), then submit."""
    from extensions import db

    user = contest.judges[judge_name]
    entrant_id = contest.entrants[entrant_name].id
    for code, value in values.items():
        js.save_draft(user, round_id=contest.round.id, entrant_id=entrant_id, criterion_id=contest.criteria[code].id,
                      value=value, nonce=None, now=now)
    if submit:
        js.submit_entrant(user, round_id=contest.round.id, entrant_id=entrant_id, nonce=None, now=now)
    db.session.commit()


def sheet(a1="8.5", a2="5", b1="15", b2="2") -> dict[str, str]:
    return {"A1": a1, "A2": a2, "B1": b1, "B2": b2}
