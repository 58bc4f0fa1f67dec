"""Reading appointments: who sees which (a patient their own, a doctor those with them, an admin all),
lists by window and status, and single reads. Every read leaves an audit row; lists load patient,
doctor and slot in a fixed number of queries whatever their length.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Select, bindparam, or_
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, Doctor, Patient, Slot
from portal.services import audit, clinic_time, policy
from portal.services.actor import Actor
from portal.services.errors import Invalid, NotFound
from portal.services.persistence import Page, PagedQuery, commit_keeping_loaded, written_by_database
from portal.services.plain_rows import ItemJson, Party, PlainRows, listed
from portal.services.scheduling import slot_rules

ST = AppointmentStatus


def visible_appointments(actor: Actor) -> Select:
    """The appointments the actor may see (policy decides), as a query to narrow further; someone acting
    through a signed mail link sees only that link's patient's."""
    if actor.link_patient_id is not None:
        return policy.linked_appointments(actor.link_patient_id)
    return policy.visible_appointments(actor.user)


# Built once: loader options are immutable, so every query can share them instead of building its own.
_PARTIES = (joinedload(Appointment.patient).joinedload(Patient.user), joinedload(Appointment.doctor),
            joinedload(Appointment.slot))


def with_parties(query: Select) -> Select:
    """Patient (with account), doctor and slot loaded with the appointments, in the same query."""
    return query.options(*_PARTIES)


@dataclass(frozen=True, slots=True)
class SlotLength:
    duration: int


@dataclass(frozen=True, slots=True)
class AppointmentRow:
    """The columns of an appointment that its API answer shows (AppointmentSchema), with its parties."""

    id: int
    patient_id: int
    status: str
    starts_at: datetime
    ends_at: datetime
    reason: str | None
    slot_id: int
    rescheduled_from_slot_id: int | None
    created_at: datetime
    cancelled_at: datetime | None
    confirmed_at: datetime | None
    slot: SlotLength
    patient: Party
    doctor: Party


def _appointment_row(id_, patient_id, status, starts_at, ends_at, reason, slot_id, moved_from, created_at,
                     cancelled_at, confirmed_at, duration, patient_name, doctor_id, doctor_name, speciality):
    return AppointmentRow(id_, patient_id, status, starts_at, ends_at, reason, slot_id, moved_from, created_at,
                          cancelled_at, confirmed_at, SlotLength(duration), Party(patient_id, patient_name),
                          Party(doctor_id, doctor_name, speciality))


# AppointmentRow's attributes and their columns, in _appointment_row's order (a nested one's as `doctor.full_name`).
_ROW_COLUMNS = {
    "id": Appointment.id, "patient_id": Appointment.patient_id, "status": Appointment.status,
    "starts_at": Appointment.starts_at, "ends_at": Appointment.ends_at, "reason": Appointment.reason,
    "slot_id": Appointment.slot_id, "rescheduled_from_slot_id": Appointment.rescheduled_from_slot_id,
    "created_at": Appointment.created_at, "cancelled_at": Appointment.cancelled_at,
    "confirmed_at": Appointment.confirmed_at, "slot.duration": Slot.duration, "patient.full_name": Patient.full_name,
    "doctor.id": Appointment.doctor_id, "doctor.full_name": Doctor.full_name, "doctor.speciality": Doctor.speciality}
_AS_ROW = PlainRows("appointment", _appointment_row, *_ROW_COLUMNS.values())
# The same for an item's JSON (ItemJson), with the patient's id under its nested name.
_JSON_COLUMNS = {**_ROW_COLUMNS, "patient.id": Appointment.patient_id}


def _as_rows(query: Select, item_json: ItemJson | None = None) -> Select:
    """An appointments query as AppointmentRows, or as each one's JSON text that `item_json` writes. Left joins,
    as joinedload's: the page's count needs none of their columns, so PostgreSQL drops them from it (an inner join
    would be walked for every counted row)."""
    return (query.outerjoin(Appointment.slot).outerjoin(Appointment.patient).outerjoin(Appointment.doctor)
            .with_only_columns(listed(_AS_ROW, _JSON_COLUMNS, item_json)))


def list_appointments(actor: Actor, *, status: str | None = None, statuses: tuple[str, ...] | None = None,
                      start=None, end=None, page: int = 1, per_page: int = 20,
                      newest_first: bool = False, patient_id: int | None = None) -> Page[Appointment]:
    """A page of the actor's visible appointments, with patient, doctor and slot loaded (one query and one
    audit insert whatever the page size). `start`/`end` are window bounds as in clinic_time;
    `statuses` keeps any of several (the portal's upcoming list: ACTIVE_STATUSES), as does `status` with them;
    `patient_id` keeps one patient's (a patient page)."""
    filters = _filters(status=status, statuses=statuses, start=start, end=end, patient_id=patient_id)
    query = with_parties(_narrowed(visible_appointments(actor), tuple(filters)))
    return audit.read_page(actor, PagedQuery(_ordered(query, newest_first)), "appointment", page, per_page, filters)


def appointment_rows(actor: Actor, *, status: str | None = None, start=None, end=None, page: int = 1,
                     per_page: int = 20, item_json: ItemJson | None = None) -> Page[AppointmentRow] | Page[str]:
    """The page list_appointments gives, audited alike, as plain rows of what the API's answer shows; with
    `item_json`, on PostgreSQL, as the JSON text it writes of each (Page.json_items).

    Five ORM objects a listed appointment (and their columns) cost more than the rest of the request. The
    statement is built once per reader's role and set of filters (values bound at execution). For a signed-in
    caller (the API's list), read through policy's template of their role; a signed mail link's holder reads
    through list_appointments (visible_appointments).
    """
    filters = _filters(status=status, start=start, end=end)
    pages = _rows_page(policy.appointment_reader(actor.user), tuple(filters), written_by_database(item_json))
    return audit.read_page(actor, pages, "appointment", page, per_page, {**policy.viewer(actor.user), **filters})


@lru_cache(maxsize=128)
def _rows_page(role: str, filters: tuple[str, ...], item_json: ItemJson | None) -> audit.ReadPages:
    query = _as_rows(_narrowed(policy.appointments_template(role), filters), item_json)
    return audit.ReadPages(_ordered(query, False), Appointment.id, Appointment.patient_id)


# A list's filters, each a condition on a bind parameter named as the filter (values given at execution).
_CONDITIONS = {
    "filter_statuses": Appointment.status.in_(bindparam("filter_statuses", expanding=True)),
    "filter_from": Appointment.starts_at >= bindparam("filter_from"),
    "filter_to": Appointment.starts_at < bindparam("filter_to"),
    "filter_patient": Appointment.patient_id == bindparam("filter_patient"),
}


def _filters(*, status: str | None, statuses: tuple[str, ...] | None = None, start, end,
             patient_id: int | None = None) -> dict:
    """The values of the list's filters that are set (see list_appointments), by their parameter's name."""
    wanted = (*(statuses or ()), *((status,) if status else ()))
    if any(value not in {s.value for s in ST} for value in wanted):
        raise Invalid.field("status", f"Choose one of: {', '.join(s.value for s in ST)}.")
    values = {"filter_statuses": list(wanted) or None,
              "filter_from": clinic_time.parse_bound(start, end=False, field="from"),
              "filter_to": clinic_time.parse_bound(end, end=True, field="to"), "filter_patient": patient_id}
    return {name: value for name, value in values.items() if value is not None}


def _narrowed(query: Select, filters: tuple[str, ...]) -> Select:
    return query.where(*(_CONDITIONS[name] for name in filters))


def _ordered(query: Select, newest_first: bool) -> Select:
    return query.order_by(Appointment.starts_at.desc() if newest_first else Appointment.starts_at, Appointment.id)


def upcoming(actor: Actor, *, page: int = 1, per_page: int = 20) -> Page[Appointment]:
    """What is still ahead and will happen: active appointments starting after now, soonest first.
    A cancelled one leaves this list at once; history() shows it."""
    return list_appointments(actor, start=clinic_time.now(), statuses=ACTIVE_STATUSES, page=page, per_page=per_page)


def history(actor: Actor, *, page: int = 1, per_page: int = 20) -> Page[Appointment]:
    """What is no longer ahead, latest first: visits that have begun and cancelled ones whatever their date,
    so that next to the upcoming list (active and ahead) every appointment shows exactly once."""
    query = visible_appointments(actor).where(or_(Appointment.starts_at < clinic_time.now(),
                                                  Appointment.status.not_in(ACTIVE_STATUSES)))
    return audit.read_page(actor, PagedQuery(_ordered(with_parties(query), True)), "appointment", page, per_page)


def unclosed_visits(actor: Actor, *, days: int = 30, limit: int = 50) -> list[Appointment]:
    """Visits before today, within `days`, still scheduled: never marked completed or no-show, so a doctor
    can close what they missed. Oldest first, at most `limit`, audited like any list."""
    today_start, _ = clinic_time.day_bounds(clinic_time.today())
    query = (visible_appointments(actor)
             .where(Appointment.status.in_(ACTIVE_STATUSES), Appointment.starts_at < today_start,
                    Appointment.starts_at >= today_start - timedelta(days=days)))
    visits = list(db.session.scalars(with_parties(query).order_by(Appointment.starts_at, Appointment.id)
                                     .limit(limit)).unique())
    audit.record_many(actor, "read", "appointment", [(a.id, a.patient_id) for a in visits])
    commit_keeping_loaded()
    return visits


def booked_in_window(actor: Actor, doctor_id: int, start, end) -> dict[int, Appointment]:
    """The doctor's live appointments starting in [start, end) by slot id, for a calendar that names who
    comes; visible ones only, audited like any list, one query."""
    query = (visible_appointments(actor)
             .where(Appointment.doctor_id == doctor_id, slot_rules.not_cancelled(),
                    Appointment.starts_at >= start, Appointment.starts_at < end))
    found = {a.slot_id: a for a in db.session.scalars(with_parties(query)).unique()}
    audit.record_many(actor, "read", "appointment", [(a.id, a.patient_id) for a in found.values()])
    commit_keeping_loaded()
    return found


def get_appointment(actor: Actor, appointment_id: int) -> Appointment:
    """One visible appointment with its parties (NotFound otherwise); the read is audited."""
    return _one_visible(actor, Appointment.id == appointment_id)


def booked_in_slot(actor: Actor, slot_id: int) -> Appointment:
    """The live appointment in a slot, so a calendar's booked slot can lead to it (NotFound otherwise)."""
    return _one_visible(actor, Appointment.slot_id == slot_id, slot_rules.not_cancelled())


def _one_visible(actor: Actor, *conditions) -> Appointment:
    appointment = db.session.scalar(with_parties(visible_appointments(actor)).where(*conditions))
    if appointment is None:
        raise NotFound("No such appointment.")
    audit.record(actor, "read", "appointment", appointment.id, appointment.patient_id)
    commit_keeping_loaded()
    return appointment
