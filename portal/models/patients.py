"""Patients and the doctors assigned to them."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    gender: Mapped[str | None] = mapped_column(String(32))
    dob: Mapped[date | None]
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    archived_at: Mapped[datetime | None]

    user = relationship("User", back_populates="patient", foreign_keys=[user_id])


Index("ix_patients_full_name_lower", func.lower(Patient.full_name))


class Assignment(Base):
    """A doctor looking after a patient; ending one keeps the row (ended_at) for the record."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    patient: Mapped[Patient] = relationship()
    doctor = relationship("Doctor")


Index(
    "uq_assignments_active_pair",
    Assignment.patient_id,
    Assignment.doctor_id,
    unique=True,
    postgresql_where=Assignment.ended_at.is_(None),
    sqlite_where=Assignment.ended_at.is_(None),
)
