"""What makes a slot live, booked, free or bookable: one definition for every list and every booking.

"Booked" mirrors the database's own rule (the partial unique index uq_appointments_active_slot):
a slot is taken by any appointment that is not cancelled. "Live" is a slot not removed: it is the
doctor's time, so new slots may not overlap it. "Withdrawn" is a slot the doctor's absence keeps off
offer: marked with the absence that withdrew it while it was free (slots.absence_id; the mark is
what a booking racing the absence sees under its row lock), or inside an active absence at all (a
slot freed by a cancel or published during the absence carries no mark). "Offered" is live and not
withdrawn: only offered slots are listed free, held or booked anew; a withdrawn one is NotFound, as a
removed one is. A booked slot inside an absence stays booked and shown until staff move or cancel
it. "Free" is what SQL can know: offered, not booked and still ahead; holds live outside SQL, so
callers that show states add them on top.
"""
from datetime import datetime
from functools import cache

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import contains_eager, load_only

from portal.extensions import db
from portal.models import Absence, Appointment, AppointmentStatus, Doctor, Patient, Slot
from portal.services import clinic_time, policy
from portal.services.errors import Conflict, Invalid, NotFound
from portal.services.persistence import constant, on_postgresql
from portal.services.scheduling import booking_rules

SLOT_BOOKED = "Slot is already booked."
SLOT_HELD = "Slot is temporarily locked."


def not_cancelled() -> ColumnElement[bool]:
    """Written into the SQL as a constant, not a parameter: the only index on appointments.slot_id is
    the partial one WHERE status <> 'cancelled', which a generic (prepared) plan can use only then."""
    return Appointment.status != constant(AppointmentStatus.CANCELLED.value)


def booked() -> ColumnElement[bool]:
    """True for a slot row that an appointment (not cancelled) points at; correlates with Slot."""
    return exists(select(Appointment.id).where(Appointment.slot_id == Slot.id, not_cancelled()))


def live() -> ColumnElement[bool]:
    return Slot.removed_at.is_(None)


def in_absence() -> ColumnElement[bool]:
    """True for a slot row that an active absence of its doctor overlaps; correlates with Slot
    (an index range on ix_absences_doctor_ends: only the doctor's absences ending after the slot starts,
    so the past ones piling up over the years are never read)."""
    return exists(select(Absence.id).where(Absence.doctor_id == Slot.doctor_id, Absence.ends_at > Slot.starts_at,
                                           Absence.starts_at < Slot.ends_at, Absence.archived_at.is_(None)))


def withdrawn() -> ColumnElement[bool]:
    return or_(Slot.absence_id.is_not(None), in_absence())


def offered() -> ColumnElement[bool]:
    """Live and not withdrawn by an absence: what anyone is shown and may hold or book."""
    return and_(live(), ~withdrawn())


def shown() -> ColumnElement[bool]:
    """What a slot list shows: offered slots, and booked ones even inside an absence (staff must see them)."""
    return and_(live(), or_(~withdrawn(), booked()))


def free(moment: datetime) -> ColumnElement[bool]:
    """Offered, not booked and starting after `moment` (usually now); a held slot still counts as free here."""
    return and_(offered(), Slot.starts_at > moment, ~booked())


def slot_booked() -> Conflict:
    return Conflict(SLOT_BOOKED, code="slot_booked")


def slot_held() -> Conflict:
    return Conflict(SLOT_HELD, code="slot_held")


# What a hold or a booking reads of the slot's doctor and of the patient: the parties its answer and its mail name,
# the doctor's booking-rule overrides, where the patient is written to. The other columns (a doctor's description,
# fees and contact, a patient's address...) are not read: each was a column psycopg described and the ORM loaded on
# every hold and booking, 2.4 % of a hold+confirm pair's instructions. Anything else is loaded on first use.
DOCTOR_READ = (Doctor.id, Doctor.full_name, Doctor.speciality,
               *(getattr(Doctor, name) for name in booking_rules.FIELDS))
PATIENT_READ = (Patient.id, Patient.full_name, Patient.email, Patient.user_id)


@cache
def _bookable_query(lock: bool) -> Select:
    """bookable_slot's statement, built once per form: SQLAlchemy then reuses its cache key and compiled SQL
    instead of building the nested conditions again on every hold and booking."""
    query = (select(Slot).join(Slot.doctor).options(contains_eager(Slot.doctor).load_only(*DOCTOR_READ))
             .where(Slot.id == bindparam("slot_id"), offered(), policy.listed_doctor()))
    return query.with_for_update(of=Slot) if lock else query.add_columns(booked())  # FOR UPDATE OF the slot only


def bookable_slot(slot_id: int, *, lock: bool = False) -> Slot:
    """The slot if a patient could book it now, else the error that says why.

    A slot of a doctor the directory does not list (policy.listed_doctor) is NotFound, as the doctor is;
    so is a removed slot and one an absence withdrew (not offered). With lock=True the slot row is
    locked (locked_slot) and "is it booked" asked after the lock is granted, so it sees a racing booking
    that committed meanwhile; without the lock it is part of the slot's statement.
    """
    if lock:
        slot = locked_slot(slot_id)
        booked = is_booked(slot.id)
    else:
        row = db.session.execute(_bookable_query(False), {"slot_id": slot_id}).first()
        slot = _ahead(row[0] if row else None)
        booked = row[1]
    if booked:
        raise slot_booked()
    return slot


def locked_slot(slot_id: int) -> Slot:
    """The offered, future slot, locked (SELECT ... FOR UPDATE) until the transaction ends, so a booking and
    a removal, an absence or a second booking of the same slot run one after the other; NotFound and Invalid
    as in bookable_slot. Whether it is booked is the caller's next question (is_booked, or booked_exists in a
    statement of its own): asked in the locking statement, it would not see a booking committed while it waited.
    """
    return _ahead(db.session.scalar(_bookable_query(True), {"slot_id": slot_id}))


@cache
def _booking_locks_query(draws_id: bool) -> Select:
    """locked_for_booking's statement, built once: _bookable_query's slot, locked as there, and the patient's
    row, locked as lock_patient locks it. PostgreSQL locks a result row's relations in the order of the locking
    clauses, so the slot's lock is taken before the patient's, as when they were two statements. With
    `draws_id`, the next appointment id too (a number drawn and not used leaves a gap, as a rollback does)."""
    query = (_bookable_query(True).add_columns(Patient).join(Patient, Patient.id == bindparam("patient_id"))
             .options(load_only(*PATIENT_READ)))
    if draws_id:
        query = query.add_columns(func.nextval(func.pg_get_serial_sequence("appointments", "id")))
    return query.suffix_with("FOR NO KEY UPDATE OF patients", dialect="postgresql")


def locked_for_booking(slot_id: int, patient_id: int) -> tuple[Slot, Patient, int | None]:
    """locked_slot, then lock_patient, in one statement: a booking's locks cost one round trip, not two. On
    PostgreSQL it also draws the id the appointment will have, so what goes with the booking (its mail, its
    reminders) can be written by the booking's own statement (appointments._book_if_free); None on SQLite.
    NotFound and Invalid as in locked_slot (a patient without a row finds no slot either)."""
    postgresql = on_postgresql()
    row = db.session.execute(_booking_locks_query(postgresql),
                             {"slot_id": slot_id, "patient_id": patient_id}).first()
    slot = _ahead(row[0] if row else None)
    return slot, row[1], row[2] if postgresql else None


def _ahead(slot: Slot | None) -> Slot:
    if slot is None:
        raise NotFound("No such slot.")
    if slot.starts_at <= clinic_time.now():
        raise Invalid.field("slot_id", "Slot is in the past.")
    return slot


_IS_BOOKED = select(Appointment.id).where(Appointment.slot_id == bindparam("slot_id"), not_cancelled()).limit(1)


def is_booked(slot_id: int) -> bool:
    return db.session.scalar(_IS_BOOKED, {"slot_id": slot_id}) is not None


def booked_exists() -> ColumnElement[bool]:
    """is_booked as an EXISTS with the bind parameter `slot_id`, for a statement that asks more at once."""
    return _IS_BOOKED.exists()


def lock_calendar(doctor_id: int) -> None:
    """One doctor's publications take turns on the doctor's row, so the second reads the first's slots.

    Without the turn, two overlapping slots inserted at once both reach the exclusion constraint, each
    waits on the other's uncommitted row, and PostgreSQL ends one with a deadlock instead of the
    violation. FOR NO KEY UPDATE does not stop bookings (they only reference the row).
    """
    db.session.execute(select(Doctor.id).where(Doctor.id == doctor_id).with_for_update(key_share=True))


# Built once with bind parameters, as _IS_BOOKED: the booking path reuses their cache keys and SQL.
_LOCK_PATIENT = select(Patient).where(Patient.id == bindparam("patient_id")).with_for_update(key_share=True)
_OVERLAP = select(Appointment.id).where(
    Appointment.patient_id == bindparam("patient_id"), not_cancelled(),
    Appointment.starts_at < bindparam("ends_at"), Appointment.ends_at > bindparam("starts_at")).limit(1)


def lock_patient(patient_id: int) -> Patient:
    """The patient's row, locked until the transaction ends, so two writes of one patient take turns.

    Without the turn both reach the exclusion constraint ex_appointments_patient_overlap together, and
    each can wait on the other's uncommitted row: PostgreSQL then ends one with a deadlock, not the
    constraint's violation. Callers lock their slot before this, always in that order. The row itself
    is returned so a booking's mail reads the patient without loading them again.
    """
    return db.session.scalar(_LOCK_PATIENT, {"patient_id": patient_id})


def overlap_exists() -> ColumnElement[bool]:
    """patient_overlap_exists as an EXISTS with the bind parameters `patient_id`, `starts_at` and `ends_at`."""
    return _OVERLAP.exists()


def patient_overlap_exists(patient_id: int, starts_at: datetime, ends_at: datetime,
                           except_appointment_id: int | None = None) -> bool:
    """Would the patient be in two places at once? (PostgreSQL also refuses it in a constraint.) Ask after
    lock_patient, so the second of two writes of one patient sees the first's appointment here."""
    query = _OVERLAP if except_appointment_id is None else _OVERLAP.where(Appointment.id != except_appointment_id)
    return db.session.scalar(query, {"patient_id": patient_id, "starts_at": starts_at, "ends_at": ends_at}) is not None
