"""Doctors' availability: publishing slots one by one or from a weekly plan, and removing them (reading them as
lists show them: slot_lists).

Plans are laid out in clinic wall-clock time and converted day by day, so 09:00 stays 09:00 for
patients across a DST change while the stored UTC instants move by an hour. Overlaps are refused
twice: by a query here (for a clear message and for SQLite) and by PostgreSQL's exclusion
constraint ex_slots_doctor_overlap (for two requests racing); both end as Conflict slot_overlap.
"""
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Doctor, Slot
from portal.services import clinic_time, policy
from portal.services.actor import Actor
from portal.services.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from portal.services.persistence import commit_or_conflict, flush_or_conflict, violated_constraint
from portal.services.scheduling import slot_rules, waitlist

MIN_DURATION, MAX_DURATION = 5, 240
MAX_PLAN_DAYS, MAX_PLAN_SLOTS = 366, 5000
MAX_AHEAD_DAYS = 730  # about two years: further out is a typo, and near year 9999 date arithmetic overflows


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
