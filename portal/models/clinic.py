"""The clinic directory: departments and the doctors who work in them."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]

    doctors: Mapped[list["Doctor"]] = relationship(back_populates="department")


Index(
    "uq_departments_name_lower",
    func.lower(Department.name),
    unique=True,
    postgresql_where=Department.archived_at.is_(None),
    sqlite_where=Department.archived_at.is_(None),
)


class Doctor(Base):
    __tablename__ = "doctors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    speciality: Mapped[str] = mapped_column(String(120))
    gender: Mapped[str | None] = mapped_column(String(32))
    dob: Mapped[date | None]
    description: Mapped[str | None] = mapped_column(Text)
    fees: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    # Booking rules of this doctor's slots (an admin's overrides); None = the clinic's setting.
    min_notice_minutes: Mapped[int | None]
    horizon_days: Mapped[int | None]
    change_cutoff_hours: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]

    user = relationship("User", back_populates="doctor")
    department: Mapped[Department | None] = relationship(back_populates="doctors")


Index("ix_doctors_speciality_lower", func.lower(Doctor.speciality))
