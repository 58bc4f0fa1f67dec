"""POST /appointments with {slot_id, patient_id}: a doctor (their own slots) or an admin books for a patient
they see, at the desk. Roles, visibility, the conflicts of any booking, the patient's mail, the audit row,
idempotency, and staff outside the booking rules."""
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import Appointment
from tests.api.clinic_api import active_appointments, caller, patients
from tests.api.records_helpers import assign, audit_rows
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # runs on SQLite with the in-process stores too


@pytest.fixture
def seen(app, doctor, alice):
    """alice, assigned to the doctor: a patient the doctor sees."""
    assign(app, alice.patient_id, doctor.doctor_id)
    return alice


def _desk(api, token, slot_id, patient_id, **extra):
    return api.post("/appointments", json={"slot_id": slot_id, "patient_id": patient_id, **extra}, token=token)


def test_the_doctor_books_their_own_slot_for_a_patient_they_see(app, api, doctor, slots, seen):
    body = envelope(_desk(api, doctor.token, slots[0].id, seen.patient_id, reason="Phoned in: cough"))
    data = body["data"]
    assert body["status"] == "created" and data["status"] == "scheduled"
    assert (data["patient"]["id"], data["doctor"]["id"], data["slot_id"], data["reason"]) == (
        seen.patient_id, doctor.doctor_id, slots[0].id, "Phoned in: cough")
    assert [a.patient_id for a in active_appointments(app, slots[0].id)] == [seen.patient_id]
    assert (doctor.user_id, "create", "appointment", data["id"], seen.patient_id, False) in \
        audit_rows(app, object_type="appointment")
    with app.app_context():
        assert db.session.get(Appointment, data["id"]).created_by_id == doctor.user_id
        db.session.remove()
    mine = envelope(api.get(f"/appointments/{data['id']}", token=seen.token))["data"]
    assert mine["slot_id"] == slots[0].id  # the patient sees it as their own


def test_an_admin_books_any_doctors_slot_for_any_patient(api, admin, slots, alice):
    assert envelope(_desk(api, admin.token, slots[1].id, alice.patient_id))["data"]["patient"]["id"] == alice.patient_id


def test_the_patient_gets_the_same_mail_as_for_their_own_booking(app, api, doctor, slots, seen, mailbox):
    booked = envelope(_desk(api, doctor.token, slots[0].id, seen.patient_id))["data"]
    messages = mailbox.wait_for(1)  # drains the job queue, as the worker would
    assert len(messages) == 1 and "appointment booked" in messages[0]["Subject"]
    with app.app_context():
        patient_email = db.session.get(Appointment, booked["id"]).patient.user.email
        db.session.remove()
    assert messages[0]["To"] == patient_email


def test_a_doctor_may_not_book_another_doctors_slot(app, api, factories, doctor, seen, ctx):
    colleague = caller(app, factories.user(role="doctor"))
    theirs = clinic.slot(colleague.doctor_id, clinic.soon(30))
    error_of(_desk(api, doctor.token, theirs.id, seen.patient_id), 403, "forbidden")
    assert active_appointments(app, theirs.id) == []


def test_a_patient_the_doctor_does_not_see_is_404(app, api, doctor, slots, alice):
    error_of(_desk(api, doctor.token, slots[0].id, alice.patient_id), 404, "not_found")
    error_of(_desk(api, doctor.token, slots[0].id, 999_999), 404, "not_found")
    assert active_appointments(app, slots[0].id) == []


def test_emergency_access_alone_does_not_let_a_doctor_book(app, api, doctor, slots, alice):
    envelope(api.post(f"/patients/{alice.patient_id}/emergency-access", token=doctor.token,
                      json={"reason": "Unconscious in the waiting room"}))
    error_of(_desk(api, doctor.token, slots[0].id, alice.patient_id), 403, "forbidden")


def test_a_patient_may_not_send_patient_id(app, api, slots, alice):
    bob = patients(app, 1)[0]
    for patient_id in (alice.patient_id, bob.patient_id):
        error_of(_desk(api, alice.token, slots[0].id, patient_id), 403, "forbidden")
    assert active_appointments(app, slots[0].id) == []


def test_bodies_desk_booking_refuses(api, doctor, slots, seen):
    answer = error_of(api.post("/appointments", json={"patient_id": seen.patient_id}, token=doctor.token),
                      400, "missing_field")
    assert "slot_id" in answer["error"]["fields"]
    answer = error_of(_desk(api, doctor.token, slots[0].id, seen.patient_id, hold_id="h"), 422, "validation_error")
    assert "hold_id" in answer["error"]["fields"]
    error_of(_desk(api, doctor.token, 999_999, seen.patient_id), 404, "not_found")


def test_a_slot_someone_holds_or_booked_is_a_conflict(app, api, doctor, slots, seen):
    bob = patients(app, 1)[0]
    assert api.post("/holds", json={"slot_id": slots[0].id}, token=bob.token).status_code == 201
    answer = error_of(_desk(api, doctor.token, slots[0].id, seen.patient_id), 409, "slot_held")
    assert answer["message"] == "Slot is temporarily locked."
    assert api.post("/appointments", json={"slot_id": slots[1].id}, token=bob.token).status_code == 201
    error_of(_desk(api, doctor.token, slots[1].id, seen.patient_id), 409, "slot_booked")


def test_the_patients_own_hold_does_not_stand_in_the_way(app, api, doctor, slots, seen):
    assert api.post("/holds", json={"slot_id": slots[0].id}, token=seen.token).status_code == 201
    assert envelope(_desk(api, doctor.token, slots[0].id, seen.patient_id))["status"] == "created"


def test_the_patient_cannot_be_in_two_places(app, api, doctor, ctx, slots, seen):
    elsewhere = clinic.slot(clinic.doctor().id, slots[0].starts_at)
    clinic.appointment(seen.patient_id, elsewhere)
    error_of(_desk(api, doctor.token, slots[0].id, seen.patient_id), 409, "appointment_overlap")


def test_a_repeat_with_the_same_key_books_once(app, api, doctor, slots, seen):
    headers = {"Idempotency-Key": "desk-call-42"}
    first = api.post("/appointments", json={"slot_id": slots[0].id, "patient_id": seen.patient_id},
                     token=doctor.token, headers=headers)
    again = api.post("/appointments", json={"slot_id": slots[0].id, "patient_id": seen.patient_id},
                     token=doctor.token, headers=headers)
    assert first.status_code == again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(active_appointments(app, slots[0].id)) == 1
    other = api.post("/appointments", json={"slot_id": slots[1].id, "patient_id": seen.patient_id},
                     token=doctor.token, headers=headers)
    error_of(other, 422, "idempotency_mismatch")


def test_staff_book_outside_the_booking_rules(app, api, ctx, doctor, admin, seen, clock, rules_on):
    rules_on(NO_SHOW_LIMIT=1)
    now = clock.freeze()
    clinic.appointment(seen.patient_id, clinic.slot(doctor.doctor_id, now - timedelta(days=3)), status="no_show")
    in_ten_minutes = clinic.slot(doctor.doctor_id, now + timedelta(minutes=10))
    next_year = clinic.slot(doctor.doctor_id, now + timedelta(days=200))
    assert envelope(_desk(api, doctor.token, in_ten_minutes.id, seen.patient_id))["status"] == "created"
    assert envelope(_desk(api, admin.token, next_year.id, seen.patient_id))["status"] == "created"
