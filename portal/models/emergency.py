"""Emergency ("break the glass") access: a doctor opening a patient they may not otherwise see, for a while."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class EmergencyAccess(Base):
    """One grant: who, for which patient, why, until when; and the admin review that closes it."""

    __tablename__ = "emergency_accesses"
    __table_args__ = (
        Index("ix_emergency_accesses_doctor_patient_expires", "doctor_user_id", "patient_id", "expires_at"),
        Index("ix_emergency_accesses_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_note: Mapped[str | None] = mapped_column(String(2000))

    doctor_user = relationship("User", foreign_keys=[doctor_user_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    patient = relationship("Patient")


Index("ix_emergency_accesses_unreviewed", EmergencyAccess.started_at,
      postgresql_where=EmergencyAccess.reviewed_at.is_(None), sqlite_where=EmergencyAccess.reviewed_at.is_(None))
