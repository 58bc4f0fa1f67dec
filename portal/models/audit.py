"""The audit log: who read or changed which patient's data, when and from where.

An append-only log of facts: a row names its actor and patient by id, without foreign keys (migration 0013).
The app writes those ids from the signed-in account and the rows it has just read, accounts and patients are
archived, never deleted, and the keys' checks were half of what a page's audit rows cost the database.
"""
from datetime import datetime

from sqlalchemy import Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_patient_at", "patient_id", "at"),
        Index("ix_audit_events_actor_at", "actor_id", "at"),
        Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(16))  # read, create, update, delete
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    patient_id: Mapped[int | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    # A read or change made under a doctor's emergency access to this patient ("break the glass").
    emergency: Mapped[bool] = mapped_column(default=False, server_default=false())

    actor = relationship("User", primaryjoin="foreign(AuditEvent.actor_id) == User.id")


Index("ix_audit_events_emergency_at", AuditEvent.at,
      postgresql_where=AuditEvent.emergency.is_(True), sqlite_where=AuditEvent.emergency.is_(True))
