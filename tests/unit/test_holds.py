"""Slot holds: the same behaviour from the Redis store and the in-process store."""
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis

from portal.extensions import db
from portal.services.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from portal.services.scheduling import holds
from portal.services.scheduling.hold_store import Hold, MemoryHoldStore, RedisHoldStore
from tests.fixtures import clinic


@pytest.fixture(params=["redis", "memory"])
def store(request, app, monkeypatch):
    made = RedisHoldStore(app.extensions["redis"]) if request.param == "redis" else MemoryHoldStore(lambda: None)
    monkeypatch.setitem(app.extensions, "hold_store", made)
    return made


@pytest.fixture
def doctor(ctx):
    return clinic.doctor()


def patient(ctx):
    return clinic.actor(clinic.patient_account().id)


def test_a_patient_holds_a_future_slot_for_the_ttl(ctx, store, doctor):
    slot = clinic.slot(doctor.id)
    alice = patient(ctx)
    hold = holds.place_hold(alice, slot.id)
    expected = datetime.now(UTC) + timedelta(seconds=ctx.config["HOLD_TTL_SECONDS"])
    assert isinstance(hold, Hold) and hold.slot_id == slot.id and len(hold.hold_id) >= 20
    assert abs(hold.expires_at - expected) < timedelta(seconds=2)
    assert hold.patient_id == alice.user.patient.id
    assert holds.get_hold(hold.hold_id) == hold
    assert holds.held_slot_ids([slot.id, slot.id + 1]) == {slot.id}


def test_holding_again_gives_the_same_hold_back(ctx, store, doctor):
    slot = clinic.slot(doctor.id)
    alice = patient(ctx)
    assert holds.place_hold(alice, slot.id) == holds.place_hold(alice, slot.id)


def test_a_slot_held_by_someone_else_is_temporarily_locked(ctx, store, doctor):
    slot = clinic.slot(doctor.id)
    holds.place_hold(patient(ctx), slot.id)
    with pytest.raises(Conflict) as caught:
        holds.place_hold(patient(ctx), slot.id)
    assert caught.value.code == "slot_held" and caught.value.message == "Slot is temporarily locked."


def test_thirty_patients_racing_for_one_slot_leave_exactly_one_holder(app, ctx, store, doctor):
    slot_id = clinic.slot(doctor.id).id
    user_ids = [clinic.patient_account().id for _ in range(30)]
    results = clinic.race(app, [lambda uid=uid: holds.place_hold(clinic.actor(uid), slot_id) for uid in user_ids])
    winners = [r for r in results if isinstance(r, Hold)]
    losers = [r for r in results if isinstance(r, Conflict) and r.code == "slot_held"]
    assert len(winners) == 1 and len(losers) == 29
    assert holds.slot_holders([slot_id])[slot_id] == winners[0]


def test_only_the_holder_releases_and_then_the_slot_is_free(ctx, store, doctor):
    slot = clinic.slot(doctor.id)
    alice, bob = patient(ctx), patient(ctx)
    hold = holds.place_hold(alice, slot.id)
    with pytest.raises(NotFound):
        holds.release_hold(bob, hold.hold_id)
    assert holds.held_slot_ids([slot.id]) == {slot.id}
    holds.release_hold(alice, hold.hold_id)
    assert holds.get_hold(hold.hold_id) is None and holds.held_slot_ids([slot.id]) == set()
    with pytest.raises(NotFound):
        holds.release_hold(alice, hold.hold_id)
    assert holds.place_hold(bob, slot.id).patient_id == bob.user.patient.id


def test_dropping_a_hold_in_hand_releases_only_that_very_hold(ctx, store, doctor):
    """drop (a booking letting its hold go) checks in the same step that the hold is still the patient's hold of
    that slot: a hold already gone, or one named with another slot, leaves whatever is there now alone."""
    slot, other = clinic.future_slots(doctor.id, 2)
    alice, bob = patient(ctx).user.patient.id, patient(ctx).user.patient.id
    hold = store.acquire(slot.id, alice, 60_000, None)
    assert store.drop(Hold(hold.hold_id, other.id, alice, hold.expires_at)) is False
    assert store.drop(Hold(hold.hold_id, slot.id, bob, hold.expires_at)) is False
    assert store.holders([slot.id]) == {slot.id: hold} and store.holds_of(alice) == [hold]
    assert store.drop(hold) is True
    assert store.get(hold.hold_id) is None and store.holders([slot.id]) == {} and store.holds_of(alice) == []
    theirs = store.acquire(slot.id, bob, 60_000, None)
    assert store.drop(hold) is False
    assert store.holders([slot.id]) == {slot.id: theirs} and store.get(theirs.hold_id) == theirs


def test_a_hold_ends_by_itself_at_its_ttl(ctx, store, doctor, clock):
    slot = clinic.slot(doctor.id)
    alice, bob = patient(ctx), patient(ctx)
    hold = holds.place_hold(alice, slot.id)
    clock.advance(ctx.config["HOLD_TTL_SECONDS"] - 1)
    assert holds.get_hold(hold.hold_id) == hold and holds.held_slot_ids([slot.id]) == {slot.id}
    clock.advance(1.2)
    assert holds.get_hold(hold.hold_id) is None and holds.held_slot_ids([slot.id]) == set()
    with pytest.raises(NotFound):
        holds.release_hold(alice, hold.hold_id)
    assert holds.place_hold(bob, slot.id).slot_id == slot.id


def test_a_patient_may_hold_only_a_few_slots_at_once(ctx, store, doctor, monkeypatch):
    monkeypatch.setitem(ctx.config, "MAX_HOLDS_PER_PATIENT", 3)
    slots = clinic.future_slots(doctor.id, 5)
    alice = patient(ctx)
    placed = [holds.place_hold(alice, slot.id) for slot in slots[:3]]
    with pytest.raises(Conflict) as caught:
        holds.place_hold(alice, slots[3].id)
    assert caught.value.code == "too_many_holds"
    holds.release_hold(alice, placed[0].hold_id)
    holds.place_hold(alice, slots[3].id)
    assert holds.place_hold(patient(ctx), slots[4].id).slot_id == slots[4].id


def test_expired_holds_do_not_count_against_the_cap(ctx, store, doctor, monkeypatch, clock):
    monkeypatch.setitem(ctx.config, "MAX_HOLDS_PER_PATIENT", 2)
    slots = clinic.future_slots(doctor.id, 4)
    alice = patient(ctx)
    for slot in slots[:2]:
        holds.place_hold(alice, slot.id)
    with pytest.raises(Conflict):
        holds.place_hold(alice, slots[2].id)
    clock.advance(ctx.config["HOLD_TTL_SECONDS"] + 0.2)
    assert {holds.place_hold(alice, slot.id).slot_id for slot in slots[2:]} == {slots[2].id, slots[3].id}


def test_past_booked_removed_and_unknown_slots_cannot_be_held(ctx, store, doctor):
    alice = patient(ctx)
    past = clinic.slot(doctor.id, clinic.soon(hours=-2))
    with pytest.raises(Invalid) as caught:
        holds.place_hold(alice, past.id)
    assert caught.value.fields == {"slot_id": ["Slot is in the past."]}
    booked = clinic.slot(doctor.id, clinic.soon(hours=30))
    clinic.appointment(clinic.patient().id, booked)
    with pytest.raises(Conflict) as caught:
        holds.place_hold(alice, booked.id)
    assert caught.value.code == "slot_booked" and caught.value.message == "Slot is already booked."
    removed = clinic.slot(doctor.id, clinic.soon(hours=40))
    removed.removed_at = datetime.now(UTC)
    db.session.commit()
    for slot_id in (removed.id, 999_999):
        with pytest.raises(NotFound):
            holds.place_hold(alice, slot_id)


def test_only_patients_hold_or_release(ctx, store, doctor, factories):
    slot = clinic.slot(doctor.id)
    for role in ("doctor", "admin"):
        someone = clinic.actor(factories.user(role=role).id)
        with pytest.raises(Forbidden):
            holds.place_hold(someone, slot.id)
        with pytest.raises(Forbidden):
            holds.release_hold(someone, "whatever")
    with pytest.raises(Forbidden):
        holds.place_hold(clinic.actor(None), slot.id)


def test_an_unknown_or_absurd_hold_id_finds_nothing(ctx, store):
    assert holds.get_hold("no-such-hold") is None and holds.get_hold("x" * 500) is None
    assert holds.held_slot_ids([]) == set()


def test_unreachable_redis_reads_as_no_holds_but_holding_says_so(ctx, doctor, monkeypatch):
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    monkeypatch.setitem(ctx.extensions, "hold_store", RedisHoldStore(dead))
    slot = clinic.slot(doctor.id)
    assert holds.held_slot_ids([slot.id]) == set()
    with pytest.raises(Unavailable) as caught:
        holds.place_hold(patient(ctx), slot.id)
    assert caught.value.code == "holds_unavailable"


def test_the_store_follows_the_configuration(ctx, monkeypatch):
    monkeypatch.delitem(ctx.extensions, "hold_store", raising=False)
    assert isinstance(holds.store(), RedisHoldStore)
    monkeypatch.delitem(ctx.extensions, "hold_store")
    monkeypatch.setitem(ctx.extensions, "redis", None)
    assert isinstance(holds.store(), MemoryHoldStore) and holds.store() is holds.store()


def test_the_store_lists_a_patients_live_holds_and_releases_all_but_one(ctx, store, doctor):
    slots = clinic.future_slots(doctor.id, 4)
    alice, bob = patient(ctx).user.patient.id, patient(ctx).user.patient.id
    mine = [store.acquire(slot.id, alice, 60_000 + n, None) for n, slot in enumerate(slots[:3])]
    theirs = store.acquire(slots[3].id, bob, 60_000, None)
    assert store.holds_of(alice) == mine and store.holds_of(bob) == [theirs]
    assert store.release_all_except(alice, keep_hold_id=mine[1].hold_id) == [mine[0], mine[2]]
    assert store.holds_of(alice) == [mine[1]] and store.holders([s.id for s in slots]) == {
        slots[1].id: mine[1], slots[3].id: theirs}
    assert store.release_all_except(alice) == [mine[1]] and store.holds_of(alice) == []
    assert store.holds_of(bob) == [theirs]  # nobody else's holds are touched


def test_the_store_forgets_expired_holds_when_listing(ctx, store, doctor, clock):
    slot, other = clinic.future_slots(doctor.id, 2)
    alice = patient(ctx).user.patient.id
    brief = store.acquire(slot.id, alice, 100, None)
    lasting = store.acquire(other.id, alice, 60_000, None)
    assert store.holds_of(alice) == [brief, lasting]
    clock.advance(0.2)
    assert store.holds_of(alice) == [lasting] and store.release_all_except(alice, lasting.hold_id) == []


def test_in_the_portal_a_new_hold_lets_go_of_the_others(ctx, store, doctor, monkeypatch):
    monkeypatch.setitem(ctx.config, "MAX_HOLDS_PER_PATIENT", 3)
    elsewhere = clinic.doctor()
    first, second, third = clinic.future_slots(doctor.id, 3)
    others = clinic.future_slots(elsewhere.id, 3)
    alice, bob = patient(ctx), patient(ctx)
    for slot in others:  # the API's cap is full with holds on another doctor
        holds.place_hold(alice, slot.id)
    held = holds.place_only_hold(alice, first.id)
    assert holds.held_slot_ids([s.id for s in (first, *others)]) == {first.id}
    assert holds.place_only_hold(alice, first.id) == held  # asking again keeps the hold
    moved = holds.place_only_hold(alice, second.id)
    assert holds.get_hold(held.hold_id) is None and holds.held_slot_ids([first.id, second.id]) == {second.id}
    assert holds.place_hold(bob, first.id).patient_id == bob.user.patient.id  # free for others at once
    holds.place_hold(bob, third.id)
    with pytest.raises(Conflict):  # a time someone else holds: the patient's other hold is let go all the same
        holds.place_only_hold(alice, third.id)
    assert holds.get_hold(moved.hold_id) is None


def test_after_a_portal_booking_the_patient_holds_nothing(ctx, store, doctor):
    slots = clinic.future_slots(doctor.id, 3)
    alice, bob = patient(ctx), patient(ctx)
    for slot in slots[:2]:
        holds.place_hold(alice, slot.id)
    kept = holds.place_hold(bob, slots[2].id)
    holds.release_other_holds(alice)
    assert holds.held_slot_ids([s.id for s in slots]) == {slots[2].id} and holds.get_hold(kept.hold_id) == kept


def test_the_api_keeps_several_holds_per_patient(ctx, store, doctor, monkeypatch):
    monkeypatch.setitem(ctx.config, "MAX_HOLDS_PER_PATIENT", 3)
    slots = clinic.future_slots(doctor.id, 3)
    alice = patient(ctx)
    placed = [holds.place_hold(alice, slot.id) for slot in slots]
    assert holds.held_slot_ids([s.id for s in slots]) == {s.id for s in slots}
    assert holds.store().holds_of(alice.user.patient.id) == placed


def test_own_hold_finds_only_the_callers_live_hold(ctx, store, doctor):
    slot = clinic.slot(doctor.id)
    mine, other = patient(ctx), patient(ctx)
    placed = holds.place_hold(mine, slot.id)
    assert holds.own_hold(mine, placed.hold_id) == placed
    assert holds.own_hold(other, placed.hold_id) is None
    holds.release_hold(mine, placed.hold_id)
    assert holds.own_hold(mine, placed.hold_id) is None
