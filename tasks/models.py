"""Rows of the scheduler: background tasks and the state (lease, last run) of each sweep."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.types import UTCDateTime, enum_column, utcnow
from extensions import db


class TaskState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATES = (TaskState.QUEUED, TaskState.RUNNING)
FINAL_STATES = (TaskState.DONE, TaskState.FAILED, TaskState.CANCELLED)


class BackgroundTask(db.Model):
    """Long work a person started (an export, a certificate batch, a bulk message), done in steps by a runner.

    The runner that holds the lease (``lease_owner`` until ``lease_expires_at``) calls the kind's step function
    again and again; each step reads ``cursor``, does one chunk and moves ``cursor`` on, and its work is committed
    together with the new cursor only if the runner still holds the lease. A runner that stops (a crash, a restart)
    leaves a lease that expires; another runner takes the task over and continues from the stored cursor.
    """

    __tablename__ = "background_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(80))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    state: Mapped[TaskState] = mapped_column(enum_column(TaskState), default=TaskState.QUEUED)
    done: Mapped[int] = mapped_column(default=0, server_default="0")
    total: Mapped[int | None] = mapped_column()
    cursor: Mapped[dict | None] = mapped_column(sa.JSON)
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
    steps: Mapped[int] = mapped_column(default=0, server_default="0")
    # How often the task was taken over from a runner that stopped holding it (its lease expired).
    takeovers: Mapped[int] = mapped_column(default=0, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by = relationship("User", lazy="joined")
    event = relationship("Event")

    __table_args__ = (
        sa.Index("ix_background_tasks_claim", "state", "lease_expires_at"),
        sa.Index("ix_background_tasks_event", "event_id", "created_at"),
    )

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def percent(self) -> int:
        if self.state == TaskState.DONE:
            return 100
        if not self.total:
            return 0
        return max(0, min(99, self.done * 100 // self.total))

    @property
    def file_name(self) -> str | None:
        """The download name of the file this task produced, if any (``result["file"]``)."""
        result = self.result or {}
        return result.get("filename") if result.get("file") else None

    def __repr__(self) -> str:
        return f"<BackgroundTask {self.id} {self.kind} {self.state.value}>"


class SweepState(db.Model):
    """One row per sweep: its lease on SQLite (PostgreSQL uses an advisory lock) and how its last run went."""

    __tablename__ = "sweep_states"

    name: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_count: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    runs: Mapped[int] = mapped_column(default=0, server_default="0")
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
