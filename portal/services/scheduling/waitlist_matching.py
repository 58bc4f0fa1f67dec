"""Offering freed slots to the waitlist: the matcher, and an offer's end when its patient lets it pass.

Runs only in jobs (the outbox's `slots_freed` and `waitlist_offer_expiry`, registered in waitlist.py),
never inside a request. For each slot still free and not held, in slot order, the longest-waiting
matching entry gets it: held for its patient for WAITLIST_OFFER_MINUTES through the hold store (so
nobody else can take it meanwhile), an offer row, an expiry job due when the hold ends, and a mail
with a one-click link, all in one transaction. The entry's claim (waiting -> offered) is a
conditional UPDATE, so two matchers racing never offer one entry two slots; the hold decides which of
two matchers offers one slot.

Matching is ONE indexed query whatever the number of entries (`matching_entry`): each of the two
partial indexes (waiting entries by doctor, by speciality; both in created_at order) is walked from
the oldest entry and stops at the first that fits the slot; the earlier of the two wins. The slot's
weekday and clinic wall-clock times are computed here in CLINIC_TZ and compared with the entry's
filters, so the same SQL serves PostgreSQL and SQLite and DST needs no SQL of its own.
"""
from datetime import time, timedelta

from flask import current_app
from sqlalchemy import Select, exists, func, or_, select, union_all, update
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import (
    Appointment,
    Doctor,
    OfferOutcome,
    Patient,
    Slot,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from portal.services import audit, clinic_time, mail, policy
from portal.services.actor import SYSTEM
from portal.services.errors import Conflict
from portal.services.jobs import outbox
from portal.services.persistence import constant
from portal.services.scheduling import booking_rules, holds, slot_rules

EXPIRY_JOB = "waitlist_offer_expiry"
MAX_CLAIM_TRIES = 5  # entries lost to a racing matcher before giving this slot up (the next run retries)
WS = WaitlistStatus


def offer_minutes() -> int:
    return int(current_app.config["WAITLIST_OFFER_MINUTES"])


def _waiting():
    """A constant in the SQL, so the partial indexes (WHERE status = 'waiting') serve prepared plans too."""
    return WaitlistEntry.status == constant(WS.WAITING.value)


def speciality_key(name: str) -> str:
    """Specialities compare without case, as the directory compares them."""
    return name.strip().lower()


def slot_times(slot: Slot) -> tuple[int, time, time]:
    """The slot's weekday bit and its clinic wall-clock start and end: what entries filter on.

    A slot that ends after local midnight ends "after every time of day" (time.max), so only entries
    without a latest time take it.
    """
    start, end = clinic_time.to_local(slot.starts_at), clinic_time.to_local(slot.ends_at)
    end_of_day = end.time().replace(tzinfo=None) if end.date() == start.date() else time.max
    return 1 << start.weekday(), start.time().replace(tzinfo=None), end_of_day


def _fits(slot: Slot) -> list:
    """What an entry must satisfy to be offered this slot (besides doctor or speciality)."""
    bit, starts, ends = slot_times(slot)
    overlapping = (select(Appointment.id)
                   .where(Appointment.patient_id == WaitlistEntry.patient_id, slot_rules.not_cancelled(),
                          Appointment.starts_at < slot.ends_at, Appointment.ends_at > slot.starts_at))
    offered_before = select(WaitlistOffer.id).where(WaitlistOffer.slot_id == slot.id,
                                                    WaitlistOffer.entry_id == WaitlistEntry.id)
    live_patient = select(Patient.id).where(Patient.id == WaitlistEntry.patient_id, Patient.archived_at.is_(None))
    return [
        _waiting(),
        WaitlistEntry.window_from <= slot.starts_at, WaitlistEntry.window_to >= slot.ends_at,
        or_(WaitlistEntry.weekdays.is_(None), WaitlistEntry.weekdays.op("&")(bit) != 0),
        or_(WaitlistEntry.earliest_time.is_(None), WaitlistEntry.earliest_time <= starts),
        or_(WaitlistEntry.latest_time.is_(None), WaitlistEntry.latest_time >= ends),
        ~exists(offered_before), ~exists(overlapping), exists(live_patient),
    ]


def matching_entry_query(slot: Slot, speciality: str) -> Select:
    """The id of the longest-waiting entry that fits the slot: the oldest fitting one of the doctor's
    waiting entries and of the speciality's, whichever came first. One statement, two index walks."""
    firsts = []
    for wanted in (WaitlistEntry.doctor_id == slot.doctor_id, WaitlistEntry.speciality == speciality):
        first = (select(WaitlistEntry.id, WaitlistEntry.created_at).where(wanted, *_fits(slot))
                 .order_by(WaitlistEntry.created_at, WaitlistEntry.id).limit(1).subquery())
        firsts.append(select(first.c.id, first.c.created_at))
    both = union_all(*firsts).subquery()
    return select(both.c.id).order_by(both.c.created_at, both.c.id).limit(1)


def anyone_waits_for(slot_ids: list[int]) -> bool:
    """Does anyone wait for the doctor, or the speciality, of any of these slots? One statement on the
    partial indexes, so a change that frees slots nobody waits for writes no job at all."""
    doctors = select(Slot.doctor_id).where(Slot.id.in_(slot_ids))
    specialities = select(func.lower(Doctor.speciality)).where(Doctor.id.in_(doctors))
    waiting = select(WaitlistEntry.id).where(
        _waiting(), or_(WaitlistEntry.doctor_id.in_(doctors), WaitlistEntry.speciality.in_(specialities)))
    return bool(db.session.scalar(select(exists(waiting))))


def offer_free_slots(slot_ids: list[int]) -> list[WaitlistOffer]:
    """Offer each of these slots that is still free and not held to its longest-waiting matching entry.

    A slot nobody waits for costs one query for its doctor; a slot held by someone else is left alone
    (if that hold lapses unbooked nobody announces it again: the next freed slot's turn will come).
    Raises when the hold store cannot be reached, so the job is retried later.
    """
    wanted = sorted({int(slot_id) for slot_id in slot_ids})
    if not wanted:
        return []
    slots = db.session.scalars(
        select(Slot).join(Slot.doctor).options(joinedload(Slot.doctor))
        .where(Slot.id.in_(wanted), slot_rules.free(clinic_time.now()), policy.listed_doctor(),
               booking_rules.in_window())  # never offer what the patient could not book online
        .order_by(Slot.starts_at, Slot.id)).all()
    awaited = _awaited_doctors({slot.doctor for slot in slots})
    slots = [slot for slot in slots if slot.doctor_id in awaited]
    held = holds.store().holders([slot.id for slot in slots])
    offers = []
    for slot in slots:
        if slot.id not in held:
            offer = _offer_slot(slot)
            if offer is not None:
                offers.append(offer)
    return offers


def _awaited_doctors(doctors: set[Doctor]) -> set[int]:
    """Which of these doctors anyone waits for (by name or speciality): one query, so announcing a
    weekly plan of hundreds of slots that nobody waits for costs almost nothing."""
    if not doctors:
        return set()
    ids = {doctor.id for doctor in doctors}
    keys = {speciality_key(doctor.speciality) for doctor in doctors}
    rows = db.session.execute(select(WaitlistEntry.doctor_id, WaitlistEntry.speciality).distinct().where(
        _waiting(), or_(WaitlistEntry.doctor_id.in_(ids), WaitlistEntry.speciality.in_(keys)))).all()
    by_doctor = {row.doctor_id for row in rows if row.doctor_id is not None}
    by_speciality = {row.speciality for row in rows if row.speciality is not None}
    return {doctor.id for doctor in doctors
            if doctor.id in by_doctor or speciality_key(doctor.speciality) in by_speciality}


def _offer_slot(slot: Slot) -> WaitlistOffer | None:
    query = matching_entry_query(slot, speciality_key(slot.doctor.speciality))
    for _attempt in range(MAX_CLAIM_TRIES):
        entry_id = db.session.scalar(query)
        if entry_id is None:
            return None
        claimed = db.session.execute(
            update(WaitlistEntry).where(WaitlistEntry.id == entry_id, _waiting())
            .values(status=WS.OFFERED.value).execution_options(synchronize_session=False))
        if claimed.rowcount == 1:
            return _make_offer(slot, db.session.get(WaitlistEntry, entry_id))
        db.session.rollback()  # another matcher took this entry for another slot: look again
    return None


def _make_offer(slot: Slot, entry: WaitlistEntry) -> WaitlistOffer | None:
    try:
        hold = holds.acquire(slot.id, entry.patient_id, capped=False, ttl_seconds=offer_minutes() * 60)
    except Conflict:  # held meanwhile (a patient clicked it, or another matcher offered it)
        db.session.rollback()
        return None
    try:
        moment = clinic_time.now()  # the app's clock decides the offer's end (the hold's TTL runs alongside)
        offer = WaitlistOffer(entry_id=entry.id, slot_id=slot.id, hold_id=hold.hold_id, offered_at=moment,
                              expires_at=moment + timedelta(minutes=offer_minutes()))
        db.session.add(offer)
        db.session.flush()
        outbox.enqueue(EXPIRY_JOB, {"offer_id": offer.id}, due_at=offer.expires_at, key=f"offer-expiry:{offer.id}")
        _mail_offer(entry, slot, offer)
        audit.record(SYSTEM, "create", "waitlist_offer", offer.id, entry.patient_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        holds.drop_hold(hold)
        raise
    return offer


def offer_link(offer: WaitlistOffer) -> str:
    """The one-click link of an offer mail (the portal page /waitlist/offers/<id> books the held time).

    From PUBLIC_BASE_URL only, never from a request's Host header."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/waitlist/offers/{offer.id}"


def _mail_offer(entry: WaitlistEntry, slot: Slot, offer: WaitlistOffer) -> None:
    """No health information: the doctor's name and the time, not the speciality or why they wait."""
    to = entry.patient.mail_address
    if not to:
        return
    clinic = current_app.config["CLINIC_NAME"]
    when = clinic_time.format_local(slot.starts_at)
    until = clinic_time.format_local(offer.expires_at)
    body = "\n".join([
        f"Hello {entry.patient.full_name},", "",
        f"A time you were waiting for has opened: {when} with {slot.doctor.full_name}.",
        f"It is held for you until {until}. To book it, open:", "", offer_link(offer), "",
        "If you do nothing, it passes to the next person waiting and you stay on the waitlist.", "", clinic,
    ])
    mail.send_later(to, f"{clinic}: a time has opened for you on {when}", body)


def drop_hold_after_commit(offer: WaitlistOffer, patient_id: int) -> None:
    """The hold behind an offer that has just ended (taken back, expired, left) is released once the change that
    ended it commits (holds.drop_after_commit)."""
    holds.drop_after_commit(holds.Hold(offer.hold_id, offer.slot_id, patient_id, offer.expires_at))


def expire_offer(offer_id: int) -> list[WaitlistOffer]:
    """The offer's time is up: unless it was booked (or already ended), it expired; its entry waits
    again in its old place (or expires, when its window has passed) and the slot goes to the next
    matching patient. Returns the offers that made."""
    offer = db.session.scalar(select(WaitlistOffer).where(WaitlistOffer.id == offer_id).with_for_update())
    if offer is None or offer.outcome is not None:
        db.session.rollback()
        return []
    entry = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.id == offer.entry_id).with_for_update())
    offer.outcome = OfferOutcome.EXPIRED.value
    moment = clinic_time.now()
    if entry.status == WS.OFFERED.value:
        if entry.window_to > moment:
            entry.status = WS.WAITING.value
        else:
            entry.status, entry.ended_at = WS.EXPIRED.value, moment
    audit.record(SYSTEM, "update", "waitlist_offer", offer.id, entry.patient_id)
    drop_hold_after_commit(offer, entry.patient_id)
    db.session.commit()
    return offer_free_slots([offer.slot_id])
