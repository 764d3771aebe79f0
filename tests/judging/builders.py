"""Judging objects for the access and tenant-isolation tables (tests/test_access.py): a judge profile on a panel
with every entrant of the first group assigned, and a pending invitation link."""
from __future__ import annotations

from tests.conftest import NOW


def judging_url_values(competition_values: dict, *, actor, judge=None) -> dict:
    """URL values for the judging routes of one event's competition (see ``competition_url_values``): the
    profile of ``judge`` (an existing user, e.g. the world's judge; else a new judge account), its panel and panel
    seat, and an invitation link of a second, newly made judge. Flushed, not committed."""
    from competition.models import Competition
    from extensions import db
    from judging import services

    competition = db.session.get(Competition, competition_values["competition_id"])
    if judge is not None:
        data = services.JudgeData(name=judge.name, login=judge.login, limit_to_event=False)
    else:
        data = services.JudgeData(name="钱评委", login=f"judge-{competition.id}@judges.example.org",
                                  password="judge-pass-1")
    profile = services.add_judge(competition, data, actor=actor, now=NOW).profile
    invited = services.add_judge(competition, services.JudgeData(name="孙受邀", login=f"invited-{competition.id}@judges.example.org"),
                                 actor=actor, now=NOW)
    round_id = competition_values["round_id"]
    group_id = competition_values["group_id"] or None
    panel = services.create_panel(competition, services.PanelData(name="第一评委组", round_id=round_id, group_id=group_id),
                                  actor=actor, now=NOW)
    member = services.add_panel_judge(panel, profile, [], actor=actor, now=NOW)
    services.apply_suggestion(panel, actor=actor, now=NOW)
    return {"profile_id": profile.id, "panel_id": panel.id, "member_id": member.id,
            "invitation": invited.invitation_token}


def judging_zero_values() -> dict:
    """For an event without a competition: ids that exist nowhere (their pages answer 404)."""
    return {"profile_id": 0, "panel_id": 0, "member_id": 0, "invitation": "none"}
