"""Anonymous directory reads answer conditional requests (ETag → 304), and a change is in the very next answer.

Departments and specialities may be a minute old (`public, max-age=60`); doctors and slots must be asked
for again every time (`public, no-cache`): a hold or a booking changes the answer and its ETag at once.
Signed-in callers get `no-store` and no ETag, as before.
"""
import pytest

from portal.extensions import db
from tests.api.clinic_api import patients
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope

pytestmark = pytest.mark.laptop


@pytest.fixture
def doctor_with_slots(ctx):
    doctor = clinic.doctor(clinic.department("Cardiology"), speciality="Cardiology")
    slots = clinic.future_slots(doctor.id, 2, clinic.soon(30))
    ids = doctor.id, [slot.id for slot in slots]
    db.session.commit()
    return ids


def _again(api, path: str, first) -> object:
    return api.get(path, headers={"If-None-Match": first.headers["ETag"]})


@pytest.mark.parametrize(("path", "policy"), [
    ("/departments", "public, max-age=60"),
    ("/specialities", "public, max-age=60"),
    ("/doctors", "public, no-cache"),
    ("/doctors/{doctor}?from=2099-01-05&to=2099-01-09", "public, no-cache"),  # the default window starts "now"
    ("/doctors/{doctor}/slots", "public, no-cache"),
])
def test_an_unchanged_public_read_is_304_without_a_body(api, doctor_with_slots, path, policy):
    path = path.format(doctor=doctor_with_slots[0])
    first = api.get(path)
    assert first.status_code == 200 and first.headers["Cache-Control"] == policy and first.headers["ETag"]
    again = _again(api, path, first)
    assert (again.status_code, again.data, again.headers["ETag"]) == (304, b"", first.headers["ETag"])
    stale = api.get(path, headers={"If-None-Match": '"not-the-current-one"'})
    assert stale.status_code == 200 and stale.get_json() == first.get_json()


def test_a_hold_and_a_booking_are_in_the_next_answer_under_a_new_etag(app, api, doctor_with_slots):
    doctor_id, (first_slot, second_slot) = doctor_with_slots
    path = f"/doctors/{doctor_id}/slots"
    before = api.get(path)
    [patient] = patients(app, 1)
    assert api.post("/holds", json={"slot_id": first_slot}, token=patient.token).status_code == 201
    held = _again(api, path, before)
    assert held.status_code == 200 and held.headers["ETag"] != before.headers["ETag"]
    assert {s["id"]: s["status"] for s in envelope(held)["data"]}[first_slot] == "held"
    assert api.post("/appointments", json={"slot_id": second_slot}, token=patient.token).status_code == 201
    booked = _again(api, path, held)
    assert booked.status_code == 200
    assert {s["id"]: s["status"] for s in envelope(booked)["data"]}[second_slot] == "booked"


def test_signed_in_callers_get_no_store_and_no_etag(app, api, doctor_with_slots):
    [patient] = patients(app, 1)
    answer = api.get(f"/doctors/{doctor_with_slots[0]}/slots", token=patient.token)
    assert answer.headers["Cache-Control"] == "no-store" and "ETag" not in answer.headers
    assert api.get("/departments", token=patient.token).headers["Cache-Control"] == "no-store"


def test_errors_and_writes_carry_no_etag(api, doctor_with_slots):
    missing = api.get("/doctors/999999")
    assert missing.status_code == 404 and "ETag" not in missing.headers
