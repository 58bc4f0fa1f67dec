"""Doctors' availability: publishing slots one by one or from a weekly plan, removing them, reading them.

Plans are laid out in clinic wall-clock time and converted day by day, so 09:00 stays 09:00 for
patients across a DST change while the stored UTC instants move by an hour. Overlaps are refused
twice: by a query here (for a clear message and for SQLite) and by PostgreSQL's exclusion
constraint ex_slots_doctor_overlap (for two requests racing); both end as Conflict slot_overlap.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, Subquery, bindparam, exists, or_, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Doctor, Slot, User
from portal.models.base import instant_parameter
from portal.services import clinic_time, compiled_once, policy
from portal.services.actor import Actor
from portal.services.compiled_once import CompiledOnce
from portal.services.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from portal.services.persistence import (
    commit_or_conflict,
    flush_or_conflict,
    known_before,
    known_rows,
    violated_constraint,
    written_by_database,
)
from portal.services.plain_rows import ItemJson, item_column
from portal.services.scheduling import booking_rules, holds, slot_rules, waitlist

MIN_DURATION, MAX_DURATION = 5, 240
MAX_PLAN_DAYS, MAX_PLAN_SLOTS = 366, 5000
MAX_WINDOW_DAYS = 92
MAX_AHEAD_DAYS = 730  # about two years: further out is a typo, and near year 9999 date arithmetic overflows
STATES = ("free", "held", "booked")


def _overlap() -> Conflict:
    return Conflict("This overlaps another slot of the doctor.", code="slot_overlap")


OVERLAP_CONFLICTS = {"ex_slots_doctor_overlap": _overlap}


def _managed_doctor(actor: Actor, doctor_id: int) -> Doctor:
    doctor = db.session.get(Doctor, doctor_id)
    if doctor is None or doctor.archived_at is not None:
        raise NotFound("No such doctor.")
    if not policy.may_act_for_doctor(actor.user, doctor_id):
        raise Forbidden("Only that doctor or an admin manages these slots.")
    return doctor


def _check_duration(duration: int) -> int:
    if isinstance(duration, bool) or not isinstance(duration, int) or not MIN_DURATION <= duration <= MAX_DURATION:
        raise Invalid.field("duration", f"Give whole minutes from {MIN_DURATION} to {MAX_DURATION}.")
    return duration


def add_slot(actor: Actor, doctor_id: int, starts_at: datetime, duration: int) -> Slot:
    """Publish one slot (that doctor or an admin); Conflict slot_overlap when it overlaps a live one."""
    _managed_doctor(actor, doctor_id)
    duration = _check_duration(duration)
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        raise Invalid.field("starts_at", "Give the start with its offset.")
    if starts_at <= clinic_time.now():
        raise Invalid.field("starts_at", "Slot is in the past.")
    if starts_at > clinic_time.now() + timedelta(days=MAX_AHEAD_DAYS):  # before any arithmetic on it
        raise Invalid.field("starts_at", f"Publish slots at most {MAX_AHEAD_DAYS} days ahead.")
    ends_at = starts_at + timedelta(minutes=duration)
    slot_rules.lock_calendar(doctor_id)
    clash = select(Slot.id).where(Slot.doctor_id == doctor_id, slot_rules.live(),
                                  Slot.starts_at < ends_at, Slot.ends_at > starts_at).limit(1)
    if db.session.scalar(clash) is not None:
        raise _overlap()
    slot = Slot(doctor_id=doctor_id, starts_at=starts_at, ends_at=ends_at, duration=duration)
    db.session.add(slot)
    flush_or_conflict(OVERLAP_CONFLICTS)
    waitlist.announce_free([slot.id])  # someone may be waiting for this time
    commit_or_conflict(OVERLAP_CONFLICTS)
    return slot


class PlanResult(NamedTuple):
    created: list[Slot]
    skipped: int  # overlapping an existing or earlier slot, or already started


def add_weekly_plan(actor: Actor, doctor_id: int, *, from_date: date, to_date: date, weekdays: list[int],
                    start_time: time, end_time: time, duration: int) -> PlanResult:
    """Slots of `duration` minutes from start_time to end_time on the given weekdays (Monday=0), in clinic time.

    Times in the spring DST gap do not exist and are left out; slots that overlap live ones (or
    have already started, when the plan begins today) are skipped and counted. One query reads the
    doctor's existing slots in the range, one bulk insert writes the new ones.

    A plan published twice at once (a double click) trips the exclusion constraint in all but the
    first request; those read the slots again and retry once, so the winner's slots count as skipped.
    Only a request that collides a second time (a third plan racing in) gets Conflict slot_overlap.
    """
    _managed_doctor(actor, doctor_id)
    starts = _plan_instants(from_date, to_date, weekdays, start_time, end_time, duration)
    for _attempt in range(2):
        try:
            return _insert_plan(doctor_id, starts, duration)
        except IntegrityError as error:
            db.session.rollback()
            if not _is_overlap(error):
                raise
    raise _overlap()


def _is_overlap(error: IntegrityError) -> bool:
    constraint = violated_constraint(error)
    return any(key in constraint for key in OVERLAP_CONFLICTS)


def _insert_plan(doctor_id: int, starts: list[datetime], duration: int) -> PlanResult:
    """Skip the starts that clash with live slots read now, insert the rest, commit (IntegrityError on a race)."""
    length = timedelta(minutes=duration)
    moment = clinic_time.now()
    slot_rules.lock_calendar(doctor_id)
    taken = _live_intervals(doctor_id, starts[0], starts[-1] + length) if starts else []
    fresh, skipped, index, last_end = [], 0, 0, None
    for start in starts:
        end = start + length
        while index < len(taken) and taken[index][1] <= start:
            index += 1
        clashes = index < len(taken) and taken[index][0] < end
        if start <= moment or clashes or (last_end is not None and start < last_end):
            skipped += 1
            continue
        fresh.append(Slot(doctor_id=doctor_id, starts_at=start, ends_at=end, duration=duration))
        last_end = end
    db.session.add_all(fresh)
    db.session.flush()  # the ids, read before the commit expires the rows
    ids = [slot.id for slot in fresh]
    waitlist.announce_free(ids)
    db.session.commit()
    created = list(db.session.scalars(select(Slot).where(Slot.id.in_(ids)).order_by(Slot.starts_at))) if ids else []
    return PlanResult(created, skipped)


def _is_day(value) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def plan_problems(from_date, to_date, weekdays, start_time, end_time, duration) -> dict[str, list[str]]:
    """Every problem of a plan's fields at once, each on the field it is about, so a form shows them together."""
    problems: dict[str, list[str]] = {}
    today = clinic_time.today()
    if not _is_day(from_date):
        problems["from_date"] = ["Give the first day."]
    elif from_date < today:
        problems["from_date"] = ["A plan cannot start in the past."]
    if not _is_day(to_date):
        problems["to_date"] = ["Give the last day."]
    elif to_date > today + timedelta(days=MAX_AHEAD_DAYS):  # before any arithmetic on the days
        problems["to_date"] = [f"A plan reaches at most {MAX_AHEAD_DAYS} days ahead."]
    elif _is_day(from_date) and from_date > to_date:
        problems["to_date"] = ["The last day must be on or after the first day."]
    elif _is_day(from_date) and (to_date - from_date).days + 1 > MAX_PLAN_DAYS:
        problems["to_date"] = [f"A plan covers at most {MAX_PLAN_DAYS} days."]
    days = set(weekdays or ())
    if not days or not all(isinstance(d, int) and 0 <= d <= 6 for d in days):
        problems["weekdays"] = ["Pick weekdays from 0 (Monday) to 6 (Sunday)."]
    if not isinstance(start_time, time):
        problems["start_time"] = ["Give the start time."]
    if not isinstance(end_time, time):
        problems["end_time"] = ["Give the end time."]
    elif isinstance(start_time, time) and start_time >= end_time:
        problems["end_time"] = ["The end time must be after the start time."]
    try:
        _check_duration(duration)
    except Invalid as error:
        problems.update(error.fields)
    return problems


def _plan_instants(from_date: date, to_date: date, weekdays: list[int], start_time: time, end_time: time,
                   duration: int) -> list[datetime]:
    """The plan's slot starts as UTC instants, in order, after checking that it is sensible and bounded.

    A plan that could make no slot at all says why (no picked weekday in the range, no room for one slot)."""
    problems = plan_problems(from_date, to_date, weekdays, start_time, end_time, duration)
    if problems:
        raise Invalid(problems)
    days = set(weekdays)
    first = start_time.hour * 60 + start_time.minute
    per_day = (end_time.hour * 60 + end_time.minute - first) // duration
    plan_days = [from_date + timedelta(days=n) for n in range((to_date - from_date).days + 1)]
    plan_days = [day for day in plan_days if day.weekday() in days]
    if not plan_days:
        problems["weekdays"] = ["None of the picked weekdays falls between the first and the last day."]
    if per_day == 0:
        problems["duration"] = [f"From {start_time:%H:%M} to {end_time:%H:%M} there is no room for one slot of "
                                f"{duration} minutes."]
    if per_day * len(plan_days) > MAX_PLAN_SLOTS:
        problems["duration"] = [f"A plan makes at most {MAX_PLAN_SLOTS} slots; shorten it."]
    if problems:
        raise Invalid(problems)
    instants = []
    for day in plan_days:
        for n in range(per_day):
            minute = first + n * duration
            instant = clinic_time.local_instant(day, time(minute // 60, minute % 60))
            if instant is not None:
                instants.append(instant)
    return sorted(instants)


def _live_intervals(doctor_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    rows = db.session.execute(
        select(Slot.starts_at, Slot.ends_at)
        .where(Slot.doctor_id == doctor_id, slot_rules.live(), Slot.starts_at < end, Slot.ends_at > start)
        .order_by(Slot.starts_at)
    )
    return [(row.starts_at, row.ends_at) for row in rows]


def remove_slot(actor: Actor, slot_id: int) -> Slot:
    """Withdraw a free slot (kept, marked removed); Conflict slot_booked while an appointment holds it.

    The row lock makes removal and booking of the same slot take turns.
    """
    try:
        slot = db.session.scalar(select(Slot).where(Slot.id == slot_id, slot_rules.live()).with_for_update())
        if slot is None:
            raise NotFound("No such slot.")
        _managed_doctor(actor, slot.doctor_id)
        if slot_rules.is_booked(slot.id):
            raise slot_rules.slot_booked()
    except DomainError:
        db.session.rollback()  # let go of the row lock
        raise
    slot.removed_at = clinic_time.now()
    waitlist.withdraw_offers([slot.id])  # an offer of it ends; its entry waits again
    db.session.commit()
    return slot


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
    found = booking_rules.overrides()
    rows = compiled_once.run(statement(found, status or None), {
        "doctor_id": doctor_id, "lower": lower, "upper": upper, **booking_rules.free_values(found, moment)}).all()
    return known_rows(rows, "No such doctor.")  # NotFound for a doctor the directory does not list


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
