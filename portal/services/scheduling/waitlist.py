"""The waitlist: a patient asks to be told when a time opens with a doctor or in a speciality.

Patients only, each for themselves (staff are Forbidden; someone else's entry is NotFound). Joining
checks everything at once (entry_problems); leaving keeps the row (status `cancelled`) and, when an
offer stood, gives its slot to the next patient. An entry whose window has passed is never matched
(the matcher's query skips it) and is marked `expired` when its patient lists their entries.

Which changes free a slot - a cancellation, a reschedule away, new slots published, an absence
removed - call `announce_free(slot_ids)` inside their own transaction: one `slots_freed` job, whose
handler runs the matcher (waitlist_matching) in the worker, never inside the request. Booking an
offered slot ends its entry (`note_booking`, in the booking's transaction).
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import aliased, joinedload

from portal.extensions import db
from portal.models import (
    ACTIVE_WAITLIST,
    Doctor,
    OfferOutcome,
    Patient,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from portal.services import audit, clinic_time, policy
from portal.services.actor import SYSTEM, Actor
from portal.services.errors import Conflict, Invalid, NotFound
from portal.services.jobs import outbox
from portal.services.persistence import Page, commit_keeping_loaded, paginate
from portal.services.scheduling import holds, waitlist_matching

FREED_JOB = "slots_freed"
MAX_AHEAD_DAYS = 730  # as far ahead as slots may be published
WS = WaitlistStatus
ENDED = (WS.BOOKED.value, WS.EXPIRED.value, WS.CANCELLED.value)


def announce_free(slot_ids) -> None:
    """Say, in the current transaction, that these slots may have become free: one `slots_freed` job,
    when anyone waits for their doctor or its speciality (one indexed query; else nothing is written).

    The call sites: appointments.cancel and reschedule (the old slot), availability.add_slot and
    add_weekly_plan, leaving with an open offer, and removing an absence. The matcher checks each slot
    again when the job runs."""
    ids = sorted({int(slot_id) for slot_id in slot_ids})
    if ids and waitlist_matching.anyone_waits_for(ids):
        outbox.enqueue(FREED_JOB, {"slot_ids": ids})


@outbox.handler(FREED_JOB)
def _slots_freed(payload: dict) -> None:
    waitlist_matching.offer_free_slots(payload["slot_ids"])


@outbox.handler(waitlist_matching.EXPIRY_JOB)
def _offer_expired(payload: dict) -> None:
    waitlist_matching.expire_offer(payload["offer_id"])


# The entries whose open offer of a slot (`slot_id`) was made to a patient (`patient_id`); built once.
_OPEN_OFFERS = (select(WaitlistOffer.entry_id).join(WaitlistOffer.entry)
                .where(WaitlistOffer.slot_id == bindparam("slot_id"), WaitlistOffer.outcome.is_(None),
                       WaitlistEntry.patient_id == bindparam("patient_id")))


def open_offer_exists() -> ColumnElement[bool]:
    """Whether the slot `slot_id` stands offered to the patient `patient_id`, as an EXISTS: a booking asks it
    with its other checks and calls note_booking only when it is true."""
    return _OPEN_OFFERS.exists()


def note_booking(patient_id: int, slot_id: int) -> None:
    """A patient booked a slot: an open offer of it to them is booked, and its entry ends (status
    `booked`). Called by appointments.book and reschedule inside their transaction; one indexed query
    when the slot was never offered."""
    entry_ids = list(db.session.scalars(_OPEN_OFFERS, {"slot_id": slot_id, "patient_id": patient_id}))
    if not entry_ids:
        return
    db.session.execute(update(WaitlistOffer)
                       .where(WaitlistOffer.slot_id == slot_id, WaitlistOffer.entry_id.in_(entry_ids),
                              WaitlistOffer.outcome.is_(None))
                       .values(outcome=OfferOutcome.BOOKED.value).execution_options(synchronize_session=False))
    db.session.execute(update(WaitlistEntry).where(WaitlistEntry.id.in_(entry_ids))
                       .values(status=WS.BOOKED.value, ended_at=clinic_time.now())
                       .execution_options(synchronize_session=False))


def withdraw_offers(slot_ids) -> None:
    """These slots went off offer (an absence withdrew them, their doctor removed them): their open
    offers end as `withdrawn` and each entry waits again in its old place (or expires, when its window
    has passed), so nobody is shown or mailed an offer that cannot be booked and the offer's expiry
    does not pass a withdrawn slot on. In the caller's transaction; the offers' holds end with its commit
    (holds.drop_after_commit). One indexed query when none of the slots was offered."""
    offers = list(db.session.scalars(
        select(WaitlistOffer).options(joinedload(WaitlistOffer.entry))
        .where(WaitlistOffer.slot_id.in_(slot_ids), WaitlistOffer.outcome.is_(None))
        .order_by(WaitlistOffer.id).with_for_update(of=WaitlistOffer)))
    moment = clinic_time.now()
    for offer in offers:
        entry = offer.entry
        offer.outcome = OfferOutcome.WITHDRAWN.value
        if entry.status == WS.OFFERED.value:
            if entry.window_to > moment:
                entry.status = WS.WAITING.value
            else:
                entry.status, entry.ended_at = WS.EXPIRED.value, moment
        audit.record(SYSTEM, "update", "waitlist_offer", offer.id, entry.patient_id)
        waitlist_matching.drop_hold_after_commit(offer, entry.patient_id)


def max_entries() -> int:
    return int(current_app.config["WAITLIST_MAX_ENTRIES"])


def weekday_mask(weekdays) -> int | None:
    """[0, 2] (Monday, Wednesday) -> 0b101; None or [] -> None (any day)."""
    return sum(1 << day for day in set(weekdays)) if weekdays else None


def weekday_list(mask: int | None) -> list[int] | None:
    return None if mask is None else [day for day in range(7) if mask & (1 << day)]


def _bound(value, *, end: bool, field: str, problems: dict) -> datetime | None:
    try:
        instant = clinic_time.parse_bound(value, end=end, field=field)
    except Invalid as error:
        problems.update(error.fields)
        return None
    if instant is None:
        problems[field] = ["This field is required."]
    return instant


def entry_problems(*, doctor_id, speciality, start, end, weekdays, earliest_time, latest_time
                   ) -> tuple[dict[str, list[str]], tuple[datetime | None, datetime | None]]:
    """Every problem of an entry's fields at once, each on its field, and the window as UTC instants.

    A date as `from` is the start of that clinic day, as `to` its end (both days included)."""
    problems: dict[str, list[str]] = {}
    if (doctor_id is None) == (not speciality):
        problems["doctor_id"] = ["Give a doctor or a speciality, one of the two."]
    lower = _bound(start, end=False, field="from", problems=problems)
    upper = _bound(end, end=True, field="to", problems=problems)
    moment = clinic_time.now()
    if upper is not None and "to" not in problems:
        if upper <= moment:
            problems["to"] = ["The window has already passed."]
        elif lower is not None and lower >= upper:
            problems["to"] = ["The end must come after the start."]
        elif upper > moment + timedelta(days=MAX_AHEAD_DAYS):
            problems["to"] = [f"Wait at most {MAX_AHEAD_DAYS} days ahead."]
    if weekdays is not None and (not isinstance(weekdays, (list, tuple, set)) or not all(
            isinstance(day, int) and not isinstance(day, bool) and 0 <= day <= 6 for day in weekdays)):
        problems["weekdays"] = ["Pick weekdays from 0 (Monday) to 6 (Sunday)."]
    for name, value in (("earliest_time", earliest_time), ("latest_time", latest_time)):
        if value is not None and not isinstance(value, time):
            problems[name] = ["Give a time of day (HH:MM)."]
    if isinstance(earliest_time, time) and isinstance(latest_time, time) and earliest_time >= latest_time:
        problems["latest_time"] = ["The latest time must be after the earliest time."]
    return problems, (lower, upper)


def _wanted(doctor_id: int | None, speciality: str | None) -> tuple[int | None, str | None]:
    """A listed doctor, or a speciality some listed doctor practises; NotFound otherwise."""
    if doctor_id is not None:
        if db.session.scalar(select(Doctor.id).where(Doctor.id == doctor_id, policy.listed_doctor())) is None:
            raise NotFound("No such doctor.")
        return doctor_id, None
    key = waitlist_matching.speciality_key(speciality)
    known = select(Doctor.id).where(func.lower(Doctor.speciality) == key, policy.listed_doctor()).limit(1)
    if db.session.scalar(known) is None:
        raise NotFound("No doctor has that speciality.")
    return None, key


def _active():
    return and_(WaitlistEntry.status.in_(ACTIVE_WAITLIST), WaitlistEntry.window_to > clinic_time.now())


def join(actor: Actor, *, doctor_id: int | None = None, speciality: str | None = None, start=None, end=None,
         weekdays=None, earliest_time: time | None = None, latest_time: time | None = None) -> "EntryView":
    """Put the calling patient on the waitlist for a doctor or a speciality within [start, end).

    Forbidden for staff; Invalid naming every bad field; NotFound for a doctor the directory does not
    list or a speciality nobody practises; Conflict too_many_entries at WAITLIST_MAX_ENTRIES live ones.
    Times free now are not offered (they are on the doctor's page); only those that open later.
    """
    patient_id = holds.acting_patient_id(actor)
    problems, (lower, upper) = entry_problems(doctor_id=doctor_id, speciality=speciality, start=start, end=end,
                                              weekdays=weekdays, earliest_time=earliest_time,
                                              latest_time=latest_time)
    if problems:
        raise Invalid(problems)
    doctor_id, speciality = _wanted(doctor_id, speciality)
    # the patient's row is the turnstile: two joins at once count each other's entry
    db.session.execute(select(Patient.id).where(Patient.id == patient_id).with_for_update(key_share=True))
    live = db.session.scalar(select(func.count()).select_from(WaitlistEntry)
                             .where(WaitlistEntry.patient_id == patient_id, _active()))
    if live >= max_entries():
        db.session.rollback()
        raise Conflict(f"You may wait for at most {max_entries()} times at once; leave one first.",
                       code="too_many_entries")
    entry = WaitlistEntry(patient_id=patient_id, doctor_id=doctor_id, speciality=speciality,
                          window_from=max(lower, clinic_time.now()), window_to=upper,
                          weekdays=weekday_mask(weekdays), earliest_time=earliest_time, latest_time=latest_time,
                          status=WS.WAITING.value, created_at=clinic_time.now())
    db.session.add(entry)
    db.session.flush()
    audit.record(actor, "create", "waitlist_entry", entry.id, patient_id)
    db.session.commit()
    return _views([_load(entry.id)])[0]


@dataclass(frozen=True)
class EntryView:
    """An entry as its patient sees it: the open offer, if any, and how many wait for the same (never who).

    waiting_ahead: waiting entries for the same doctor (or speciality) made before this one; waiting:
    all waiting entries for it. Both None once the entry has ended."""

    entry: WaitlistEntry
    offer: WaitlistOffer | None
    waiting_ahead: int | None
    waiting: int | None

    @property
    def weekdays(self) -> list[int] | None:
        return weekday_list(self.entry.weekdays)


def _load(entry_id: int) -> WaitlistEntry:
    return db.session.scalar(select(WaitlistEntry).options(joinedload(WaitlistEntry.doctor))
                             .where(WaitlistEntry.id == entry_id))


def _views(entries: list[WaitlistEntry]) -> list[EntryView]:
    """Open offers and waiting counts of a page of entries: two queries whatever the page holds."""
    ids = [entry.id for entry in entries]
    offers = {offer.entry_id: offer for offer in db.session.scalars(
        select(WaitlistOffer).options(joinedload(WaitlistOffer.slot))
        .where(WaitlistOffer.entry_id.in_(ids), WaitlistOffer.outcome.is_(None)))} if ids else {}
    counts = _waiting_counts([entry for entry in entries if entry.status in ACTIVE_WAITLIST])
    return [EntryView(entry, offers.get(entry.id), *counts.get(entry.id, (None, None))) for entry in entries]


def _waiting_counts(entries: list[WaitlistEntry]) -> dict[int, tuple[int, int]]:
    if not entries:
        return {}
    other = aliased(WaitlistEntry)
    same = or_(and_(WaitlistEntry.doctor_id.is_not(None), other.doctor_id == WaitlistEntry.doctor_id),
               and_(WaitlistEntry.speciality.is_not(None), other.speciality == WaitlistEntry.speciality))
    waiting = (select(func.count()).select_from(other)
               .where(other.status == WS.WAITING.value, same).correlate(WaitlistEntry).scalar_subquery())
    ahead = (select(func.count()).select_from(other)
             .where(other.status == WS.WAITING.value, same,
                    or_(other.created_at < WaitlistEntry.created_at,
                        and_(other.created_at == WaitlistEntry.created_at, other.id < WaitlistEntry.id)))
             .correlate(WaitlistEntry).scalar_subquery())
    rows = db.session.execute(select(WaitlistEntry.id, ahead, waiting)
                              .where(WaitlistEntry.id.in_([entry.id for entry in entries])))
    return {row[0]: (row[1], row[2]) for row in rows}


def _expire_passed(patient_id: int) -> None:
    """Entries still waiting whose window has passed end as `expired` (an offered one ends with its offer)."""
    moment = clinic_time.now()
    db.session.execute(update(WaitlistEntry)
                       .where(WaitlistEntry.patient_id == patient_id, WaitlistEntry.status == WS.WAITING.value,
                              WaitlistEntry.window_to <= moment)
                       .values(status=WS.EXPIRED.value, ended_at=moment)
                       .execution_options(synchronize_session=False))


def list_entries(actor: Actor, *, page: int = 1, per_page: int = 20) -> Page:
    """The calling patient's entries, newest first, paged, as EntryViews (a bounded number of queries)."""
    patient_id = holds.acting_patient_id(actor)
    _expire_passed(patient_id)
    query = (select(WaitlistEntry).options(joinedload(WaitlistEntry.doctor))
             .where(WaitlistEntry.patient_id == patient_id)
             .order_by(WaitlistEntry.created_at.desc(), WaitlistEntry.id.desc())
             .execution_options(populate_existing=True))  # statuses just updated in SQL
    result = paginate(query, page, per_page)
    views = _views(result.items)
    audit.record_many(actor, "read", "waitlist_entry", [(view.entry.id, patient_id) for view in views])
    commit_keeping_loaded()
    return Page(views, result.total, result.page, result.per_page)


def _own(actor: Actor, entry_id: int, *, lock: bool = False) -> WaitlistEntry:
    patient_id = holds.acting_patient_id(actor)
    query = select(WaitlistEntry).where(WaitlistEntry.id == entry_id, WaitlistEntry.patient_id == patient_id)
    entry = db.session.scalar(query.with_for_update() if lock else query)
    if entry is None:
        db.session.rollback()  # let go of anything the lookup locked
        raise NotFound("No such waitlist entry.")
    return entry


def get_entry(actor: Actor, entry_id: int) -> EntryView:
    """One of the calling patient's entries, as the dashboard shows it (the leave page names what is left);
    NotFound for anyone else's."""
    entry = _own(actor, entry_id)
    audit.record(actor, "read", "waitlist_entry", entry.id, entry.patient_id)
    commit_keeping_loaded()
    return _views([_load(entry_id)])[0]


def leave(actor: Actor, entry_id: int) -> EntryView:
    """Leave the waitlist: the entry stays with status `cancelled`. An open offer is withdrawn, its hold
    let go and its slot announced, so it goes to the next patient. Conflict entry_ended when it has ended."""
    entry = _own(actor, entry_id, lock=True)
    if entry.status in ENDED:
        db.session.rollback()
        raise Conflict("This waitlist entry has already ended.", code="entry_ended")
    offer = db.session.scalar(select(WaitlistOffer).where(WaitlistOffer.entry_id == entry.id,
                                                          WaitlistOffer.outcome.is_(None)).with_for_update())
    entry.status, entry.ended_at = WS.CANCELLED.value, clinic_time.now()
    if offer is not None:
        offer.outcome = OfferOutcome.WITHDRAWN.value
        waitlist_matching.drop_hold_after_commit(offer, entry.patient_id)
        announce_free([offer.slot_id])
    audit.record(actor, "update", "waitlist_entry", entry.id, entry.patient_id)
    db.session.commit()
    return _views([_load(entry_id)])[0]


def own_offer(actor: Actor, offer_id: int) -> WaitlistOffer:
    """The calling patient's offer (for the mail's link); NotFound for anyone else's. The caller reads
    `outcome` and the hold to tell a standing offer from one that has ended."""
    patient_id = holds.acting_patient_id(actor)
    offer = db.session.scalar(select(WaitlistOffer).join(WaitlistOffer.entry)
                              .options(joinedload(WaitlistOffer.slot))
                              .where(WaitlistOffer.id == offer_id, WaitlistEntry.patient_id == patient_id))
    if offer is None:
        raise NotFound("No such offer.")
    audit.record(actor, "read", "waitlist_offer", offer.id, patient_id)
    commit_keeping_loaded()
    return offer


def window_days(view: EntryView) -> tuple[date, date]:
    """The window as clinic dates (the last one included), for pages."""
    last = clinic_time.to_local(view.entry.window_to - timedelta(microseconds=1)).date()
    return clinic_time.to_local(view.entry.window_from).date(), last
