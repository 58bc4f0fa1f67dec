"""Medical records with every earlier version kept, and patient images."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class MedicalRecord(Base):
    __tablename__ = "medical_records"
    __table_args__ = (
        Index("ix_medical_records_patient_recorded", "patient_id", "recorded_at"),
        Index("ix_medical_records_department_recorded", "department_id", "recorded_at"),
        Index("ix_medical_records_doctor_recorded", "doctor_id", "recorded_at"),
        Index("ix_medical_records_recorded", "recorded_at"),  # unfiltered and year/month lists, newest first
        # Finds and counts a department's live records of a doctor's patients from the index alone (no table
        # rows, recorded_at and id included for the page's order): one lookup per visible patient, whatever the
        # department or the clinic holds.
        Index("ix_medical_records_live_department_patient_recorded", "department_id", "patient_id", "recorded_at",
              "id", postgresql_where=text("archived_at IS NULL"), sqlite_where=text("archived_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctors.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    diagnostics: Mapped[str] = mapped_column(Text)
    observations: Mapped[str | None] = mapped_column(Text)
    treatments: Mapped[str | None] = mapped_column(Text)
    misc: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    archived_at: Mapped[datetime | None]

    patient = relationship("Patient")
    doctor = relationship("Doctor")
    department = relationship("Department")
    versions: Mapped[list["MedicalRecordVersion"]] = relationship(
        back_populates="record", order_by="MedicalRecordVersion.version"
    )


class MedicalRecordVersion(Base):
    """A frozen copy of a record as it was before an edit."""

    __tablename__ = "medical_record_versions"
    __table_args__ = (UniqueConstraint("record_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("medical_records.id"))
    version: Mapped[int]
    diagnostics: Mapped[str] = mapped_column(Text)
    observations: Mapped[str | None] = mapped_column(Text)
    treatments: Mapped[str | None] = mapped_column(Text)
    misc: Mapped[str | None] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    recorded_at: Mapped[datetime]
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)

    record: Mapped[MedicalRecord] = relationship(back_populates="versions")


class PatientImage(Base):
    __tablename__ = "patient_images"
    __table_args__ = (
        Index("ix_patient_images_patient_created", "patient_id", "created_at"),
        Index("ix_patient_images_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    original_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]

    patient = relationship("Patient")
