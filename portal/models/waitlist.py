"""The waitlist: patients waiting for a time with a doctor or a speciality, and the slots offered to them.

Matching a freed slot must cost the same whatever the number of entries: the partial indexes on the
waiting entries, by doctor and by speciality, each ordered by created_at, let the matcher walk from the
longest-waiting entry and stop at the first that fits (services/scheduling/waitlist.py). An entry's
weekdays are a bitmask (bit 0 = Monday .. bit 6 = Sunday; NULL = any day); earliest_time and
latest_time are clinic wall-clock times. `speciality` is stored folded to lower case, as the directory
compares it. An offer is unique per (slot, entry): nobody is offered the same slot twice.
"""
import enum
from datetime import datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class WaitlistStatus(str, enum.Enum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class OfferOutcome(str, enum.Enum):
    BOOKED = "booked"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


ACTIVE_WAITLIST = (WaitlistStatus.WAITING.value, WaitlistStatus.OFFERED.value)
_WAITING = text("status = 'waiting'")


class WaitlistEntry(Base):
    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint("(doctor_id IS NULL) <> (speciality IS NULL)", name="doctor_or_speciality"),
        CheckConstraint("window_from < window_to", name="window_order"),
        Index("ix_waitlist_entries_patient_created", "patient_id", "created_at"),
        Index("ix_waitlist_entries_doctor_waiting", "doctor_id", "created_at", "id",
              postgresql_where=_WAITING, sqlite_where=_WAITING),
        Index("ix_waitlist_entries_speciality_waiting", "speciality", "created_at", "id",
              postgresql_where=_WAITING, sqlite_where=_WAITING),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctors.id"))
    speciality: Mapped[str | None] = mapped_column(String(120))
    window_from: Mapped[datetime]
    window_to: Mapped[datetime]
    weekdays: Mapped[int | None]
    earliest_time: Mapped[time | None]
    latest_time: Mapped[time | None]
    status: Mapped[str] = mapped_column(String(16), default=WaitlistStatus.WAITING.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    patient = relationship("Patient")
    doctor = relationship("Doctor")


class WaitlistOffer(Base):
    __tablename__ = "waitlist_offers"
    __table_args__ = (
        UniqueConstraint("slot_id", "entry_id", name="uq_waitlist_offers_slot_entry"),
        Index("ix_waitlist_offers_entry_id", "entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("waitlist_entries.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    hold_id: Mapped[str] = mapped_column(String(64))
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    outcome: Mapped[str | None] = mapped_column(String(16))  # None while the offer stands

    entry: Mapped[WaitlistEntry] = relationship()
    slot = relationship("Slot")
