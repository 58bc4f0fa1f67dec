"""Patients and the doctors assigned to them.

`search_text` is the patient's name, date of birth and phone folded for searching (no case, no
accents, phone digits only). A mapper event keeps it current on every insert and update, whichever
service writes the row (registration, the records services, the admin); bulk SQL writers must fill
it with `search_text_of` themselves.
"""
import re
import unicodedata
from datetime import date, datetime

from sqlalchemy import ColumnElement, ForeignKey, Index, String, and_, event, func, or_, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from portal.models.accounts import User
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
    search_text: Mapped[str] = mapped_column(String(500), default="", server_default="")

    user = relationship("User", back_populates="patient", foreign_keys=[user_id])

    @property
    def mail_address(self) -> str | None:
        """Where the clinic writes to the patient: their own contact address, else their account's."""
        return self.email or (self.user.email if self.user is not None else None)


# A user's own live patient profile, deferred: the bearer check reads it in its own statement
# (undefer), so the hot paths of a patient need no second statement to learn whose data is theirs.
User.own_patient_id = column_property(
    select(Patient.id).where(Patient.user_id == User.id, Patient.archived_at.is_(None))
    .correlate_except(Patient).scalar_subquery(), deferred=True)

Index("ix_patients_full_name_lower", func.lower(Patient.full_name))
Index("ix_patients_search_trgm", Patient.search_text, postgresql_using="gin",
      postgresql_ops={"search_text": "gin_trgm_ops"})
# Whether a patient is live, from the index alone: policy's visible patients are a few hundred ids checked
# against archived_at one by one (a doctor's department records), which read each row's page otherwise.
Index("ix_patients_live_id", Patient.id, postgresql_where=Patient.archived_at.is_(None),
      sqlite_where=Patient.archived_at.is_(None))

_DROPPED = re.compile(r"['’ʼ`]")
_SEPARATORS = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case without accents, apostrophes dropped, anything else but letters and digits a space:
    "Zoë O'Brien-Núñez" -> "zoe obrien nunez"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_SEPARATORS.sub(" ", _DROPPED.sub("", plain)).split())


def digits(text: str | None) -> str:
    return "".join(char for char in text or "" if char.isdigit())


def search_text_of(full_name: str, dob: date | None, phone: str | None) -> str:
    """What patient search matches against: folded name, ISO date of birth, phone digits."""
    parts = [fold(full_name or ""), dob.isoformat() if dob else "", digits(phone)]
    return " ".join(part for part in parts if part)[:500]


@event.listens_for(Patient, "before_insert")
@event.listens_for(Patient, "before_update")
def _keep_search_text(mapper, connection, patient: Patient) -> None:
    patient.search_text = search_text_of(patient.full_name, patient.dob, patient.phone)


class Assignment(Base):
    """A doctor looking after a patient; ending one keeps the row (ended_at) for the record."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    patient: Mapped[Patient] = relationship()
    doctor = relationship("Doctor")


# A doctor's live assignments from the index alone: the patients they see (policy) in one index range.
Index(
    "ix_assignments_live_doctor_patient",
    Assignment.doctor_id,
    Assignment.patient_id,
    postgresql_where=Assignment.ended_at.is_(None),
    sqlite_where=Assignment.ended_at.is_(None),
)

Index(
    "uq_assignments_active_pair",
    Assignment.patient_id,
    Assignment.doctor_id,
    unique=True,
    postgresql_where=Assignment.ended_at.is_(None),
    sqlite_where=Assignment.ended_at.is_(None),
)


class DoctorPatient(Base):
    """A patient on a doctor's list: assigned to them now (`assigned`) or ever booked with them (`booked`), with
    a copy of the patient's name, search text and archived_at. The database keeps it, whoever writes
    appointments, assignments or patients (the triggers of migration 0014), so it is never staler than the
    rows it is read from. Policy finds a doctor's patients in one index range of it, and a doctor's search
    matches their patients' search text there without reading each patient's row (docs/decisions.md).
    No foreign keys: each row follows from rows that have theirs, and a key would lock the doctor and the
    patient on every booking."""

    __tablename__ = "doctor_patients"

    doctor_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    patient_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, index=True)
    assigned: Mapped[bool]
    booked: Mapped[bool]
    full_name: Mapped[str] = mapped_column(String(200))
    search_text: Mapped[str] = mapped_column(String(500))
    archived_at: Mapped[datetime | None]

    @classmethod
    def listed(cls) -> ColumnElement[bool]:
        """Whether the row puts a live patient on the doctor's list (the listing index's condition)."""
        return and_(cls.archived_at.is_(None), or_(cls.assigned, cls.booked))


# A doctor's list from the index alone, with what a search matches and sorts by.
Index("ix_doctor_patients_listed", DoctorPatient.doctor_id,
      postgresql_include=["patient_id", "full_name", "search_text"],
      postgresql_where=DoctorPatient.listed(), sqlite_where=DoctorPatient.listed())
