"""A doctor's slots as lists show them: each with its state (free, held, booked, past), for the doctor and admins
(every slot) and for patients and visitors (what they may book, inside the doctor's booking window, and what is
taken). One statement for the slots, one hold-store round trip for their holds.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache

from sqlalchemy import ColumnElement, Select, Subquery, bindparam, exists, or_, select

from portal.extensions import db
from portal.models import Doctor, Slot, User
from portal.models.base import instant_parameter
from portal.services import clinic_time, compiled_once, policy, read_transactions
from portal.services.compiled_once import CompiledOnce
from portal.services.errors import Invalid
from portal.services.persistence import known_before, known_rows, written_by_database
from portal.services.plain_rows import ItemJson, item_column
from portal.services.scheduling import booking_rules, holds, slot_rules

MAX_WINDOW_DAYS = 92  # the longest window any slot list reads: a doctor's, a speciality's (directory/doctor_search)
STATES = ("free", "held", "booked")


@dataclass(frozen=True, slots=True)
class SlotRow:
    """The columns of a slot that lists show. A plain row: an ORM object per listed slot (identity map,
    instance state) cost more than the rest of a week's list (docs/performance.md)."""

    id: int
    doctor_id: int
    starts_at: datetime
    ends_at: datetime
    duration: int


@dataclass(frozen=True)
class SlotView:
    """A slot as seen from outside: free, held, booked, or past (started without a booking).

    held_by is the holding patient's id, so a face can tell "your hold" apart; never show it to others.
    """

    slot: SlotRow
    state: str
    held_by: int | None = None


def doctor_slots(doctor_id: int, start=None, end=None, status: str | None = None,
                 viewer: User | None = None) -> list[SlotView]:
    """A doctor's shown slots (live; inside an absence only when booked) in a window (default the next
    14 days, at most 92) with their states.

    The doctor must be one the viewer may see (policy.seen_doctor: listed, or their own / an admin's).
    Patients and visitors see only the free slots they may book (booking_rules.in_window: not sooner than
    the minimum notice, not beyond the horizon); the doctor and admins see every slot, since they book
    outside the rules. One query for the slots and whether each is booked (for patients and visitors with
    the doctor's gate and window inside it), one hold-store round trip for the holds.
    """
    if policy.may_act_for_doctor(viewer, doctor_id):
        return slot_views(policy.seen_doctor(viewer, doctor_id), start, end, status, viewer)
    return _views(_listed_rows(doctor_id, start, end, status, viewer, _listed_rows_query), status)


def listed_slots_json(doctor_id: int, start, end, status: str | None, viewer: User | None,
                      item_json: ItemJson) -> list[str] | None:
    """doctor_slots as patients and visitors see them, each slot as the JSON text `item_json` (api/database_json)
    makes of a SlotView's columns, written by PostgreSQL, its state added here (holds live in Redis). None where
    doctor_slots must answer: for the doctor and admins (every slot), and on a database that does not (SQLite)."""
    item_json = written_by_database(item_json)
    if item_json is None or policy.may_act_for_doctor(viewer, doctor_id):
        return None
    rows = _listed_rows(doctor_id, start, end, status, viewer,
                        lambda found, shown: _listed_json_list(found, shown, item_json))
    return [item_json.complete(row.item, {"state": state}) for row, state, _ in _states(rows, status)]


def _listed_rows(doctor_id: int, start, end, status: str | None, viewer: User | None,
                 statement: Callable[[booking_rules.Overrides, str | None], Select | CompiledOnce]) -> list:
    """The rows of `statement` (built for the overrides in force and the status by _known_before) for the doctor's
    window; NotFound for a doctor the viewer may not see."""
    lower, upper, moment = _window(start, end, status)
    rows = free_rows(lambda found: statement(found, status or None),
                     {"doctor_id": doctor_id, "lower": lower, "upper": upper}, moment)
    return known_rows(rows, "No such doctor.")  # NotFound for a doctor the directory does not list


def free_rows(statement: Callable[[booking_rules.Overrides], Select | CompiledOnce], values: dict,
              moment: datetime | None = None) -> list:
    """The rows of a public slot list's `statement`, built for the booking-rule overrides in force and run with
    `values` and the booking windows at `moment` (booking_rules.free_values): the list's only reads, so run in
    autocommit (read_transactions.autocommitted)."""
    with read_transactions.autocommitted():
        found = booking_rules.overrides()
        return compiled_once.run(statement(found), {**values, **booking_rules.free_values(found, moment)}).all()


def _shown_slots(status: str | None) -> Select:
    """A doctor's (:doctor_id) shown slots starting in [:lower, :upper), as plain rows with whether each is
    booked and whether it is still to come at :moment (an ORM object per listed slot cost more than the rest of
    a week's list), narrowed by `status`."""
    moment = instant_parameter("moment")
    query = (select(Slot.id, Slot.doctor_id, Slot.starts_at, Slot.ends_at, Slot.duration,
                    slot_rules.booked().label("is_booked"), (Slot.starts_at > moment).label("upcoming"))
             .where(Slot.doctor_id == bindparam("doctor_id"), slot_rules.shown(),
                    Slot.starts_at >= instant_parameter("lower"), Slot.starts_at < instant_parameter("upper"))
             .order_by(Slot.starts_at))
    if status in ("free", "held"):
        query = query.where(slot_rules.free(moment))
    elif status == "booked":
        query = query.where(slot_rules.booked())
    return query


@cache
def _slot_list(offered_only: bool, status: str | None) -> Select:
    """slot_views' statement, built once per form: SQLAlchemy then reuses its cache key and compiled SQL instead
    of building the nested slot conditions again on every read. With offered_only, a free slot outside the
    doctor's booking window (given as parameters) is left out."""
    query = _shown_slots(status)
    if offered_only:
        window = booking_rules.starts_within(booking_rules.window_parameter("earliest"),
                                             booking_rules.window_parameter("end"))
        query = query.where(_offered_within(window))
    return query


@lru_cache(maxsize=64)
def _listed_slot_list(found: booking_rules.Overrides, status: str | None) -> Select:
    """doctor_slots' statement for patients and visitors, built once per set of overrides in force: the doctor's
    gate (policy.listed_doctor) and booking window (window_condition) are conditions on the doctor joined to
    the slots, so the doctor costs no statement of their own (6,014 → 5,593 Python calls a public week)."""
    window = booking_rules.window_condition(found, booking_rules.window_parameter)
    return (_shown_slots(status).join(Doctor, Doctor.id == Slot.doctor_id)
            .where(policy.listed_doctor(), _offered_within(window)))


def _known_before(listed: Subquery, *columns) -> Select:
    """`columns` of a doctor's listed slots (`listed`, from _listed_slot_list), in time order, after whether the
    directory lists the doctor (persistence.known_before): an empty window ([]) and a doctor patients and visitors
    may not see (404) are told apart by the same statement, where an empty window asked policy.seen_doctor in a
    second one."""
    listed_doctor = exists().where(Doctor.id == bindparam("doctor_id"), policy.listed_doctor())
    return known_before(listed_doctor, listed, *columns).order_by(listed.c.starts_at)


@lru_cache(maxsize=64)
def _listed_rows_query(found: booking_rules.Overrides, status: str | None) -> Select:
    """_listed_slot_list after whether the doctor is listed (_known_before)."""
    listed = _listed_slot_list(found, status).subquery("listed")
    return _known_before(listed, *listed.c)


def _offered_within(window: ColumnElement[bool]) -> ColumnElement[bool]:
    """What patients and visitors are shown of a doctor's slots: every slot that is not free (booked, past),
    and the free ones only inside the booking `window` (at the parameter `moment`)."""
    return or_(~slot_rules.free(instant_parameter("moment")), window)


@lru_cache(maxsize=64)
def _listed_json_list(found: booking_rules.Overrides, status: str | None, item_json: ItemJson) -> CompiledOnce:
    """_listed_slot_list with each slot as its JSON text but for its state: (known, id, upcoming, is_booked, item)
    (_known_before), plain values all, so it runs from its SQL compiled once (services/compiled_once.py)."""
    listed = _listed_slot_list(found, status).subquery()
    columns = {f"slot.{name}": listed.c[name] for name in ("id", "doctor_id", "starts_at", "ends_at", "duration")}
    return CompiledOnce(_known_before(listed, listed.c.id, listed.c.upcoming, listed.c.is_booked,
                                      item_column(item_json, columns, later=("state",))))


def _window(start, end, status: str | None) -> tuple[datetime, datetime, datetime]:
    """The window's bounds and now; Invalid for an unknown status or a bad window."""
    if status not in (None, "", *STATES):
        raise Invalid.field("status", f"Choose one of: {', '.join(STATES)}.")
    lower, upper = clinic_time.window(start, end, max_days=MAX_WINDOW_DAYS)
    return lower, upper, clinic_time.now()


def slot_views(doctor: Doctor, start=None, end=None, status: str | None = None,
               viewer: User | None = None) -> list[SlotView]:
    """doctor_slots for a doctor the caller has just read through the gate (policy.seen_doctor, or a
    query on policy.listed_doctor()), so the doctor is not read twice."""
    lower, upper, moment = _window(start, end, status)
    offered_only = not policy.may_act_for_doctor(viewer, doctor.id)  # free but outside the window: not offered
    values = {"doctor_id": doctor.id, "lower": lower, "upper": upper, "moment": moment}
    if offered_only:
        values |= booking_rules.doctor_window(doctor, moment)
    return _views(db.session.execute(_slot_list(offered_only, status or None), values).all(), status)


def _states(rows, status: str | None):
    """Each row (id, is_booked, upcoming, ...) with its state and hold, those of `status` only when given; the
    holds of the free ones read in one hold-store round trip."""
    holders = holds.slot_holders([row.id for row in rows if not row.is_booked and row.upcoming])
    for row in rows:
        hold = holders.get(row.id)
        state = "booked" if row.is_booked else "held" if hold else "free" if row.upcoming else "past"
        if not status or state == status:
            yield row, state, hold


def _views(rows, status: str | None) -> list[SlotView]:
    return [SlotView(SlotRow(row.id, row.doctor_id, row.starts_at, row.ends_at, row.duration), state,
                     hold.patient_id if hold else None) for row, state, hold in _states(rows, status)]
