"""Slots doctors publish, the appointments patients book in them, and the doctors' absences.

The database is the last line against double booking: a partial unique index allows one
non-cancelled appointment per slot on every database; on PostgreSQL, exclusion constraints
(added in the migration) also refuse overlapping slots of a doctor and overlapping appointments
of a patient.
"""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class AppointmentStatus(str, enum.Enum):
    SCHEDULED = "scheduled"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


ACTIVE_STATUSES = (AppointmentStatus.SCHEDULED.value, AppointmentStatus.RESCHEDULED.value)


class Absence(Base):
    """A range the doctor is away (holiday, sick day): free slots in it are withdrawn, not deleted.

    `ends_at` is exclusive. Deleting an absence archives it (archived_at) and gives its slots back.
    """

    __tablename__ = "absences"
    # a slot asks "does an active absence of its doctor end after I start?": past absences are never read
    __table_args__ = (Index("ix_absences_doctor_ends", "doctor_id", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]

    doctor = relationship("Doctor")


class Slot(Base):
    __tablename__ = "slots"
    __table_args__ = (Index("ix_slots_doctor_starts", "doctor_id", "starts_at"), Index("ix_slots_starts", "starts_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    duration: Mapped[int]  # minutes
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    # set while an absence of the doctor withdraws this (free) slot: still the doctor's time, not offered
    absence_id: Mapped[int | None] = mapped_column(ForeignKey("absences.id"), index=True)

    doctor = relationship("Doctor")


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_patient_starts", "patient_id", "starts_at"),
        # patient_id too: a doctor's visible patients (policy) are read from the index alone (migration 0012)
        Index("ix_appointments_doctor_starts_patient", "doctor_id", "starts_at", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=AppointmentStatus.SCHEDULED.value)
    reason: Mapped[str | None] = mapped_column(Text)
    rescheduled_from_slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None]
    # When the patient said they will come ("I'll come" in a reminder mail); the first answer is kept.
    confirmed_at: Mapped[datetime | None]

    slot: Mapped[Slot] = relationship(foreign_keys=[slot_id])
    patient = relationship("Patient")
    doctor = relationship("Doctor")


Index(
    "uq_appointments_active_slot",
    Appointment.slot_id,
    unique=True,
    postgresql_where=Appointment.status != AppointmentStatus.CANCELLED.value,
    sqlite_where=Appointment.status != AppointmentStatus.CANCELLED.value,
)

# A patient's no-shows in the last 12 months (booking_rules.no_show_count): few rows per patient, read by range.
Index(
    "ix_appointments_patient_no_show",
    Appointment.patient_id,
    Appointment.starts_at,
    postgresql_where=Appointment.status == AppointmentStatus.NO_SHOW.value,
    sqlite_where=Appointment.status == AppointmentStatus.NO_SHOW.value,
)
