"""Appeals (申诉) use cases. Like every service: flush, never commit; actor and time passed in; refusals raise
``AppealError`` (a DomainError)."""
from __future__ import annotations

import sqlalchemy as sa

from appeals.models import Appeal, AppealState
from competition.models import Competition
from core.errors import DomainError
from extensions import db


class AppealError(DomainError):
    """A refused appeal request: ``code`` for machines, translated ``message`` for people."""


def open_appeal_count(competition: Competition) -> int:
    """How many appeals of the competition wait for the arbitration group's decision (final results wait for 0)."""
    return db.session.scalar(sa.select(sa.func.count(Appeal.id)).where(
        Appeal.competition_id == competition.id, Appeal.state == AppealState.OPEN)) or 0
