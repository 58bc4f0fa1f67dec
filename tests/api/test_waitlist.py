"""/waitlist: joining, listing and leaving, every error path, and the offer a freed slot becomes.

Jobs run with the outbox's run_due (tests run no worker); time moves with the clock fixture.
"""
from dataclasses import replace
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import WaitlistEntry
from portal.services import clinic_time
from portal.services.jobs import outbox
from tests.api.clinic_api import caller, iso, patients, token_for
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # runs on SQLite with the in-process stores too

ENTRY_FIELDS = {"id", "doctor_id", "speciality", "from", "to", "weekdays", "earliest_time", "latest_time", "status",
                "created_at", "ended_at", "offer", "waiting_ahead", "waiting"}


def day(n: int) -> str:
    """A clinic date n days from today (inside the app context every test here has through `ctx`)."""
    return (clinic_time.today() + timedelta(days=n)).isoformat()


@pytest.fixture
def wanted(ctx, doctor):
    """What most tests ask for: the doctor fixture's times in the next 30 days."""
    return {"doctor_id": doctor.doctor_id, "from": day(0), "to": day(30)}


def run_jobs(app) -> int:
    with app.app_context():
        done = outbox.run_due()
        db.session.remove()
    return done


def test_a_patient_joins_and_sees_the_entry_with_its_place(api, alice, wanted, app):
    bob = patients(app, 1)[0]
    envelope(api.post("/waitlist", json=wanted, token=bob.token))
    response = api.post("/waitlist", json={**wanted, "weekdays": [0, 2], "earliest_time": "09:00",
                                           "latest_time": "12:30"}, token=alice.token)
    body = envelope(response)
    assert (response.status_code, body["status"]) == (201, "created")
    entry = body["data"]
    assert set(entry) == ENTRY_FIELDS
    assert (entry["doctor_id"], entry["speciality"], entry["status"], entry["weekdays"], entry["earliest_time"],
            entry["latest_time"], entry["offer"], entry["waiting_ahead"], entry["waiting"]) == (
        wanted["doctor_id"], None, "waiting", [0, 2], "09:00:00", "12:30:00", None, 1, 2)
    listed = envelope(api.get("/waitlist", token=alice.token))
    assert [item["id"] for item in listed["data"]] == [entry["id"]]
    assert listed["meta"] == {"page": 1, "per_page": 20, "total": 1}


def test_a_speciality_entry(api, alice, ctx):
    clinic.doctor(speciality="Neurology")
    body = envelope(api.post("/waitlist", json={"speciality": "NEUROLOGY", "from": day(1), "to": day(3)},
                             token=alice.token))
    assert (body["data"]["speciality"], body["data"]["doctor_id"]) == ("neurology", None)
    start = clinic_time.day_bounds(clinic_time.today() + timedelta(days=1))[0]
    assert body["data"]["from"] == iso(start)


def test_staff_may_not_use_the_waitlist(api, doctor, admin, wanted):
    for who in (doctor, admin):
        error_of(api.post("/waitlist", json=wanted, token=who.token), 403, "forbidden")
        error_of(api.get("/waitlist", token=who.token), 403, "forbidden")
        error_of(api.delete("/waitlist/1", token=who.token), 403, "forbidden")
    error_of(api.get("/waitlist"), 401, "unauthenticated")


def test_missing_and_invalid_fields(api, alice, wanted):
    error_of(api.post("/waitlist", json={"from": day(0), "to": day(3)}, token=alice.token), 400, "missing_field")
    error_of(api.post("/waitlist", json={"doctor_id": wanted["doctor_id"]}, token=alice.token), 400, "missing_field")
    both = error_of(api.post("/waitlist", json={**wanted, "speciality": "x"}, token=alice.token),
                    422, "validation_error")
    assert "doctor_id" in both["error"]["fields"]
    problems = error_of(api.post("/waitlist", json={**wanted, "from": day(5), "to": day(2), "weekdays": [1, 9],
                                                    "earliest_time": "14:00", "latest_time": "10:00"},
                                 token=alice.token), 422, "validation_error")["error"]["fields"]
    assert {"weekdays.1"} <= set(problems)
    rules = error_of(api.post("/waitlist", json={**wanted, "from": day(5), "to": day(2),
                                                 "earliest_time": "14:00", "latest_time": "10:00"},
                              token=alice.token), 422, "validation_error")["error"]["fields"]
    assert set(rules) == {"to", "latest_time"}
    past = error_of(api.post("/waitlist", json={**wanted, "from": day(-9), "to": day(-2)}, token=alice.token),
                    422, "validation_error")
    assert past["error"]["fields"] == {"to": ["The window has already passed."]}
    error_of(api.post("/waitlist", json={**wanted, "from": "soon"}, token=alice.token), 422, "validation_error")


def test_unknown_doctor_or_speciality_is_404(api, alice, wanted):
    error_of(api.post("/waitlist", json={**wanted, "doctor_id": 999999}, token=alice.token), 404, "not_found")
    error_of(api.post("/waitlist", json={"speciality": "Alchemy", "from": day(0), "to": day(3)}, token=alice.token),
             404, "not_found")


def test_too_many_live_entries_is_409(api, alice, wanted, app):
    for _ in range(app.config["WAITLIST_MAX_ENTRIES"]):
        envelope(api.post("/waitlist", json=wanted, token=alice.token))
    error_of(api.post("/waitlist", json=wanted, token=alice.token), 409, "too_many_entries")


def test_joining_is_idempotent_with_a_key(api, alice, wanted, app):
    headers = {"Idempotency-Key": "wait-for-dr-1"}
    first = api.post("/waitlist", json=wanted, token=alice.token, headers=headers)
    again = api.post("/waitlist", json=wanted, token=alice.token, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert db.session.query(WaitlistEntry).count() == 1
        db.session.remove()
    error_of(api.post("/waitlist", json={**wanted, "to": day(20)}, token=alice.token, headers=headers),
             422, "idempotency_mismatch")


def test_leaving_cancels_and_keeps_the_entry(api, alice, wanted, app):
    entry = envelope(api.post("/waitlist", json=wanted, token=alice.token))["data"]
    body = envelope(api.delete(f"/waitlist/{entry['id']}", token=alice.token))
    assert (body["status"], body["data"]["status"]) == ("deleted", "cancelled")
    assert body["data"]["ended_at"] is not None and body["data"]["waiting"] is None
    error_of(api.delete(f"/waitlist/{entry['id']}", token=alice.token), 409, "entry_ended")
    assert envelope(api.get("/waitlist", token=alice.token))["data"][0]["status"] == "cancelled"


def test_someone_elses_entry_is_404_and_ids_are_plain_decimals(api, alice, wanted, app):
    entry = envelope(api.post("/waitlist", json=wanted, token=alice.token))["data"]
    bob = patients(app, 1)[0]
    error_of(api.delete(f"/waitlist/{entry['id']}", token=bob.token), 404, "not_found")
    assert envelope(api.get("/waitlist", token=bob.token))["data"] == []
    assert api.delete(f"/waitlist/0{entry['id']}", token=alice.token).status_code == 404


def test_a_cancelled_slot_is_offered_and_booked_with_its_hold(api, alice, wanted, app, doctor, slots):
    bob = patients(app, 1)[0]
    waiting = envelope(api.post("/waitlist", json=wanted, token=alice.token))["data"]
    booked = envelope(api.post("/appointments", json={"slot_id": slots[0].id}, token=bob.token))["data"]
    envelope(api.delete(f"/appointments/{booked['id']}", token=bob.token))
    run_jobs(app)
    [entry] = envelope(api.get("/waitlist", token=alice.token))["data"]
    offer = entry["offer"]
    assert (entry["status"], offer["slot_id"], offer["starts_at"]) == ("offered", slots[0].id, iso(slots[0].starts_at))
    assert set(offer) == {"hold_id", "slot_id", "starts_at", "expires_at"}
    # nobody else can take it while it is offered
    error_of(api.post("/holds", json={"slot_id": slots[0].id}, token=bob.token), 409, "slot_held")
    error_of(api.post("/appointments", json={"slot_id": slots[0].id}, token=bob.token), 409, "slot_held")
    taken = envelope(api.post("/appointments", json={"hold_id": offer["hold_id"]}, token=alice.token))["data"]
    assert taken["slot_id"] == slots[0].id
    [entry] = envelope(api.get("/waitlist", token=alice.token))["data"]
    assert (entry["id"], entry["status"], entry["offer"]) == (waiting["id"], "booked", None)


@pytest.mark.production_only("moves Redis's clock with the app's (the clock fixture)")
def test_an_offer_left_to_expire_passes_to_the_next_patient(api, alice, wanted, app, doctor, slots, clock):
    bob, carol = patients(app, 2)
    envelope(api.post("/waitlist", json=wanted, token=alice.token))
    clock.advance(1)
    envelope(api.post("/waitlist", json=wanted, token=bob.token))
    booked = envelope(api.post("/appointments", json={"slot_id": slots[1].id}, token=carol.token))["data"]
    envelope(api.delete(f"/appointments/{booked['id']}", token=carol.token))
    run_jobs(app)
    alices_offer = envelope(api.get("/waitlist", token=alice.token))["data"][0]["offer"]
    assert alices_offer["slot_id"] == slots[1].id
    assert envelope(api.get("/waitlist", token=bob.token))["data"][0]["waiting_ahead"] == 0  # alice is offered
    clock.advance(app.config["WAITLIST_OFFER_MINUTES"] * 60 + 1)
    run_jobs(app)
    alice, bob = (replace(who, token=token_for(app, who.user_id)) for who in (alice, bob))  # 15-minute tokens
    [alices] = envelope(api.get("/waitlist", token=alice.token))["data"]
    [bobs] = envelope(api.get("/waitlist", token=bob.token))["data"]
    assert (alices["status"], alices["offer"]) == ("waiting", None)
    assert (bobs["status"], bobs["offer"]["slot_id"]) == ("offered", slots[1].id)
    error_of(api.post("/appointments", json={"hold_id": alices_offer["hold_id"]}, token=alice.token),
             409, "hold_expired")
    error_of(api.post("/appointments", json={"slot_id": slots[1].id}, token=alice.token), 409, "slot_held")
    envelope(api.post("/appointments", json={"hold_id": bobs["offer"]["hold_id"]}, token=bob.token))


def test_leaving_with_an_offer_passes_it_on(api, alice, wanted, app, doctor, slots):
    bob, carol = patients(app, 2)
    mine = envelope(api.post("/waitlist", json=wanted, token=alice.token))["data"]
    envelope(api.post("/waitlist", json=wanted, token=bob.token))
    booked = envelope(api.post("/appointments", json={"slot_id": slots[2].id}, token=carol.token))["data"]
    envelope(api.delete(f"/appointments/{booked['id']}", token=carol.token))
    run_jobs(app)
    envelope(api.delete(f"/waitlist/{mine['id']}", token=alice.token))
    run_jobs(app)
    [bobs] = envelope(api.get("/waitlist", token=bob.token))["data"]
    assert bobs["offer"]["slot_id"] == slots[2].id


def test_a_published_slot_is_offered(api, alice, wanted, app, doctor):
    envelope(api.post("/waitlist", json=wanted, token=alice.token))
    starts = clinic_time.now().replace(second=0, microsecond=0) + timedelta(days=2)
    made = envelope(api.post(f"/doctors/{doctor.doctor_id}/slots", json={"starts_at": iso(starts), "duration": 30},
                             token=doctor.token))["data"]
    run_jobs(app)
    [entry] = envelope(api.get("/waitlist", token=alice.token))["data"]
    assert entry["offer"]["slot_id"] == made["slots"][0]["id"]


@pytest.mark.production_only("SQLite writes the list's audit rows one INSERT each")
def test_the_list_costs_the_same_for_one_entry_or_many(api, alice, wanted, app):
    from tests.api.clinic_api import steady_query_count

    envelope(api.post("/waitlist", json=wanted, token=alice.token))
    one = steady_query_count(app, lambda: api.get("/waitlist", token=alice.token))
    for _ in range(app.config["WAITLIST_MAX_ENTRIES"] - 1):
        envelope(api.post("/waitlist", json=wanted, token=alice.token))
    assert steady_query_count(app, lambda: api.get("/waitlist", token=alice.token)) == one


def test_caller_of_a_factory_patient(api, app, factories, wanted):
    """A patient who signed up through the accounts service (not the fast factory) may join too."""
    made = caller(app, factories.user(role="patient"))
    assert api.post("/waitlist", json=wanted, token=made.token).status_code == 201
