"""Submitted works (作品) and defense batches (答辩批次).

- ``WorkSettings``: whether a competition collects works, until when, which kinds, how large, how many per entrant.
  One row per competition, made on first save (defaults until then: nothing collected).
- ``WorkFile``: one submitted work of an entrant: a stored file (PDF, image, office document) named on disk by a
  random ``storage_key``, or a video link. The uploader's file name is kept for organizers only; judges receive the
  file under the entrant's code. A replaced or deleted work keeps its row (``removed_at``, ``replaced_by_id``) and
  its file, so the history can be shown and nothing is lost; only rows with ``removed_at`` NULL are current.
- ``DefenseBatch``: 批次 of a round's on-site defense (答辩): name, start time, room, position.
- ``DefenseSlot``: an entrant's place in one batch (one place per entrant and round).
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.types import UTCDateTime, enum_column, utcnow
from extensions import db


class WorkKind(str, enum.Enum):
    PDF = "pdf"
    IMAGE = "image"  # PNG or JPEG
    OFFICE = "office"  # Word, Excel, PowerPoint (OOXML or the legacy binary formats)
    VIDEO = "video"  # a link (http or https) to a video hosted elsewhere


def default_work_kinds() -> list[str]:
    return [WorkKind.PDF.value, WorkKind.IMAGE.value, WorkKind.OFFICE.value, WorkKind.VIDEO.value]


class WorkSettings(db.Model):
    __tablename__ = "work_settings"

    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"),
                                                primary_key=True)
    wanted: Mapped[bool] = mapped_column(default=False)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    kinds: Mapped[list] = mapped_column(sa.JSON, default=default_work_kinds)
    max_size_mb: Mapped[int] = mapped_column(default=50)
    max_files: Mapped[int] = mapped_column(default=3)
    instructions: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.CheckConstraint("max_size_mb >= 1", name="max_size_positive"),
        sa.CheckConstraint("max_files >= 1", name="max_files_positive"),
    )


class WorkFile(db.Model):
    __tablename__ = "work_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[WorkKind] = mapped_column(enum_column(WorkKind))
    storage_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)  # random; NULL for a video link
    extension: Mapped[str] = mapped_column(sa.String(10), default="")  # "pdf", "png", "docx" … ("" for a link)
    content_type: Mapped[str] = mapped_column(sa.String(100), default="")
    url: Mapped[str | None] = mapped_column(sa.String(1000))  # a video link
    original_name: Mapped[str] = mapped_column(sa.String(255), default="")  # organizers only
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    by_organizer: Mapped[bool] = mapped_column(default=False)  # uploaded by an organizer on the entrant's behalf
    late: Mapped[bool] = mapped_column(default=False)  # accepted after the deadline (organizers only)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    replaced_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("work_files.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.Index("ix_work_files_entrant_current", "entrant_id", "removed_at"),
        sa.CheckConstraint("(kind = 'video') = (url IS NOT NULL)", name="video_has_url"),
        sa.CheckConstraint("(kind = 'video') = (storage_key IS NULL)", name="file_has_storage"),
    )

    @property
    def is_link(self) -> bool:
        return self.kind == WorkKind.VIDEO


class DefenseBatch(db.Model):
    __tablename__ = "defense_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    room: Mapped[str] = mapped_column(sa.String(100), default="")
    position: Mapped[int] = mapped_column(default=0)

    slots: Mapped[list[DefenseSlot]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="(DefenseSlot.position, DefenseSlot.id)"
    )

    __table_args__ = (sa.UniqueConstraint("round_id", "name"),)


class DefenseSlot(db.Model):
    __tablename__ = "defense_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("defense_batches.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"))
    entrant_id: Mapped[int] = mapped_column(sa.ForeignKey("entrants.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    batch: Mapped[DefenseBatch] = relationship(back_populates="slots")

    __table_args__ = (sa.UniqueConstraint("round_id", "entrant_id"),)
