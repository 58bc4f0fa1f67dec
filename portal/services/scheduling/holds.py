"""Holding a slot for a few minutes while a patient confirms it.

A hold is a courtesy, not a guarantee: the database decides who books. So reading holds degrades
gracefully (when Redis cannot be reached, slots read as not held and the booking constraint still
stands), while placing, reading or releasing a hold on request does not pretend: it is Unavailable
(holds_unavailable), and booking straight by slot id still works because the database decides.

Choices: a patient who already holds a slot and asks again gets the same hold back (a double click
is not a conflict); the per-patient cap (MAX_HOLDS_PER_PATIENT) counts unexpired holds only. The
API offers that cap; the portal holds one time per patient (place_only_hold, release_other_holds),
and notes why it let a hold go (Gone), so a second tab of the same patient says what happened
instead of "expired".
"""
from enum import Enum

from flask import current_app
from redis.exceptions import RedisError

from portal.extensions import db, per_app, stores
from portal.models import Role
from portal.services import commit_messages, directory_version, policy, read_transactions
from portal.services.actor import Actor
from portal.services.errors import Conflict, Forbidden, NotFound, Unavailable
from portal.services.scheduling import booking_rules, slot_rules
from portal.services.scheduling.hold_store import (
    Hold,
    HoldStore,
    MemoryHoldStore,
    RedisHoldStore,
    SlotHeld,
    TooManyHolds,
)

__all__ = ["Gone", "Hold", "place_hold", "place_only_hold", "release_hold", "release_other_holds", "get_hold",
           "own_hold", "why_gone", "held_slot_ids", "slot_holders"]

def store() -> HoldStore:
    """One hold store per app: Redis when configured, otherwise one in-process store."""
    return per_app("hold_store", lambda: RedisHoldStore(stores.redis) if stores.redis is not None
                   else MemoryHoldStore(directory_version.version().bump))


def _ttl_ms() -> int:
    return int(float(current_app.config["HOLD_TTL_SECONDS"]) * 1000)


class Gone(str, Enum):
    """Why the portal let a patient's hold go before its time."""

    REPLACED = "replaced"  # the patient held another time (perhaps in another tab)
    BOOKED = "booked"  # the patient booked this very hold
    BOOKED_OTHER = "booked_other"  # the patient booked another time


def _note_gone(patient_id: int, hold_ids: list[str], why: Gone) -> None:
    """Kept as long as the hold itself could have lasted; after that "expired" is true anyway."""
    store().note_gone(patient_id, hold_ids, why.value, _ttl_ms())


HOLDS_DOWN = ("Holds are unavailable for a moment; try again shortly, or book the time directly "
              "(the booking itself does not need a hold).")


def _outage() -> Unavailable:
    current_app.logger.warning("hold store unreachable")
    return Unavailable(HOLDS_DOWN, code="holds_unavailable")


def acting_patient_id(actor: Actor) -> int:
    """The patient profile behind a patient account; only patients hold and book."""
    policy.require_role(actor.user, Role.PATIENT)
    patient_id = policy.patient_id_of(actor.user)
    if patient_id is None:
        raise Forbidden("This account has no patient profile.")
    return patient_id


def _check_holdable(actor: Actor, patient_id: int, slot_id: int) -> None:
    """A patient holds only what they could book: a bookable slot (slot_rules.bookable_slot), then the no-show
    limit (it refuses every time), then the slot's window. A hold's only reads, so run in autocommit."""
    with read_transactions.autocommitted():
        slot = slot_rules.bookable_slot(slot_id)
        booking_rules.check_no_shows(actor, patient_id)
        booking_rules.check_slot(actor, slot)


def acquire(slot_id: int, patient_id: int, *, capped: bool = True, ttl_seconds: int | None = None) -> Hold:
    """Take the store's hold on a slot for a patient; the slot checks are the caller's.

    `ttl_seconds` replaces HOLD_TTL_SECONDS for a longer hold: a waitlist offer is held for its patient for
    WAITLIST_OFFER_MINUTES. A patient who already holds the slot gets that hold back as it is."""
    cap = int(current_app.config["MAX_HOLDS_PER_PATIENT"]) if capped else None
    ttl_ms = _ttl_ms() if ttl_seconds is None else int(ttl_seconds * 1000)
    try:
        return store().acquire(slot_id, patient_id, ttl_ms, cap)
    except SlotHeld:
        raise slot_rules.slot_held() from None
    except TooManyHolds:
        raise Conflict(f"You may hold at most {cap} slots at a time; book or release one first.",
                       code="too_many_holds") from None


def place_hold(actor: Actor, slot_id: int) -> Hold:
    """Hold a slot for the calling patient for HOLD_TTL_SECONDS.

    Refused with NotFound (no such live slot), Invalid (slot in the past), Conflict slot_booked,
    Conflict slot_held (someone else holds it) or Conflict too_many_holds, and by the booking rules
    (RuleRefusal no_show_limit, too_soon, too_far).
    """
    patient_id = acting_patient_id(actor)
    _check_holdable(actor, patient_id, slot_id)
    try:
        return acquire(slot_id, patient_id)
    except RedisError:
        raise _outage() from None


def place_only_hold(actor: Actor, slot_id: int) -> Hold:
    """The portal's rule: a patient holds one time at once. Their other live holds, with any doctor, are
    released first (even when this slot turns out to be taken), so a time they clicked away from
    blocks nobody and the cap never bites unseen; asking again for the slot they hold keeps that hold.
    The API keeps place_hold and its MAX_HOLDS_PER_PATIENT."""
    patient_id = acting_patient_id(actor)
    try:
        current = store().holders([slot_id]).get(slot_id)
        keep = current.hold_id if current is not None and current.patient_id == patient_id else None
        released = store().release_all_except(patient_id, keep)
        _note_gone(patient_id, [hold.hold_id for hold in released], Gone.REPLACED)
        _check_holdable(actor, patient_id, slot_id)
        return acquire(slot_id, patient_id)
    except RedisError:
        raise _outage() from None


def release_other_holds(actor: Actor, booked: str | None = None) -> None:
    """After a portal booking the patient holds nothing more; `booked` is the hold id the booking used (the
    service already let it go). Failures only log (holds end at their TTL)."""
    patient_id = acting_patient_id(actor)
    try:
        released = store().release_all_except(patient_id)
        _note_gone(patient_id, [hold.hold_id for hold in released], Gone.BOOKED_OTHER)
        if booked:
            _note_gone(patient_id, [booked], Gone.BOOKED)
    except RedisError:
        current_app.logger.warning("could not release the other holds of a patient; they expire by themselves")


def release_hold(actor: Actor, hold_id: str) -> None:
    """Give a hold back at once; someone else's hold, or one that has expired, is NotFound."""
    patient_id = acting_patient_id(actor)
    try:
        released = store().release(hold_id, patient_id)
    except RedisError:
        raise _outage() from None
    if not released:
        raise NotFound("No such hold.")


def drop_hold(hold: Hold) -> None:
    """Release a hold that has served its purpose (the booking is committed); failures only log."""
    try:
        store().drop(hold)
    except RedisError:
        _not_dropped(hold)


def drop_after_commit(hold: Hold) -> None:
    """Release the hold a change uses up once that change commits, in the commit's one round trip to Redis
    (services/commit_messages.py); kept when it rolls back. Failures only log."""
    commit_messages.after_commit(db.session(), store().drop_message(hold, lambda _error: _not_dropped(hold)))


def _not_dropped(hold: Hold) -> None:
    current_app.logger.warning("could not release hold of slot %s; it expires by itself", hold.slot_id)


def get_hold(hold_id: str) -> Hold | None:
    """The live hold with this id, or None when it never existed or has expired."""
    try:
        return store().get(hold_id)
    except RedisError:
        raise _outage() from None


def own_hold(actor: Actor, hold_id: str) -> Hold | None:
    """The calling patient's live hold with this id; None when it expired or is someone else's."""
    hold = get_hold(hold_id)
    return hold if hold is not None and hold.patient_id == acting_patient_id(actor) else None


def why_gone(actor: Actor, hold_id: str) -> Gone | None:
    """Why the calling patient's hold ended early, when the portal let it go; None when it simply expired
    (or was never theirs). Best effort: None when the hold store cannot be reached."""
    try:
        why = store().why_gone(hold_id, acting_patient_id(actor))
    except RedisError:
        return None
    return Gone(why) if why in {gone.value for gone in Gone} else None


def slot_holders(slot_ids: list[int]) -> dict[int, Hold]:
    """The hold on each held slot among slot_ids, in one round trip; {} when Redis is unreachable."""
    try:
        found = store().holders(list(slot_ids))
    except RedisError:
        current_app.logger.warning("hold store unreachable; showing slots as not held")
        directory_version.spoil_answer()
        return {}
    directory_version.note_holds_end([hold.expires_at for hold in found.values()])
    return found


def held_slot_ids(slot_ids: list[int]) -> set[int]:
    return set(slot_holders(slot_ids))
