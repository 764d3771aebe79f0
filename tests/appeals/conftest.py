"""A scored competition with two entrants (one linked to a sign-up, so its team leader has a manage link), an
arbitrator and the lock chain's state under the test's control (``process``): provisional with a deadline, not
published, or final. Tests of the real chain are in test_appeals_chain.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.competition.results_builders import build_scored, submit_scores
from tests.conftest import NOW

DEADLINE = NOW + timedelta(hours=2)


@dataclass
class ProcessState:
    provisional: bool = True
    final: bool = False
    deadline: object = DEADLINE


@pytest.fixture()
def process(monkeypatch):
    """The lock chain's answers, as appeals.services asks them (judging.process is H3's)."""
    from appeals import services

    state = ProcessState()
    monkeypatch.setattr(services, "results_are_provisional", lambda competition: state.provisional)
    monkeypatch.setattr(services, "appeal_deadline", lambda competition: state.deadline)
    monkeypatch.setattr(services, "is_final", lambda competition: state.final)
    return state


@dataclass
class AppealCase:
    scored: object
    registration: object
    key: str
    entrant: object  # linked to the sign-up
    other: object
    arbitrator: object
    chief: object


def build_case(db, factory) -> AppealCase:
    from competition.results import publish
    from judging import services as js
    from judging.models import JudgeRole
    from registration.services import SignupData, approve_registration, register_participant

    scored = build_scored(db, factory, entrants=[("飞翔队", "飞翔职业学院", "中职组"), ("启航队", "启航技师学院", "中职组")],
                          judges=2)
    submit_scores(db, scored, {"飞翔队": {"A1": ["80", "84"]}, "启航队": {"A1": ["90", "91"]}})
    registration, key = register_participant(scored.event, SignupData(
        name="林领队", phone="13900000011", unit="飞翔职业学院"), now=NOW, ignore_window=True)
    if registration.status.value != "approved":
        approve_registration(registration, now=NOW, actor=scored.organizer)
    entrant = scored.entrants["飞翔队"]
    entrant.registration_id = registration.id
    arbitrator = js.add_judge(scored.competition, js.JudgeData(
        name="仲裁员", login=f"arb-{scored.competition.id}@judges.example.org", role=JudgeRole.ARBITRATOR,
        password="judge-pass-1"), actor=scored.organizer, now=NOW).profile.user
    chief = js.add_judge(scored.competition, js.JudgeData(
        name="裁判长", login=f"chief-{scored.competition.id}@judges.example.org", role=JudgeRole.CHIEF,
        password="judge-pass-1"), actor=scored.organizer, now=NOW).profile.user
    publish(scored.competition, actor=scored.organizer, now=NOW)
    db.session.commit()
    return AppealCase(scored, registration, key, entrant, scored.entrants["启航队"], arbitrator, chief)


@pytest.fixture()
def case(db, factory, process) -> AppealCase:
    return build_case(db, factory)
