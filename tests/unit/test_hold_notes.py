"""Why the portal let a hold go early is remembered for the holder alone, by both stores, for a while."""
import pytest

from portal.services.scheduling import holds
from portal.services.scheduling.hold_store import MemoryHoldStore, RedisHoldStore
from tests.fixtures import clinic


@pytest.fixture(params=["redis", "memory"])
def store(request, app, monkeypatch):
    made = RedisHoldStore(app.extensions["redis"]) if request.param == "redis" else MemoryHoldStore(lambda: None)
    monkeypatch.setitem(app.extensions, "hold_store", made)
    return made


def patient():
    return clinic.actor(clinic.patient_account().id)


def test_a_hold_let_go_for_another_time_says_so_to_its_holder_only(ctx, store):
    first, second = clinic.future_slots(clinic.doctor().id, 2)
    alice, bob = patient(), patient()
    held = holds.place_only_hold(alice, first.id)
    assert holds.why_gone(alice, held.hold_id) is None  # still live: nothing happened to it
    holds.place_only_hold(alice, second.id)
    assert holds.why_gone(alice, held.hold_id) is holds.Gone.REPLACED
    assert holds.why_gone(bob, held.hold_id) is None


def test_a_booking_notes_its_own_hold_and_the_others(ctx, store):
    first, second = clinic.future_slots(clinic.doctor().id, 2)
    alice = patient()
    used, other = holds.place_hold(alice, first.id), holds.place_hold(alice, second.id)
    holds.release_other_holds(alice, booked=used.hold_id)
    assert holds.why_gone(alice, used.hold_id) is holds.Gone.BOOKED
    assert holds.why_gone(alice, other.hold_id) is holds.Gone.BOOKED_OTHER


def test_a_hold_released_by_its_holder_or_never_held_has_no_story(ctx, store):
    (slot,) = clinic.future_slots(clinic.doctor().id, 1)
    alice = patient()
    held = holds.place_only_hold(alice, slot.id)
    holds.release_hold(alice, held.hold_id)
    assert holds.why_gone(alice, held.hold_id) is None
    assert holds.why_gone(alice, "no-such-hold") is None and holds.why_gone(alice, "x" * 100) is None

