"""Appointments: booking a slot, moving, cancelling and closing it (reading: appointment_reads).

The database decides every booking: the slot row is locked while it is checked and written, the
partial unique index uq_appointments_active_slot allows one live appointment per slot, and on
PostgreSQL ex_appointments_patient_overlap keeps a patient in one place at a time. Whatever slips
past the checks here ends as the same Conflict, never as a 500. Holds only decide who may try:
booking by slot id goes ahead without a hold when Redis is unreachable (the database still
decides), while booking by hold id cannot check the hold then and is Unavailable (holds_unavailable).

Who sees what lives in appointment_reads (anything else is NotFound); every write leaves an audit row.
"""

from functools import cache

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import Select, bindparam, insert, select, true
from sqlalchemy.orm import make_transient_to_detached

from portal.extensions import db
from portal.models import Appointment, AppointmentStatus, Patient, Role, Slot
from portal.models.base import utcnow
from portal.services import audit, change_versions, clinic_time, policy
from portal.services.actor import Actor
from portal.services.clinic_time import MissingField
from portal.services.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, RuleRefusal
from portal.services.jobs import outbox
from portal.services.persistence import commit_or_conflict, conflicts_raised
from portal.services.scheduling import booking_notifications, booking_rules, holds, reminders, slot_rules, waitlist
from portal.services.scheduling.appointment_reads import visible_appointments, with_parties
from portal.services.scheduling.hold_store import Hold

ST = AppointmentStatus
MAX_REASON = 2000
CLOSING_STATUSES = (ST.COMPLETED.value, ST.NO_SHOW.value)


def _overlap() -> Conflict:
    return Conflict("You already have an appointment at that time.", code="appointment_overlap")


BOOKING_CONFLICTS = {
    "uq_appointments_active_slot": slot_rules.slot_booked,
    "appointments.slot_id": slot_rules.slot_booked,  # how SQLite names the same index
    "ex_appointments_patient_overlap": _overlap,
}


# What a booking asks once both its locks are granted (the slot's, then the patient's): is the slot booked, would
# the patient be in two places at once, was the slot offered to them from the waitlist. Each answer must include
# what a racing booking committed while the locks were waited for, which the locking statement's own subqueries
# would not see (their snapshot is taken before it waits); a later statement's snapshot does.
_AFTER_LOCKS = select(slot_rules.booked_exists().label("booked"), slot_rules.overlap_exists().label("overlap"),
                      waitlist.open_offer_exists().label("offered"))
# On SQLite the booking's row is returned as an entity by a statement built once, without the unit of work's flush
# (8,365 → 7,645 Python calls a booking). Its slot, patient and doctor are already in the session (locked just
# before), so reading them costs no statement.
_INSERT_BOOKING = insert(Appointment).returning(Appointment)
# Its times are given, not left to the model's defaults: SQLAlchemy fills those of one data-modifying CTE a
# statement, and _checked_booking has three.
_BOOKED_COLUMNS = ("slot_id", "patient_id", "doctor_id", "starts_at", "ends_at", "reason", "status", "created_by_id",
                   "created_at", "updated_at")
_NOT_YET = dict(rescheduled_from_slot_id=None, cancelled_at=None, confirmed_at=None)  # the rest of a new row


@cache
def _checked_booking() -> Select:
    """On PostgreSQL, the checks after the locks, the booking's row, its audit row and its jobs in one statement:
    the checks are a CTE; the INSERT, a data-modifying CTE, writes only when the slot is not booked and the patient
    free; the audit row is written from what it returns (audit.rows_of), and so are the jobs queued for it
    (outbox.written_with); the SELECT returns the checks and the jobs written (ids, due times). The statement's
    one snapshot is taken after both locks were granted. Its write to appointments is declared
    (change_versions.declaring): the statement is a SELECT."""
    table = Appointment.__table__
    checks = _AFTER_LOCKS.cte("checks")
    columns = ("id", *_BOOKED_COLUMNS)  # the id drawn with the locks (slot_rules.locked_for_booking)
    row = select(*(bindparam(name, type_=table.c[name].type) for name in columns)).where(
        ~checks.c.booked, ~checks.c.overlap)
    booked = insert(table).from_select(columns, row).returning(table.c.id, table.c.patient_id).cte("booked")
    queued, jobs = outbox.written_with(booked)
    statement = (select(checks.c.booked, checks.c.overlap, checks.c.offered, jobs.c.ids, jobs.c.due_ats)
                 .select_from(checks.join(jobs, true())).add_cte(audit.rows_of(booked)).add_cte(queued))
    return change_versions.declaring(statement, ("appointments", "insert"))


def _book_if_free(actor: Actor, values: dict, slot: Slot, patient: Patient,
                  appointment_id: int | None) -> tuple[bool, Appointment]:
    """The appointment with `values`, its audit row, its mail and its reminders, unless the slot is booked
    (slot_booked) or the patient elsewhere then (appointment_overlap); also whether the slot stood offered to the
    patient from the waitlist.

    One statement when the locks drew the appointment's id (`appointment_id`, on PostgreSQL): the appointment is
    built here as the statement will write it, its mail and reminders are composed from it, the statement writes
    all of them or nothing, and the appointment then joins the session as if read back (nothing of it is left to
    load). Without an id (SQLite: no data-modifying CTE) the checks, the row and the audit row are three
    statements, and the jobs are written as the transaction commits (outbox.write_pending)."""
    if appointment_id is not None:
        values = {**values, "id": appointment_id}
        appointment = Appointment(**values, **_NOT_YET, slot=slot, patient=patient, doctor=slot.doctor)
        _announce(appointment)
        booked, overlap, offered, job_ids, job_due_ats = db.session.execute(_checked_booking(), {
            **values, **audit.cte_values(actor, "create", "appointment"), **outbox.pending_values(db.session())}).one()
        _refuse_when(booked, overlap)
        outbox.note_written(db.session(), outbox.written_pairs(job_ids, job_due_ats))
        make_transient_to_detached(appointment)
        db.session.add(appointment)
        return offered, appointment
    booked, overlap, offered = db.session.execute(_AFTER_LOCKS, values).one()
    _refuse_when(booked, overlap)
    appointment = db.session.scalars(_INSERT_BOOKING, [values]).one()
    audit.record(actor, "create", "appointment", appointment.id, appointment.patient_id)
    _announce(appointment)
    return offered, appointment


def _announce(appointment: Appointment) -> None:
    """The booking's confirmation mail and its reminders, queued in its transaction."""
    booking_notifications.notify(appointment, "booked")
    reminders.schedule(appointment)


def _refuse_when(booked: bool, overlap: bool) -> None:
    if booked:
        raise slot_rules.slot_booked()
    if overlap:
        raise _overlap()


def _load(appointment_id: int) -> Appointment:
    """A fresh copy with patient, doctor and slot, in one query."""
    return db.session.scalar(with_parties(select(Appointment)).where(Appointment.id == appointment_id))


def _clean_reason(reason: str | None) -> str | None:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise Invalid.field("reason", f"Keep the reason under {MAX_REASON} characters.")
    return reason or None


def _hold_for_booking(slot_id: int, patient_id: int) -> Hold | None:
    """Booking by slot id holds the slot for the moment of booking; without Redis the database decides alone."""
    try:
        return holds.acquire(slot_id, patient_id, capped=False)
    except RedisError:
        current_app.logger.warning("hold store unreachable; booking slot %s on the database's word", slot_id)
        return None


def book(actor: Actor, *, hold_id: str | None = None, slot_id: int | None = None,
         reason: str | None = None) -> Appointment:
    """Book for the calling patient, from their hold (hold_id) or straight from a free slot (slot_id).

    Errors: MissingField when neither is given; Conflict hold_expired (no such live hold), Forbidden
    (the hold is someone else's), NotFound (no such slot), Invalid (slot in the past), Conflict
    slot_held / slot_booked / appointment_overlap; the booking rules' RuleRefusal too_soon / too_far /
    no_show_limit. The confirmation mail is queued in the same transaction.
    """
    patient_id = holds.acting_patient_id(actor)
    reason = _clean_reason(reason)
    if hold_id and slot_id is not None:
        raise Invalid.field("hold_id", "Give hold_id or slot_id, not both.")
    booking_rules.check_no_shows(actor, patient_id)
    if hold_id:
        hold = holds.get_hold(hold_id)
        if hold is None:
            raise Conflict("Your hold has expired; pick the slot again.", code="hold_expired")
        if hold.patient_id != patient_id:
            raise Forbidden("This hold belongs to someone else.")
        slot_id = hold.slot_id
    elif slot_id is not None:
        booking_rules.check_slot(actor, slot_rules.bookable_slot(slot_id))
        hold = _hold_for_booking(slot_id, patient_id)
    else:
        raise MissingField("hold_id")
    return _book_slot(actor, patient_id, slot_id, reason, hold, from_hold=bool(hold_id))


def book_for(actor: Actor, *, patient_id: int, slot_id: int | None, reason: str | None = None,
             hold_id: str | None = None) -> Appointment:
    """Desk booking: the doctor of the slot, or an admin, books it for a patient they see (a phone call).

    Forbidden for patients (they book for themselves, without patient_id) and for a doctor booking
    another doctor's slot; NotFound for a patient the caller does not see, Forbidden for one a doctor sees
    only through emergency access (a booking would outlast it). The conflicts are a patient's own
    (slot_held when someone holds the slot, slot_booked, appointment_overlap); the booking rules do not
    bind staff. The patient gets the same mail as for their own booking; the audit row names the staff member.
    """
    policy.require_staff(actor.user)
    if hold_id:
        raise Invalid.field("hold_id", "Staff book by slot_id; holds are for patients booking for themselves.")
    if slot_id is None:
        raise MissingField("slot_id")
    reason = _clean_reason(reason)
    patient = policy.get_patient_to_book(actor.user, patient_id)
    slot = slot_rules.bookable_slot(slot_id)
    if not policy.may_act_for_doctor(actor.user, slot.doctor_id):
        raise Forbidden("Only the doctor of this slot or an admin books it for a patient.")
    hold = _hold_for_booking(slot.id, patient.id)  # slot_held while someone else holds it
    return _book_slot(actor, patient.id, slot.id, reason, hold, from_hold=False)


def _book_slot(actor: Actor, patient_id: int, slot_id: int, reason: str | None, hold: Hold | None, *,
               from_hold: bool) -> Appointment:
    """The booking itself, for patients and staff alike: lock the slot, check it and the patient's
    calendar, write the appointment, its audit row and its mail (queued in the same transaction), let the hold go.

    A hold taken only for this attempt (not `from_hold`) is let go on any refusal; the patient's own hold
    only when the rules refuse the slot (it could never turn into a booking).
    """
    try:
        slot, patient, appointment_id = slot_rules.locked_for_booking(slot_id, patient_id)
        _check_slot_after_locks(actor, slot)
        now = utcnow()
        values = dict(slot_id=slot.id, patient_id=patient.id, doctor_id=slot.doctor_id, starts_at=slot.starts_at,
                      ends_at=slot.ends_at, reason=reason, status=ST.SCHEDULED.value, created_by_id=actor.user_id,
                      created_at=now, updated_at=now)
        with conflicts_raised(BOOKING_CONFLICTS):
            offered, appointment = _book_if_free(actor, values, slot, patient, appointment_id)
        if offered:
            waitlist.note_booking(patient_id, slot.id)  # the waitlist offer of this slot to them is taken
        if hold is not None:
            holds.drop_after_commit(hold)
        commit_or_conflict(BOOKING_CONFLICTS, keep_loaded=True)  # the answer is what was just written
    except DomainError as error:
        db.session.rollback()  # let go of the slot lock
        if hold is not None and (not from_hold or isinstance(error, RuleRefusal)):
            holds.drop_hold(hold)
        raise
    return appointment


def _check_slot_after_locks(actor: Actor, slot: Slot) -> None:
    """The booking rules for the locked slot. A booked slot is slot_booked whatever the rules say, so a refusal
    asks whether it is booked first (a statement only on that path)."""
    try:
        booking_rules.check_slot(actor, slot)
    except RuleRefusal:
        if slot_rules.is_booked(slot.id):
            raise slot_rules.slot_booked() from None
        raise


def _locked(actor: Actor, appointment_id: int) -> Appointment:
    appointment = db.session.scalar(
        visible_appointments(actor).where(Appointment.id == appointment_id).with_for_update())
    if appointment is None:
        raise NotFound("No such appointment.")
    if appointment.status == ST.CANCELLED.value:
        raise change_refusal(appointment)  # already_cancelled: nothing more happens to it
    return appointment


def change_refusal(appointment: Appointment) -> Conflict | None:
    """Why it can no longer be moved or cancelled (None: it can), so a page says so instead of offering a form."""
    if appointment.status == ST.CANCELLED.value:
        return Conflict("This appointment is already cancelled.", code="already_cancelled")
    if appointment.status in CLOSING_STATUSES:
        return Conflict("This appointment is closed.", code="appointment_closed")
    if appointment.starts_at <= clinic_time.now():
        return Conflict("This appointment has started; mark it completed or no-show instead.",
                        code="already_started")
    return None


def closing_refusal(appointment: Appointment) -> Conflict | None:
    """Why it cannot be marked completed or no-show yet (None: it can), for pages that offer the buttons."""
    if appointment.status == ST.CANCELLED.value:
        return Conflict("This appointment is cancelled.", code="already_cancelled")
    if appointment.starts_at > clinic_time.now():
        return Conflict("This appointment has not started yet.", code="not_started")
    return None


def _ensure_ahead(appointment: Appointment) -> None:
    refusal = change_refusal(appointment)
    if refusal is not None:
        raise refusal


def reschedule(actor: Actor, appointment_id: int, new_slot_id: int) -> Appointment:
    """Move an upcoming appointment to another free slot of the same doctor, in one transaction.

    The patient owner, the doctor or an admin; status becomes `rescheduled`, the old slot is free
    again (nothing points at it) and remembered in rescheduled_from_slot_id. A slot someone else
    holds is Conflict slot_held; the patient's own hold on it is used up. A patient is bound by the
    booking rules: too_late within the change cut-off, too_soon / too_far for the new slot.
    """
    try:
        appointment = _locked(actor, appointment_id)
        _ensure_ahead(appointment)
        booking_rules.check_change(actor, appointment)
        if new_slot_id == appointment.slot_id:
            raise Invalid.field("slot_id", "That is already the appointment's slot.")
        slot = slot_rules.bookable_slot(new_slot_id, lock=True)
        if slot.doctor_id != appointment.doctor_id:
            raise Invalid.field("slot_id", "Pick a slot of the same doctor.")
        booking_rules.check_slot(actor, slot)
        hold = holds.slot_holders([slot.id]).get(slot.id)
        if hold is not None and hold.patient_id != appointment.patient_id:
            raise slot_rules.slot_held()
        slot_rules.lock_patient(appointment.patient_id)
        if slot_rules.patient_overlap_exists(appointment.patient_id, slot.starts_at, slot.ends_at, appointment.id):
            raise _overlap()
        previous_start = appointment.starts_at
        appointment.rescheduled_from_slot_id = appointment.slot_id
        appointment.slot, appointment.starts_at, appointment.ends_at = slot, slot.starts_at, slot.ends_at
        appointment.status = ST.RESCHEDULED.value
        audit.record(actor, "update", "appointment", appointment.id, appointment.patient_id)
        waitlist.announce_free([appointment.rescheduled_from_slot_id])
        waitlist.note_booking(appointment.patient_id, slot.id)  # moved into a time offered to them
        booking_notifications.notify(appointment, "rescheduled", previous_start)
        reminders.schedule(appointment)  # the new time's; the old time's jobs find it moved and send nothing
        if hold is not None:
            holds.drop_after_commit(hold)
    except DomainError:
        db.session.rollback()
        raise
    commit_or_conflict(BOOKING_CONFLICTS)
    return _load(appointment_id)


def cancel(actor: Actor, appointment_id: int) -> Appointment:
    """Cancel an upcoming appointment (patient owner, the doctor, admin): the row stays, the slot is free.
    A patient cannot cancel within the change cut-off (RuleRefusal too_late: the message says whom to call)."""
    try:
        appointment = _locked(actor, appointment_id)
        _ensure_ahead(appointment)
        booking_rules.check_change(actor, appointment)
        appointment.status, appointment.cancelled_at = ST.CANCELLED.value, clinic_time.now()
        audit.record(actor, "update", "appointment", appointment.id, appointment.patient_id)
        waitlist.announce_free([appointment.slot_id])
        booking_notifications.notify(appointment, "cancelled")
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return _load(appointment_id)


def _patient_only(actor: Actor, refusal: str) -> None:
    """The answers to a reminder are the patient's own (signed in or through the mail's link)."""
    if actor.role != Role.PATIENT.value:
        raise Forbidden(refusal)


def cancel_as_patient(actor: Actor, appointment_id: int) -> Appointment:
    """A reminder's "Cancel" (the link, or POST /appointments/{id}/cancel signed in): cancel() for the patient
    owner only, with every rule of cancel(); staff cancel through cancel() itself."""
    _patient_only(actor, "This is the patient's own answer; staff cancel the appointment itself.")
    return cancel(actor, appointment_id)


def confirm(actor: Actor, appointment_id: int) -> Appointment:
    """The patient says they will come ("I'll come" in a reminder): confirmed_at is set, once.

    The patient owner only (signed in, or through the reminder's link); staff are Forbidden (they do
    not answer for a patient). Confirming again keeps the first time and changes nothing. Cancelled,
    closed or begun: the Conflict change_refusal names.
    """
    _patient_only(actor, "Only the patient confirms that they will come.")
    try:
        appointment = _locked(actor, appointment_id)
        _ensure_ahead(appointment)
        if appointment.confirmed_at is None:
            appointment.confirmed_at = clinic_time.now()
            audit.record(actor, "update", "appointment", appointment.id, appointment.patient_id)
        else:
            audit.record(actor, "read", "appointment", appointment.id, appointment.patient_id)
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return _load(appointment_id)


def mark(actor: Actor, appointment_id: int, status: str) -> Appointment:
    """Close an appointment that has started as completed or no_show (the doctor or an admin).

    Either may be corrected to the other later; before the start it is Conflict not_started.
    """
    policy.require_role(actor.user, Role.DOCTOR, Role.ADMIN)
    if status not in CLOSING_STATUSES:
        raise Invalid.field("status", "Choose completed or no_show.")
    try:
        appointment = _locked(actor, appointment_id)
        refusal = closing_refusal(appointment)
        if refusal is not None:
            raise refusal
        appointment.status = status
        audit.record(actor, "update", "appointment", appointment.id, appointment.patient_id)
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return _load(appointment_id)
