"""Who may see and change a competition's set-up.

Everything here is organizer work: organizers and admins of the event's organization (``can_manage_event``).
Check-in staff and judges have a role in the event but not this one (403); people without any role there get 404
(see ``events.views.get_event_for_staff``).

The sealed mapping of the draw (entrant ↔ station number ↔ result code) is shown only to those for whom
``can_see_draw`` is true: the event's organizers, and later a designated encryption role (加密裁判) when the
judging step adds it. Judge-facing pages never call it: they read codes by entrant id
(``competition.draw.codes_by_entrant``) and nothing else about the entrant.
"""
from __future__ import annotations

from accounts.permissions import can_manage_event, can_see_event_admin


def can_manage_competition(user, competition) -> bool:
    return can_manage_event(user, competition.event)


def can_see_draw(user, competition) -> bool:
    """Organizers of the event, and the competition's encryption judge (加密裁判), who keeps the sealed draw."""
    if can_manage_event(user, competition.event):
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    from extensions import db
    from judging.models import JudgeProfile, JudgeRole

    role = db.session.scalar(db.select(JudgeProfile.role).where(JudgeProfile.competition_id == competition.id,
                                                                JudgeProfile.user_id == user.id))
    return role == JudgeRole.ENCRYPTOR and can_see_event_admin(user, competition.event)
