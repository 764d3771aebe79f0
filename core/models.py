"""The audit log: who did what to which object, and when. Rows are only ever added."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.types import UTCDateTime, utcnow
from extensions import db


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[int | None] = mapped_column()
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    __table_args__ = (sa.Index("ix_audit_entries_object", "object_type", "object_id"),)


def record_audit(*, actor, organization_id, action: str, obj, now: datetime, **details) -> AuditEntry:
    """Add an audit row for ``obj`` (any model with ``id``). Flushes nothing, commits nothing."""
    entry = AuditEntry(
        at=now,
        actor_id=getattr(actor, "id", None),
        organization_id=organization_id,
        action=action,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        details={k: v for k, v in details.items() if v is not None},
    )
    db.session.add(entry)
    return entry
