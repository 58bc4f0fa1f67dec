"""Finding doctors and the times they are free: the directory as patients browse it.

Every list costs a fixed number of queries: a page of doctors is one count, one page query (with
departments joined), one query for the next free slot of every doctor on the page and one for the
doctors' booking-rule overrides. "Free" is slot_rules.free: offered (live, not withdrawn by an absence),
not booked, ahead; patients are offered only what the booking rules allow (booking_rules.in_window:
after the minimum notice, within the horizon). Holds are invisible to SQL, so the doctor list treats a
held slot as free; the slot lists patients pick from leave held slots out.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import contains_eager, joinedload

from portal.extensions import db
from portal.models import Doctor, Slot
from portal.services import clinic_time, policy
from portal.services.clinic_time import MissingField
from portal.services.directory import listings
from portal.services.errors import NotFound
from portal.services.persistence import Page, paginate
from portal.services.scheduling import availability, booking_rules, holds, slot_rules

MAX_WINDOW_DAYS = 92
MAX_SPECIALITY_SLOTS = 2000


@dataclass(frozen=True)
class DoctorListing:
    doctor: Doctor
    next_free_slot: datetime | None  # starts_at of the earliest free slot (in the window, when one is asked)


@dataclass(frozen=True)
class DoctorDetail:
    doctor: Doctor
    available_slots: list[Slot]
    start: datetime
    end: datetime


@dataclass(frozen=True)
class SpecialityInfo:
    name: str
    doctor_count: int


def _live_doctors():
    return select(Doctor).where(policy.listed_doctor())


def _free_in(lower: datetime | None, upper: datetime | None, window=None):
    """Conditions on Slot (with Doctor in the query): free, offered to patients by the booking rules
    (booking_rules.in_window, passed in when the caller already built it), starting inside [lower, upper)."""
    moment = clinic_time.now()
    conditions = [slot_rules.free(moment), window if window is not None else booking_rules.in_window(moment=moment)]
    if lower is not None:
        conditions.append(Slot.starts_at >= lower)
    if upper is not None:
        conditions.append(Slot.starts_at < upper)
    return conditions


def search_doctors(*, speciality: str | None = None, department_id: int | None = None, q: str | None = None,
                   available_from=None, available_to=None, page: int = 1, per_page: int = 20) -> Page[DoctorListing]:
    """Active doctors by speciality (any case), department, name fragment (any case) and, when
    available_from/available_to is given, only those with a free slot in that window (a missing
    bound defaults as in clinic_time.window). Ordered by name; three queries whatever the page size."""
    query = _live_doctors().options(joinedload(Doctor.department))
    if speciality and speciality.strip():
        query = query.where(func.lower(Doctor.speciality) == speciality.strip().lower())
    if department_id is not None:
        query = query.where(Doctor.department_id == department_id)
    if q and q.strip():
        query = query.where(func.lower(Doctor.full_name).contains(q.strip().lower(), autoescape=True))
    lower = upper = None
    window = booking_rules.in_window()
    if available_from or available_to:
        lower, upper = clinic_time.window(available_from, available_to,
                                          start_field="available_from", end_field="available_to")
        query = query.where(exists(select(Slot.id).where(Slot.doctor_id == Doctor.id,
                                                         *_free_in(lower, upper, window))))
    found = paginate(query.order_by(func.lower(Doctor.full_name), Doctor.id), page, per_page)
    next_free = _next_free_slots([doctor.id for doctor in found.items], lower, upper, window)
    items = [DoctorListing(doctor, next_free.get(doctor.id)) for doctor in found.items]
    return Page(items, found.total, found.page, found.per_page)


def _next_free_slots(doctor_ids: list[int], lower: datetime | None, upper: datetime | None,
                     window=None) -> dict[int, datetime]:
    """The earliest slot of each doctor a patient may book, in one query: per doctor, an index walk on
    ix_slots_doctor_starts that stops at the first such slot (works on PostgreSQL and SQLite)."""
    if not doctor_ids:
        return {}
    first = (select(Slot.starts_at).where(Slot.doctor_id == Doctor.id, *_free_in(lower, upper, window))
             .order_by(Slot.starts_at).limit(1).correlate(Doctor).scalar_subquery())
    rows = db.session.execute(select(Doctor.id, first).where(Doctor.id.in_(doctor_ids)))
    return {doctor_id: starts_at for doctor_id, starts_at in rows if starts_at is not None}


def next_free_slot(doctor_id: int) -> datetime | None:
    """When the doctor's earliest slot a patient may book starts, so a week view opens where there is something
    to pick."""
    return _next_free_slots([doctor_id], None, None).get(doctor_id)


def doctor_detail(doctor_id: int, start=None, end=None) -> DoctorDetail:
    """A doctor and the slots a patient could pick in the window (default the next 14 days):
    free and not held by anyone."""
    doctor = db.session.scalar(_live_doctors().options(joinedload(Doctor.department)).where(Doctor.id == doctor_id))
    if doctor is None:
        raise NotFound("No such doctor.")
    lower, upper = clinic_time.window(start, end, max_days=MAX_WINDOW_DAYS)
    views = availability.doctor_slots(doctor_id, lower, upper, status="free")
    return DoctorDetail(doctor, [view.slot for view in views], lower, upper)


def specialities() -> list[SpecialityInfo]:
    """Each speciality of the active doctors with how many practise it; spellings differing only in
    case count as one."""
    key = func.lower(Doctor.speciality)
    rows = db.session.execute(select(func.min(Doctor.speciality), func.count(Doctor.id))
                              .where(policy.listed_doctor()).group_by(key).order_by(key))
    return [SpecialityInfo(name, count) for name, count in rows]


def speciality_free_slots(name: str, start, end) -> list[Slot]:
    """Free, unheld slots of every doctor of a speciality in [start, end), in time order, each with
    its doctor loaded; at most MAX_SPECIALITY_SLOTS of them.

    MissingField (the API's 400) when start or end is absent, Invalid when start >= end or the window
    is longer than 92 days, NotFound for a speciality no active doctor has, [] when nothing is free.
    """
    for field, value in (("start", start), ("end", end)):
        if value in (None, ""):
            raise MissingField(field)
    lower, upper = clinic_time.window(start, end, max_days=MAX_WINDOW_DAYS, start_field="start", end_field="end")
    wanted = (name or "").strip().lower()
    if db.session.scalar(_live_doctors().with_only_columns(Doctor.id)
                         .where(func.lower(Doctor.speciality) == wanted).limit(1)) is None:
        raise NotFound("No doctor has that speciality.")
    query = (select(Slot).join(Slot.doctor).options(contains_eager(Slot.doctor))
             .where(policy.listed_doctor(), func.lower(Doctor.speciality) == wanted, *_free_in(lower, upper))
             .order_by(Slot.starts_at, Slot.id).limit(MAX_SPECIALITY_SLOTS))
    slots = list(db.session.scalars(query))
    held = holds.held_slot_ids([slot.id for slot in slots])
    return [slot for slot in slots if slot.id not in held]


def department_doctors(department_id: int) -> list[Doctor]:
    """The active doctors of an active department (NotFound otherwise), by name; a department has few."""
    listings.live_department(department_id)
    query = (_live_doctors().options(joinedload(Doctor.department)).where(Doctor.department_id == department_id)
             .order_by(func.lower(Doctor.full_name), Doctor.id))
    return list(db.session.scalars(query))
