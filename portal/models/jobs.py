"""The outbox: work that must happen after a change (a mail, a reminder, an offer), written in the
change's own transaction so that a crash, a restart or Redis being down loses none of it."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class JobStatus(StrEnum):
    PENDING = "pending"  # waiting for its due time, or for its next attempt
    RUNNING = "running"  # claimed by a runner until leased_until; after that, anyone may claim it again
    DONE = "done"
    FAILED = "failed"  # gave up after the last attempt; an admin sees it


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    # At most one job per key, ever: what makes "each reminder exactly once" a row, not a hope.
    key: Mapped[str | None] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=JobStatus.PENDING.value)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    leased_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
