"""A slot offered from the waitlist that goes off offer (an absence withdraws it, its doctor removes it):
the offer ends at once, its hold is let go and its patient waits again in the same place.

Found by the independent API check: the patient kept being shown (and had been mailed) an offer that
booked as 404, until the offer's time ran out.
"""
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import OfferOutcome, WaitlistOffer
from portal.services import clinic_time
from portal.services.jobs import outbox
from portal.services.scheduling import holds
from tests.api.clinic_api import iso, patients
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # runs on SQLite with the in-process stores too


def run_jobs(app) -> int:
    with app.app_context():
        done = outbox.run_due()
        db.session.remove()
    return done


def offered(api, app, doctor, slot) -> tuple:
    """alice waits first, bob second; carol books the slot and cancels: alice is offered it."""
    alice, bob, carol = patients(app, 3)
    wanted = {"doctor_id": doctor.doctor_id, "from": clinic_time.today().isoformat(),
              "to": (clinic_time.today() + timedelta(days=30)).isoformat()}
    envelope(api.post("/waitlist", json=wanted, token=alice.token))
    envelope(api.post("/waitlist", json=wanted, token=bob.token))
    booked = envelope(api.post("/appointments", json={"slot_id": slot.id}, token=carol.token))["data"]
    envelope(api.delete(f"/appointments/{booked['id']}", token=carol.token))
    run_jobs(app)
    [entry] = envelope(api.get("/waitlist", token=alice.token))["data"]
    assert entry["offer"]["slot_id"] == slot.id
    return alice, bob, carol, entry


def assert_offer_ended(api, app, alice, bob, entry) -> None:
    [now] = envelope(api.get("/waitlist", token=alice.token))["data"]
    assert (now["id"], now["status"], now["offer"], now["waiting_ahead"]) == (entry["id"], "waiting", None, 0)
    with app.app_context():
        row = db.session.scalar(db.select(WaitlistOffer).where(WaitlistOffer.hold_id == entry["offer"]["hold_id"]))
        assert row.outcome == OfferOutcome.WITHDRAWN.value
        assert holds.get_hold(entry["offer"]["hold_id"]) is None
        db.session.remove()
    error_of(api.post("/appointments", json={"hold_id": entry["offer"]["hold_id"]}, token=alice.token),
             409, "hold_expired")
    run_jobs(app)
    [bobs] = envelope(api.get("/waitlist", token=bob.token))["data"]
    assert (bobs["status"], bobs["offer"]) == ("waiting", None)  # a withdrawn slot is not passed on


def test_an_absence_over_an_offered_slot_ends_the_offer(api, app, doctor, slots):
    alice, bob, _carol, entry = offered(api, app, doctor, slots[0])
    absence = envelope(api.post(f"/doctors/{doctor.doctor_id}/absences", token=doctor.token, json={
        "starts_at": iso(slots[0].starts_at), "ends_at": iso(slots[0].ends_at)}))["data"]
    assert absence["affected"] == []
    assert_offer_ended(api, app, alice, bob, entry)
    # the absence removed: the slot is free again and goes to the next in line (a slot is offered to
    # an entry once: uq_waitlist_offers_slot_entry); alice keeps her place for every other time
    envelope(api.delete(f"/absences/{absence['id']}", token=doctor.token))
    run_jobs(app)
    [bobs] = envelope(api.get("/waitlist", token=bob.token))["data"]
    assert (bobs["status"], bobs["offer"]["slot_id"]) == ("offered", slots[0].id)
    [alices] = envelope(api.get("/waitlist", token=alice.token))["data"]
    assert (alices["status"], alices["offer"], alices["waiting_ahead"]) == ("waiting", None, 0)


def test_removing_an_offered_slot_ends_the_offer(api, app, doctor, slots):
    alice, bob, _carol, entry = offered(api, app, doctor, slots[1])
    envelope(api.delete(f"/slots/{slots[1].id}", token=doctor.token))
    assert_offer_ended(api, app, alice, bob, entry)


def test_an_absence_elsewhere_leaves_the_offer_alone(api, app, doctor, slots):
    alice, _bob, _carol, entry = offered(api, app, doctor, slots[2])
    envelope(api.post(f"/doctors/{doctor.doctor_id}/absences", token=doctor.token, json={
        "starts_at": iso(slots[3].starts_at), "ends_at": iso(slots[3].ends_at)}))
    [same] = envelope(api.get("/waitlist", token=alice.token))["data"]
    assert same["offer"] == entry["offer"]
