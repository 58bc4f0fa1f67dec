"""The audit log: who read or changed which patient's data, when and from where."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, false
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
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))  # read, create, update, delete
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    # A read or change made under a doctor's emergency access to this patient ("break the glass").
    emergency: Mapped[bool] = mapped_column(default=False, server_default=false())

    actor = relationship("User")


Index("ix_audit_events_emergency_at", AuditEvent.at,
      postgresql_where=AuditEvent.emergency.is_(True), sqlite_where=AuditEvent.emergency.is_(True))
