"""A strict competition ready for the lock chain: scored (one judge, ``criteria`` criteria of 10 points each,
totals all different), with a chief judge, an encryption judge, two supervisors and an arbitrator."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tests.competition.results_builders import Scored, build_scored, submit_scores
from tests.conftest import NOW

PASSWORD = "judge-pass-1"


@dataclass
class Chain:
    scored: Scored
    chief: object
    encryptor: object
    supervisor: object
    supervisor2: object
    arbitrator: object
    judge: object

    @property
    def competition(self):
        return self.scored.competition

    @property
    def organizer(self):
        return self.scored.organizer


def build_chain(db, factory, *, entrants: int = 10, criteria: int = 2, award_rules: dict | None = None,
                strict: bool = True, names: list[str] | None = None) -> Chain:
    from judging import process
    from judging import services as js
    from judging.models import JudgeRole

    names = names or [f"选手{i + 1:02d}" for i in range(entrants)]
    codes = [f"A{i + 1}" for i in range(criteria)]
    scored = build_scored(db, factory, entrants=[(n, f"单位{i + 1}", None) for i, n in enumerate(names)],
                          modules={"A": [(c, "10", "judgement") for c in codes]},
                          award_rules=award_rules or {"basis": "count", "rounding": "half_up",
                                                      "tiers": [{"name": "一等奖", "value": "1"},
                                                                {"name": "二等奖", "value": "1"}]})
    # totals all different: entrant i gets 10 - i/10 on the first criterion, 5 on the others
    submit_scores(db, scored, {name: {code: (str(10 - i / 10) if k == 0 else "5") for k, code in enumerate(codes)}
                               for i, name in enumerate(names)})
    people = {}
    for role, login in ((JudgeRole.CHIEF, "chief"), (JudgeRole.ENCRYPTOR, "encryptor"),
                        (JudgeRole.SUPERVISOR, "supervisor"), (JudgeRole.SUPERVISOR, "supervisor2"),
                        (JudgeRole.ARBITRATOR, "arbitrator")):
        added = js.add_judge(scored.competition, js.JudgeData(
            name={"chief": "钱裁判长", "encryptor": "孙加密", "supervisor": "周监督", "supervisor2": "吴监督",
                  "arbitrator": "郑仲裁"}[login],
            login=f"{login}-{scored.competition.id}@judges.example.org", role=role, password=PASSWORD),
            actor=scored.organizer, now=NOW)
        people[login] = added.profile.user
    if strict:
        process.set_strict(scored.competition, True, actor=scored.organizer, now=NOW)
    db.session.commit()
    return Chain(scored, people["chief"], people["encryptor"], people["supervisor"], people["supervisor2"],
                 people["arbitrator"], scored.judges[0])


def walk_to(db, chain: Chain, step: str, *, now=NOW):
    """Take the chain up to (and including) ``step``: lock, review, decrypt, provisional, final."""
    from judging import process

    competition = chain.competition
    order = ["lock", "review", "decrypt", "provisional", "final"]
    for current in order[: order.index(step) + 1]:
        if current == "lock":
            process.lock_round(chain.scored.round, actor=chain.chief, now=now)
        elif current == "review":
            process.start_review(competition, actor=chain.chief, now=now, seed="fixed-seed")
            for item in process.review_items(competition):
                process.decide_item(item, actor=chain.supervisor, now=now)
        elif current == "decrypt":
            decryption = process.start_decryption(competition, PASSWORD, actor=chain.encryptor, now=now)
            process.confirm_decryption(decryption, PASSWORD, actor=chain.supervisor, now=now)
        elif current == "provisional":
            process.publish_provisional(competition, actor=chain.chief, now=now)
        elif current == "final":
            process.finalize(competition, actor=chain.chief, now=now + timedelta(hours=3))
        db.session.commit()
