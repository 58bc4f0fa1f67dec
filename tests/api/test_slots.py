"""/doctors/{id}/slots and /slots/{id}: slot states as anyone sees them; publishing and withdrawing them."""
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import pytest

from portal.extensions import db
from portal.models import Slot
from tests.api.clinic_api import caller, iso, keep_booking_rules, patients, query_count
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # runs on SQLite with the in-process stores too

SOON = clinic.soon(30).replace(minute=0)


def next_spring_change() -> date:
    """The next last Sunday of March (Berlin moves to summer time) at least a week ahead."""
    year = date.today().year
    while True:
        day = date(year, 3, 31)
        day -= timedelta(days=(day.weekday() - 6) % 7)
        if day > date.today() + timedelta(days=7):
            return day
        year += 1


def _window(start=SOON, days=1) -> str:
    return f"from={quote(iso(start - timedelta(hours=1)))}&to={quote(iso(start + timedelta(days=days)))}"


def test_slots_show_free_held_booked_and_past(app, api, ctx):
    doctor = clinic.doctor()
    past = clinic.slot(doctor.id, clinic.soon(-1))
    free, held, booked, cancelled = clinic.future_slots(doctor.id, 4, clinic.soon(1))
    removed = clinic.slot(doctor.id, clinic.soon(5))
    removed.removed_at = clinic.soon(-1)
    db.session.commit()
    clinic.appointment(clinic.patient().id, booked)
    clinic.appointment(clinic.patient().id, cancelled, status="cancelled")
    holder = patients(app, 1)[0]
    assert api.post("/holds", json={"slot_id": held.id}, token=holder.token).status_code == 201
    body = envelope(api.get(f"/doctors/{doctor.id}/slots?from={quote(iso(clinic.soon(-3)))}"))
    assert body["data"] == [
        {"id": slot.id, "doctor_id": doctor.id, "starts_at": iso(slot.starts_at), "ends_at": iso(slot.ends_at),
         "duration": 30, "status": status}
        for slot, status in ((past, "past"), (free, "free"), (held, "held"), (booked, "booked"), (cancelled, "free"))]
    for status, expected in (("free", [free, cancelled]), ("held", [held]), ("booked", [booked])):
        data = envelope(api.get(f"/doctors/{doctor.id}/slots?status={status}&from={quote(iso(clinic.soon(-3)))}"))
        assert [s["id"] for s in data["data"]] == [slot.id for slot in expected], status


def test_the_window_defaults_to_the_next_14_days(api, ctx):
    doctor = clinic.doctor()
    clinic.slot(doctor.id, clinic.soon(-1))
    inside = clinic.slot(doctor.id, clinic.soon(24 * 13))
    clinic.slot(doctor.id, clinic.soon(24 * 15))
    assert [s["id"] for s in envelope(api.get(f"/doctors/{doctor.id}/slots"))["data"]] == [inside.id]
    assert envelope(api.get(f"/doctors/{doctor.id}/slots?from=2020-01-01&to=2020-01-02"))["data"] == []


@pytest.mark.parametrize("query, field", [
    ("status=cancelled", "status"), ("from=yesterday", "from"), ("from=2030-01-01&to=2030-06-01", "to"),
    ("from=2030-01-05&to=2030-01-01", "to"), ("to=2030-01-01T10:00:00", "to"), ("from=0001-01-01", "from"),
])
def test_bad_slot_queries_are_422(api, ctx, query, field):
    doctor = clinic.doctor()
    body = error_of(api.get(f"/doctors/{doctor.id}/slots?{query}"), 422, "validation_error")
    assert field in body["error"]["fields"]


def test_slots_of_unknown_or_archived_doctors_are_404(api, ctx):
    gone = clinic.doctor()
    gone.archived_at = clinic.soon(-1)
    db.session.commit()
    for doctor_id in (gone.id, 999, 99999999999):
        error_of(api.get(f"/doctors/{doctor_id}/slots"), 404, "not_found")


@pytest.mark.production_only("query counts: the laptop harness commits the shared test session per request")
def test_listing_slots_runs_the_same_queries_for_2_or_20(app, api, ctx):
    few, many = clinic.doctor(), clinic.doctor()
    clinic.future_slots(few.id, 2, SOON)
    slots = clinic.future_slots(many.id, 20, SOON)
    for slot in slots[:5]:
        clinic.appointment(clinic.patient().id, slot)
    holder = patients(app, 1)[0]
    assert api.post("/holds", json={"slot_id": slots[10].id}, token=holder.token).status_code == 201
    few_id, many_id = few.id, many.id  # read outside the count: an expired row would be refreshed inside it
    keep_booking_rules(api)
    small = query_count(app, lambda: api.get(f"/doctors/{few_id}/slots?{_window()}"))
    large = query_count(app, lambda: api.get(f"/doctors/{many_id}/slots?{_window()}"))
    assert len(envelope(api.get(f"/doctors/{many.id}/slots?{_window()}"))["data"]) == 20
    assert small == large


def test_a_doctor_publishes_one_slot_and_overlaps_are_409(api, doctor):
    body = envelope(api.post(f"/doctors/{doctor.doctor_id}/slots", token=doctor.token,
                             json={"starts_at": iso(SOON), "duration": 20}))
    assert body["status"] == "created" and body["data"]["skipped"] == 0
    (slot,) = body["data"]["slots"]
    assert (slot["starts_at"], slot["ends_at"], slot["duration"], slot["status"]) == (
        iso(SOON), iso(SOON + timedelta(minutes=20)), 20, "free")
    overlapping = {"starts_at": (SOON + timedelta(minutes=10)).isoformat(), "duration": 30}
    error_of(api.post(f"/doctors/{doctor.doctor_id}/slots", token=doctor.token, json=overlapping), 409, "slot_overlap")
    listed = envelope(api.get(f"/doctors/{doctor.doctor_id}/slots?{_window()}"))["data"]
    assert [s["id"] for s in listed] == [slot["id"]]


def test_an_admin_publishes_for_any_doctor_others_may_not(app, api, ctx, doctor, admin, factories):
    target = clinic.doctor().id
    one = {"starts_at": iso(SOON), "duration": 30}
    assert api.post(f"/doctors/{target}/slots", token=admin.token, json=one).status_code == 201
    error_of(api.post(f"/doctors/{target}/slots", token=doctor.token, json=one), 403, "forbidden")
    error_of(api.post(f"/doctors/{target}/slots", token=patients(app, 1)[0].token, json=one), 403, "forbidden")
    error_of(api.post(f"/doctors/{target}/slots", json=one), 401, "unauthenticated")
    error_of(api.post("/doctors/999/slots", token=admin.token, json=one), 404, "not_found")


@pytest.mark.parametrize("body, status, field", [
    ({"starts_at": "2020-01-01T09:00:00+00:00", "duration": 30}, 422, "starts_at"),
    ({"starts_at": "2030-01-01T09:00:00", "duration": 30}, 422, "starts_at"),
    ({"starts_at": "2030-01-01T09:00:00+00:00", "duration": 4}, 422, "duration"),
    ({"starts_at": "2030-01-01T09:00:00+00:00", "duration": "30"}, 422, "duration"),
    ({"starts_at": "2030-01-01T09:00:00+00:00"}, 400, "duration"),
    ({"duration": 30}, 400, "starts_at"),
    ({"starts_at": "2030-01-01T09:00:00+00:00", "duration": 30, "weekdays": [0]}, 422, "starts_at"),
    ({"from_date": "2030-01-01", "duration": 30}, 400, "weekdays"),
    ({"from_date": "2030-01-01", "to_date": "2030-01-07", "weekdays": [7], "start_time": "09:00",
      "end_time": "12:00", "duration": 30}, 422, "weekdays.0"),
    ({"from_date": "2030-01-07", "to_date": "2030-01-01", "weekdays": [0], "start_time": "09:00",
      "end_time": "12:00", "duration": 30}, 422, "to_date"),
    ({"from_date": "2030-01-01", "to_date": "2030-01-07", "weekdays": [0], "start_time": "12:00",
      "end_time": "09:00", "duration": 30}, 422, "end_time"),
    ({"from_date": "2020-01-01", "to_date": "2020-01-07", "weekdays": [0], "start_time": "09:00",
      "end_time": "12:00", "duration": 30}, 422, "from_date"),
    ({"starts_at": "9999-12-31T23:50:00+00:00", "duration": 30}, 422, "starts_at"),
    ({"from_date": "9999-12-25", "to_date": "9999-12-31", "weekdays": [0, 1, 2, 3, 4, 5, 6],
      "start_time": "09:00", "end_time": "23:50", "duration": 30}, 422, "to_date"),
    ({"from_date": "2030-01-01", "to_date": "2030-01-07", "weekdays": [], "start_time": "09:00",
      "end_time": "12:00", "duration": 30}, 422, "weekdays"),
    ({"from_date": "2030-01-01", "to_date": "2030-01-07", "weekdays": [0], "start_time": "9 am",
      "end_time": "12:00", "duration": 30}, 422, "start_time"),
])
def test_bad_slot_bodies(api, doctor, body, status, field):
    response = api.post(f"/doctors/{doctor.doctor_id}/slots", token=doctor.token, json=body)
    answer = error_of(response, status, "missing_field" if status == 400 else "validation_error")
    assert field in answer["error"]["fields"]


def test_a_weekly_plan_keeps_clinic_wall_clock_time_across_dst_and_counts_skips(api, doctor):
    sunday = next_spring_change()
    friday, monday = sunday - timedelta(days=2), sunday + timedelta(days=1)
    taken = datetime(friday.year, friday.month, friday.day, 8, 30, tzinfo=UTC)  # 09:30 CET on the Friday
    assert api.post(f"/doctors/{doctor.doctor_id}/slots", token=doctor.token,
                    json={"starts_at": iso(taken), "duration": 30}).status_code == 201
    plan = {"from_date": friday.isoformat(), "to_date": monday.isoformat(), "weekdays": [0, 4, 6],
            "start_time": "09:00", "end_time": "10:00", "duration": 30}
    body = envelope(api.post(f"/doctors/{doctor.doctor_id}/slots", token=doctor.token, json=plan))
    assert body["status"] == "created" and body["data"]["skipped"] == 1
    starts = [s["starts_at"] for s in body["data"]["slots"]]
    assert starts == [f"{friday}T08:00:00+00:00", f"{sunday}T07:00:00+00:00", f"{sunday}T07:30:00+00:00",
                      f"{monday}T07:00:00+00:00", f"{monday}T07:30:00+00:00"]
    repeated = api.post(f"/doctors/{doctor.doctor_id}/slots", token=doctor.token, json=plan)
    again = envelope(repeated)
    assert repeated.status_code == 200, "nothing new exists, so not 201"
    assert again["status"] == "success" and again["data"] == {"slots": [], "skipped": 6}


def test_a_doctor_withdraws_a_free_slot_but_not_a_booked_one(app, api, ctx, doctor, admin, factories):
    free, booked = clinic.future_slots(doctor.doctor_id, 2, SOON)
    clinic.appointment(clinic.patient().id, booked)
    other = caller(app, factories.user(role="doctor"))
    error_of(api.delete(f"/slots/{free.id}", token=other.token), 403, "forbidden")
    error_of(api.delete(f"/slots/{free.id}", token=patients(app, 1)[0].token), 403, "forbidden")
    error_of(api.delete(f"/slots/{free.id}"), 401, "unauthenticated")
    body = envelope(api.delete(f"/slots/{free.id}", token=doctor.token))
    assert body["status"] == "deleted"
    assert [s["id"] for s in envelope(api.get(f"/doctors/{doctor.doctor_id}/slots?{_window()}"))["data"]] == [
        booked.id]
    error_of(api.delete(f"/slots/{free.id}", token=doctor.token), 404, "not_found")
    error_of(api.delete(f"/slots/{booked.id}", token=admin.token), 409, "slot_booked")
    error_of(api.delete("/slots/999", token=admin.token), 404, "not_found")
    db.session.expire_all()
    assert db.session.get(Slot, free.id).removed_at is not None
