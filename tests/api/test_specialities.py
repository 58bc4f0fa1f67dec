"""/specialities: what the active doctors practise, and the free slots of a speciality in a window."""
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest

from portal.extensions import db
from tests.api.clinic_api import iso, keep_booking_rules, patients, query_count
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too

START = clinic.soon(48).replace(minute=0)


def _window(start=START, days=1) -> str:
    return f"start={quote(iso(start - timedelta(hours=1)))}&end={quote(iso(start + timedelta(days=days)))}"


def test_specialities_with_their_doctor_counts(api, ctx):
    clinic.doctor(speciality="Cardiology")
    clinic.doctor(speciality="cardiology")
    clinic.doctor(speciality="Neurology")
    gone = clinic.doctor(speciality="Dermatology")
    gone.archived_at = clinic.soon(-1)
    db.session.commit()
    body = envelope(api.get("/specialities"))
    assert body["data"] == [{"name": "Cardiology", "doctor_count": 2}, {"name": "Neurology", "doctor_count": 1}]


def test_free_slots_of_a_speciality_in_time_order_with_their_doctor(api, ctx):
    late = clinic.doctor(speciality="Cardiology", full_name="Dr Late", gender="female", fees=Decimal("80"))
    early = clinic.doctor(speciality="Cardiology", full_name="Dr Early")
    clinic.doctor(speciality="Neurology")
    second = clinic.slot(late.id, START + timedelta(hours=2), duration=20)
    first = clinic.slot(early.id, START)
    body = envelope(api.get(f"/specialities/cardiology/slots?{_window()}"))
    assert body["data"] == [
        {"doctor_id": early.id, "full_name": "Dr Early", "gender": None, "fees": None, "slot_id": first.id,
         "starts_at": iso(START), "ends_at": iso(START + timedelta(minutes=30)), "duration": 30},
        {"doctor_id": late.id, "full_name": "Dr Late", "gender": "female", "fees": "80.00", "slot_id": second.id,
         "starts_at": iso(START + timedelta(hours=2)), "ends_at": iso(START + timedelta(hours=2, minutes=20)),
         "duration": 20},
    ]


def test_booked_held_and_outside_slots_are_left_out(app, api, ctx):
    doctor = clinic.doctor(speciality="Cardiology")
    booked, held, free, later = clinic.future_slots(doctor.id, 3, START) + [
        clinic.slot(doctor.id, START + timedelta(days=3))]
    someone = clinic.patient()
    clinic.appointment(someone.id, booked)
    holder = patients(app, 1)[0]
    assert api.post("/holds", json={"slot_id": held.id}, token=holder.token).status_code == 201
    body = envelope(api.get(f"/specialities/Cardiology/slots?{_window()}"))
    assert [s["slot_id"] for s in body["data"]] == [free.id]
    assert later.id not in [s["slot_id"] for s in body["data"]]


def test_nothing_free_is_an_empty_list(api, ctx):
    clinic.doctor(speciality="Cardiology")
    body = envelope(api.get(f"/specialities/Cardiology/slots?{_window()}"))
    assert body["status"] == "success" and body["data"] == []


@pytest.mark.parametrize("query, field", [("end=2030-01-02", "start"), ("start=2030-01-01", "end"), ("", "start")])
def test_start_and_end_are_required(api, ctx, query, field):
    clinic.doctor(speciality="Cardiology")
    body = error_of(api.get(f"/specialities/Cardiology/slots?{query}"), 400, "missing_field")
    assert field in body["error"]["fields"]


@pytest.mark.parametrize("query, field", [
    ("start=2030-01-05&end=2030-01-01", "end"),
    ("start=2030-01-05T10:00:00%2B00:00&end=2030-01-05T10:00:00%2B00:00", "end"),
    ("start=2030-01-01&end=2030-06-01", "end"),
    ("start=someday&end=2030-01-01", "start"),
    ("start=2030-01-01T09:00:00&end=2030-01-02", "start"),
    ("start=2030-01-01&end=9999-12-31", "end"),
])
def test_a_bad_or_backwards_window_is_422(api, ctx, query, field):
    clinic.doctor(speciality="Cardiology")
    body = error_of(api.get(f"/specialities/Cardiology/slots?{query}"), 422, "validation_error")
    assert field in body["error"]["fields"]


def test_an_unknown_speciality_is_404(api, ctx):
    gone = clinic.doctor(speciality="Dermatology")
    gone.archived_at = clinic.soon(-1)
    db.session.commit()
    for name in ("Astrology", "Dermatology", "%00", "a%2Fb"):
        error_of(api.get(f"/specialities/{name}/slots?{_window()}"), 404, "not_found")


def test_the_query_count_does_not_grow_with_doctors_and_slots(app, api, ctx):
    def seed(count: int) -> None:
        for n in range(count):
            doctor = clinic.doctor(speciality=f"Speciality{count}")
            clinic.future_slots(doctor.id, 2, START + timedelta(minutes=n))

    seed(2)
    seed(20)
    keep_booking_rules(api)
    small = query_count(app, lambda: api.get(f"/specialities/Speciality2/slots?{_window()}"))
    large = query_count(app, lambda: api.get(f"/specialities/Speciality20/slots?{_window()}"))
    assert len(envelope(api.get(f"/specialities/Speciality20/slots?{_window()}"))["data"]) == 40
    assert small == large
