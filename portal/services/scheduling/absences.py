"""A doctor's absences (holiday, sick day): marking a range withdraws the free slots in it, deleting
the absence gives them back, and the booked visits inside are listed for staff to move or cancel.

Withdrawing marks each free slot with the absence (slots.absence_id) rather than deleting it, and
slot_rules.offered() keeps marked slots, and any slot an active absence overlaps, off offer in every
list, hold and booking. A booked slot is never withdrawn: its appointment is `affected`.

Races: creating an absence locks the doctor's slots in the range (in id order, as a booking locks
its one slot in slot_rules.bookable_slot) before it decides which are free, so a booking and an
absence of the same slot take turns: either the booking wins and its appointment is listed as
affected, or the absence wins and the booking finds no such slot (404). Deleting locks the doctor's
active absences that overlap the deleted one (in id order), so two deletes of overlapping absences
take turns and a slot never stays marked with an archived absence.

Who: that doctor or an admin (policy.may_act_for_doctor). Patients are Forbidden; another doctor is
Forbidden for a doctor's list (the doctor is public) and NotFound for one absence (it is not theirs).
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select, update

from portal.extensions import db
from portal.models import ACTIVE_STATUSES, Absence, Appointment, Doctor, Role, Slot
from portal.services import audit, clinic_time, policy
from portal.services.actor import Actor
from portal.services.clinic_time import MissingField
from portal.services.errors import DomainError, Forbidden, Invalid, NotFound
from portal.services.persistence import Page, archive_once, paginate
from portal.services.scheduling import slot_rules, waitlist
from portal.services.scheduling.appointment_reads import visible_appointments, with_parties

MAX_DAYS = 366
MAX_AHEAD_DAYS = 730  # as for slots: further out is a typo
MAX_REASON = 200


@dataclass
class AbsenceView:
    """An absence with how many of its doctor's slots it withdrew (still marked with it) and, after
    creating it or on its own page, the upcoming visits inside it."""

    absence: Absence
    withdrawn: int
    affected: list[Appointment] = field(default_factory=list)


@dataclass
class Deleted:
    absence: Absence
    returned_slot_ids: list[int]  # slots ahead offered again (for whoever offers freed slots, e.g. a waitlist)
    still_withdrawn: int  # slots another active absence covers, now marked with that one

    @property
    def returned(self) -> int:
        return len(self.returned_slot_ids)


def _staff(actor: Actor) -> None:
    policy.require_role(actor.user, Role.DOCTOR, Role.ADMIN)


def _managed_doctor(actor: Actor, doctor_id: int) -> Doctor:
    _staff(actor)
    doctor = db.session.get(Doctor, doctor_id)
    if doctor is None or doctor.archived_at is not None:
        raise NotFound("No such doctor.")
    if not policy.may_act_for_doctor(actor.user, doctor_id):
        raise Forbidden("Only that doctor or an admin manages these absences.")
    return doctor


def _bound(value, *, end: bool, name: str) -> datetime:
    if value is None or value == "":
        raise MissingField(name)
    if isinstance(value, (date, datetime, str)):
        return clinic_time.parse_bound(value, end=end, field=name)
    raise Invalid.field(name, "Give a date (YYYY-MM-DD) or a timestamp with offset.")


def range_problems(starts_at, ends_at) -> tuple[dict[str, list[str]], datetime | None, datetime | None]:
    """Every problem of a range at once, and the range as UTC instants [start, end).

    A date as the start means the start of that clinic day, as the end the end of that day, so
    2027-08-02 .. 2027-08-13 covers both days fully (however long DST makes them)."""
    problems: dict[str, list[str]] = {}
    lower = upper = None
    try:
        lower = _bound(starts_at, end=False, name="starts_at")
    except Invalid as error:
        problems.update(error.fields)
    try:
        upper = _bound(ends_at, end=True, name="ends_at")
    except Invalid as error:
        problems.update(error.fields)
    moment = clinic_time.now()
    if lower is not None and lower > moment + timedelta(days=MAX_AHEAD_DAYS):
        problems["starts_at"] = [f"An absence starts at most {MAX_AHEAD_DAYS} days ahead."]
    elif lower is not None and upper is not None:
        if upper <= lower:
            problems["ends_at"] = ["The end must come after the start."]
        elif upper - lower > timedelta(days=MAX_DAYS, hours=1):  # an hour of DST slack
            problems["ends_at"] = [f"An absence lasts at most {MAX_DAYS} days."]
        elif upper <= moment:
            problems["ends_at"] = ["This absence has already ended."]
    return problems, lower, upper


def _clean_reason(reason: str | None) -> str | None:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise Invalid.field("reason", f"Keep the reason under {MAX_REASON} characters.")
    return reason or None


def _in_range(doctor_id: int, lower: datetime, upper: datetime) -> list:
    """Conditions on Slot: the doctor's live slots that overlap [lower, upper)."""
    return [Slot.doctor_id == doctor_id, slot_rules.live(), Slot.starts_at < upper, Slot.ends_at > lower]


def _affected_query(actor: Actor, absence: Absence) -> Select:
    """The doctor's active appointments overlapping the absence that are still ahead, soonest first."""
    return with_parties(visible_appointments(actor).where(
        Appointment.doctor_id == absence.doctor_id, Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.starts_at < absence.ends_at, Appointment.ends_at > absence.starts_at,
        Appointment.starts_at > clinic_time.now())).order_by(Appointment.starts_at, Appointment.id)


def _affected(actor: Actor, absence: Absence) -> list[Appointment]:
    """Read with audit rows (they name patients); the caller's transaction commits them."""
    found = list(db.session.scalars(_affected_query(actor, absence)).unique())
    audit.record_many(actor, "read", "appointment", [(visit.id, visit.patient_id) for visit in found])
    return found


def create(actor: Actor, doctor_id: int, starts_at, ends_at, reason: str | None = None) -> AbsenceView:
    """Mark the doctor absent in [starts_at, ends_at) and withdraw their free slots ahead in it, in one transaction.

    Bounds are dates (whole clinic days, both included) or timestamps with offset. Invalid (every
    field problem at once) when the end is not after the start, the range is longer than 366 days,
    it has already ended or starts more than 730 days ahead. Overlapping absences are allowed: a
    slot another one already withdrew stays with that one. The answer lists the upcoming booked
    visits inside (`affected`), which stay booked until staff move or cancel them.
    """
    _managed_doctor(actor, doctor_id)
    problems, lower, upper = range_problems(starts_at, ends_at)
    try:
        reason = _clean_reason(reason)
    except Invalid as error:
        problems.update(error.fields)
    if problems:
        raise Invalid(problems)
    moment = clinic_time.now()
    try:
        # the slots first, in id order: a booking locks its slot before it checks it (bookable_slot)
        db.session.execute(select(Slot.id).where(*_in_range(doctor_id, lower, upper))
                           .order_by(Slot.id).with_for_update(of=Slot))
        absence = Absence(doctor_id=doctor_id, starts_at=lower, ends_at=upper, reason=reason,
                          created_by_id=actor.user_id)
        db.session.add(absence)
        db.session.flush()
        # a fresh statement sees every booking committed before our locks were granted
        withdrawn = db.session.execute(
            update(Slot).where(*_in_range(doctor_id, lower, upper), Slot.starts_at > moment,
                               Slot.absence_id.is_(None), ~slot_rules.booked())
            .values(absence_id=absence.id).execution_options(synchronize_session=False)).rowcount
        affected = _affected(actor, absence)
        # a withdrawn slot offered from the waitlist: that offer ends (its entry waits again)
        waitlist.withdraw_offers(select(Slot.id).where(Slot.absence_id == absence.id))
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return AbsenceView(absence, withdrawn, affected)


def _withdrawn_counts(absence_ids: list[int]) -> dict[int, int]:
    if not absence_ids:
        return {}
    rows = db.session.execute(select(Slot.absence_id, func.count(Slot.id))
                              .where(Slot.absence_id.in_(absence_ids)).group_by(Slot.absence_id))
    return dict(rows.all())


def list_absences(actor: Actor, doctor_id: int, *, page: int = 1, per_page: int = 20,
                  include_archived: bool = False) -> Page[AbsenceView]:
    """A page of the doctor's absences, latest start first (so those ahead come before those past);
    deleted ones only with include_archived. One query for the page (with its total), one for the counts."""
    _managed_doctor(actor, doctor_id)
    query = select(Absence).where(Absence.doctor_id == doctor_id)
    if not include_archived:
        query = query.where(Absence.archived_at.is_(None))
    found = paginate(query.order_by(Absence.starts_at.desc(), Absence.id.desc()), page, per_page)
    counts = _withdrawn_counts([absence.id for absence in found.items])
    return Page([AbsenceView(absence, counts.get(absence.id, 0)) for absence in found.items],
                found.total, found.page, found.per_page)


def _own_absence(actor: Actor, absence_id: int, *, lock: bool = False) -> Absence:
    _staff(actor)
    query = select(Absence).where(Absence.id == absence_id, Absence.archived_at.is_(None))
    if lock:
        query = query.with_for_update()
    absence = db.session.scalar(query)
    if absence is None or not policy.may_act_for_doctor(actor.user, absence.doctor_id):
        raise NotFound("No such absence.")
    return absence


def get_absence(actor: Actor, absence_id: int) -> AbsenceView:
    """One active absence with its upcoming affected visits (read with audit rows), for its page."""
    absence = _own_absence(actor, absence_id)
    affected = _affected(actor, absence)
    view = AbsenceView(absence, _withdrawn_counts([absence.id]).get(absence.id, 0), affected)
    db.session.commit()  # the audit rows
    return view


def delete(actor: Actor, absence_id: int) -> Deleted:
    """Delete (archive) an absence: the row stays, its slots are offered again in one transaction,
    except those another active absence of the doctor overlaps, which that one now withdraws.

    `returned` counts the slots ahead that are free to book again: those this absence withdrew and
    any freed inside it meanwhile (a cancelled visit's slot)."""
    try:
        absence = _own_absence(actor, absence_id)
        # every active absence of the doctor that overlaps this one, in id order, this one included
        overlapping = list(db.session.scalars(
            select(Absence.id).where(Absence.doctor_id == absence.doctor_id, Absence.archived_at.is_(None),
                                     Absence.starts_at < absence.ends_at, Absence.ends_at > absence.starts_at)
            .order_by(Absence.id).with_for_update()))
        moment = clinic_time.now()
        if absence.id not in overlapping or not archive_once(Absence, absence.id, moment):
            raise NotFound("No such absence.")  # another request deleted it first
    except DomainError:
        db.session.rollback()
        raise
    other = (select(func.min(Absence.id)).where(
        Absence.doctor_id == Slot.doctor_id, Absence.archived_at.is_(None), Absence.id != absence.id,
        Absence.starts_at < Slot.ends_at, Absence.ends_at > Slot.starts_at).scalar_subquery())
    db.session.execute(update(Slot).where(Slot.absence_id == absence.id).values(absence_id=other)
                       .execution_options(synchronize_session=False))
    returned = list(db.session.scalars(select(Slot.id).where(
        *_in_range(absence.doctor_id, absence.starts_at, absence.ends_at), slot_rules.free(moment))
        .order_by(Slot.starts_at)))
    kept = db.session.scalar(select(func.count(Slot.id)).where(
        *_in_range(absence.doctor_id, absence.starts_at, absence.ends_at), Slot.starts_at > moment,
        slot_rules.withdrawn(), ~slot_rules.booked()))
    waitlist.announce_free(returned)  # someone may be waiting for these times
    db.session.commit()
    return Deleted(db.session.get(Absence, absence.id), returned, kept)
