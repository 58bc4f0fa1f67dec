"""The booking rules through the API: every code (too_soon, too_far, too_late, no_show_limit) at its
boundary, staff outside them, the per-doctor overrides on the doctor JSON, and the slot lists that offer
patients only what they may book."""
from datetime import UTC, datetime, timedelta

import pytest

from portal.services import clinic_time
from tests.api.clinic_api import caller, iso
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # runs on SQLite with the in-process stores too

PHONE = "+49 30 5550 1000"


@pytest.fixture
def now(clock, rules_on):
    """The production rules (120 minutes, 90 days, 24 hours) and a clock stopped at the next whole minute
    (forward, not back: the callers' tokens were issued a moment ago)."""
    rules_on()
    return clock.freeze((datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0))


def _refused(response, code: str) -> str:
    body = error_of(response, 422, code)
    assert body["status"] == "invalid" and "fields" not in body["error"]
    return body["message"]


def test_a_slot_exactly_the_minimum_notice_ahead_is_bookable_and_a_minute_sooner_is_too_soon(
        api, ctx, doctor, alice, now):
    sooner, exact = clinic.slot(doctor.doctor_id, now + timedelta(minutes=119), duration=1), \
        clinic.slot(doctor.doctor_id, now + timedelta(minutes=120), duration=1)
    message = _refused(api.post("/holds", json={"slot_id": sooner.id}, token=alice.token), "too_soon")
    assert "at least 2 hours ahead" in message and PHONE in message
    _refused(api.post("/appointments", json={"slot_id": sooner.id}, token=alice.token), "too_soon")
    hold = envelope(api.post("/holds", json={"slot_id": exact.id}, token=alice.token))["data"]
    booked = envelope(api.post("/appointments", json={"hold_id": hold["hold_id"]}, token=alice.token))
    assert booked["data"]["slot_id"] == exact.id


def test_the_horizon_ends_with_the_clinic_day_ninety_days_ahead(api, ctx, doctor, alice, now):
    last_day = clinic_time.to_local(now).date() + timedelta(days=90)
    _start, end = clinic_time.day_bounds(last_day)
    inside = clinic.slot(doctor.doctor_id, end - timedelta(minutes=30))
    beyond = clinic.slot(doctor.doctor_id, end)
    message = _refused(api.post("/appointments", json={"slot_id": beyond.id}, token=alice.token), "too_far")
    assert "90 days" in message and f"{last_day:%-d %B %Y}" in message
    _refused(api.post("/holds", json={"slot_id": beyond.id}, token=alice.token), "too_far")
    assert envelope(api.post("/appointments", json={"slot_id": inside.id}, token=alice.token))["status"] == "created"


def test_a_held_slot_that_falls_inside_the_notice_before_confirming_is_refused_and_let_go(
        app, api, ctx, doctor, alice, clock, now):
    slot = clinic.slot(doctor.doctor_id, now + timedelta(minutes=121))
    hold_id = envelope(api.post("/holds", json={"slot_id": slot.id}, token=alice.token))["data"]["hold_id"]
    clock.freeze(now + timedelta(minutes=2))
    _refused(api.post("/appointments", json={"hold_id": hold_id}, token=alice.token), "too_soon")
    error_of(api.delete(f"/holds/{hold_id}", token=alice.token), 404, "not_found")  # let go: it blocks nobody


def test_a_held_slot_booked_meanwhile_is_slot_booked_even_when_the_rules_would_refuse_it_too(
        app, api, ctx, doctor, alice, clock, now):
    """A booked slot is slot_booked first, as before the rules: the patient learns it is gone, not that it is
    too soon. (Booked behind the hold, as the desk could while Redis was away.)"""
    slot = clinic.slot(doctor.doctor_id, now + timedelta(minutes=121))
    hold_id = envelope(api.post("/holds", json={"slot_id": slot.id}, token=alice.token))["data"]["hold_id"]
    clinic.appointment(clinic.patient().id, slot)
    clock.freeze(now + timedelta(minutes=2))
    error_of(api.post("/appointments", json={"hold_id": hold_id}, token=alice.token), 409, "slot_booked")


def _booked(ctx, doctor, alice, starts_at) -> int:
    return clinic.appointment(alice.patient_id, clinic.slot(doctor.doctor_id, starts_at, duration=1)).id


def test_a_patient_cancels_up_to_the_cut_off_and_not_a_minute_later(api, ctx, doctor, alice, now):
    in_time = _booked(ctx, doctor, alice, now + timedelta(hours=24))
    late = _booked(ctx, doctor, alice, now + timedelta(hours=23, minutes=59))
    message = _refused(api.delete(f"/appointments/{late}", token=alice.token), "too_late")
    assert "24 hours" in message and f"call the clinic on {PHONE}" in message
    assert envelope(api.get(f"/appointments/{late}", token=alice.token))["data"]["status"] == "scheduled"
    assert envelope(api.delete(f"/appointments/{in_time}", token=alice.token))["data"]["status"] == "cancelled"


def test_a_patient_reschedules_only_before_the_cut_off_and_only_into_the_window(api, ctx, doctor, alice, now):
    late = _booked(ctx, doctor, alice, now + timedelta(hours=5))
    ahead = _booked(ctx, doctor, alice, now + timedelta(days=3))
    target = clinic.slot(doctor.doctor_id, now + timedelta(days=4))
    too_soon = clinic.slot(doctor.doctor_id, now + timedelta(minutes=60))
    too_far = clinic.slot(doctor.doctor_id, now + timedelta(days=95))
    _refused(api.patch(f"/appointments/{late}", json={"slot_id": target.id}, token=alice.token), "too_late")
    _refused(api.patch(f"/appointments/{ahead}", json={"slot_id": too_soon.id}, token=alice.token), "too_soon")
    _refused(api.patch(f"/appointments/{ahead}", json={"slot_id": too_far.id}, token=alice.token), "too_far")
    moved = envelope(api.patch(f"/appointments/{ahead}", json={"slot_id": target.id}, token=alice.token))
    assert moved["data"]["slot_id"] == target.id


@pytest.mark.parametrize("who", ["doctor", "admin"])
def test_staff_cancel_and_move_inside_the_cut_off(request, api, ctx, doctor, alice, now, who):
    token = request.getfixturevalue(who).token
    late = _booked(ctx, doctor, alice, now + timedelta(hours=3))
    soon = clinic.slot(doctor.doctor_id, now + timedelta(minutes=30))
    assert envelope(api.patch(f"/appointments/{late}", json={"slot_id": soon.id}, token=token))["status"] == "updated"
    assert envelope(api.delete(f"/appointments/{late}", token=token))["data"]["status"] == "cancelled"


def _no_shows(doctor, alice, count: int, now) -> None:
    for n in range(count):
        clinic.appointment(alice.patient_id, clinic.slot(doctor.doctor_id, now - timedelta(days=20 + n)),
                           status="no_show")


def test_the_no_show_limit_stops_self_booking_and_staff_still_book(api, ctx, doctor, alice, rules_on, now):
    _no_shows(doctor, alice, 2, now)
    slot = clinic.slot(doctor.doctor_id, now + timedelta(days=2))
    assert envelope(api.post("/holds", json={"slot_id": slot.id}, token=alice.token))["status"] == "created"
    rules_on(NO_SHOW_LIMIT=2)
    message = _refused(api.post("/appointments", json={"slot_id": slot.id}, token=alice.token), "no_show_limit")
    assert "2 of your appointments" in message and "missed" in message and PHONE in message
    _refused(api.post("/holds", json={"slot_id": slot.id}, token=alice.token), "no_show_limit")
    desk = api.post("/appointments", json={"slot_id": slot.id, "patient_id": alice.patient_id}, token=doctor.token)
    assert envelope(desk)["data"]["patient"]["id"] == alice.patient_id


def test_marking_a_no_show_counts_towards_the_limit(api, ctx, doctor, alice, rules_on, now):
    rules_on(NO_SHOW_LIMIT=1)
    missed = _booked(ctx, doctor, alice, now - timedelta(hours=2))
    slot = clinic.slot(doctor.doctor_id, now + timedelta(days=2))
    assert envelope(api.patch(f"/appointments/{missed}", json={"status": "no_show"}, token=doctor.token))
    _refused(api.post("/appointments", json={"slot_id": slot.id}, token=alice.token), "no_show_limit")
    envelope(api.patch(f"/appointments/{missed}", json={"status": "completed"}, token=doctor.token))
    assert envelope(api.post("/appointments", json={"slot_id": slot.id}, token=alice.token))["status"] == "created"


# --- the doctor's overrides -----------------------------------------------------------------------------

def test_an_admin_sets_a_doctors_overrides_and_they_show_and_apply(api, ctx, doctor, admin, alice, now):
    body = envelope(api.patch(f"/doctors/{doctor.doctor_id}", token=admin.token,
                              json={"min_notice_minutes": 30, "horizon_days": 7, "change_cutoff_hours": 2}))
    assert {k: body["data"][k] for k in ("min_notice_minutes", "horizon_days", "change_cutoff_hours")} == {
        "min_notice_minutes": 30, "horizon_days": 7, "change_cutoff_hours": 2}
    public = envelope(api.get(f"/doctors/{doctor.doctor_id}"))["data"]
    assert (public["min_notice_minutes"], public["horizon_days"], public["change_cutoff_hours"]) == (30, 7, 2)
    soon = clinic.slot(doctor.doctor_id, now + timedelta(minutes=30))
    far = clinic.slot(doctor.doctor_id, now + timedelta(days=9))
    other = clinic.doctor(full_name="Zed Clinic-Rules")
    clinic.slot(other.id, now + timedelta(minutes=30))  # too soon under the clinic's 120 minutes
    listed = {d["id"]: d["next_free_slot"] for d in envelope(api.get("/doctors"))["data"]}
    assert listed == {doctor.doctor_id: iso(now + timedelta(minutes=30)), other.id: None}
    _refused(api.post("/appointments", json={"slot_id": far.id}, token=alice.token), "too_far")
    booked = envelope(api.post("/appointments", json={"slot_id": soon.id}, token=alice.token))["data"]["id"]
    _refused(api.delete(f"/appointments/{booked}", token=alice.token), "too_late")  # 30 min < 2 h cut-off
    back = envelope(api.put(f"/doctors/{doctor.doctor_id}", token=admin.token,
                            json={"min_notice_minutes": None, "horizon_days": None, "change_cutoff_hours": None}))
    assert back["data"]["min_notice_minutes"] is None
    assert envelope(api.post("/holds", json={"slot_id": far.id}, token=alice.token))["status"] == "created"


def test_a_doctor_may_not_change_their_own_rules_but_may_send_them_back_unchanged(api, ctx, doctor, admin):
    envelope(api.patch(f"/doctors/{doctor.doctor_id}", json={"horizon_days": 30}, token=admin.token))
    error_of(api.patch(f"/doctors/{doctor.doctor_id}", json={"horizon_days": 60}, token=doctor.token),
             403, "forbidden")
    error_of(api.patch(f"/doctors/{doctor.doctor_id}", json={"change_cutoff_hours": 5, "phone": "1"},
                       token=doctor.token), 403, "forbidden")
    assert envelope(api.get(f"/doctors/{doctor.doctor_id}"))["data"]["phone"] is None  # nothing changed
    same = api.patch(f"/doctors/{doctor.doctor_id}", token=doctor.token,
                     json={"horizon_days": 30, "min_notice_minutes": None, "phone": "030 1234"})
    assert envelope(same)["data"]["phone"] == "030 1234" and envelope(same)["data"]["horizon_days"] == 30


@pytest.mark.parametrize("field, value", [("min_notice_minutes", -1), ("horizon_days", 731),
                                          ("change_cutoff_hours", "two"), ("horizon_days", 1.5)])
def test_overrides_are_whole_numbers_in_range(api, doctor, admin, field, value):
    answer = error_of(api.patch(f"/doctors/{doctor.doctor_id}", json={field: value}, token=admin.token),
                      422, "validation_error")
    assert field in answer["error"]["fields"]


# --- what the lists offer -------------------------------------------------------------------------------

@pytest.fixture
def window_slots(ctx, doctor, now):
    """A slot too soon, two bookable ones and one beyond the horizon (slot ids by name)."""
    return {name: clinic.slot(doctor.doctor_id, now + offset).id for name, offset in (
        ("too_soon", timedelta(minutes=90)), ("first", timedelta(hours=2)), ("later", timedelta(days=10)),
        ("too_far", timedelta(days=91)))}


def _ids(data, key="id") -> list[int]:
    return [item[key] for item in data]


def _q(moment) -> str:
    return iso(moment).replace("+", "%2B")


def _window(now) -> str:
    return f"from={_q(now)}&to={_q(now + timedelta(days=92))}"


def test_patients_and_visitors_see_only_the_slots_they_may_book(api, ctx, doctor, alice, window_slots, now):
    offered = [window_slots["first"], window_slots["later"]]
    for token in (None, alice.token):
        free = envelope(api.get(f"/doctors/{doctor.doctor_id}/slots?status=free&{_window(now)}", token=token))
        assert _ids(free["data"]) == offered
        every = envelope(api.get(f"/doctors/{doctor.doctor_id}/slots?{_window(now)}", token=token))
        assert _ids(every["data"]) == offered
    detail = envelope(api.get(f"/doctors/{doctor.doctor_id}?{_window(now)}"))["data"]
    assert _ids(detail["available_slots"]) == offered
    listing = envelope(api.get("/doctors"))["data"]
    assert [d["next_free_slot"] for d in listing] == [iso(now + timedelta(hours=2))]
    speciality = envelope(api.get(f"/specialities/General practice/slots?start={_q(now)}"
                                  f"&end={_q(now + timedelta(days=92))}"))["data"]
    assert _ids(speciality, "slot_id") == offered


@pytest.mark.parametrize("who", ["doctor", "admin"])
def test_the_doctor_and_admins_see_every_free_slot(request, api, doctor, window_slots, now, who):
    token = request.getfixturevalue(who).token
    free = envelope(api.get(f"/doctors/{doctor.doctor_id}/slots?status=free&{_window(now)}", token=token))
    assert _ids(free["data"]) == list(window_slots.values())


def test_another_doctor_sees_what_patients_see(app, api, factories, doctor, window_slots, now):
    colleague = caller(app, factories.user(role="doctor"))
    free = envelope(api.get(f"/doctors/{doctor.doctor_id}/slots?status=free&{_window(now)}", token=colleague.token))
    assert _ids(free["data"]) == [window_slots["first"], window_slots["later"]]


def test_a_bad_token_on_the_public_slot_list_is_401(api, doctor):
    error_of(api.get(f"/doctors/{doctor.doctor_id}/slots", token="not-a-token"), 401, "unauthenticated")


def test_a_booked_slot_inside_the_notice_still_shows_as_booked(api, ctx, doctor, alice, now):
    taken = clinic.slot(doctor.doctor_id, now + timedelta(minutes=30))
    clinic.appointment(alice.patient_id, taken)
    states = envelope(api.get(f"/doctors/{doctor.doctor_id}/slots?{_window(now)}"))["data"]
    assert [(s["id"], s["status"]) for s in states] == [(taken.id, "booked")]
