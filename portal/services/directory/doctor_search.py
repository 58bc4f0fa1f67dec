"""Finding doctors and the times they are free: the directory as patients browse it.

Every list costs a fixed number of queries: a page of doctors is one page query (with departments joined
and the total as a column, persistence.paginate), one query for the next free slot of every doctor on the
page and one for the doctors' booking-rule overrides. "Free" is slot_rules.free: offered (live, not
withdrawn by an absence), not booked, ahead; patients are offered only what the booking rules allow
(booking_rules.in_window: after the minimum notice, within the horizon). Holds are invisible to SQL, so
the doctor list treats a held slot as free; the slot lists patients pick from leave held slots out.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache

from sqlalchemy import ColumnElement, Select, Subquery, bindparam, exists, func, select, true
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import Doctor, Slot
from portal.models.base import instant_parameter
from portal.services import clinic_time, policy
from portal.services.clinic_time import MissingField
from portal.services.compiled_once import CompiledOnce
from portal.services.directory import listings
from portal.services.errors import NotFound
from portal.services.persistence import Page, known_before, known_rows, on_postgresql, paginate, written_by_database
from portal.services.plain_rows import ItemJson
from portal.services.scheduling import booking_rules, holds, slot_lists, slot_rules

MAX_SPECIALITY_SLOTS = 2000


@dataclass(frozen=True)
class DoctorListing:
    doctor: Doctor
    next_free_slot: datetime | None  # starts_at of the earliest free slot (in the window, when one is asked)


@dataclass(frozen=True)
class DoctorDetail:
    doctor: Doctor
    available_slots: list[slot_lists.SlotRow]
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class SlotDoctor:
    """What a speciality's slot list shows of a slot's doctor."""

    full_name: str
    gender: str | None
    fees: Decimal | None


@dataclass(frozen=True, slots=True)
class SpecialitySlot:
    """A free slot of a speciality with what the list shows of its doctor: a plain row, not Slot and Doctor
    objects."""

    id: int
    doctor_id: int
    starts_at: datetime
    ends_at: datetime
    duration: int
    doctor: SlotDoctor


@dataclass(frozen=True)
class SpecialityInfo:
    name: str
    doctor_count: int


def _live_doctors():
    return select(Doctor).where(policy.listed_doctor())


def _free_in(moment, lower, upper, window) -> list[ColumnElement[bool]]:
    """Conditions on Slot (with Doctor in the query): free at `moment`, offered to patients by the booking rules
    (`window`, booking_rules' condition), starting inside [lower, upper) where given. Values or parameters."""
    conditions = [slot_rules.free(moment), window]
    if lower is not None:
        conditions.append(Slot.starts_at >= lower)
    if upper is not None:
        conditions.append(Slot.starts_at < upper)
    return conditions


def _free_in_parameters(found: booking_rules.Overrides, lower: bool, upper: bool) -> list[ColumnElement[bool]]:
    """_free_in for a statement built once: the moment, the window's bounds (where `lower`, `upper`) and the
    booking window (for the overrides `found`) as parameters, whose values booking_rules.free_values gives."""
    return _free_in(instant_parameter("moment"), instant_parameter("lower") if lower else None,
                    instant_parameter("upper") if upper else None,
                    booking_rules.window_condition(found, booking_rules.window_parameter))


def search_doctors(*, speciality: str | None = None, department_id: int | None = None, q: str | None = None,
                   available_from=None, available_to=None, page: int = 1, per_page: int = 20) -> Page[DoctorListing]:
    """Active doctors by speciality (any case), department, name fragment (any case) and, when
    available_from/available_to is given, only those with a free slot in that window (a missing
    bound defaults as in clinic_time.window). Ordered by name; three queries whatever the page size
    (the overrides, the page, the next free slots)."""
    query = _live_doctors().options(joinedload(Doctor.department))
    if speciality and speciality.strip():
        query = query.where(func.lower(Doctor.speciality) == speciality.strip().lower())
    if department_id is not None:
        query = query.where(Doctor.department_id == department_id)
    if q and q.strip():
        query = query.where(func.lower(Doctor.full_name).contains(q.strip().lower(), autoescape=True))
    lower = upper = None
    found = booking_rules.overrides()
    values = booking_rules.free_values(found)
    if available_from or available_to:
        lower, upper = clinic_time.window(available_from, available_to,
                                          start_field="available_from", end_field="available_to")
        moment = values["moment"]
        window = booking_rules.in_window(moment=moment, found=found)
        query = query.where(exists(select(Slot.id).where(Slot.doctor_id == Doctor.id,
                                                         *_free_in(moment, lower, upper, window))))
    listed = paginate(query.order_by(func.lower(Doctor.full_name), Doctor.id), page, per_page)
    next_free = _next_free_slots([doctor.id for doctor in listed.items], lower, upper, found, values)
    items = [DoctorListing(doctor, next_free.get(doctor.id)) for doctor in listed.items]
    return Page(items, listed.total, listed.page, listed.per_page)


@lru_cache(maxsize=64)
def _next_free_query(found: booking_rules.Overrides, lower: bool, upper: bool) -> Select:
    """_next_free_slots' statement, built once per form (window bounds given or not, the overrides in force)."""
    first = (select(Slot.starts_at).where(Slot.doctor_id == Doctor.id, *_free_in_parameters(found, lower, upper))
             .order_by(Slot.starts_at).limit(1).correlate(Doctor).scalar_subquery())
    return select(Doctor.id, first).where(Doctor.id.in_(bindparam("doctor_ids", expanding=True)))


def _next_free_slots(doctor_ids: list[int], lower: datetime | None, upper: datetime | None,
                     found: booking_rules.Overrides, values: dict) -> dict[int, datetime]:
    """The earliest slot of each doctor a patient may book, in one query: per doctor, an index walk on
    ix_slots_doctor_starts that stops at the first such slot (works on PostgreSQL and SQLite). `values`
    holds the moment and the booking window's bounds (booking_rules.window_values)."""
    if not doctor_ids:
        return {}
    query = _next_free_query(found, lower is not None, upper is not None)
    rows = db.session.execute(query, {**values, "doctor_ids": doctor_ids, "lower": lower, "upper": upper})
    return {doctor_id: starts_at for doctor_id, starts_at in rows if starts_at is not None}


def next_free_slot(doctor_id: int) -> datetime | None:
    """When the doctor's earliest slot a patient may book starts, so a week view opens where there is something
    to pick."""
    found = booking_rules.overrides()
    return _next_free_slots([doctor_id], None, None, found, booking_rules.free_values(found)).get(doctor_id)


@cache
def _detail_doctor_query() -> Select:
    """doctor_detail's doctor (listed, with the department), built once."""
    return _live_doctors().options(joinedload(Doctor.department)).where(Doctor.id == bindparam("doctor_id"))


def doctor_detail(doctor_id: int, start=None, end=None) -> DoctorDetail:
    """A doctor and the slots a patient could pick in the window (default the next 14 days):
    free and not held by anyone."""
    doctor = db.session.scalar(_detail_doctor_query(), {"doctor_id": doctor_id})
    if doctor is None:
        raise NotFound("No such doctor.")
    lower, upper = clinic_time.window(start, end, max_days=slot_lists.MAX_WINDOW_DAYS)
    views = slot_lists.slot_views(doctor, lower, upper, status="free")  # the doctor was read listed just now
    return DoctorDetail(doctor, [view.slot for view in views], lower, upper)


def specialities() -> list[SpecialityInfo]:
    """Each speciality of the active doctors with how many practise it; spellings differing only in
    case count as one."""
    key = func.lower(Doctor.speciality)
    rows = db.session.execute(select(func.min(Doctor.speciality), func.count(Doctor.id))
                              .where(policy.listed_doctor()).group_by(key).order_by(key))
    return [SpecialityInfo(name, count) for name, count in rows]


def _practises() -> ColumnElement[bool]:
    """Whether the doctor practises the speciality :speciality (given lower-cased): any case matches."""
    return func.lower(Doctor.speciality) == bindparam("speciality")


@lru_cache(maxsize=64)
def _speciality_query(found: booking_rules.Overrides, lateral: bool) -> Select:
    """speciality_free_slots' statement, built once per set of overrides in force: plain rows of the columns
    SpecialitySlotSchema shows, not Slot and Doctor objects (their ORM loading cost a sixth of a day's list).

    On PostgreSQL (`lateral`) the slots are a LATERAL subquery of each doctor of the speciality, so the plan
    is always one walk of ix_slots_doctor_starts per doctor (about 14 × 16 rows for a day at 1,000,000 slots).
    As a plain join, PostgreSQL read every doctor's slots of the window through ix_slots_starts and threw
    most away (3,200 rows, 3,900 buffers, 4 times the time), and kept doing so in the generic plan of the
    prepared statement whatever random_page_cost said (docs/performance.md, "Fifth round"). SQLite has no
    LATERAL; its nested loops start from the doctors by themselves.
    """
    doctor_columns = (Doctor.full_name, Doctor.gender, Doctor.fees)
    doctors = (policy.listed_doctor(), _practises())
    if not lateral:
        return (select(Slot.id, Slot.doctor_id, Slot.starts_at, Slot.ends_at, Slot.duration, *doctor_columns)
                .join(Slot.doctor).where(*doctors, *_free_in_parameters(found, True, True))
                .order_by(Slot.starts_at, Slot.id).limit(MAX_SPECIALITY_SLOTS))
    free = (select(Slot.id, Slot.doctor_id, Slot.starts_at, Slot.ends_at, Slot.duration)
            .where(Slot.doctor_id == Doctor.id, *_free_in_parameters(found, True, True)).lateral("free"))
    return (select(free.c.id, free.c.doctor_id, free.c.starts_at, free.c.ends_at, free.c.duration, *doctor_columns)
            .select_from(Doctor).join(free, true()).where(*doctors)
            .order_by(free.c.starts_at, free.c.id).limit(MAX_SPECIALITY_SLOTS))


def _known_before(free: Subquery, *columns) -> Select:
    """`columns` of a speciality's free slots (`free`), in time order, after whether any listed doctor practises
    the speciality (persistence.known_before): an empty window ([]) and an unknown speciality (404) are told apart
    by the same statement, where a second statement asked on every empty day (a third of the bench's windows)."""
    return (known_before(exists(_live_doctors().where(_practises())), free, *columns)
            .order_by(free.c.starts_at, free.c.id))


@lru_cache(maxsize=64)
def _rows_query(found: booking_rules.Overrides, lateral: bool) -> Select:
    """_speciality_query after whether the speciality is known (_known_before)."""
    free = _speciality_query(found, lateral).subquery("free")
    return _known_before(free, *free.c)


def speciality_free_slots(name: str, start, end) -> list[SpecialitySlot]:
    """Free, unheld slots of every doctor of a speciality in [start, end), in time order, each with
    its doctor's name, gender and fees; at most MAX_SPECIALITY_SLOTS of them.

    MissingField (the API's 400) when start or end is absent, Invalid when start >= end or the window
    is longer than 92 days, NotFound for a speciality no active doctor has, [] when nothing is free.
    """
    lateral = on_postgresql()
    rows = _speciality_free_rows(name, start, end, lambda found: _rows_query(found, lateral))
    return [SpecialitySlot(slot_id, doctor_id, starts_at, ends_at, duration, SlotDoctor(*doctor))
            for slot_id, doctor_id, starts_at, ends_at, duration, *doctor in rows]


def speciality_free_slots_json(name: str, start, end, item_json: ItemJson) -> list[str] | None:
    """speciality_free_slots, each slot as the JSON text `item_json` (api/database_json.py) makes of a
    SpecialitySlot's columns, written by PostgreSQL; None on a database that does not (SQLite): ask
    speciality_free_slots there."""
    item_json = written_by_database(item_json)
    if item_json is None:
        return None
    return [text for _, text in _speciality_free_rows(name, start, end, lambda found: _json_query(found, item_json))]


def _speciality_free_rows(name: str, start, end,
                          statement: Callable[[booking_rules.Overrides], Select | CompiledOnce]) -> list:
    """The rows of `statement` (built for the overrides in force by _known_before; the slot's id first after
    `known`) for a speciality's window, less the held slots; the checks and errors of speciality_free_slots."""
    for field, value in (("start", start), ("end", end)):
        if value in (None, ""):
            raise MissingField(field)
    lower, upper = clinic_time.window(start, end, max_days=slot_lists.MAX_WINDOW_DAYS, start_field="start",
                                      end_field="end")
    wanted = {"speciality": (name or "").strip().lower()}
    found_rows = slot_lists.free_rows(statement, {**wanted, "lower": lower, "upper": upper})
    # NotFound when no listed doctor practises it (so no slot of it is free either)
    rows = [row[1:] for row in known_rows(found_rows, "No doctor has that speciality.")]
    held = holds.held_slot_ids([row[0] for row in rows])
    return [row for row in rows if row[0] not in held]


@lru_cache(maxsize=64)
def _json_query(found: booking_rules.Overrides, item_json: ItemJson) -> CompiledOnce:
    """_speciality_query (PostgreSQL's) with each slot as its JSON text: (known, slot id, text) in the same order
    (_known_before), run from its SQL compiled once (services/compiled_once.py)."""
    free = _speciality_query(found, True).subquery("free")
    columns = {"id": free.c.id, "doctor_id": free.c.doctor_id, "starts_at": free.c.starts_at,
               "ends_at": free.c.ends_at, "duration": free.c.duration, "doctor.full_name": free.c.full_name,
               "doctor.gender": free.c.gender, "doctor.fees": free.c.fees}
    return CompiledOnce(_known_before(free, free.c.id, item_json.column(columns)))


def department_doctors(department_id: int) -> list[Doctor]:
    """The active doctors of an active department (NotFound otherwise), by name; a department has few."""
    listings.live_department(department_id)
    query = (_live_doctors().options(joinedload(Doctor.department)).where(Doctor.department_id == department_id)
             .order_by(func.lower(Doctor.full_name), Doctor.id))
    return list(db.session.scalars(query))
